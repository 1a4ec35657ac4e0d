/**
 * A window is a set of whole runs (issue 12 part 1): the finished runs whose day (the calendar day, in the track's
 * schedule time zone, on which the run started) lies in the last 1, 7 or 30 days ending with the latest finished
 * run's day. Runs of uneven length, runs that start near midnight in a time zone west of UTC, a 25-hour day (the end
 * of daylight saving time), a run still going on, a run that failed to start: the test names the runs each window
 * must hold, computes every figure from those runs alone (the pass-rate tests and the usage tests with the pure
 * statistics, not the store) and checks that the daemon serves exactly that, in the snapshot, the exposition and the API.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { importHistoryText } from '../../src/core/history/import.ts';
import { calendarDay, startOfCalendarDay } from '../../src/cron/cron.ts';
import { createRng } from '../../src/stats/rng.ts';
import { evaluateWindows, usageWindows } from '../../src/stats/index.ts';
import type { TaskCount } from '../../src/domain/records.ts';
import type { AttemptInput, Outcome } from '../../src/domain/types.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { generateRuns, historyDocument, type HistoryRun } from '../helpers/history.ts';

let t: TestContext;
let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  t?.cleanup();
});

const HOUR = 3_600_000;
const TZ = 'America/New_York';

interface Attempt {
  taskId: string;
  outcome: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  turns: number;
  toolCalls: number;
  agentDurationMs: number | null;
  startedAt: string;
  endedAt: string;
}
interface Run {
  label: string;
  startedAt: string;
  endedAt: string;
  state: 'completed' | 'cancelled';
  agentVersion: string;
  modelId: string;
  attempts: Attempt[];
}

/**
 * A run of `tasks` tasks starting at `start` (an ISO instant with its New York offset written out, so the test does
 * not lean on the daemon's time-zone code) and taking `hours`; its attempts end evenly spread over it. Each run has its
 * own cost and token scale (`scale`), so a usage ratio tells which runs a window holds; one task per run is an infra error.
 */
function run(label: string, start: string, hours: number, seed: number, opts: { tasks?: number; state?: Run['state']; scale?: number } = {}): Run {
  const tasks = opts.tasks ?? 50;
  const rng = createRng(seed);
  const t0 = Date.parse(start);
  const span = hours * HOUR;
  const scale = opts.scale ?? 1;
  const attempts = Array.from({ length: tasks }, (_, i): Attempt => {
    const ended = t0 + Math.round(((i + 1) * span) / (tasks + 1));
    const infra = i === seed % tasks;
    const p = 0.2 + (0.6 * i) / tasks;
    return {
      taskId: `task-${String(i).padStart(3, '0')}`,
      outcome: infra ? 'infra_error' : rng.next() < p ? 'resolved' : 'unresolved',
      inputTokens: Math.round(scale * (40_000 + 20_000 * rng.next())),
      outputTokens: Math.round(scale * (4_000 + 2_000 * rng.next())),
      costUsd: Math.round(scale * (1 + 0.3 * rng.next()) * 1e6) / 1e6,
      turns: 10 + Math.floor(30 * rng.next()),
      toolCalls: 20 + Math.floor(30 * rng.next()),
      agentDurationMs: infra ? null : Math.round(60_000 + 120_000 * rng.next()),
      startedAt: new Date(ended - 30_000).toISOString(),
      endedAt: new Date(ended).toISOString(),
    };
  });
  return { label, startedAt: new Date(t0).toISOString(), endedAt: new Date(t0 + span).toISOString(), state: opts.state ?? 'completed', agentVersion: '2.1.0', modelId: 'm', attempts };
}

const counted = (runs: readonly Run[]) => runs.flatMap((r) => r.attempts).filter((a) => a.outcome !== 'infra_error');

function tally(attempts: readonly Attempt[]): Map<string, TaskCount> {
  const m = new Map<string, TaskCount>();
  for (const a of attempts) {
    const c = m.get(a.taskId) ?? { passes: 0, trials: 0 };
    c.trials++;
    if (a.outcome === 'resolved') c.passes++;
    m.set(a.taskId, c);
  }
  return m;
}

const usageValue: Record<string, (a: Attempt) => number | null> = {
  cost: (a) => a.costUsd,
  input_tokens: (a) => a.inputTokens,
  output_tokens: (a) => a.outputTokens,
  duration: (a) => (a.agentDurationMs === null ? null : a.agentDurationMs / 1000),
  turns: (a) => a.turns,
  tool_calls: (a) => a.toolCalls,
};

