/**
 * Per-task history (issue 12 part 3): imported histories with a task that flips each way, the order by push on the
 * CUSUM, a track with only imported history (no suite frozen) and one with a frozen suite, GET
 * /api/tracks/:track/tasks and its validation, and the agentdrift_task_* series present, absent and capped by config.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { importHistoryText } from '../../src/core/history/import.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { flipOf, orderTasks, type TaskFigures } from '../../src/core/figures/tasks.ts';
import { toStatsBaseline } from '../../src/core/baselines/baseline.ts';
import { cusumWeight, taskProbability } from '../../src/stats/index.ts';
import { generateRuns, historyDocument, type HistoryRun } from '../helpers/history.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

let t: TestContext;
let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  t?.cleanup();
});

const DAYS = 30;
const REFERENCE_DAYS = 14;
const BROKE = 'task-000';
const FIXED = 'task-001';

/**
 * 30 daily runs of 20 tasks (auto baseline: the first 14 days). task-000 resolves every attempt of the reference and
 * fails every one of the last 7 days; task-001 the reverse. The last run also holds an infra error of task-000, which
 * must count nowhere.
 */
function flippingHistory(): HistoryRun[] {
  const runs = generateRuns({ seed: 11, days: DAYS, tasks: 20 });
  runs.forEach((run, day) => {
    for (const a of run.attempts) {
      if (day < REFERENCE_DAYS) {
        if (a.taskId === BROKE) a.outcome = 'resolved';
        if (a.taskId === FIXED) a.outcome = 'unresolved';
      } else if (day >= DAYS - 7) {
        if (a.taskId === BROKE) a.outcome = 'unresolved';
        if (a.taskId === FIXED) a.outcome = 'resolved';
      }
    }
  });
  const last = runs.at(-1)!;
  const first = last.attempts.find((a) => a.taskId === BROKE)!;
  last.attempts.push({ ...first, sampleIndex: 1, outcome: 'infra_error' });
  return runs;
}

interface TaskRow {
  taskId: string;
  inSuite: boolean;
  latest: { outcome: string; endedAt: string; runId: number } | null;
  reference: { passes: number; trials: number; rate: number } | null;
  baselineProbability: number | null;
  attempts: number;
  passes: number;
  infraErrors: number;
  passRate: number | null;
  cusumPush: number | null;
  cusumAttempts: number;
  flip: 'broke' | 'fixed' | null;
}

interface Body {
  track: string;
  window: string;
  span: { firstDay: string; lastDay: string; runs: number } | null;
  suiteFrozen: boolean;
  baseline: string | null;
  flips: { broke: number; fixed: number };
  tasks: TaskRow[];
}

