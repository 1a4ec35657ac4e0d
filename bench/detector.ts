/**
 * The paging detector on a suite drawn from a profile (issue 14 part 1): one simulated track per replicate, with the
 * daemon's own code from src/stats for everything the daemon computes (the empirical-Bayes task rates, the CUSUM
 * weights, the threshold h, the window tests).
 *
 * A replicate:
 * 1. draws the monitored suite from the pool with the suite-selection hook (today: a plain random sample);
 * 2. runs a reference period of REFERENCE_DAYS days, one attempt per task a day (today's config: samples 1), and
 *    derives the baseline and h from it as the daemon does (taskProbability, trackThreshold at the suite's daily
 *    volume, 365-day horizon);
 * 3. no change: monitors the suite's true rates for `nullYears` years, counting pages (the CUSUM restarts at 0 after
 *    each, as if the operator re-baselined), and, Rao-Blackwellised, for `rbYears` years under each of `rbDraws` draws
 *    of the truth from its posterior given the reference (and any calibration), the pool being the prior
 *    (TruthPosterior): the expected false pages a year of this reference period, with the truth's noise integrated out;
 * 4. drops: for each size, `dropRuns` histories in which every task's log-odds falls (logitDrop: the suite's mean true
 *    rate falls by exactly that many points) from monitored day DROP_START on; days to page = days of dropped data up
 *    to and including the first page (1 = paged on the first dropped day), censored when no page comes within
 *    FOLLOW_UP days.
 *
 * The policy hook (issue 14 part 2, confirmation runs, plugs in here): after each day's plain run, every policy is
 * given the day's statistics (DayStats) and answers which suite tasks to attempt once more that day; those attempts
 * feed the CUSUM and the window tallies like any others and count in the spend. A policy may also set the threshold
 * (part 2 chooses h by simulation with the policy on). Today no policy exists, so every figure is the plain one.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_ODDS_RATIO,
  createRng,
  cusumWeight,
  evaluateWindows,
  taskProbability,
  trackThreshold,
  type Baseline,
  type Rng,
  type TaskCount,
  type WindowsEvaluation,
} from '../src/stats/index.ts';
import { TruthPosterior, logitDrop, randomSelection, type SuiteSelector } from './suites.ts';

export const REFERENCE_DAYS = 14;
/** Monitored days (after the reference) before a drop starts: the 30-day window is then all post-reference. */
export const DROP_START = 60;
export const FOLLOW_UP = 60;
/** Drops in points of the suite's mean pass rate, as the JSON names them. */
export const DROPS = [5, 10, 20] as const;
export const WINDOW_ALPHA = 0.01;
const WINDOWS = [1, 7, 30] as const;

/** What a policy knows of the suite. Suite position k is task `task-<k>` (ids sort in position order). */
export interface SuiteView {
  size: number;
  ids: readonly string[];
  baseline: Baseline;
  /** The daemon's baseline probability of each task (taskProbability), by position. */
  baselineProbs: readonly number[];
  /** The reference period's tally of each task, by position. */
  reference: readonly TaskCount[];
  /** The threshold the CUSUM pages at. */
  h: number;
}

/** A day's statistics after its plain run, as a policy sees them. */
export interface DayStats {
  /** Monitored day: 0 is the first day after the reference period. */
  day: number;
  /** The CUSUM statistic now (0 right after a page: it restarts). */
  s: number;
  /** The highest value S reached today, before any restart. */
  maxS: number;
  h: number;
  /** Whether the CUSUM paged today. */
  paged: boolean;
  /** Attempts run today so far. */
  attempts: number;
  /**
   * The daemon's window tests (1d/7d/30d CMH against the reference, Holm, alpha 0.01) on the tallies so far, today's
   * plain run included. Computed on first call, and only valid during the hook's call (the tallies move on).
   */
  windows(): WindowsEvaluation;
}