function byTask(attempts: readonly Attempt[], value: (a: Attempt) => number | null): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const a of attempts) {
    const v = value(a);
    if (v !== null) m.set(a.taskId, [...(m.get(a.taskId) ?? []), v]);
  }
  return m;
}

function gauges(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) if (line && !line.startsWith('#')) m.set(line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return m;
}

describe('calendar days in a time zone', () => {
  it('are dates, not 24-hour spans: the day daylight saving ends has 25 hours, a skipped midnight starts the day after the gap', () => {
    const nov1 = calendarDay(Date.parse('2026-11-01T12:00:00-05:00'), TZ);
    expect(startOfCalendarDay(nov1, TZ)).toBe(Date.parse('2026-11-01T00:00:00-04:00'));
    expect(startOfCalendarDay(nov1 + 1, TZ) - startOfCalendarDay(nov1, TZ)).toBe(25 * HOUR);
    // 23:30 in New York is already the next day in UTC.
    expect(calendarDay(Date.parse('2026-11-01T23:30:00-05:00'), TZ)).toBe(nov1);
    expect(calendarDay(Date.parse('2026-11-01T23:30:00-05:00'), 'UTC')).toBe(nov1 + 1);
    // Santiago moves its clocks from 00:00 to 01:00 on 6 September 2026: that day begins at 01:00 (-03:00).
    const sep6 = calendarDay(Date.parse('2026-09-06T12:00:00-03:00'), 'America/Santiago');
    expect(startOfCalendarDay(sep6, 'America/Santiago')).toBe(Date.parse('2026-09-06T01:00:00-03:00'));
    expect(startOfCalendarDay(sep6, 'America/Santiago') - startOfCalendarDay(sep6 - 1, 'America/Santiago')).toBe(24 * HOUR);
    expect(startOfCalendarDay(sep6 + 1, 'America/Santiago') - startOfCalendarDay(sep6, 'America/Santiago')).toBe(23 * HOUR);
  });
});

