/**
 * The distribution of task difficulty behind a reference period: a Beta(a, b) prior fitted to the per-task tallies
 * by maximum likelihood of the beta-binomial model (empirical Bayes). It gives each task's best estimate of its
 * true pass probability, the posterior mean (passes + a) / (trials + a + b), and how uncertain that estimate is,
 * the posterior Beta(passes + a, trials - passes + b).
 *
 * Why not the fixed (passes + 1) / (trials + 2): that is the posterior mean under a uniform prior, which pulls every
 * task towards 0.5. On a suite where most tasks are hard (a mean pass rate near 0.4, many never solved) it
 * overstates the hard tasks, the reference reads better than the agent is, and the CUSUM drifts up with nothing
 * changed: about 5 false pages a year in the bench's simulation at that pass rate, against the target of one.
 * Fitted, the estimate has no such lean in either direction; the uniform prior is what the fit falls back to when
 * the reference has too few tasks to fit anything.
 */
import jStat from 'jstat';

export interface BetaPrior {
  a: number;
  b: number;
}

export const UNIFORM_PRIOR: BetaPrior = { a: 1, b: 1 };

/** Fewer tasks than this (with at least one trial) and the fit is not attempted: the uniform prior is used. */
export const MIN_TASKS_FOR_PRIOR = 10;

/** Bounds of the search: mean in [0.005, 0.995], concentration a + b in [10^-1.5, 10^3]. */
const MU_MIN = 0.005;
const MU_MAX = 0.995;
const LOG_K_MIN = -1.5;
const LOG_K_MAX = 3;

export interface Tally {
  passes: number;
  trials: number;
}

/** Beta-binomial log-likelihood of the tallies under Beta(a, b), without the binomial coefficients (constant). */
export function betaBinomialLogLik(tallies: readonly Tally[], prior: BetaPrior): number {
  const { a, b } = prior;
  const lnB = jStat.betaln(a, b);
  let ll = 0;
  for (const t of tallies) ll += jStat.betaln(t.passes + a, t.trials - t.passes + b) - lnB;
  return ll;
}

/**
 * Maximum-likelihood Beta prior of the tallies: a grid over (mean, log10 concentration), then a compass search
 * around the best point until the steps are below 1e-6. Deterministic. Falls back to the uniform prior when fewer
 * than MIN_TASKS_FOR_PRIOR tasks have trials.
 */
export function fitBetaPrior(tallies: readonly Tally[]): BetaPrior {
  const used = tallies.filter((t) => t.trials > 0);
  if (used.length < MIN_TASKS_FOR_PRIOR) return UNIFORM_PRIOR;
  const ll = (mu: number, logK: number): number => {
    const k = 10 ** logK;
    return betaBinomialLogLik(used, { a: mu * k, b: (1 - mu) * k });
  };
  let best = { mu: 0.5, logK: 0, v: -Infinity };
  for (let i = 0; i <= 40; i++) {
    for (let j = 0; j <= 30; j++) {
      const mu = MU_MIN + ((MU_MAX - MU_MIN) * i) / 40;
      const logK = LOG_K_MIN + ((LOG_K_MAX - LOG_K_MIN) * j) / 30;
      const v = ll(mu, logK);
      if (v > best.v) best = { mu, logK, v };
    }
  }
  let stepMu = (MU_MAX - MU_MIN) / 40;
  let stepK = (LOG_K_MAX - LOG_K_MIN) / 30;
  while (stepMu > 1e-6 || stepK > 1e-6) {
    let moved = false;
    for (const [dm, dk] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ] as const) {
      const mu = Math.min(MU_MAX, Math.max(MU_MIN, best.mu + dm * stepMu));
      const logK = Math.min(LOG_K_MAX, Math.max(LOG_K_MIN, best.logK + dk * stepK));
      const v = ll(mu, logK);
      if (v > best.v) {
        best = { mu, logK, v };
        moved = true;
      }
    }
    if (!moved) {
      stepMu /= 2;
      stepK /= 2;
    }
  }
  const k = 10 ** best.logK;
  return { a: best.mu * k, b: (1 - best.mu) * k };
}
