/**
 * Per-test results in real grading containers (Docker Engine, the fixture task images of test/helpers/images.ts and
 * the real-size task of test/helpers/large-task.ts: 2160 tests run, 560 listed), stored in a real SQLite store and
 * read back: the summary kept per attempt is checked exactly, counts and capped names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { attemptLabels, LABEL_TRACK } from '../../src/executor/runtime.ts';
import { gradeAttempt, type GradeInput, type GradeResult } from '../../src/grading/grade.ts';
import { Store } from '../../src/store/store.ts';
import type { TestListResults, TestResults } from '../../src/domain/test-results.ts';
import { ensureFixtureImages, fixtureTask, type FixtureImages, type FixtureTask } from '../helpers/images.ts';
import { ensureLargeTask, LARGE_MODULES } from '../helpers/large-task.ts';
import { removeLabelled, testLabels } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const scope = testLabels('grading-tests');
let images: FixtureImages;
let median: FixtureTask;
let large: FixtureTask;
let store: Store;
let runId: number;
let sample = 0;

beforeAll(async () => {
  images = await ensureFixtureImages();
  median = fixtureTask(images, 'calc-median');
  large = await ensureLargeTask();
  store = new Store(':memory:');
  store.tracks.ensure({ name: 'fx-tests', agent: 'claude-code', model: 'm' });
  runId = store.runs.create({
    track: 'fx-tests',
    state: 'running',
    startedAt: new Date().toISOString(),
    endedAt: null,
    agentVersion: null,
    modelId: null,
    suiteHash: null,
    trigger: 'test',
    reason: null,
  });
}, 15 * 60_000);

afterAll(async () => {
  store?.close();
  await removeLabelled(scope);
});

function input(task: FixtureTask, patch: string, extra: Partial<GradeInput> = {}): GradeInput {
  return {
    image: task.image,
    task,
    files: { runScript: task.runScript, parser: task.parser, env: task.env },
    patch,
    timeoutMs: 300_000,
    labels: attemptLabels({ track: scope[LABEL_TRACK]!, run: 1, attempt: randomUUID().slice(0, 8) }),
    limits: { cpus: 2, memoryBytes: 2048 * 1024 * 1024, pidsLimit: 512, networkMode: 'none' },
    ...extra,
  };
}

/** Stores the graded attempt as the runner does and reads it back: what the store keeps of its per-test results. */
function storedTests(taskId: string, g: GradeResult): TestResults | null | undefined {
  const now = new Date().toISOString();
  const id = store.attempts.insert(runId, {
    taskId,
    sampleIndex: sample++,
    outcome: g.outcome,
    reason: g.reason,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0,
    turns: 0,
    toolCalls: 0,
    agentDurationMs: null,
    gradingDurationMs: Math.round(g.durationMs),
    patchBytes: null,
    transcriptPath: null,
    gradingLogPath: null,
    tests: g.tests,
    startedAt: now,
    endedAt: now,
  });
  return store.attempts.ofRunById(runId, id)?.tests;
}

const allPassed = (names: readonly string[]): TestListResults => ({
  total: names.length,
  passed: names.length,
  failed: 0,
  error: 0,
  skipped: 0,
  missing: 0,
  notPassed: [],
});

