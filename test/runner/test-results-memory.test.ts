/**
 * The runner stores each graded attempt's per-test results (issue 12, part 4b) on the in-memory runtime: executeRun
 * end to end with the real store, dataset, harness files, agent and grading code, the container commands answered by
 * test/helpers/memory-runner.ts. The real-container grading is checked in test/grading/test-results.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../src/core/runner/run.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { fixtureConfig, fixtureTasksWithoutImages, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { capturedTranscript, largeTaskWithoutImage, memoryWorld, type AgentScript, type Grader } from '../helpers/memory-runner.ts';

const API_KEY = 'sk-ant-test-secret-tests-memory-0123456789';
const TRACK = 'fx-tests-memory';

let tasks: FixtureTask[];
let large: FixtureTask;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;

beforeAll(async () => {
  tasks = await fixtureTasksWithoutImages();
  large = await largeTaskWithoutImage();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-tests-memory-'), [...tasks, large]));
});

afterEach(() => {
  t?.cleanup();
  t = null;
});

function context(ids: string[]): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: 'http://127.0.0.1:9',
      datasetPath,
      harnessPath,
      ids,
      docker: { infraRetries: 0, gradingTimeoutSeconds: 120 },
      track: { name: TRACK, model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 120, maxTurns: 10, maxBudgetUsd: 5 }, concurrency: 1 },
    }),
    { ANTHROPIC_API_KEY: API_KEY },
  );
}

const byName = (name: string) => tasks.find((x) => x.name === name)!;

describe('the runner stores per-test results', () => {
  it('of a fix and of a patch that breaks a pass_to_pass test; none for an agent error (not graded)', async () => {
    const [median, clamp, slug] = [byName('calc-median'), byName('calc-clamp'), byName('textkit-slug')];
    const agent: AgentScript = (c) =>
      c.task === slug ? { stdout: capturedTranscript('api-529'), exitCode: 1 } : { stdout: capturedTranscript('fix-success'), patch: c.task.goldPatch };
    // clamp: its fix passes the fail_to_pass tests but breaks test_inside; median: the fixture harness as it is.
    const grader: Grader = (call) => {
      if (call.task === clamp) {
        const statuses = Object.fromEntries([...clamp.failToPass, ...clamp.passToPass].map((n) => [n, 'PASSED']));
        statuses['tests/test_bounds.py::TestClamp::test_inside'] = 'ERROR';
        return { statuses };
      }
      return undefined;
    };
    const w = memoryWorld({ tasks, agent, grader });
    t = context([median.instanceId, clamp.instanceId, slug.instanceId]);
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r.state).toBe('completed');
    const byTask = new Map(t.ctx.store.attempts.ofRun(r.runId!).map((a) => [a.taskId, a]));
    expect(byTask.get(median.instanceId)).toMatchObject({
      outcome: 'resolved',
      tests: {
        ran: 9,
        f2p: { total: 2, passed: 2, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
        p2p: { total: 7, passed: 7, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
      },
    });
    expect(byTask.get(clamp.instanceId)).toMatchObject({
      outcome: 'unresolved',
      tests: {
        ran: 5,
        f2p: { total: 2, passed: 2, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
        p2p: { total: 3, passed: 2, failed: 0, error: 1, skipped: 0, missing: 0, notPassed: ['tests/test_bounds.py::TestClamp::test_inside'] },
      },
    });
    // Not graded: no per-test results.
    expect(byTask.get(slug.instanceId)).toMatchObject({ outcome: 'agent_error', tests: null });
  });

  it('an output.json that holds none of the listed tests: unresolved, every listed test missing and named', async () => {
    const median = byName('calc-median');
    const w = memoryWorld({ tasks, agent: (c) => ({ stdout: capturedTranscript('fix-success'), patch: c.task.goldPatch }) });
    t = context([median.instanceId]);
    w.setGrader(() => ({ statuses: {} }));
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({
      outcome: 'unresolved',
      tests: {
        ran: 0,
        f2p: { total: 2, passed: 0, missing: 2, notPassed: median.failToPass },
        p2p: { total: 7, passed: 0, missing: 7, notPassed: median.passToPass },
      },
    });
  });

  it('of the large task (2160 tests run, 560 listed): the counts exact, the first 20 failing names kept', async () => {
    const sections = large.goldPatch.split(/(?=^diff --git )/m);
    const partial = sections.slice(0, 100).join('');
    const agent: AgentScript = () => ({ stdout: capturedTranscript('fix-success'), patch: partial });
    const grader: Grader = (call) => {
      const statuses: Record<string, string> = {};
      for (const name of large.failToPass) {
        const n = /test_mod_(\d{3})$/.exec(name)![1];
        const fix = sections.find((x) => x.startsWith(`diff --git a/ledger/mod_${n}.py `))!;
        statuses[name] = call.patch.includes(fix) ? 'PASSED' : 'FAILED';
      }
      for (let i = 0; i < 2000; i++) statuses[`tests/test_bulk.py::TestBulk::test_case_${String(i).padStart(4, '0')}`] = 'PASSED';
      return { statuses };
    };
    const w = memoryWorld({ tasks: [large], agent, grader });
    t = context([large.instanceId]);
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a?.outcome).toBe('unresolved');
    expect(a?.tests).toEqual({
      ran: 2160,
      f2p: {
        total: 160,
        passed: 100,
        failed: 60,
        error: 0,
        skipped: 0,
        missing: 0,
        notPassed: Array.from({ length: 20 }, (_, i) => `tests/test_scale.py::TestScale::test_mod_${100 + i}`),
      },
      p2p: { total: 400, passed: 400, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
    });
  });
});
