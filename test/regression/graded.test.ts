/**
 * Graded figures from an imported history (nothing mocked: the real store, import, figures and exporter): the share
 * of fail_to_pass tests that pass falling on the same tasks (while the pass rate holds) is a significant drop after
 * Holm, and p2p breakage rising is a significant rise; the same history without the fall gives none; attempts
 * without per-test results are left out; the import checks the `tests` object and the export writes it back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import type { TestListResults, TestResults } from '../../src/domain/test-results.ts';
import { holm, wilcoxonGreater } from '../../src/stats/index.ts';
import { createRng } from '../../src/stats/rng.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { generateRuns, historyDocument, type HistoryRun } from '../helpers/history.ts';

let t: TestContext;
afterEach(() => t?.cleanup());

const importRuns = (track: string, runs: HistoryRun[]) => importHistoryText(t.ctx, track, historyDocument(runs), { fileName: 'generated' });

function samples(text: string, name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`)) m.set(line.slice(name.length, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return m;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A list of `total` names of which `passed` passed, the rest FAILED, as grading summarizes it. */
function list(prefix: string, total: number, passed: number): TestListResults {
  const names = Array.from({ length: total }, (_, k) => `${prefix}::test_${k}`);
  return { total, passed, failed: total - passed, error: 0, skipped: 0, missing: 0, notPassed: names.slice(passed, passed + 20) };
}

interface GradedOptions {
  /** From this day on, an unresolved attempt passes this share of its fail_to_pass tests at most (else ~0.6)... */
  fromDay: number;
  failShare: number;
  /** ...and breaks this share of its pass_to_pass tests (else none). */
  brokenShare: number;
  /** Days before this one have no per-test results (rows stored before migration 9). */
  recordedFromDay: number;
}

/**
 * Per-test results for every attempt of a generated history (helpers/history.ts: 50 tasks a day): task i lists
 * 4 + i % 7 fail_to_pass tests and 10 + i % 5 pass_to_pass ones (none for every tenth task); a resolved attempt
 * passed them all, an unresolved one part of its fail_to_pass tests. The outcomes stay as generated, so the pass
 * rate is the same with or without the fall.
 */
function withTests(runs: HistoryRun[], o: GradedOptions): HistoryRun[] {
  const rng = createRng(77);
  return runs.map((run, day) => ({
    ...run,
    attempts: run.attempts.map((a, i) => {
      const f2pTotal = 4 + (i % 7);
      const p2pTotal = i % 10 === 9 ? 0 : 10 + (i % 5);
      const late = day >= o.fromDay;
      const r1 = rng.next();
      const r2 = rng.next();
      if (day < o.recordedFromDay) return a;
      const resolved = a.outcome === 'resolved';
      const share = late ? o.failShare : 0.4 + 0.4 * r1;
      const f2pPassed = resolved ? f2pTotal : Math.min(f2pTotal - 1, Math.floor(share * f2pTotal));
      const broken = resolved ? 0 : Math.round((late ? o.brokenShare : 0) * p2pTotal * (0.5 + r2));
      const tests: TestResults = {
        ran: f2pTotal + p2pTotal + 3,
        f2p: list('f2p', f2pTotal, f2pPassed),
        p2p: list('p2p', p2pTotal, Math.max(0, p2pTotal - broken)),
      };
      return { ...a, tests };
    }),
  }));
}

type Share = (t: TestResults) => number | null;
const score: Share = (x) => (x.f2p.total ? x.f2p.passed / x.f2p.total : null);
const brokenOf: Share = (x) => (x.p2p.total ? (x.p2p.total - x.p2p.passed) / x.p2p.total : null);

/** Per task, the mean of a share over the given days' attempts that have per-test results. */
function taskMeans(runs: HistoryRun[], days: number[], share: Share): Map<string, number> {
  const sums = new Map<string, number[]>();
  for (const d of days) {
    for (const a of runs[d]!.attempts) {
      const v = a.tests ? share(a.tests as TestResults) : null;
      if (v === null) continue;
      sums.set(a.taskId as string, [...(sums.get(a.taskId as string) ?? []), v]);
    }
  }
  return new Map([...sums].map(([k, v]) => [k, v.reduce((s, x) => s + x, 0) / v.length]));
}

