/**
 * Exact one-sided binomial test, lower tail: p = P(X <= S) for X ~ Binomial(N, p0).
 *
 * This is the fixed-baseline test ("the window passed fewer than p0 would produce"), the same number as
 * scipy.stats.binomtest(S, N, p0, alternative='less').pvalue and R binom.test(S, N, p0, alternative = "less").
 *
 * jStat.binomial.cdf rounds its result to 10 decimals (so a p of 1e-12 would read 0 and 0.0155169238... would
 * read 0.0155169239), so the tail is summed here: the pmf at the starting point comes from log-gamma, the rest by
 * the exact ratio recurrence, always summing a monotonically decreasing series (the lower tail when S is below the
 * mode, otherwise 1 minus the upper tail).
 *
 * Degenerate cases: N = 0 gives 1 (no evidence); p0 = 0 gives 1 (X is always 0 <= S);
 * p0 = 1 gives 1 when S = N and 0 otherwise.
 */
import { lchoose } from './dist.ts';

export function binomialLowerP(successes: number, trials: number, p0: number): number {
  const S = successes;
  const N = trials;
  if (!Number.isInteger(N) || N < 0 || !Number.isInteger(S) || S < 0 || S > N) {
    throw new RangeError(`binomialLowerP: need integers 0 <= S <= N, got ${S}/${N}`);
  }
  if (!(p0 >= 0 && p0 <= 1)) throw new RangeError(`binomialLowerP: p0 must be in [0, 1], got ${p0}`);
  if (N === 0 || S === N || p0 === 0) return 1;
  if (p0 === 1) return 0; // S < N here, and X is always N
  const q0 = 1 - p0;
  const lp = Math.log(p0);
  const lq = Math.log1p(-p0);
  const logPmf = (k: number): number => lchoose(N, k) + k * lp + (N - k) * lq;

  if (S < (N + 1) * p0) {
    // Lower tail, terms decrease as k goes down from S.
    let term = Math.exp(logPmf(S));
    let sum = term;
    for (let k = S; k > 0; k--) {
      term *= (k * q0) / ((N - k + 1) * p0);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return Math.min(1, sum);
  }
  // 1 - P(X >= S + 1); terms decrease as k goes up from S + 1.
  let term = Math.exp(logPmf(S + 1));
  let upper = term;
  for (let k = S + 1; k < N; k++) {
    term *= ((N - k) * p0) / ((k + 1) * q0);
    upper += term;
    if (term <= upper * 1e-17) break;
  }
  return Math.max(0, 1 - upper);
}
