/**
 * gradeAttempt in real containers from the fixture task images (built locally from Debian packages; see
 * test/helpers/images.ts). Every case starts a fresh grading container, as the official harness does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { attemptLabels, LABEL_TRACK } from '../../src/executor/runtime.ts';
import { gradeAttempt, type GradeInput } from '../../src/grading/grade.ts';
import { ensureFixtureImages, fixtureTask, type FixtureImages, type FixtureTask } from '../helpers/images.ts';
import { inspectContainer, removeLabelled, testLabels } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const scope = testLabels('grading');
let images: FixtureImages;
let median: FixtureTask;

beforeAll(async () => {
  images = await ensureFixtureImages();
  median = fixtureTask(images, 'calc-median');
}, 15 * 60_000);

afterAll(async () => {
  await removeLabelled(scope);
});

function input(task: FixtureTask, patch: string, extra: Partial<GradeInput> = {}): GradeInput {
  return {
    image: task.image,
    task,
    files: { runScript: task.runScript, parser: task.parser, env: task.env },
    patch,
    timeoutMs: 120_000,
    labels: attemptLabels({ track: scope[LABEL_TRACK]!, run: 1, attempt: randomUUID().slice(0, 8) }),
    limits: { cpus: 1, memoryBytes: 512 * 1024 * 1024, pidsLimit: 256, networkMode: 'none' },
    ...extra,
  };
}

/** A patch that edits the official test file so the fail_to_pass tests pass trivially, with no real fix. */
function cheatingPatch(task: FixtureTask): string {
  // Add the two fail_to_pass tests as no-ops to tests/test_stats.py at the base commit.
  return `diff --git a/tests/test_stats.py b/tests/test_stats.py
--- a/tests/test_stats.py
+++ b/tests/test_stats.py
@@ -20,6 +20,12 @@ class TestMedian(unittest.TestCase):
         with self.assertRaises(ValueError):
             median([])
 
+    def test_even_length(self):
+        pass
+
+    def test_even_length_unsorted(self):
+        pass
+
 
 if __name__ == "__main__":
     unittest.main()
`.replace('tests/test_stats.py', task.testFiles[0]!);
}

