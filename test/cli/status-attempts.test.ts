/**
 * `agentdrift status RUN_ID` shows what is kept of each attempt (issue 12, part 4c): under the run's line, one line
 * per attempt with its phase times and the binary files dropped from its patch. The real CLI (a child process) against
 * the API of a store that a real runner run filled (test/helpers/kept-attempts.ts).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { attemptLine } from '../../src/adapters/cli/main.ts';
import { runCli } from '../helpers/cli.ts';
import { KEEP_API_KEY, KEEP_TRACK, keptRun, TESTS_MS, type KeptRun } from '../helpers/kept-attempts.ts';

let run: KeptRun;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  run = await keptRun({ samples: 3, timeoutSeconds: 1 });
  app = await buildServer(run.t.ctx);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  run?.t.cleanup();
});

const secs = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(1);

describe('agentdrift status RUN_ID', { timeout: 60_000 }, () => {
  it('prints the run, then each attempt with its phase times and dropped binary files', async () => {
    const r = await runCli(['status', String(run.runId), '--url', url], { env: { AGENTDRIFT_API_TOKEN: '' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^run ${run.runId} of ${KEEP_TRACK} completed: 3/3 attempts, pass so far 1/3 \\(33%\\), cost \\d+\\.\\d\\d USD$`));
    const [fixed, timedOut, empty] = run.attempts;
    const id = run.task.instanceId;
    const p = fixed!.phaseTimings!;
    const total = Object.values(p).reduce((s, x) => s + x, 0);
    expect(lines[1]).toBe(
      `  #${fixed!.id} ${id}#0 resolved, ${secs(total)} s: image ${secs(p.image)}, harness ${secs(p.harness)}, container start ${secs(p.containerStart)}, ` +
        `agent ${secs(p.agent)}, extraction ${secs(p.extraction)}, agent teardown ${secs(p.agentTeardown)}, grading start ${secs(p.gradingStart)}, ` +
        `prepare 0.1, tests ${secs(TESTS_MS)}, results ${secs(p.gradingResults)}, grading teardown ${secs(p.gradingTeardown)}; ` +
        '2 binary file(s) dropped: assets/logo.png, cache/[REDACTED].bin',
    );
    // A timeout: only the phases it reached, nothing dropped known.
    expect(lines[2]).toMatch(new RegExp(`^  #${timedOut!.id} ${id}#1 timeout, \\d+\\.\\d s: image \\d+\\.\\d, harness \\d+\\.\\d, container start \\d+\\.\\d, agent [1-9]\\.\\d, agent teardown \\d+\\.\\d$`));
    expect(lines[3]).toMatch(new RegExp(`^  #${empty!.id} ${id}#2 unresolved, \\d+\\.\\d s: image .*, grading teardown \\d+\\.\\d$`));
    expect(r.stdout).not.toContain(KEEP_API_KEY);
  });

  it('with --follow on a run that has ended, prints it and each attempt once', async () => {
    const r = await runCli(['status', String(run.runId), '--follow', '--interval', '0.1', '--url', url]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('  #'))).toHaveLength(3);
  });
});

describe('attemptLine', () => {
  const base = { id: 7, taskId: 'task-a', sampleIndex: 1, outcome: 'resolved' };
  it('says when timings were not recorded (an imported attempt)', () => {
    expect(attemptLine({ ...base, timings: null, droppedFiles: null })).toBe('  #7 task-a#1 resolved: phase times not recorded');
  });
  it('leaves out phases not reached, lists at most five dropped files, and quotes names a terminal would act on', () => {
    const dropped = ['a.png', 'b\u001b[2Jc.bin', 'c\u009b"1.bin', 'd.bin', 'e.bin', 'f.bin', 'g.bin'];
    expect(attemptLine({ ...base, timings: { image: 1500, agent: 61_000, tests: null }, droppedFiles: dropped })).toBe(
      '  #7 task-a#1 resolved, 62.5 s: image 1.5, agent 61.0; 7 binary file(s) dropped: a.png, "b\\u001b[2Jc.bin", "c\\u009b\\"1.bin", d.bin, e.bin, and 2 more',
    );
  });
});
