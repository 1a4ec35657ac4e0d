/**
 * Risk-adjusted Bernoulli CUSUM (Steiner, Cook, Farewell & Treasure 2000, Biostatistics 1(4)).
 *
 * For each attempt t, in time order, with outcome x_t (1 = resolved) on a task whose baseline pass probability is
 * p_t, and a designed odds ratio R < 1 (the odds of success fall by the factor R under the alternative):
 *
 *   W_t = x_t ln R - ln(1 - p_t + R p_t)       (log-likelihood ratio of "odds times R" against "baseline")
 *   S_t = max(0, S_{t-1} + W_t),  S_0 = 0;     the detector signals while S_t > h.
 *
 * Per-task p_t comes from `taskBaselineProbability`: the task's posterior mean under the Beta prior fitted to the
 * reference period (prior.ts), or p0 itself for a fixed baseline. The threshold h is chosen in cusum-threshold.ts.
 */

export interface CusumObservation {
  /** 1 (or true) when the attempt resolved the task. */
  success: boolean | 0 | 1;
  /** Baseline probability of success for this attempt's task, in [0, 1]. */
  p: number;
}

/** Default designed odds ratio: about -10 points near a pass rate of 0.55. */
export const DEFAULT_ODDS_RATIO = 0.67;

/**
 * Per-task baseline probability: the posterior mean (passes + a) / (trials + a + b) under the reference's fitted
 * Beta(a, b) prior (prior.ts; the uniform prior, i.e. (passes + 1) / (trials + 2), by default); a fixed p0 as is.
 */
export function taskBaselineProbability(baseline: { passes: number; trials: number } | { p0: number }, prior: { a: number; b: number } = { a: 1, b: 1 }): number {
  if ('p0' in baseline) return baseline.p0;
  return (baseline.passes + prior.a) / (baseline.trials + prior.a + prior.b);
}

/** The CUSUM increment W_t for one attempt. */
export function cusumWeight(success: boolean | 0 | 1, p: number, R = DEFAULT_ODDS_RATIO): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`cusumWeight: p must be in [0, 1], got ${p}`);
  if (!(R > 0)) throw new RangeError(`cusumWeight: R must be > 0`);
  return (success ? Math.log(R) : 0) - Math.log(1 - p + R * p);
}

/** One update: S_t = max(0, S_{t-1} + W_t). */
export function cusumStep(previous: number, success: boolean | 0 | 1, p: number, R = DEFAULT_ODDS_RATIO): number {
  return Math.max(0, previous + cusumWeight(success, p, R));
}

/** S_1 .. S_T for the observations in time order, starting from `start` (default 0, i.e. S_0 = 0). */
export function cusumPath(observations: Iterable<CusumObservation>, R = DEFAULT_ODDS_RATIO, start = 0): number[] {
  const path: number[] = [];
  let s = start;
  for (const o of observations) {
    s = cusumStep(s, o.success, o.p, R);
    path.push(s);
  }
  return path;
}

/** S_T, the statistic after the last observation (S_0 = start when there are none). */
export function cusumFinal(observations: Iterable<CusumObservation>, R = DEFAULT_ODDS_RATIO, start = 0): number {
  let s = start;
  for (const o of observations) s = cusumStep(s, o.success, o.p, R);
  return s;
}

/** Index of the first observation whose S_t exceeds h, or -1 when the path never signals. */
export function firstSignal(path: readonly number[], h: number): number {
  return path.findIndex((s) => s > h);
}