function gauges(text: string, name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`)) m.set(line.slice(name.length, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return m;
}

async function serve(raw: Record<string, unknown> = {}): Promise<FastifyInstance> {
  t = makeContext({ tracks: [{ name: 'main' }, { name: 'empty' }], ...raw });
  importHistoryText(t.ctx, 'main', historyDocument(flippingHistory()), { fileName: 'generated' });
  app = await buildServer(t.ctx);
  return app;
}

describe('per-task history', () => {
  it('marks the task that broke and the one that got fixed, and orders every task by its push on the CUSUM', async () => {
    const a = await serve();
    const r = await a.inject('/api/tracks/main/tasks');
    expect(r.statusCode).toBe(200);
    const body = r.json() as Body;
    // Only imported: no suite frozen, the tasks come from the stored attempts.
    expect(body).toMatchObject({ track: 'main', window: '7d', suiteFrozen: false, baseline: 'reference', flips: { broke: 1, fixed: 1 } });
    expect(body.span).toMatchObject({ firstDay: '2026-01-24', lastDay: '2026-01-30', runs: 7 });
    expect(body.tasks).toHaveLength(20);
    expect(body.tasks.every((x) => !x.inSuite)).toBe(true);

    const broke = body.tasks.find((x) => x.taskId === BROKE)!;
    const fixed = body.tasks.find((x) => x.taskId === FIXED)!;
    expect(broke).toMatchObject({ flip: 'broke', attempts: 7, passes: 0, infraErrors: 1, passRate: 0, cusumAttempts: 7, reference: { passes: 14, trials: 14, rate: 1 } });
    expect(broke.latest).toMatchObject({ outcome: 'unresolved', endedAt: expect.stringMatching(/^2026-01-30T/) });
    expect(fixed).toMatchObject({ flip: 'fixed', attempts: 7, passes: 7, reference: { passes: 0, trials: 14, rate: 0 }, latest: { outcome: 'resolved' } });
    expect(body.tasks.filter((x) => x.flip).map((x) => x.taskId).sort()).toEqual([BROKE, FIXED]);

    // The push is the sum of the CUSUM increments with the task's baseline probability, as the CUSUM takes it.
    const row = t.ctx.store.baselines.list('main')[0]!;
    const p = taskProbability(toStatsBaseline(row), BROKE);
    expect(broke.baselineProbability).toBeCloseTo(p, 12);
    expect(p).toBeGreaterThan(0.8);
    expect(broke.cusumPush).toBeCloseTo(7 * cusumWeight(false, p, 0.67), 10);
    const pf = taskProbability(toStatsBaseline(row), FIXED);
    expect(fixed.cusumPush).toBeCloseTo(7 * cusumWeight(true, pf, 0.67), 10);
    expect(fixed.cusumPush!).toBeLessThan(0);

    // Most push first (the task that broke, solved 14/14 and failed 7/7, pushes most), the one fixed last.
    expect(body.tasks[0]!.taskId).toBe(BROKE);
    expect(body.tasks.at(-1)!.taskId).toBe(FIXED);
    for (let i = 1; i < body.tasks.length; i++) expect(body.tasks[i - 1]!.cusumPush!).toBeGreaterThanOrEqual(body.tasks[i]!.cusumPush!);
  });

  it('sums, in the 30d window, over the attempts the CUSUM counts: those after the reference period', async () => {
    const a = await serve();
    const body = (await a.inject('/api/tracks/main/tasks?window=30d')).json() as Body;
    expect(body.span).toMatchObject({ firstDay: '2026-01-01', lastDay: '2026-01-30', runs: 30 });
    for (const x of body.tasks) {
      expect(x.attempts).toBe(30);
      expect(x.cusumAttempts).toBe(DAYS - REFERENCE_DAYS);
    }
    // Page's CUSUM: S_T = max(0, max_k sum_{t>k} W_t) >= the sum of every increment since the baseline (k = 0).
    const total = body.tasks.reduce((s, x) => s + (x.cusumPush as number), 0);
    const cusum = t.ctx.figures.snapshot('main').regression.cusum!;
    expect(cusum.attempts).toBe(20 * (DAYS - REFERENCE_DAYS));
    expect(cusum.statistic).toBeGreaterThanOrEqual(total - 1e-9);
    // In 30 days neither task is all-failed or all-resolved: no flip there.
    expect(body.flips).toEqual({ broke: 0, fixed: 0 });
    // 1d: one attempt per task, below minWindowAttempts: no flip either.
    const day = (await a.inject('/api/tracks/main/tasks?window=1d')).json() as Body;
    expect(day.tasks.find((x) => x.taskId === BROKE)).toMatchObject({ attempts: 1, passes: 0, flip: null });
  });

  it('lists the frozen suite\'s tasks, those without attempts too', async () => {
    const a = await serve();
    const ids = Array.from({ length: 20 }, (_, i) => `task-${String(i).padStart(3, '0')}`);
    t.ctx.store.suites.freeze('main', { hash: 'f'.repeat(64), taskIds: [...ids, 'task-new'], datasetRevision: null, harnessCommit: null });
    t.ctx.figures.refresh('main');
    const body = (await a.inject('/api/tracks/main/tasks')).json() as Body;
    expect(body.suiteFrozen).toBe(true);
    expect(body.tasks).toHaveLength(21);
    expect(body.tasks.every((x) => x.inSuite)).toBe(true);
    expect(body.tasks.find((x) => x.taskId === 'task-new')).toMatchObject({ latest: null, reference: null, attempts: 0, passes: 0, passRate: null, cusumAttempts: 0, flip: null });
  });

  it('validates the window (400 naming it), answers 404 for an unknown track, and an empty track has no task', async () => {
    const a = await serve();
    const bad = await a.inject('/api/tracks/main/tasks?window=2d');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^invalid querystring: window: /);
    expect(bad.json().problems[0]).toContain('"7d"');
    const none = await a.inject('/api/tracks/nope/tasks');
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toContain('nope');
    const empty = (await a.inject('/api/tracks/empty/tasks')).json() as Body;
    expect(empty).toMatchObject({ track: 'empty', span: null, baseline: null, suiteFrozen: false, tasks: [], flips: { broke: 0, fixed: 0 } });
    const spec = (await a.inject('/docs/json')).json() as { paths: Record<string, { get: { responses: Record<string, unknown>; parameters: { name: string }[] } }> };
    const op = spec.paths['/api/tracks/{track}/tasks']!.get;
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '404']);
    expect(op.parameters.map((p) => p.name)).toContain('window');
  });

  it('against a fixed p0: pushes, but no reference rate and no flip', async () => {
    const a = await serve({ tracks: [{ name: 'main', baseline: { kind: 'fixed', p0: 0.5 } }, { name: 'empty' }] });
    const body = (await a.inject('/api/tracks/main/tasks')).json() as Body;
    expect(body.baseline).toBe('fixed');
    const broke = body.tasks.find((x) => x.taskId === BROKE)!;
    expect(broke).toMatchObject({ reference: null, baselineProbability: 0.5, flip: null });
    expect(broke.cusumPush).toBeCloseTo(7 * cusumWeight(false, 0.5, 0.67), 10);
    const text = await t.ctx.exporter.render();
    expect(gauges(text, 'agentdrift_task_flip').size).toBe(0);
    expect(gauges(text, 'agentdrift_task_reference_rate').size).toBe(0);
    expect(gauges(text, 'agentdrift_task_cusum_push').size).toBe(20);
  });
});

describe('agentdrift_task_* series', () => {
  it('are exported for each task by default, the 7d window\'s', async () => {
    await serve();
    const text = await t.ctx.exporter.render();
    const l = (task: string) => `{track="main",task="${task}"}`;
    const lw = (task: string) => `{track="main",task="${task}",window="7d"}`;
    expect(gauges(text, 'agentdrift_task_latest_outcome').get(l(BROKE))).toBe(0);
    expect(gauges(text, 'agentdrift_task_latest_outcome').get(l(FIXED))).toBe(1);
    expect(gauges(text, 'agentdrift_task_reference_rate').get(l(BROKE))).toBe(1);
    expect(gauges(text, 'agentdrift_task_reference_rate').get(l(FIXED))).toBe(0);
    expect(gauges(text, 'agentdrift_task_window_attempts').get(lw(BROKE))).toBe(7);
    expect(gauges(text, 'agentdrift_task_window_passes').get(lw(BROKE))).toBe(0);
    expect(gauges(text, 'agentdrift_task_window_passes').get(lw(FIXED))).toBe(7);
    expect(gauges(text, 'agentdrift_task_flip').get(lw(BROKE))).toBe(1);
    expect(gauges(text, 'agentdrift_task_flip').get(lw(FIXED))).toBe(-1);
    expect(gauges(text, 'agentdrift_task_cusum_push').get(lw(BROKE))).toBeGreaterThan(0);
    // Bounded by the tasks: one series of each per task (20), none for the empty track.
    for (const name of ['agentdrift_task_latest_outcome', 'agentdrift_task_reference_rate', 'agentdrift_task_window_attempts', 'agentdrift_task_window_passes', 'agentdrift_task_flip', 'agentdrift_task_cusum_push']) {
      expect(gauges(text, name).size, name).toBe(20);
    }
    expect(text).not.toContain('track="empty",task=');
  });

  it('are absent with metrics.perTaskSeries: false, and past metrics.perTaskMaxTasks (said once in the log)', async () => {
    await serve({ metrics: { perTaskSeries: false } });
    expect(await t.ctx.exporter.render()).not.toContain('agentdrift_task_');
    // The API still answers.
    expect(((await app!.inject('/api/tracks/main/tasks')).json() as Body).tasks).toHaveLength(20);
    await app!.close();
    app = null;
    t.cleanup();

    await serve({ metrics: { perTaskMaxTasks: 19 } });
    const text = await t.ctx.exporter.render();
    expect(text).not.toMatch(/^agentdrift_task_\w+\{/m);
    t.ctx.figures.refresh('main');
    const warned = t.logs.filter((x) => x.includes('per-task series left out'));
    expect(warned).toHaveLength(1);
    expect(JSON.parse(warned[0]!)).toMatchObject({ track: 'main', tasks: 20, max: 19 });
  });

  it('refuses a flip rule whose failing rate is not below its solved rate', () => {
    expect(() => makeContext({ statistics: { flips: { solvedRate: 0.5, failingRate: 0.5 } } })).toThrow(/statistics\.flips\.failingRate/);
  });
});

describe('the flip rule and the order (pure)', () => {
  const rule = { solvedRate: 0.8, failingRate: 0.2, minReferenceTrials: 5, minWindowAttempts: 2 };
  it('needs enough reference trials and window attempts, and takes its rates inclusively', () => {
    expect(flipOf({ trials: 5, rate: 0.8 }, 2, 0, rule)).toBe('broke');
    expect(flipOf({ trials: 4, rate: 1 }, 7, 0, rule)).toBeNull();
    expect(flipOf({ trials: 10, rate: 1 }, 1, 0, rule)).toBeNull();
    expect(flipOf({ trials: 10, rate: 0.79 }, 7, 0, rule)).toBeNull();
    expect(flipOf({ trials: 10, rate: 1 }, 7, 1, rule)).toBeNull();
    expect(flipOf({ trials: 5, rate: 0.2 }, 2, 2, rule)).toBe('fixed');
    expect(flipOf({ trials: 5, rate: 0.21 }, 2, 2, rule)).toBeNull();
    expect(flipOf({ trials: 5, rate: 0 }, 3, 2, rule)).toBeNull();
    expect(flipOf(null, 7, 0, rule)).toBeNull();
  });

  it('orders by push, then failures, then task id; without a baseline by failures then id', () => {
    const task = (taskId: string, push: number | null, attempts: number, passes: number): TaskFigures => ({
      taskId,
      inSuite: false,
      latest: null,
      reference: null,
      baselineProbability: null,
      windows: [{ window: '7d', attempts, passes, infraErrors: 0, passRate: null, cusumPush: push, cusumAttempts: attempts, flip: null }],
    });
    const ids = (xs: TaskFigures[]) => orderTasks(xs, '7d').map((x) => x.taskId);
    expect(ids([task('a', -1, 3, 3), task('b', 2, 3, 0), task('c', 2, 4, 0), task('d', 0, 0, 0)])).toEqual(['c', 'b', 'd', 'a']);
    expect(ids([task('z', null, 3, 1), task('y', null, 3, 0), task('x', null, 3, 1)])).toEqual(['y', 'x', 'z']);
  });
});