describe('windows of whole runs', () => {
  it('hold exactly the runs that started on their calendar days, in the schedule time zone, across a clock change', async () => {
    // The reference period: 14 one-hour runs at 03:00, 1 to 14 September.
    const reference = Array.from({ length: 14 }, (_, d) => run(`ref${d}`, `2026-09-${String(d + 1).padStart(2, '0')}T03:00:00-04:00`, 1, 100 + d));
    // Windows end on Wednesday 4 November: 1d is that day, 7d 29 October to 4 November (1 November has 25 hours,
    // daylight saving time ends), 30d 6 October to 4 November.
    const r = {
      // 5 October 23:50: one day too early for 30d, though it ends inside it.
      A: run('A', '2026-10-05T23:50:00-04:00', 1, 1, { scale: 1.1 }),
      // 6 October 00:10: the first day of 30d.
      B: run('B', '2026-10-06T00:10:00-04:00', 1, 2, { scale: 1.2 }),
      X: run('X', '2026-10-15T03:00:00-04:00', 1, 3, { scale: 1.3 }),
      // 28 October 23:55, 20 hours: ends on 29 October, the first day of 7d, but started the day before.
      C: run('C', '2026-10-28T23:55:00-04:00', 20, 4, { scale: 1.4 }),
      // 29 October 00:30: in 7d. Six 24-hour days back from 4 November 00:00 is 29 October 01:00 (one day had 25 h).
      D: run('D', '2026-10-29T00:30:00-04:00', 1, 5, { scale: 1.5 }),
      // 1 November 23:30 EST (2 November in UTC), 20 hours.
      E: run('E', '2026-11-01T23:30:00-05:00', 20, 6, { scale: 1.6 }),
      // 3 November 23:00 EST (4 November 04:00 UTC), 20 hours: ends late on 4 November, yet it is 3 November's run.
      F: run('F', '2026-11-03T23:00:00-05:00', 20, 7, { scale: 1.7 }),
      // 4 November: a one-hour run just after midnight and a cancelled one of 20 tasks at noon.
      G: run('G', '2026-11-04T00:05:00-05:00', 1, 8, { scale: 1.8 }),
      H: run('H', '2026-11-04T12:00:00-05:00', 2, 9, { tasks: 20, state: 'cancelled', scale: 1.9 }),
    };
    const members: Record<string, Run[]> = {
      '1d': [r.G, r.H],
      '7d': [r.D, r.E, r.F, r.G, r.H],
      '30d': [r.B, r.X, r.C, r.D, r.E, r.F, r.G, r.H],
    };
    const firstDay = { '1d': '2026-11-04', '7d': '2026-10-29', '30d': '2026-10-06' } as Record<string, string>;
    const fromIso = { '1d': '2026-11-04T00:00:00-05:00', '7d': '2026-10-29T00:00:00-04:00', '30d': '2026-10-06T00:00:00-04:00' } as Record<string, string>;

    t = makeContext({
      statistics: { alpha: 0.05 },
      tracks: [{ name: 'ny', schedule: { cron: '0 3 * * *', timezone: TZ }, baseline: { kind: 'reference', from: '2026-09-01T00:00:00-04:00', to: '2026-09-15T00:00:00-04:00' } }],
    });
    const strip = (runs: Run[]) => runs.map(({ label: _, ...x }) => x) as unknown as HistoryRun[];
    importHistoryText(t.ctx, 'ny', historyDocument(strip([...reference, ...Object.values(r)])), { fileName: 'uneven' });

    // A run going on (started on 4 November, 10 attempts stored) and, on 5 November, a run that failed to start:
    // neither is in a window, and neither moves the windows' last day.
    const live = t.ctx.store.runs.create({ track: 'ny', state: 'running', trigger: 'schedule', reason: null, startedAt: '2026-11-04T23:00:00.000Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null });
    for (const a of run('live', '2026-11-04T18:00:00-05:00', 1, 10, { tasks: 10 }).attempts) {
      const input: AttemptInput = { ...a, outcome: a.outcome as Outcome, sampleIndex: 0, reason: null, cacheReadTokens: 0, cacheCreationTokens: 0, gradingDurationMs: null, patchBytes: null, transcriptPath: null, gradingLogPath: null };
      t.ctx.store.attempts.insert(live, input);
    }
    t.ctx.store.runs.recordEnded({ track: 'ny', state: 'failed', trigger: 'schedule', reason: 'image pull failed', startedAt: '2026-11-05T05:30:00.000Z' }, Date.parse('2026-11-05T05:31:00Z'));
    t.ctx.figures.refresh('ny');

    const snap = t.ctx.figures.snapshot('ny');
    expect(snap.windows.map((w) => w.window)).toEqual(['1d', '7d', '30d']);
    for (const w of snap.windows) {
      const runs = members[w.window]!;
      const attempts = runs.flatMap((x) => x.attempts);
      const c = counted(runs);
      expect({ window: w.window, runs: w.runs, attempts: w.attempts, passes: w.passes, infraErrors: w.infraErrors }).toEqual({
        window: w.window,
        runs: runs.length,
        attempts: c.length,
        passes: c.filter((a) => a.outcome === 'resolved').length,
        infraErrors: attempts.length - c.length,
      });
      expect(w.firstDay).toBe(firstDay[w.window]);
      expect(w.lastDay).toBe('2026-11-04');
      expect(w.fromMs).toBe(Date.parse(fromIso[w.window]!));
      expect(w.toMs).toBe(Math.max(...runs.map((x) => Date.parse(x.endedAt))));
      expect(w.meanCostUsd).toBeCloseTo(c.reduce((s, a) => s + a.costUsd, 0) / c.length, 9);
    }
    // The numbers of the exact membership, written out once: 1d = 49 + 19 counted attempts.
    expect(snap.windows.map((w) => [w.attempts, w.infraErrors, w.runs])).toEqual([[68, 2, 2], [215, 5, 5], [362, 8, 8]]);
    expect(snap.windowEndMs).toBe(Date.parse(r.F.endedAt));
    // The latest run that ended is the failed start; the windows still end with 4 November's runs.
    expect(snap.lastRunMs).toBe(Date.parse('2026-11-05T05:31:00Z'));

    // The pass-rate tests (and their minimum detectable drops) and the usage tests see exactly these runs.
    const base = counted(reference);
    const baseline = { kind: 'reference' as const, perTask: tally(base) };
    const expectedWindows = evaluateWindows(baseline, (['1d', '7d', '30d'] as const).map((w) => ({ window: w, perTask: tally(counted(members[w]!)) })), { alpha: 0.05, confidence: 0.95 }).results;
    const got = snap.regression.windows;
    expect(got.map((w) => [w.window, w.method, w.n, w.passes, w.testN])).toEqual(expectedWindows.map((w) => [w.window, w.method, w.n, w.passes, w.testN]));
    for (const [i, w] of got.entries()) {
      const e = expectedWindows[i]!;
      for (const k of ['p', 'pAdjusted', 'minimumDetectableDrop', 'estimate', 'lower', 'upper'] as const) expect(w[k], `${w.window} ${k}`).toBeCloseTo(e[k], 12);
    }
    expect(snap.regression.usage).toHaveLength(6 * 3);
    for (const [metric, value] of Object.entries(usageValue)) {
      const baseByTask = byTask(base, value);
      const expectedUsage = usageWindows(
        (['1d', '7d', '30d'] as const).map((w) => ({
          window: w,
          tasks: [...byTask(counted(members[w]!), value)].filter(([id]) => baseByTask.has(id)).map(([id, v]) => ({ window: v, baseline: baseByTask.get(id)! })),
        })),
        { alpha: 0.05, threshold: 1.25 },
      );
      for (const e of expectedUsage) {
        const u = snap.regression.usage.find((x) => x.metric === metric && x.window === e.window)!;
        expect([u.tasks, u.significant], `${metric} ${e.window}`).toEqual([e.n, e.significant]);
        expect(u.ratio, `${metric} ${e.window} ratio`).toBeCloseTo(e.ratio, 12);
        expect(u.p, `${metric} ${e.window} p`).toBeCloseTo(e.p, 12);
      }
    }
    // Each run has its own cost scale: the 1d cost ratio is that of G and H (1.8 and 1.9) alone.
    const cost1d = snap.regression.usage.find((x) => x.metric === 'cost' && x.window === '1d')!;
    expect(cost1d.ratio).toBeGreaterThan(1.7);
    expect(cost1d.ratio).toBeLessThan(2);
    // The CUSUM's volume for a reference baseline is the reference's own: 14 runs of 49 counted attempts a day.
    expect(snap.regression.cusum?.attemptsPerDay).toBe(49);

    // The exposition and the API say the same.
    const m = gauges(await t.ctx.exporter.render());
    for (const w of snap.windows) {
      expect(m.get(`agentdrift_window_attempts{track="ny",window="${w.window}"}`)).toBe(w.attempts);
      expect(m.get(`agentdrift_window_passes{track="ny",window="${w.window}"}`)).toBe(w.passes);
    }
    app = await buildServer(t.ctx);
    const detail = (await app.inject('/api/tracks/ny')).json();
    expect(detail.windows.map((w: Record<string, unknown>) => [w.window, w.firstDay, w.lastDay, w.from, w.runs, w.attempts])).toEqual(
      snap.windows.map((w) => [w.window, w.firstDay, w.lastDay, new Date(w.fromMs).toISOString(), w.runs, w.attempts]),
    );
    expect(detail.windowsEndAt).toBe(r.F.endedAt);
    expect(detail.statistics.windows.map((w: { n: number }) => w.n)).toEqual(expectedWindows.map((w) => w.n));
  });

  it('1d is the latest day\'s run, not 52 attempts when that run was quicker than the day before\'s', () => {
    // 30 days of 50-task runs at 03:00 UTC taking 51 minutes, but the second-to-last one is slow: its last two
    // attempts end after 03:51, later in the day than the last run ends, so they ended within its last 24 hours.
    const runs = generateRuns({ seed: 12, days: 30 });
    const slow = runs[28]!;
    const t0 = Date.parse(slow.startedAt);
    slow.attempts[48]!.endedAt = new Date(t0 + 4 * HOUR).toISOString();
    slow.attempts[49]!.endedAt = new Date(t0 + 5 * HOUR).toISOString();
    slow.endedAt = new Date(t0 + 5 * HOUR + 60_000).toISOString();
    const end = Date.parse(runs[29]!.endedAt);
    const endedWithin24h = runs.flatMap((x) => x.attempts).filter((a) => Date.parse(a.endedAt as string) > end - 24 * HOUR && Date.parse(a.endedAt as string) <= end);
    expect(endedWithin24h).toHaveLength(52);

    t = makeContext({ tracks: [{ name: 'utc' }] });
    importHistoryText(t.ctx, 'utc', historyDocument(runs), { fileName: 'slow-day' });
    const snap = t.ctx.figures.snapshot('utc');
    const last = runs[29]!.attempts;
    const w1 = snap.windows.find((w) => w.window === '1d')!;
    expect([w1.runs, w1.attempts, w1.passes]).toEqual([1, 50, last.filter((a) => a.outcome === 'resolved').length]);
    expect(snap.windows.map((w) => [w.window, w.runs, w.attempts])).toEqual([['1d', 1, 50], ['7d', 7, 350], ['30d', 30, 1500]]);
    expect(w1.fromMs).toBe(Date.parse('2026-01-30T00:00:00Z'));
    expect(w1.toMs).toBe(end);
  });
});