/** The policy hook: what to run beyond the plain daily run. */
export interface Policy {
  readonly name: string;
  /** The threshold to page at with this policy on, given the plain one (default: the plain h). */
  threshold?(suite: SuiteView, plainH: number): number;
  /**
   * A fresh state for one simulated history (a cap per week is state): the function the bench calls once per monitored
   * day, after the plain run, for the suite positions to attempt once more that day ([] for none).
   */
  start(suite: SuiteView): (stats: DayStats) => readonly number[];
}

/** What is switched on: the selection hook and the policies. */
export interface Setup {
  selector: SuiteSelector;
  policies: readonly Policy[];
}

/** Today's daemon: a random suite, one plain run a day. */
export const PLAIN: Setup = { selector: randomSelection, policies: [] };

/**
 * Every part of issue 14 switched on: the figures the bench reports at the top level. Parts 2 (a confirmation-run
 * policy) and 3 (an informative-suite selector) add theirs here; until then it is PLAIN and the bench says so.
 */
export const SWITCHED_ON: Setup = { selector: randomSelection, policies: [] };

export const isPlain = (setup: Setup): boolean => setup.selector === PLAIN.selector && setup.policies.length === 0;

export interface Effort {
  /** Replicates: simulated tracks, each its own suite draw and reference period. */
  replicates: number;
  nullYears: number;
  rbDraws: number;
  rbYears: number;
  dropRuns: number;
}

export interface History {
  /** Monitored days on which the CUSUM paged. */
  pageDays: number[];
  attempts: number;
}

/**
 * Monitors `days` days of a suite whose task k passes with truth(day)[k]. The CUSUM starts at 0 on day 0 and restarts
 * at 0 after each page. Each day: one attempt of every task in position order, then the policies' extra attempts.
 */
export function simulateHistory(
  suite: SuiteView,
  policies: readonly Policy[],
  rng: Rng,
  days: number,
  truth: (day: number) => ArrayLike<number>,
  R = DEFAULT_ODDS_RATIO,
): History {
  const K = suite.size;
  const { h } = suite;
  const wPass = suite.baselineProbs.map((p) => cusumWeight(1, p, R));
  const wFail = suite.baselineProbs.map((p) => cusumWeight(0, p, R));
  const pageDays: number[] = [];
  let attempts = 0;
  let s = 0;
  const hooks = policies.map((p) => p.start(suite));
  // Window tallies, kept only when a policy may look at them: passes and trials per task per day, last 30 days.
  const ring = hooks.length > 0 ? { passes: new Uint16Array(30 * K), trials: new Uint16Array(30 * K) } : undefined;
  for (let day = 0; day < days; day++) {
    const probs = truth(day);
    let paged = false;
    let maxS = s;
    const slot = (day % 30) * K;
    if (ring) {
      ring.passes.fill(0, slot, slot + K);
      ring.trials.fill(0, slot, slot + K);
    }
    const attempt = (k: number): void => {
      const x = rng.next() < probs[k]!;
      s += x ? wPass[k]! : wFail[k]!;
      if (s < 0) s = 0;
      if (s > maxS) maxS = s;
      if (s > h) {
        paged = true;
        s = 0;
      }
      attempts++;
      if (ring) {
        ring.trials[slot + k]!++;
        if (x) ring.passes[slot + k]!++;
      }
    };
    for (let k = 0; k < K; k++) attempt(k);
    if (ring) {
      let cached: WindowsEvaluation | undefined;
      const stats: DayStats = {
        day,
        s,
        maxS,
        h,
        paged,
        attempts: K,
        windows: () => (cached ??= windowTests(suite, ring, day)),
      };
      const extra = hooks.flatMap((hook) => [...hook(stats)]);
      for (const k of extra) {
        if (!Number.isInteger(k) || k < 0 || k >= K) throw new RangeError(`a policy asked for suite position ${k} (suite of ${K})`);
        attempt(k);
      }
    }
    if (paged) pageDays.push(day);
  }
  return { pageDays, attempts };
}

