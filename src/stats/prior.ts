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

/** Distinct tallies and how many tasks have each: tasks with the same tally add the same likelihood term. */
interface TallyGroup extends Tally {
  n: number;
}

function groupTallies(tallies: readonly Tally[]): TallyGroup[] {
  const groups = new Map<string, TallyGroup>();
  for (const t of tallies) {
    const key = `${t.passes}/${t.trials}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { passes: t.passes, trials: t.trials, n: 1 });
  }
  return [...groups.values()];
}

function groupedLogLik(groups: readonly TallyGroup[], a: number, b: number): number {
  const lnB = jStat.betaln(a, b);
  let ll = 0;
  for (const g of groups) ll += g.n * (jStat.betaln(g.passes + a, g.trials - g.passes + b) - lnB);
  return ll;
}

/** Beta-binomial log-likelihood of the tallies under Beta(a, b), without the binomial coefficients (constant). */
export function betaBinomialLogLik(tallies: readonly Tally[], prior: BetaPrior): number {
  return groupedLogLik(groupTallies(tallies), prior.a, prior.b);
}

/**
 * Maximum-likelihood Beta prior of the tallies: a grid over (mean, log10 concentration), then a compass search
 * around the best point until the steps are below 1e-6. Deterministic. Falls back to the uniform prior when fewer
 * than MIN_TASKS_FOR_PRIOR tasks have trials.
 */
export function fitBetaPrior(tallies: readonly Tally[]): BetaPrior {
  const used = tallies.filter((t) => t.trials > 0);
  if (used.length < MIN_TASKS_FOR_PRIOR) return UNIFORM_PRIOR;
  const groups = groupTallies(used);
  const ll = (mu: number, logK: number): number => {
    const k = 10 ** logK;
    return groupedLogLik(groups, mu * k, (1 - mu) * k);
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

/** Draws of the prior itself: how uncertain a + b and a / (a + b) are, given the reference. */
export interface PriorPosterior {
  draw(rng: { next(): number }): BetaPrior;
}

const POSTERIOR_MU_HALF_WIDTH = 0.25;
const POSTERIOR_LOG_K_HALF_WIDTH = 1.5;
const POSTERIOR_MU_CELLS = 101;
const POSTERIOR_LOG_K_CELLS = 61;

/**
 * The posterior of the prior's mean mu = a / (a + b) and log10 concentration log10(a + b), under a flat hyperprior
 * on both within the fit's bounds: the beta-binomial likelihood on a grid of 101 x 61 cells around the
 * maximum-likelihood point (mu +- 0.25, log10 concentration +- 1.5, many standard errors either way at 50 tasks), a
 * draw being a cell by its likelihood and a uniform point within it.
 *
 * Why: the fitted prior is an estimate from the same 50-odd tasks. Taking it as exact (plain empirical Bayes) makes
 * each task's posterior too sure of itself where the fit went wrong. Measured on the bench's suite: with the fitted
 * prior taken as exact, the false-page rate averaged over the reference's posterior came out about 15% below the
 * rate over the truths that actually produce such references. Undefined (no uncertainty to add) with fewer than
 * MIN_TASKS_FOR_PRIOR tasks, where the fit falls back to the uniform prior.
 */
export function priorPosterior(tallies: readonly Tally[], fit: BetaPrior = fitBetaPrior(tallies)): PriorPosterior | undefined {
  const used = tallies.filter((t) => t.trials > 0);
  if (used.length < MIN_TASKS_FOR_PRIOR) return undefined;
  const mu0 = fit.a / (fit.a + fit.b);
  const logK0 = Math.log10(fit.a + fit.b);
  const muLo = Math.max(MU_MIN, mu0 - POSTERIOR_MU_HALF_WIDTH);
  const muHi = Math.min(MU_MAX, mu0 + POSTERIOR_MU_HALF_WIDTH);
  const kLo = Math.max(LOG_K_MIN, logK0 - POSTERIOR_LOG_K_HALF_WIDTH);
  const kHi = Math.min(LOG_K_MAX, logK0 + POSTERIOR_LOG_K_HALF_WIDTH);
  const groups = groupTallies(used);
  const dMu = (muHi - muLo) / POSTERIOR_MU_CELLS;
  const dK = (kHi - kLo) / POSTERIOR_LOG_K_CELLS;
  const ll = new Float64Array(POSTERIOR_MU_CELLS * POSTERIOR_LOG_K_CELLS);
  let max = -Infinity;
  for (let i = 0; i < POSTERIOR_MU_CELLS; i++) {
    const mu = muLo + (i + 0.5) * dMu;
    for (let j = 0; j < POSTERIOR_LOG_K_CELLS; j++) {
      const k = 10 ** (kLo + (j + 0.5) * dK);
      const v = groupedLogLik(groups, mu * k, (1 - mu) * k);
      ll[i * POSTERIOR_LOG_K_CELLS + j] = v;
      if (v > max) max = v;
    }
  }
  const cumulative = new Float64Array(ll.length);
  let total = 0;
  for (let c = 0; c < ll.length; c++) {
    total += Math.exp(ll[c]! - max);
    cumulative[c] = total;
  }
  return {
    draw(rng) {
      const u = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      const i = Math.floor(lo / POSTERIOR_LOG_K_CELLS);
      const j = lo % POSTERIOR_LOG_K_CELLS;
      const mu = muLo + (i + rng.next()) * dMu;
      const k = 10 ** (kLo + (j + rng.next()) * dK);
      return { a: mu * k, b: (1 - mu) * k };
    },
  };
}