/** The per-task differences (window minus reference) as the test must form them. */
function differences(runs: HistoryRun[], windowDays: number[], referenceDays: number[], share: Share): number[] {
  const w = taskMeans(runs, windowDays, share);
  const r = taskMeans(runs, referenceDays, share);
  return [...w].filter(([k]) => r.has(k)).map(([k, v]) => v - r.get(k)!);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('graded figures of an imported history', () => {
  it('fewer fail_to_pass tests passing on the same tasks, at the same pass rate, is a significant drop; more p2p breakage a significant rise', async () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    // 14 days of reference (the auto baseline), the first 3 without per-test results, then 7 days of the fall.
    const runs = withTests(generateRuns({ seed: 11, days: 21 }), { fromDay: 14, failShare: 0.1, brokenShare: 0.3, recordedFromDay: 3 });
    importRuns('g', runs);
    const snap = t.ctx.figures.snapshot('g');
    expect(snap.regression.baseline?.kind).toBe('reference');

    // Window means, over every counted attempt of the window's runs that has per-test results.
    const meanOver = (days: number[], share: Share) =>
      mean(days.flatMap((d) => runs[d]!.attempts.map((a) => share(a.tests as TestResults)).filter((v): v is number => v !== null)));
    const w7 = snap.graded.find((w) => w.window === '7d')!;
    expect(w7).toMatchObject({ attempts: 7 * 50, p2pAttempts: 7 * 45 });
    expect(w7.gradedScoreMean).toBeCloseTo(meanOver(range(14, 21), score), 12);
    expect(w7.p2pBrokenMean).toBeCloseTo(meanOver(range(14, 21), brokenOf), 12);
    // 30d: days 0..20, of which days 0..2 have no per-test results (left out).
    const w30 = snap.graded.find((w) => w.window === '30d')!;
    expect(w30).toMatchObject({ attempts: 18 * 50, p2pAttempts: 18 * 45 });
    expect(w30.gradedScoreMean).toBeCloseTo(meanOver(range(3, 21), score), 12);

    // The tests: per task, window minus reference (days 3..13, the ones with results); 30d holds the same attempts as
    // 7d after the reference period, 1d only day 20.
    const reference = range(3, 14);
    const tests = snap.regression.graded;
    expect(tests.map((g) => [g.metric, g.window])).toEqual([
      ['graded_score', '1d'],
      ['graded_score', '7d'],
      ['graded_score', '30d'],
      ['p2p_broken', '1d'],
      ['p2p_broken', '7d'],
      ['p2p_broken', '30d'],
    ]);
    for (const [metric, share, worse] of [
      ['graded_score', score, -1],
      ['p2p_broken', brokenOf, 1],
    ] as const) {
      const windows = [[20], range(14, 21), range(14, 21)];
      const d = windows.map((days) => differences(runs, days, reference, share));
      const raw = d.map((x) => wilcoxonGreater(x.map((v) => worse * v)).p);
      const adjusted = holm(raw);
      const got = tests.filter((g) => g.metric === metric);
      got.forEach((g, i) => {
        expect(g.tasks, `${metric} ${g.window}`).toBe(metric === 'graded_score' ? 50 : 45);
        expect(g.change).toBeCloseTo(mean(d[i]!), 12);
        expect(g.p).toBe(raw[i]);
        expect(g.pAdjusted).toBe(adjusted[i]);
        // 1d holds one attempt per task: a task resolved that day scores 1, above its reference; no finding there.
        if (g.window === '1d') return;
        expect(g.pAdjusted).toBeLessThan(1e-4);
        expect(g.significant, `${metric} ${g.window}`).toBe(true);
      });
      expect(worse * got[1]!.change).toBeGreaterThan(0.05);
    }
    // The pass rate did not move: same outcomes as generated without a drop.
    expect(snap.regression.windows.find((w) => w.window === '7d')!.significant).toBe(false);

    const text = await t.ctx.exporter.render();
    const l7 = '{track="g",window="7d"}';
    expect(samples(text, 'agentdrift_graded_attempts').get(l7)).toBe(350);
    expect(samples(text, 'agentdrift_graded_score_mean').get(l7)).toBe(w7.gradedScoreMean);
    expect(samples(text, 'agentdrift_p2p_broken_mean').get(l7)).toBe(w7.p2pBrokenMean);
    const g7 = tests.find((g) => g.metric === 'graded_score' && g.window === '7d')!;
    expect(samples(text, 'agentdrift_graded_score_change').get(l7)).toBe(g7.change);
    expect(samples(text, 'agentdrift_graded_score_p_value').get(l7)).toBe(g7.p);
    expect(samples(text, 'agentdrift_graded_score_p_value_adjusted').get(l7)).toBe(g7.pAdjusted);
    expect(samples(text, 'agentdrift_graded_score_drop_significant').get(l7)).toBe(1);
    expect(samples(text, 'agentdrift_p2p_broken_rise_significant').get(l7)).toBe(1);
    // Bounded: one series per (track, window), nothing else.
    for (const name of [
      'agentdrift_graded_attempts',
      'agentdrift_graded_score_mean',
      'agentdrift_p2p_broken_mean',
      'agentdrift_graded_score_p_value',
      'agentdrift_p2p_broken_change',
    ]) {
      expect([...samples(text, name).keys()], name).toEqual(['{track="g",window="1d"}', l7, '{track="g",window="30d"}']);
    }
  });

  it('the same history without the fall gives no significant change', async () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    importRuns('g', withTests(generateRuns({ seed: 11, days: 21 }), { fromDay: 99, failShare: 0.1, brokenShare: 0.3, recordedFromDay: 0 }));
    const tests = t.ctx.figures.snapshot('g').regression.graded;
    expect(tests).toHaveLength(6);
    expect(tests.filter((g) => g.significant)).toEqual([]);
    const scores = tests.filter((g) => g.metric === 'graded_score');
    for (const g of scores) {
      expect(g.tasks).toBe(50);
      expect(Math.abs(g.change)).toBeLessThan(0.05);
      expect(g.pAdjusted).toBeGreaterThan(0.01);
    }
    // No pass_to_pass test was ever broken: every task's change is 0, so there is no p, only "not significant".
    for (const g of tests.filter((x) => x.metric === 'p2p_broken')) expect(g).toMatchObject({ tasks: 45, change: 0, significant: false });
    const text = await t.ctx.exporter.render();
    expect([...samples(text, 'agentdrift_graded_score_drop_significant').values()]).toEqual([0, 0, 0]);
    expect([...samples(text, 'agentdrift_p2p_broken_rise_significant').values()]).toEqual([0, 0, 0]);
    expect(samples(text, 'agentdrift_p2p_broken_p_value').size).toBe(0);
  });

  it('a history without per-test results has no means and no tests, only agentdrift_graded_attempts 0', async () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    importRuns('g', generateRuns({ seed: 11, days: 21 }));
    const snap = t.ctx.figures.snapshot('g');
    expect(snap.graded).toEqual(['1d', '7d', '30d'].map((window) => ({ window, attempts: 0, gradedScoreMean: null, p2pAttempts: 0, p2pBrokenMean: null })));
    expect(snap.regression.graded).toEqual([]);
    const text = await t.ctx.exporter.render();
    expect([...samples(text, 'agentdrift_graded_attempts').values()]).toEqual([0, 0, 0]);
    for (const name of [
      'agentdrift_graded_score_mean',
      'agentdrift_p2p_broken_mean',
      'agentdrift_graded_score_change',
      'agentdrift_graded_score_drop_significant',
    ]) {
      expect(samples(text, name).size, name).toBe(0);
    }
  });
});