function windowTests(suite: SuiteView, ring: { passes: Uint16Array; trials: Uint16Array }, day: number): WindowsEvaluation {
  const K = suite.size;
  const tallies = WINDOWS.map((w) => {
    const perTask = new Map<string, TaskCount>();
    for (let k = 0; k < K; k++) {
      let passes = 0;
      let trials = 0;
      for (let d = Math.max(0, day - w + 1); d <= day; d++) {
        passes += ring.passes[(d % 30) * K + k]!;
        trials += ring.trials[(d % 30) * K + k]!;
      }
      perTask.set(suite.ids[k]!, { passes, trials });
    }
    return { window: `${w}d`, perTask };
  });
  return evaluateWindows(suite.baseline, tallies, { alpha: WINDOW_ALPHA });
}

/** One replicate's raw figures under one setup. */
export interface ReplicateResult {
  h: number;
  /** Pages counted directly over nullYears under the suite's own truth. */
  directPages: number;
  /** Rao-Blackwellised false pages a year of this reference period. */
  rbPagesPerYear: number;
  /** In-control attempts and days (direct and Rao-Blackwellised histories together), for the spend. */
  nullAttempts: number;
  nullDays: number;
  calibrationAttempts: number;
  /** Per drop size (DROPS order), each run's days to page, null when censored. */
  delays: (number | null)[][];
}

/** A 32-bit seed for replicate r of a profile: independent of the order of the profiles and of the worker. */
export function replicateSeed(seed: number, profile: string, r: number): number {
  return createHash('sha256').update(`agentdrift-bench-stats:${seed}:${profile}:${r}`).digest().readUInt32LE(0);
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, k) => `task-${String(k).padStart(3, '0')}`);

/** Simulates one replicate (a track: suite draw, reference period, h, no-change and drop histories) under `setup`. */
export function runReplicate(pool: readonly number[], size: number, setup: Setup, effort: Effort, seed: number): ReplicateResult {
  const rng = createRng(seed);
  const chosen = setup.selector.select(pool, size, rng);
  if (chosen.indices.length !== size) throw new Error(`selector ${setup.selector.name} chose ${chosen.indices.length} tasks, not ${size}`);
  const probs = chosen.indices.map((i) => pool[i]!);
  const taskIds = ids(size);
  const perTask = new Map<string, TaskCount>();
  const reference = probs.map((p, k) => {
    let passes = 0;
    for (let d = 0; d < REFERENCE_DAYS; d++) if (rng.next() < p) passes++;
    const c = { passes, trials: REFERENCE_DAYS };
    perTask.set(taskIds[k]!, c);
    return c;
  });
  const baseline: Baseline = { kind: 'reference', perTask };
  // The daemon's call: its default seed, the suite's daily volume, the default R and 365-day horizon.
  const plainH = trackThreshold(baseline, { attemptsPerDay: size }).h;
  const view: SuiteView = {
    size,
    ids: taskIds,
    baseline,
    baselineProbs: taskIds.map((id) => taskProbability(baseline, id)),
    reference,
    h: plainH,
  };
  const withThreshold = setup.policies.find((p) => p.threshold);
  const suite: SuiteView = withThreshold?.threshold ? { ...view, h: withThreshold.threshold(view, plainH) } : view;

  const constant = (p: ArrayLike<number>) => () => p;
  const direct = simulateHistory(suite, setup.policies, rng, Math.round(effort.nullYears * 365), constant(probs));
  let nullAttempts = direct.attempts;
  let nullDays = Math.round(effort.nullYears * 365);

  const observed = chosen.calibration
    ? reference.map((c, k) => ({ passes: c.passes + chosen.calibration![k]!.passes, trials: c.trials + chosen.calibration![k]!.trials }))
    : reference;
  const posterior = new TruthPosterior(pool, observed);
  const truth = new Float64Array(size);
  const rbDays = Math.round(effort.rbYears * 365);
  let rbPages = 0;
  for (let d = 0; d < effort.rbDraws; d++) {
    posterior.draw(rng, truth);
    const history = simulateHistory(suite, setup.policies, rng, rbDays, constant(truth));
    rbPages += history.pageDays.length;
    nullAttempts += history.attempts;
    nullDays += rbDays;
  }

  const delays = DROPS.map((points) => {
    const after = logitDrop(probs, points / 100);
    const runs: (number | null)[] = [];
    for (let run = 0; run < effort.dropRuns; run++) {
      const history = simulateHistory(suite, setup.policies, rng, DROP_START + FOLLOW_UP, (day) => (day >= DROP_START ? after : probs));
      const first = history.pageDays.find((day) => day >= DROP_START);
      runs.push(first === undefined ? null : first - DROP_START + 1);
    }
    return runs;
  });

  return {
    h: suite.h,
    directPages: direct.pageDays.length,
    rbPagesPerYear: effort.rbDraws > 0 ? rbPages / (effort.rbDraws * effort.rbYears) : NaN,
    nullAttempts,
    nullDays,
    calibrationAttempts: chosen.calibrationAttempts,
    delays,
  };
}

