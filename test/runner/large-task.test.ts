/**
 * The whole attempt path on a task of real size (test/helpers/large-task.ts): a gold patch of several hundred KB
 * over 160 files, the official-size run script and parser, MBs of test output. Real Docker Engine, the real Claude
 * Code CLI scripted by the fake Anthropic API on 127.0.0.1, grading in a fresh container. And the same path on an
 * engine that stops answering: the attempt ends in infra_error with a reason, never in a silent exit.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { bash, reply, startFakeAnthropic, write, type FakeAnthropic, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import { fixtureConfig, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { ensureLargeTask, LARGE_MODULES } from '../helpers/large-task.ts';
import { stallingEngine } from '../helpers/stalling-engine.ts';

const API_KEY = 'sk-ant-test-secret-large-0123456789';
const TRACK = 'fx-large';
const runtime = new DockerRuntime();

let task: FixtureTask;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;
let fake: FakeAnthropic | null = null;

beforeAll(async () => {
  task = await ensureLargeTask();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-large-'), [task]));
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

function context(docker: Record<string, unknown> = {}): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: fake?.url ?? 'http://127.0.0.1:9',
      datasetPath,
      harnessPath,
      ids: [task.instanceId],
      docker: { infraRetries: 0, gradingTimeoutSeconds: 300, memoryMb: 2048, ...docker },
      track: { name: TRACK, model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 300, maxTurns: 10, maxBudgetUsd: 5 } },
    }),
    { ANTHROPIC_API_KEY: API_KEY },
  );
}

function toolResults(req: RecordedRequest): number {
  return (req.body?.messages ?? []).reduce((n, m) => n + (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool_result').length : 0), 0);
}

describe('a task of real size', { timeout: 600_000 }, () => {
  it('is as large as real tasks are', () => {
    expect(Buffer.byteLength(task.goldPatch)).toBeGreaterThan(300_000);
    expect(task.goldPatch.match(/^diff --git /gm)?.length).toBe(LARGE_MODULES);
    expect(task.runScript.length + task.parser.length).toBeGreaterThan(6_000);
    expect(task.failToPass.length + task.passToPass.length).toBe(560);
  });

  it('an oracle run grades the gold patch resolved, with MBs of test output', async () => {
    t = context();
    const r = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true });
    expect(r.oracle).toEqual([{ taskId: task.instanceId, outcome: 'resolved', reason: expect.any(String), gradingLogPath: expect.stringContaining('/oracle-') }]);
  });

  it('an agent run that writes the several-hundred-KB fix is graded resolved', async () => {
    // The real CLI writes the patch with its Write tool (too long for one command line), applies it with Bash.
    const turn = (req: RecordedRequest): StaticTurn => {
      const done = toolResults(req);
      if (done === 0) return reply([write('/app/.fix.diff', task.goldPatch)], { input_tokens: 1000, output_tokens: 90_000 });
      if (done === 1) return reply([bash('cd /app && git apply .fix.diff && rm .fix.diff', 'Apply the change')], { input_tokens: 2000, output_tokens: 50 });
      return reply('Done.', { input_tokens: 3000, output_tokens: 10 });
    };
    fake = await startFakeAnthropic(Array.from({ length: 20 }, () => turn));
    t = context();
    const r = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a?.reason).not.toMatch(/infra/);
    expect(a).toMatchObject({ outcome: 'resolved', toolCalls: 2 });
    expect(a!.patchBytes).toBeGreaterThan(300_000);
    const log = gunzipSync(readFileSync(a!.gradingLogPath!)).toString('utf8');
    expect(log).toContain('# outcome: resolved');
    // The tail of the test output (3.5 MB in all: the suite's debug logging and 2160 test lines) is kept.
    expect(log).toContain('test_case_1999 (tests.test_bulk.TestBulk');
    expect(t.logs.join('')).not.toContain(API_KEY);
  });

  it('a grading upload the engine never answers ends the attempt in infra_error with a reason', async () => {
    const engine = await stallingEngine([{ method: 'PUT', path: /^\/containers\/[^/]+\/archive/ }]);
    try {
      t = context({ socketPath: engine.socketPath });
      const stuck = new DockerRuntime({ socketPath: engine.socketPath, transferTimeoutMs: 3_000 });
      const r = await executeRun(t.ctx, stuck, TRACK, { trigger: 'test', oracle: true });
      expect(r.oracle).toHaveLength(1);
      expect(r.oracle![0]).toMatchObject({ outcome: 'infra_error', reason: expect.stringMatching(/copying 4 file\(s\) into .*: no answer from the Docker Engine within 3 s/) });
      expect(engine.stalled.length).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });
});
