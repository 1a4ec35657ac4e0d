/**
 * `npm run bench stats -- --profile` (bench/stats-profiles.ts, bench/detector.ts): the options, the JSON it writes
 * from a tiny seeded --quick run (its shape, identical for the same seed whatever the thread count), and the two hooks
 * later parts plug into (a policy's extra attempts, a selector's calibration spend).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DROPS,
  FOLLOW_UP,
  aggregate,
  delayQuantile,
  runReplicate,
  simulateHistory,
  type DayStats,
  type Policy,
  type SuiteView,
} from '../../bench/detector.ts';
import { benchStats } from '../../bench/stats.ts';
import { UsageError, parseStatsArgs } from '../../bench/stats-profiles.ts';
import { randomSelection, type SuiteSelector } from '../../bench/suites.ts';
import { createRng, taskProbability, type Baseline, type TaskCount, type WindowsEvaluation } from '../../src/stats/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentdrift-bench-stats-'));
// A small pool: 40 tasks, a few never solved, a few always.
const poolFile = join(dir, 'tiny-pool.json');
writeFileSync(poolFile, JSON.stringify({ p: Array.from({ length: 40 }, (_, i) => (i < 6 ? 0 : i > 36 ? 0.97 : i / 40)) }));

describe('parseStatsArgs', () => {
  it('reads every option, --profile repeated', () => {
    const opts = parseStatsArgs(['--profile', 'a.json', '--profile', 'b.json', '--suite-size', '30', '--json', 'o.json', '--quick', '--replicates', '7', '--seed', '42', '--workers', '1']);
    expect(opts).toEqual({ profiles: ['a.json', 'b.json'], suiteSize: 30, json: 'o.json', quick: true, replicates: 7, seed: 42, workers: 1 });
    expect(parseStatsArgs(['--profile', 'a.json']).suiteSize).toBe(50);
  });

  it.each([
    [['--suite-size', '0'], /--suite-size must be a positive integer, got "0"/],
    [['--suite-size'], /--suite-size needs a value/],
    [['--replicates', '2.5'], /--replicates must be a positive integer/],
    [['--profile'], /--profile needs a file/],
    [['--seed', 'x'], /--seed must be an integer/],
    [['--profiles', 'a.json'], /unknown option "--profiles"/],
  ])('refuses %j', (args, message) => {
    expect(() => parseStatsArgs(args)).toThrow(UsageError);
    expect(() => parseStatsArgs(args)).toThrow(message);
  });

  it('the bench refuses options without a profile, and two profiles of one name', async () => {
    await expect(benchStats(['--quick'])).rejects.toThrow(/give at least one --profile FILE/);
    const other = mkdtempSync(join(tmpdir(), 'agentdrift-bench-stats-'));
    const twin = join(other, 'tiny-pool.json');
    writeFileSync(twin, readFileSync(poolFile));
    await expect(benchStats(['--profile', poolFile, '--profile', twin, '--suite-size', '12', '--quick'])).rejects.toThrow(/two profiles are named "tiny-pool"/);
    await expect(benchStats(['--profile', poolFile, '--suite-size', '41'])).rejects.toThrow(/fewer than the suite size 41/);
  });
});

describe('the JSON of a tiny --quick run', () => {
  const run = async (out: string, workers: number, seed = 7): Promise<string> => {
    const args = ['--profile', poolFile, '--quick', '--replicates', '3', '--suite-size', '12', '--seed', String(seed), '--workers', String(workers), '--json', out];
    await benchStats(args);
    return readFileSync(out, 'utf8');
  };

  it('has the documented shape, and the same seed gives identical JSON on one thread or two', async () => {
    const first = await run(join(dir, 'a.json'), 1);
    expect(await run(join(dir, 'b.json'), 1)).toBe(first);
    expect(await run(join(dir, 'c.json'), 2)).toBe(first);
    expect(await run(join(dir, 'd.json'), 1, 8)).not.toBe(first);

    const report = JSON.parse(first);
    expect(report).toMatchObject({ bench: 'stats', quick: true, seed: 7, suiteSize: 12, selection: 'random', policies: [], followUpDays: FOLLOW_UP });
    expect(report.note).toMatch(/No policy is implemented yet/);
    expect(report.effort.replicates).toBe(3);
    expect(Object.keys(report.profiles)).toEqual(['tiny-pool']);
    const entry = report.profiles['tiny-pool'];
    expect(entry).toMatchObject({ file: poolFile, poolSize: 40 });
    const figureKeys = [
      'falsePagesPerYear',
      'falsePagesPerYearSe',
      'falsePagesPerYearDirect',
      'falsePagesPerYearDirectSe',
      'medianDaysToPage',
      'p90DaysToPage',
      'censoredDrops',
      'dropRunsPerSize',
      'spendRatio',
      'calibrationRuns',
      'calibrationAttempts',
      'threshold',
    ];
    expect(Object.keys(entry.plain).sort()).toEqual([...figureKeys].sort());
    // No policy yet: the figures with everything switched on are the plain ones.
    for (const key of figureKeys) expect(entry[key]).toEqual(entry.plain[key]);
    expect(entry.falsePagesPerYear).toBeGreaterThanOrEqual(0);
    expect(entry.falsePagesPerYearSe).toBeGreaterThanOrEqual(0);
    expect(entry.spendRatio).toBe(1);
    expect(entry.calibrationRuns).toBe(0);
    expect(entry.dropRunsPerSize).toBe(3 * 4);
    for (const quantiles of [entry.medianDaysToPage, entry.p90DaysToPage]) {
      expect(Object.keys(quantiles)).toEqual(DROPS.map(String));
      for (const d of Object.values(quantiles)) {
        if (d !== null) expect(Number.isInteger(d) && (d as number) >= 1 && (d as number) <= FOLLOW_UP).toBe(true);
      }
    }
    for (const points of DROPS.map(String)) {
      const censored = entry.censoredDrops[points];
      expect(censored).toBeGreaterThanOrEqual(0);
      // a quantile is null exactly when it falls on a censored run
      expect(entry.p90DaysToPage[points] === null).toBe(censored > 12 - Math.ceil(0.9 * 12));
      expect(entry.medianDaysToPage[points] === null).toBe(censored > 12 - Math.ceil(0.5 * 12));
    }
    expect(entry.threshold.min).toBeLessThanOrEqual(entry.threshold.mean);
    expect(entry.threshold.mean).toBeLessThanOrEqual(entry.threshold.max);
  });
});

describe('delayQuantile', () => {
  it('counts censored runs as longer than any, and is null when the quantile is one', () => {
    expect(delayQuantile([3, 1, 2, null], 0.5)).toBe(2);
    expect(delayQuantile([3, 1, 2, null], 0.9)).toBeNull();
    expect(delayQuantile([null, null, 4], 0.5)).toBeNull();
    expect(delayQuantile([], 0.5)).toBeNull();
  });
});

/** A suite of `k` tasks with a given reference tally each, and a threshold. */
function suiteView(reference: TaskCount[], h: number): SuiteView {
  const ids = reference.map((_, k) => `task-${String(k).padStart(3, '0')}`);
  const perTask = new Map(ids.map((id, k) => [id, reference[k]!]));
  const baseline: Baseline = { kind: 'reference', perTask };
  return { size: ids.length, ids, baseline, baselineProbs: ids.map((id) => taskProbability(baseline, id)), reference, h };
}

