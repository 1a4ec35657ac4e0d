/**
 * One-sided Fisher exact test on a 2x2 table, alternative "odds ratio < 1".
 *
 *                 pass   fail
 *   window          a      b
 *   baseline        c      d
 *
 * Conditional on the margins, a is hypergeometric; p = P(A <= a). Identical to
 * scipy.stats.fisher_exact([[a, b], [c, d]], alternative='less').pvalue. The sum is done the same way as the
 * binomial tail: pmf at the start from log-gamma, then the exact ratio recurrence over a decreasing series.
 * A table with an empty row or column carries no evidence and gives p = 1.
 */
import { lchoose } from './dist.ts';

export interface FisherTable {
  a: number;
  b: number;
  c: number;
  d: number;
}

export function fisherLessP(table: FisherTable): number {
  const { a, b, c, d } = table;
  for (const v of [a, b, c, d]) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`fisherLessP: cells must be non-negative integers`);
  }
  const N = a + b + c + d;
  const K = a + c; // passes in both rows
  const n = a + b; // window row total
  const lo = Math.max(0, n - (N - K));
  const hi = Math.min(n, K);
  if (a >= hi) return 1;
  const logPmf = (k: number): number => lchoose(K, k) + lchoose(N - K, n - k) - lchoose(N, n);
  const mode = Math.floor(((n + 1) * (K + 1)) / (N + 2));

  if (a <= mode) {
    let term = Math.exp(logPmf(a));
    let sum = term;
    for (let k = a; k > lo; k--) {
      term *= (k * (N - K - n + k)) / ((K - k + 1) * (n - k + 1));
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return Math.min(1, sum);
  }
  let term = Math.exp(logPmf(a + 1));
  let upper = term;
  for (let k = a + 1; k < hi; k++) {
    term *= ((K - k) * (n - k)) / ((k + 1) * (N - K - n + k + 1));
    upper += term;
    if (term <= upper * 1e-17) break;
  }
  return Math.max(0, 1 - upper);
}
