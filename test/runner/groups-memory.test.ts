/**
 * A run stores each attempt's repository and language from the frozen suite's task (the dataset row's `repo` and
 * `repo_language`), and the breakdown groups the run's attempts by them. executeRun on the memory runtime, with the
 * real store, dataset, harness files, agent invocation and grading code (test/helpers/memory-runner.ts).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../src/core/runner/run.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { fixtureConfig, fixtureTasksWithoutImages, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { memoryWorld } from '../helpers/memory-runner.ts';

const TRACK = 'grp';
let suite: FixtureTask[];
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;

beforeAll(async () => {
  const tasks = await fixtureTasksWithoutImages();
  const median = tasks.find((x) => x.name === 'calc-median')!;
  const slug = tasks.find((x) => x.name === 'textkit-slug')!;
  // The same task, its dataset row saying `go`: the language must come from the row, whatever the task is.
  const slugGo: FixtureTask = { ...slug, row: { ...slug.row, repo_language: 'go' } };
  suite = [median, slugGo];
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-groups-memory-'), suite));
});

afterEach(() => {
  t?.cleanup();
  t = null;
});

describe('a run stores the repository and language of each task', () => {
  it('from the suite, per attempt; the breakdown groups the run by them', async () => {
    const w = memoryWorld({ tasks: suite });
    const config = fixtureConfig({
      apiUrl: 'http://127.0.0.1:9/',
      datasetPath,
      harnessPath,
      ids: suite.map((x) => x.instanceId),
      docker: { infraRetries: 0, gradingTimeoutSeconds: 120 },
      track: { name: TRACK, model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 120, maxTurns: 10, maxBudgetUsd: 5 }, concurrency: 2, samplesPerTask: 2 },
    });
    t = makeContext(config, { ANTHROPIC_API_KEY: 'sk-ant-test-secret-groups-0123456789' });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 4 });
    const stored = t.ctx.store.attempts.ofRun(r.runId!);
    expect(stored.map((a) => [a.taskId, a.sampleIndex, a.repository, a.language]).sort()).toEqual(
      [
        [suite[0]!.instanceId, 0, 'agentdrift-fixtures/calc', 'python'],
        [suite[0]!.instanceId, 1, 'agentdrift-fixtures/calc', 'python'],
        [suite[1]!.instanceId, 0, 'agentdrift-fixtures/textkit', 'go'],
        [suite[1]!.instanceId, 1, 'agentdrift-fixtures/textkit', 'go'],
      ].sort(),
    );

    const s = t.ctx.figures.snapshot(TRACK);
    const day = s.breakdown.filter((g) => g.window === '1d');
    expect(day.map((g) => [g.dimension, g.group, g.n, g.tasks])).toEqual([
      ['language', 'python', 2, 1],
      ['language', 'go', 2, 1],
      ['repository', 'agentdrift-fixtures/calc', 2, 1],
      ['repository', 'agentdrift-fixtures/textkit', 2, 1],
    ]);
    // The fixing agent resolves both tasks; no baseline yet, so no change and no test.
    expect(day.every((g) => g.passes === 2 && g.method === 'none' && Number.isNaN(g.change))).toBe(true);
    const text = await t.ctx.exporter.render();
    expect(text).toContain(`agentdrift_group_pass_rate{track="${TRACK}",window="1d",dimension="language",group="go"} 1`);
    expect(text).toContain(`agentdrift_group_attempts{track="${TRACK}",window="7d",dimension="repository",group="agentdrift-fixtures/calc"} 2`);
    expect(text).not.toContain('agentdrift_group_change{');
  });
});