describe('the policy hook', () => {
  const reference = Array.from({ length: 10 }, (_, k) => ({ passes: k + 2, trials: 14 }));
  const truth = reference.map((c) => c.passes / c.trials);

  it('runs the extra attempts a policy asks for, the same day, and counts them', () => {
    const seen: DayStats[] = [];
    let windows: WindowsEvaluation | undefined;
    const rerunFirstTwo: Policy = {
      name: 'rerun-first-two',
      start: () => (stats) => {
        seen.push(stats);
        if (stats.day === 9) windows = stats.windows();
        return [0, 1];
      },
    };
    const suite = suiteView(reference, 1e9);
    const plain = simulateHistory(suite, [], createRng(1), 40, () => truth);
    const withPolicy = simulateHistory(suite, [rerunFirstTwo], createRng(1), 40, () => truth);
    expect(plain.attempts).toBe(400);
    expect(withPolicy.attempts).toBe(40 * 12);
    expect(seen.map((s) => s.day)).toEqual(Array.from({ length: 40 }, (_, d) => d));
    expect(seen.every((s) => s.attempts === 10 && s.h === 1e9 && !s.paged)).toBe(true);
    // the window tests see the extra attempts of the days before: day 9's 7d window has 7 x 12 attempts
    if (!windows) throw new Error('the hook never saw day 9');
    expect(windows.results.map((r) => r.window)).toEqual(['1d', '7d', '30d']);
    expect(windows.results[0]!.n).toBe(10);
    expect(windows.results[1]!.n).toBe(6 * 12 + 10);
    expect(windows.results[2]!.n).toBe(9 * 12 + 10);
    expect(() => simulateHistory(suite, [{ name: 'bad', start: () => () => [10] }], createRng(1), 1, () => truth)).toThrow(/position 10/);
  });

  it('feeds the extra attempts to the CUSUM: failing reruns page sooner', () => {
    const suite = suiteView(reference, 4);
    const allFail = reference.map(() => 0);
    const plain = simulateHistory(suite, [], createRng(2), 10, () => allFail);
    const rerunAll: Policy = { name: 'rerun-all', start: () => () => reference.map((_, k) => k) };
    const doubled = simulateHistory(suite, [rerunAll], createRng(2), 10, () => allFail);
    expect(doubled.pageDays.length).toBeGreaterThan(plain.pageDays.length);
    expect(doubled.attempts).toBe(200);
  });

  it('a policy can set the threshold; the figures count its spend', () => {
    const rerunOne: Policy = { name: 'rerun-one', threshold: (_suite, h) => h + 1, start: () => () => [0] };
    const effort = { replicates: 1, nullYears: 0.2, rbDraws: 2, rbYears: 0.2, dropRuns: 1 };
    const pool = Array.from({ length: 30 }, (_, i) => 0.1 + (0.8 * i) / 29);
    const plain = runReplicate(pool, 10, { selector: randomSelection, policies: [] }, effort, 5);
    const on = runReplicate(pool, 10, { selector: randomSelection, policies: [rerunOne] }, effort, 5);
    expect(on.h).toBeCloseTo(plain.h + 1, 12);
    expect(aggregate([plain], 10, effort).spendRatio).toBe(1);
    expect(aggregate([on], 10, effort).spendRatio).toBeCloseTo(1.1, 12);
  });
});

describe('the suite-selection hook', () => {
  it('takes the selector\'s suite and reports its calibration spend apart', () => {
    const pool = Array.from({ length: 30 }, (_, i) => i / 30);
    const chosen: number[][] = [];
    const middle: SuiteSelector = {
      name: 'middle',
      select: (p, size) => {
        const indices = p.map((_, i) => i).slice(10, 10 + size);
        chosen.push(indices);
        return { indices, calibrationAttempts: 90, calibration: indices.map(() => ({ passes: 2, trials: 3 })) };
      },
    };
    const effort = { replicates: 1, nullYears: 0.1, rbDraws: 1, rbYears: 0.1, dropRuns: 1 };
    const result = runReplicate(pool, 10, { selector: middle, policies: [] }, effort, 3);
    expect(chosen).toEqual([[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]);
    const figures = aggregate([result], 10, effort);
    expect(figures.calibrationAttempts).toBe(90);
    expect(figures.calibrationRuns).toBe(9);
    expect(figures.spendRatio).toBe(1);
  });
});