describe('per-test results of real grading, as stored', { timeout: 600_000 }, () => {
  it('the gold patch of every fixture task: every listed test passed, as many ran as the restored files hold', async () => {
    for (const task of images.tasks) {
      const g = await gradeAttempt(runtime, input(task, task.goldPatch));
      expect(g.outcome, `${task.name}: ${g.reason}`).toBe('resolved');
      // The fixture tasks list every test of their selected files.
      const want: TestResults = { ran: task.failToPass.length + task.passToPass.length, f2p: allPassed(task.failToPass), p2p: allPassed(task.passToPass) };
      expect(g.tests, task.name).toEqual(want);
      expect(storedTests(task.instanceId, g), task.name).toEqual(want);
    }
  });

  it('an empty patch: the fail_to_pass tests ran and failed, the pass_to_pass ones still pass', async () => {
    const g = await gradeAttempt(runtime, input(median, ''));
    expect(g.outcome).toBe('unresolved');
    expect(storedTests(median.instanceId, g)).toEqual({
      ran: 9,
      f2p: {
        total: 2,
        passed: 0,
        failed: 2,
        error: 0,
        skipped: 0,
        missing: 0,
        notPassed: ['tests/test_stats.py::TestMedian::test_even_length', 'tests/test_stats.py::TestMedian::test_even_length_unsorted'],
      },
      p2p: allPassed(median.passToPass),
    });
  });

  it('a wrong fix: the fail_to_pass tests pass, one pass_to_pass test is broken and named', async () => {
    const wrong = `diff --git a/calc/stats.py b/calc/stats.py
--- a/calc/stats.py
+++ b/calc/stats.py
@@ -14,3 +14,3 @@ def median(values):
         raise ValueError("median of empty data")
     ordered = sorted(values)
-    return ordered[len(ordered) // 2]
+    return (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
`;
    const g = await gradeAttempt(runtime, input(median, wrong));
    expect(g.outcome).toBe('unresolved');
    expect(storedTests(median.instanceId, g)).toEqual({
      ran: 9,
      f2p: allPassed(median.failToPass),
      p2p: { total: 7, passed: 6, failed: 1, error: 0, skipped: 0, missing: 0, notPassed: ['tests/test_stats.py::TestMedian::test_odd_length'] },
    });
  });

  it('without the Dockerfile ENV the run script runs nothing: every listed test missing, each named', async () => {
    const { FIXTURE_TEST_MODE: _dropped, ...withoutMode } = median.env;
    const g = await gradeAttempt(runtime, input(median, median.goldPatch, { files: { runScript: median.runScript, parser: median.parser, env: withoutMode } }));
    expect(g.outcome).toBe('unresolved');
    expect(storedTests(median.instanceId, g)).toEqual({
      ran: 0,
      f2p: { total: 2, passed: 0, failed: 0, error: 0, skipped: 0, missing: 2, notPassed: [...median.failToPass] },
      p2p: { total: 7, passed: 0, failed: 0, error: 0, skipped: 0, missing: 7, notPassed: [...median.passToPass] },
    });
  });

  it('a parser that writes no output.json: unresolved as today, nothing stored for the tests', async () => {
    const g = await gradeAttempt(
      runtime,
      input(median, median.goldPatch, { files: { runScript: median.runScript, parser: 'import sys\nsys.exit(0)\n', env: median.env } }),
    );
    expect(g.outcome).toBe('unresolved');
    expect(g.testsUnavailable).toBe('no output.json: the parser wrote no results');
    expect(storedTests(median.instanceId, g)).toBeNull();
  });

  it('the large task (2160 tests run, 560 listed), gold patch: exact counts, a record of a few hundred bytes', async () => {
    expect(large.failToPass).toHaveLength(LARGE_MODULES);
    expect(large.passToPass).toHaveLength(400);
    const g = await gradeAttempt(runtime, input(large, large.goldPatch));
    expect(g.outcome, g.reason).toBe('resolved');
    const want: TestResults = { ran: 2160, f2p: allPassed(large.failToPass), p2p: allPassed(large.passToPass) };
    expect(storedTests(large.instanceId, g)).toEqual(want);
    expect(Buffer.byteLength(JSON.stringify(g.tests))).toBeLessThan(300);
  });

  it('the large task, a patch that fixes 100 of the 160 modules: 100 passed, the first 20 of the 60 others named', async () => {
    const sections = large.goldPatch.split(/(?=^diff --git )/m);
    expect(sections).toHaveLength(LARGE_MODULES);
    const partial = sections.slice(0, 100).join('');
    const g = await gradeAttempt(runtime, input(large, partial));
    expect(g.outcome).toBe('unresolved');
    const stored = storedTests(large.instanceId, g);
    expect(stored).toEqual({
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
      p2p: allPassed(large.passToPass),
    });
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThan(1500);
    // The statistics read only the counts.
    const facts = store.attempts.facts('fx-tests', 0, Date.now() + 1000).at(-1);
    expect(facts?.testCounts).toEqual({ f2pPassed: 100, f2pTotal: 160, p2pPassed: 400, p2pTotal: 400 });
  });
});