const GOOD: TestResults = {
  ran: 2160,
  f2p: {
    total: 160,
    passed: 100,
    failed: 58,
    error: 1,
    skipped: 0,
    missing: 1,
    notPassed: Array.from({ length: 20 }, (_, i) => `tests/test_scale.py::TestScale::test_mod_${100 + i}`),
  },
  p2p: { total: 400, passed: 399, failed: 0, error: 0, skipped: 1, missing: 0, notPassed: ['tests/test_bulk.py::TestBulk::test_case_0005'] },
};

const doc = (tests: unknown) =>
  JSON.stringify({
    format: 'agentdrift-history/1',
    runs: [{ startedAt: '2026-03-01T03:00:00Z', endedAt: '2026-03-01T04:00:00Z', attempts: [{ taskId: 'task-a', outcome: 'unresolved', tests }] }],
  });

describe('per-test results in the history format', () => {
  it('are stored, served, exported as they were, read back the same; a file without them stays valid and exports without them', async () => {
    t = makeContext({ tracks: [{ name: 'a' }, { name: 'b' }] });
    importHistoryText(t.ctx, 'a', doc(GOOD), { fileName: 'h.json' });
    const run = t.ctx.store.runs.latest('a', ['completed'])!;
    expect(t.ctx.store.attempts.ofRun(run.id)[0]!.tests).toEqual(GOOD);
    const app = await buildServer(t.ctx);
    try {
      expect((await app.inject(`/api/runs/${run.id}`)).json().attempts[0].tests).toEqual(GOOD);
    } finally {
      await app.close();
    }
    const exported = exportHistory(t.ctx, 'a') as { runs: { attempts: Record<string, unknown>[] }[] };
    expect(exported.runs[0]!.attempts[0]!.tests).toEqual(GOOD);
    importHistoryText(t.ctx, 'b', JSON.stringify(exported), { fileName: 'export.json' });
    expect(t.ctx.store.attempts.ofRun(t.ctx.store.runs.latest('b', ['completed'])!.id)[0]!.tests).toEqual(GOOD);
    expect(exportHistory(t.ctx, 'b')).toMatchObject({ runs: exported.runs });

    t.cleanup();
    t = makeContext({ tracks: [{ name: 'a' }] });
    importHistoryText(t.ctx, 'a', doc(undefined), { fileName: 'old.json' });
    importHistoryText(t.ctx, 'a', doc(null).replace('03:00:00Z', '05:00:00Z').replace('04:00:00Z', '06:00:00Z'), { fileName: 'null.json' });
    for (const r of t.ctx.store.runs.list('a', { limit: 10, offset: 0 }).runs) expect(t.ctx.store.attempts.ofRun(r.id)[0]!.tests).toBeNull();
    const old = exportHistory(t.ctx, 'a') as { runs: { attempts: Record<string, unknown>[] }[] };
    for (const r of old.runs) expect(Object.keys(r.attempts[0]!)).not.toContain('tests');
    const app2 = await buildServer(t.ctx);
    try {
      expect((await app2.inject(`/api/runs/${t.ctx.store.runs.latest('a', ['completed'])!.id}`)).json().attempts[0].tests).toBeNull();
    } finally {
      await app2.close();
    }
  });

  const p = 'runs[0].attempts[0].tests';
  it.each([
    [
      { ...GOOD, f2p: { ...GOOD.f2p, passed: 101 } },
      `${p}.f2p.total: got 160; expected passed + failed + error + skipped + missing (161) to equal total (160)`,
    ],
    [{ ...GOOD, f2p: { ...GOOD.f2p, notPassed: GOOD.f2p.notPassed.slice(1) } }, `${p}.f2p.notPassed: got`],
    [{ ...GOOD, f2p: { ...GOOD.f2p, notPassed: [...GOOD.f2p.notPassed, 'x'] } }, 'expected at most 20 names (the first that did not pass)'],
    [{ ...GOOD, p2p: { ...GOOD.p2p, notPassed: ['x'.repeat(301)] } }, `${p}.p2p.notPassed[0]: got "xxx`],
    [{ ...GOOD, p2p: { ...GOOD.p2p, notPassed: ['x'.repeat(301)] } }, 'expected at most 300 characters (longer names are stored cut, ending in …)'],
    [{ ...GOOD, ran: -1 }, `${p}.ran: got -1; out of range: expected an integer in 0..10000000 (distinct tests in output.json)`],
    [{ ...GOOD, f2p: { ...GOOD.f2p, total: 2_000_000 } }, `${p}.f2p.total: got 2000000; out of range: expected an integer in 0..1000000 (tests of the list)`],
    [{ ...GOOD, p2p: { ...GOOD.p2p, skipped: 0.5 } }, `${p}.p2p.skipped: got 0.5; out of range: expected an integer in 0..1000000 (tests of the list)`],
    [{ ...GOOD, p2p: undefined }, `${p}.p2p: got nothing`],
    [{ ...GOOD, f2p: { ...GOOD.f2p, names: [] } }, `${p}.f2p.names: unknown key`],
    ['all good', `${p}: got "all good"`],
  ])('refuses bad per-test results with a message naming them, storing nothing (%#)', (tests, message) => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    expect(() => importHistoryText(t.ctx, 'a', doc(tests), { fileName: 'bad.json' })).toThrow(message);
    expect(t.ctx.store.runs.list('a', { limit: 10, offset: 0 }).total).toBe(0);
  });
});