/** The figures of one profile under one setup, as the JSON gives them. */
export interface Figures {
  /** Mean over replicates of each reference period's Rao-Blackwellised false pages a year, and its standard error. */
  falsePagesPerYear: number;
  falsePagesPerYearSe: number;
  /** The same mean counted directly (each replicate's pages under its own truth over nullYears), and its SE. */
  falsePagesPerYearDirect: number;
  falsePagesPerYearDirectSe: number;
  /** Over all drop runs; null when the quantile is a censored run (no page within the follow-up). */
  medianDaysToPage: Record<string, number | null>;
  p90DaysToPage: Record<string, number | null>;
  /** Drop runs without a page within FOLLOW_UP days, of dropRunsPerSize. */
  censoredDrops: Record<string, number>;
  dropRunsPerSize: number;
  /** Mean attempts a day under no change / the suite size: 1.00 is one plain run a day. */
  spendRatio: number;
  /** One-off calibration spend, in plain daily runs (calibrationAttempts / suite size); mean over replicates. */
  calibrationRuns: number;
  calibrationAttempts: number;
  threshold: { mean: number; min: number; max: number };
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;
const seOf = (xs: readonly number[]): number => {
  if (xs.length < 2) return NaN;
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1) / xs.length);
};

/** The q-quantile of runs' days to page (the ceil(q n)-th smallest), censored runs counting as longer than any; null if censored. */
export function delayQuantile(runs: readonly (number | null)[], q: number): number | null {
  const sorted = runs.map((d) => (d === null ? Infinity : d)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return Number.isFinite(v) ? v : null;
}

export function aggregate(results: readonly ReplicateResult[], size: number, effort: Effort): Figures {
  const rb = results.map((r) => r.rbPagesPerYear);
  const direct = results.map((r) => r.directPages / effort.nullYears);
  const byDrop = (f: (runs: (number | null)[]) => number | null): Record<string, number | null> =>
    Object.fromEntries(DROPS.map((points, di) => [String(points), f(results.flatMap((r) => r.delays[di]!))]));
  const hs = results.map((r) => r.h);
  const attempts = results.reduce((a, r) => a + r.nullAttempts, 0);
  const days = results.reduce((a, r) => a + r.nullDays, 0);
  const calibrationAttempts = meanOf(results.map((r) => r.calibrationAttempts));
  return {
    falsePagesPerYear: meanOf(rb),
    falsePagesPerYearSe: seOf(rb),
    falsePagesPerYearDirect: meanOf(direct),
    falsePagesPerYearDirectSe: seOf(direct),
    medianDaysToPage: byDrop((runs) => delayQuantile(runs, 0.5)),
    p90DaysToPage: byDrop((runs) => delayQuantile(runs, 0.9)),
    censoredDrops: Object.fromEntries(
      DROPS.map((points, di) => [String(points), results.reduce((a, r) => a + r.delays[di]!.filter((d) => d === null).length, 0)]),
    ),
    dropRunsPerSize: results.length * effort.dropRuns,
    spendRatio: attempts / (days * size),
    calibrationRuns: calibrationAttempts / size,
    calibrationAttempts,
    threshold: { mean: meanOf(hs), min: Math.min(...hs), max: Math.max(...hs) },
  };
}
