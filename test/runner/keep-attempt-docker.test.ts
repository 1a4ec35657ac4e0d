/**
 * What is kept of an attempt (issue 12, part 4c) on the real path: Docker Engine, the real Claude Code CLI scripted
 * by the fake Anthropic API on 127.0.0.1, git in the task container, grading in a fresh one, with the real-size task
 * (test/helpers/large-task.ts). The agent writes the several-hundred-KB fix and three binary files whose names git
 * prints plainly, with a space and a non-ASCII letter, and C-quoted (a tab): the kept patch is git's diff of the fix,
 * the dropped files are named as they are on disk, and every phase has its time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readStoredPatch } from '../../src/agent/transcript.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { ATTEMPT_PHASES } from '../../src/domain/types.ts';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { bash, reply, startFakeAnthropic, write, type FakeAnthropic, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import { fixtureConfig, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { ensureLargeTask, LARGE_MODULES } from '../helpers/large-task.ts';

const API_KEY = 'sk-ant-test-secret-keep-docker-0123456789';
const TRACK = 'fx-keep-docker';
const runtime = new DockerRuntime();

let task: FixtureTask;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;
let fake: FakeAnthropic | null = null;

beforeAll(async () => {
  task = await ensureLargeTask();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-keep-docker-'), [task]));
}, 900_000);

afterEach(async () => {
  t?.cleanup();
  t = null;
  await fake?.close();
  fake = null;
});

afterAll(async () => {
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', 'agentdrift.track': TRACK });
});

function toolResults(req: RecordedRequest): number {
  return (req.body?.messages ?? []).reduce((n, m) => n + (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool_result').length : 0), 0);
}

/** The gold patch as `git diff --full-index` prints it: the index lines' short object names in full. */
const shortIndex = (patch: string) => patch.replace(/^index ([0-9a-f]{7})[0-9a-f]{33}\.\.([0-9a-f]{7})[0-9a-f]{33}/gm, 'index $1..$2');

describe('what is kept of a real attempt', { timeout: 600_000 }, () => {
  it('keeps git\'s diff of the several-hundred-KB fix, names the binary files dropped from it, and times every phase', async () => {
    // Binary content (NUL bytes) in three files; one name with a space and a non-ASCII letter, one with a tab.
    const binaries = [
      "mkdir -p assets docs data",
      "printf '\\211PNG\\000\\001\\002' > assets/logo.png",
      "printf '\\000\\001\\002\\003' > 'docs/sp ace \u00e4.bin'",
      "printf '\\000\\377' > \"data/tab$(printf '\\t')name.bin\"",
    ].join(' && ');
    const turn = (req: RecordedRequest): StaticTurn => {
      const done = toolResults(req);
      if (done === 0) return reply([write('/app/.fix.diff', task.goldPatch)], { input_tokens: 1000, output_tokens: 90_000 });
      if (done === 1) return reply([bash('cd /app && git apply .fix.diff && rm .fix.diff', 'Apply the change')], { input_tokens: 2000, output_tokens: 50 });
      if (done === 2) return reply([bash(`cd /app && ${binaries}`, 'Add the assets')], { input_tokens: 2500, output_tokens: 50 });
      return reply('Done.', { input_tokens: 3000, output_tokens: 10 });
    };
    fake = await startFakeAnthropic(Array.from({ length: 20 }, () => turn));
    t = makeContext(
      fixtureConfig({
        apiUrl: fake.url,
        datasetPath,
        harnessPath,
        ids: [task.instanceId],
        docker: { infraRetries: 0, gradingTimeoutSeconds: 300, memoryMb: 2048 },
        track: { name: TRACK, model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 300, maxTurns: 10, maxBudgetUsd: 5 } },
      }),
      { ANTHROPIC_API_KEY: API_KEY },
    );
    const r = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a?.reason).not.toMatch(/infra/);
    expect(a).toMatchObject({ outcome: 'resolved', toolCalls: 3 });

    const stored = await readStoredPatch(a!.patchPath!);
    expect(stored.length).toBe(a!.patchBytes);
    expect(stored.length).toBeGreaterThan(300_000);
    const text = stored.toString('utf8');
    expect(text.match(/^diff --git /gm)).toHaveLength(LARGE_MODULES);
    expect(shortIndex(text)).toBe(task.goldPatch);
    expect(text).not.toContain('GIT binary patch');
    expect(path.dirname(a!.patchPath!)).toBe(path.dirname(a!.transcriptPath!));

    expect(a!.droppedFiles).toEqual(['assets/logo.png', 'data/tab\tname.bin', 'docs/sp ace \u00e4.bin']);

    const p = a!.phaseTimings!;
    expect(Object.keys(p)).toEqual([...ATTEMPT_PHASES]);
    for (const k of ['containerStart', 'agent', 'extraction', 'gradingStart', 'tests'] as const) expect(p[k], k).toBeGreaterThan(0);
    expect(p.gradingPrepare).toBeGreaterThanOrEqual(0);
    // The large task's 2160 tests and MBs of output take a while; the agent ran four model turns through the real CLI.
    expect(p.tests).toBeGreaterThan(50);
    expect(readFileSync(a!.patchPath!).length).toBeLessThan(stored.length);
    expect(t.logs.join('')).not.toContain(API_KEY);
  });
});