describe('gradeAttempt', () => {
  it('resolves the gold patch, with the test output kept and the container removed', async () => {
    const r = await gradeAttempt(runtime, input(median, median.goldPatch));
    expect(r.reason).toMatch(/all 9 listed tests passed/);
    expect(r.outcome).toBe('resolved');
    expect(r.patchApplied).toBe(true);
    expect(r.stdout).toContain('test_even_length (tests.test_stats.TestMedian');
    expect(r.output?.tests.filter((t) => t.status === 'PASSED')).toHaveLength(9);
    expect(r.log).toContain('Applied patch calc/stats.py cleanly');
    expect(r.timings.testsMs).not.toBeNull();
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.scriptMs);
    expect(await runtime.removeLeftovers(scope)).toBe(0);
  });

  it('resolves the gold patch of every fixture task (oracle)', async () => {
    for (const task of images.tasks) {
      const r = await gradeAttempt(runtime, input(task, task.goldPatch));
      expect(r.outcome, `${task.name}: ${r.reason}`).toBe('resolved');
    }
  });

  it('an empty patch is unresolved: the fail_to_pass tests are missing or failing', async () => {
    const r = await gradeAttempt(runtime, input(median, ''));
    expect(r.outcome).toBe('unresolved');
    expect(r.patchApplied).toBe(false);
    // Its own reason: nothing to apply is not a patch that failed to apply.
    expect(r.reason).toMatch(/^empty patch: the candidate changes nothing; /);
    expect(r.reason).not.toContain('did not apply');
    // The official tests were restored, so the new tests ran and failed against the buggy code.
    expect(r.failed.map((f) => f.name).sort()).toEqual([...median.failToPass].sort());
    expect(r.missing).toEqual([]);
  });

  it('a patch that only makes the official tests pass trivially is unresolved: grading restores them', async () => {
    const cheat = cheatingPatch(median);
    const r = await gradeAttempt(runtime, input(median, cheat));
    expect(r.patchApplied).toBe(true);
    expect(r.outcome).toBe('unresolved');
    expect(r.failed.map((f) => f.name).sort()).toEqual([...median.failToPass].sort());
  });

  it('the cheating patch with the gold fix added is still resolved (restoring tests does not hurt a real fix)', async () => {
    const r = await gradeAttempt(runtime, input(median, median.goldPatch + cheatingPatch(median)));
    expect(r.outcome).toBe('resolved');
  });

  it('a garbage patch does not apply and is unresolved, the tests still run', async () => {
    const r = await gradeAttempt(runtime, input(median, 'diff --git a/nope b/nope\n@@ garbage @@\n+++\n\x00\x01 not a patch\n'));
    expect(r.outcome).toBe('unresolved');
    expect(r.patchApplied).toBe(false);
    expect(r.reason).toMatch(/^patch did not apply/);
    expect(r.output?.tests.length).toBeGreaterThan(0);
  });

  it('a wrong fix that breaks a pass_to_pass test is unresolved', async () => {
    // "Fixes" even lengths but breaks odd ones.
    const wrong = `diff --git a/calc/stats.py b/calc/stats.py
--- a/calc/stats.py
+++ b/calc/stats.py
@@ -14,3 +14,3 @@ def median(values):
         raise ValueError("median of empty data")
     ordered = sorted(values)
-    return ordered[len(ordered) // 2]
+    return (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
`;
    const r = await gradeAttempt(runtime, input(median, wrong));
    expect(r.patchApplied).toBe(true);
    expect(r.outcome).toBe('unresolved');
    expect(r.failed.map((f) => f.name)).toContain('tests/test_stats.py::TestMedian::test_odd_length');
  });

  it('a parser that writes no output is unresolved', async () => {
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { files: { runScript: median.runScript, parser: 'import sys\nsys.exit(0)\n', env: median.env } }));
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toMatch(/no output\.json/);
  });

  it('a parser that writes malformed output is unresolved with a clear reason', async () => {
    const parser = 'import sys\nopen(sys.argv[3], "w").write("{not json")\n';
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { files: { runScript: median.runScript, parser, env: median.env } }));
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toMatch(/malformed output\.json/);
  });

  it('exports the Dockerfile ENV settings: without them the run script refuses to run tests', async () => {
    const { FIXTURE_TEST_MODE: _dropped, ...withoutMode } = median.env;
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { files: { runScript: median.runScript, parser: median.parser, env: withoutMode } }));
    expect(r.outcome).toBe('unresolved');
    expect(r.stderr).toContain('FIXTURE_TEST_MODE');
    expect(r.missing.length).toBe(9);
  });

  it('a grading timeout is infra_error and the container is removed', async () => {
    const slow = `sleep 120\n${median.runScript}`;
    const labels = attemptLabels({ track: scope[LABEL_TRACK]!, run: 2, attempt: 'timeout' });
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { timeoutMs: 1500, labels, files: { runScript: slow, parser: median.parser, env: median.env } }));
    expect(r.outcome).toBe('infra_error');
    expect(r.infraReason).toBe('timeout');
    expect(r.reason).toMatch(/timed out/);
    expect(await runtime.removeLeftovers(labels)).toBe(0);
  });

  it('a grading container killed from outside mid-run is infra_error, not unresolved', async () => {
    const labels = attemptLabels({ track: scope[LABEL_TRACK]!, run: 4, attempt: 'killed' });
    const slow = `sleep 30\n${median.runScript}`;
    const grading = gradeAttempt(runtime, input(median, median.goldPatch, { labels, files: { runScript: slow, parser: median.parser, env: median.env } }));
    const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    let killed = false;
    for (let i = 0; i < 200 && !killed; i++) {
      const [running] = await runtime.docker.listContainers({ filters: { label: selector, status: ['running'] } });
      if (running) {
        await new Promise((r) => setTimeout(r, 500)); // let the script reach run_script.sh
        await runtime.docker.getContainer(running.Id).kill();
        killed = true;
      } else await new Promise((r) => setTimeout(r, 50));
    }
    expect(killed).toBe(true);
    const r = await grading;
    expect(r.outcome).toBe('infra_error');
    expect(r.reason).toMatch(/stopped before the script ended/);
    expect(await runtime.removeLeftovers(labels)).toBe(0);
  });

  it('a run script that kills the grading script from inside leaves no output.json: unresolved, as officially', async () => {
    const suicidal = 'kill -9 $PPID\nsleep 5\n';
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { files: { runScript: suicidal, parser: median.parser, env: median.env } }));
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toMatch(/no output\.json/);
  });

  it('a missing image is infra_error after the configured retries', async () => {
    const r = await gradeAttempt(runtime, input(median, median.goldPatch, { image: `agentdrift-test-missing-${randomUUID().slice(0, 8)}:x`, infraRetries: 1 }));
    expect(r.outcome).toBe('infra_error');
    expect(r.infraReason).toBe('image_missing');
  });

  it('applies the limits to the grading container', async () => {
    // Observe the container while the script runs.
    const labels = attemptLabels({ track: scope[LABEL_TRACK]!, run: 3, attempt: 'limits' });
    const slow = `sleep 3\n${median.runScript}`;
    const grading = gradeAttempt(runtime, input(median, median.goldPatch, { labels, files: { runScript: slow, parser: median.parser, env: median.env } }));
    let info: Awaited<ReturnType<typeof inspectContainer>> = null;
    for (let i = 0; i < 100 && !info; i++) {
      const list = await runtime.docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
      if (list[0]) info = await inspectContainer(list[0].Id);
      else await new Promise((r) => setTimeout(r, 50));
    }
    const r = await grading;
    expect(r.outcome).toBe('resolved');
    expect(info?.HostConfig.NanoCpus).toBe(1e9);
    expect(info?.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(info?.HostConfig.PidsLimit).toBe(256);
    expect(info?.HostConfig.NetworkMode).toBe('none');
    expect(info?.Config.Labels?.['agentdrift.role']).toBe('grading');
  });
});
