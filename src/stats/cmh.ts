/**
 * Cochran-Mantel-Haenszel test stratified by task, one-sided: "the odds of success are lower in the window than in
 * the baseline". Falls back to a pooled one-sided Fisher exact test when too few window attempts can be matched to a
 * baseline stratum.
 *
 * One 2x2 table per task k (rows: window, baseline; columns: pass, fail):
 *     a_k = window passes, n1_k = window trials, m1_k = passes in both periods, T_k = trials in both periods
 *     E_k = n1_k m1_k / T_k
 *     V_k = n1_k (T_k - n1_k) m1_k (T_k - m1_k) / (T_k^2 (T_k - 1))
 *     DELTA = sum_k (a_k - E_k),   VAR = sum_k V_k
 *     YATES = 0.5 if correct and |DELTA| >= 0.5, else 0
 *     z = sign(DELTA) (|DELTA| - YATES) / sqrt(VAR),   p = Phi(z)
 * This is R's `mantelhaen.test(x, alternative = "less", correct = TRUE)` for 2x2xK tables, term for term; the
 * continuity correction is ON by default, as in R (pass `correct: false` for the uncorrected statistic).
 *
 * Strata rules:
 * - a task seen in only one period (window trials 0 or baseline trials 0) is dropped;
 * - a stratum with zero variance (the task passed every time, or failed every time, in both periods) is dropped. Its
 *   a_k equals E_k, so dropping it changes nothing in R's formula; R would refuse a stratum of size 1 instead.
 * - if every matched stratum has zero variance, the conditional distribution of sum a_k is a point mass at the
 *   observed value, so the exact conditional p = P(sum A <= observed) = 1; we report p = 1, method 'cmh', strata 0.
 * - coverage = (window trials of matched tasks) / (all window trials). If coverage < minCoverage (default 0.5), the
 *   test is the pooled one-sided Fisher exact test on [[window passes, window fails], [baseline passes,
 *   baseline fails]] summed over ALL tasks of each period (method 'fisher').
 * - no window trials, or no baseline trials at all: method 'none', p = NaN (no test possible).
 */
import { normalCdf } from './dist.ts';
import { fisherLessP } from './fisher.ts';

export interface TaskTally {
  windowPasses: number;
  windowTrials: number;
  basePasses: number;
  baseTrials: number;
}

export interface CmhOptions {
  /** Continuity correction as in R's default (true). */
  correct?: boolean;
  /** Minimum share of window attempts that must belong to a task with a baseline stratum (default 0.5). */
  minCoverage?: number;
}

export interface CmhResult {
  /** One-sided p-value, NaN when method is 'none'. */
  p: number;
  method: 'cmh' | 'fisher' | 'none';
  /** Informative strata (tasks in both periods with non-zero variance); 0 for 'fisher' and 'none'. */
  strata: number;
  /** Tasks present in both periods (before dropping zero-variance strata). */
  matchedTasks: number;
  /** Window attempts entering the test: matched tasks' attempts for 'cmh', all window attempts for 'fisher'. */
  n: number;
  /** Window passes entering the test (same scope as n). */
  passes: number;
  /** All window attempts / passes, whether matched or not. */
  windowTrials: number;
  windowPasses: number;
  /** Share of window attempts whose task has a baseline stratum; NaN when the window is empty. */
  coverage: number;
  /** Signed z of the CMH test (negative = fewer passes than the baseline predicts); NaN unless method 'cmh'. */
  z: number;
  /** Mantel-Haenszel common odds ratio (window vs baseline) for 'cmh', sample odds ratio of the pooled table for
   *  'fisher'; NaN when undefined. */
  oddsRatio: number;
}

function validCount(p: number, n: number): boolean {
  return Number.isInteger(p) && Number.isInteger(n) && p >= 0 && p <= n;
}

function check(t: TaskTally): void {
  if (!validCount(t.windowPasses, t.windowTrials) || !validCount(t.basePasses, t.baseTrials)) {
    throw new RangeError(`cmh: tallies must be integers with 0 <= passes <= trials`);
  }
}

export function cmhLess(tasks: Iterable<TaskTally>, options: CmhOptions = {}): CmhResult {
  const correct = options.correct ?? true;
  const minCoverage = options.minCoverage ?? 0.5;
  let windowTrials = 0;
  let windowPasses = 0;
  let baseTrials = 0;
  let basePasses = 0;
  let matchedTrials = 0;
  let matchedPasses = 0;
  let matchedTasks = 0;
  let strata = 0;
  let delta = 0;
  let variance = 0;
  let mhNum = 0;
  let mhDen = 0;
  for (const t of tasks) {
    check(t);
    windowTrials += t.windowTrials;
    windowPasses += t.windowPasses;
    baseTrials += t.baseTrials;
    basePasses += t.basePasses;
    if (t.windowTrials === 0 || t.baseTrials === 0) continue;
    matchedTasks++;
    matchedTrials += t.windowTrials;
    matchedPasses += t.windowPasses;
    const a = t.windowPasses;
    const n1 = t.windowTrials;
    const m1 = t.windowPasses + t.basePasses;
    const T = t.windowTrials + t.baseTrials;
    const v = (n1 * (T - n1) * m1 * (T - m1)) / (T * T * (T - 1));
    if (!(v > 0)) continue;
    strata++;
    delta += a - (n1 * m1) / T;
    variance += v;
    const b = n1 - a;
    const c = t.basePasses;
    const d = t.baseTrials - c;
    mhNum += (a * d) / T;
    mhDen += (b * c) / T;
  }
  const base = {
    windowTrials,
    windowPasses,
    coverage: windowTrials > 0 ? matchedTrials / windowTrials : NaN,
  };
  if (windowTrials === 0 || baseTrials === 0) {
    return { ...base, p: NaN, method: 'none', strata: 0, matchedTasks, n: 0, passes: 0, z: NaN, oddsRatio: NaN };
  }
  if (base.coverage < minCoverage) {
    const a = windowPasses;
    const b = windowTrials - windowPasses;
    const c = basePasses;
    const d = baseTrials - basePasses;
    return {
      ...base,
      p: fisherLessP({ a, b, c, d }),
      method: 'fisher',
      strata: 0,
      matchedTasks,
      n: windowTrials,
      passes: windowPasses,
      z: NaN,
      oddsRatio: b * c > 0 ? (a * d) / (b * c) : NaN,
    };
  }
  const common = { ...base, method: 'cmh' as const, strata, matchedTasks, n: matchedTrials, passes: matchedPasses };
  if (strata === 0) return { ...common, p: 1, z: 0, oddsRatio: NaN };
  const yates = correct && Math.abs(delta) >= 0.5 ? 0.5 : 0;
  const z = (Math.sign(delta) * (Math.abs(delta) - yates)) / Math.sqrt(variance);
  return { ...common, p: normalCdf(z), z, oddsRatio: mhDen > 0 ? mhNum / mhDen : NaN };
}
