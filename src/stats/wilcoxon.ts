/**
 * One-sided Wilcoxon signed-rank test, alternative "greater" (the values tend to be above 0, i.e. went up).
 *
 * Zeros: dropped before ranking ("wilcox" zero handling, as R and SciPy's default zero_method='wilcox'); `n` counts
 * the non-zero values only and `zeros` reports how many were dropped.
 * Statistic: T+ = sum of the ranks of |d| over positive d (average ranks for ties).
 * p-value:
 * - exact when n <= 20 and there are no ties among |d|: P(T+ >= observed) under the null distribution of T+ (the
 *   2^n equally likely sign patterns, counted by dynamic programming). Equals
 *   scipy.stats.wilcoxon(d_nonzero, alternative='greater', method='exact').
 * - otherwise the normal approximation with tie correction and NO continuity correction:
 *     mean = n(n+1)/4,  var = (n(n+1)(2n+1) - sum_ties t(t^2-1)/2) / 24,  z = (T+ - mean) / sqrt(var),  p = 1 - Phi(z)
 *   which equals scipy.stats.wilcoxon(d, alternative='greater', method='approx', correction=False,
 *   zero_method='wilcox'). (R's wilcox.test applies a continuity correction by default; SciPy's default is used.)
 * - n = 0 (no data, or all zeros): method 'none', p = NaN.
 */
import { normalSf } from './dist.ts';

export interface WilcoxonResult {
  p: number;
  method: 'exact' | 'approx' | 'none';
  /** T+, the sum of ranks of the positive values. */
  statistic: number;
  /** Non-zero values ranked. */
  n: number;
  /** Zero values dropped. */
  zeros: number;
  /** z of the normal approximation (NaN for 'exact' and 'none'). */
  z: number;
}

/** Number of subsets of {1..n} for each rank sum 0..n(n+1)/2 (exact null distribution of T+ times 2^n). */
function signedRankCounts(n: number): Float64Array {
  const max = (n * (n + 1)) / 2;
  const c = new Float64Array(max + 1);
  c[0] = 1;
  for (let k = 1; k <= n; k++) {
    const top = (k * (k + 1)) / 2;
    for (let s = top; s >= k; s--) c[s]! += c[s - k]!;
  }
  return c;
}

export function wilcoxonGreater(values: readonly number[]): WilcoxonResult {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError('wilcoxonGreater: values must be finite');
  const d = values.filter((v) => v !== 0);
  const zeros = values.length - d.length;
  const n = d.length;
  if (n === 0) return { p: NaN, method: 'none', statistic: NaN, n: 0, zeros, z: NaN };

  const order = d.map((_, i) => i).sort((i, j) => Math.abs(d[i]!) - Math.abs(d[j]!));
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && Math.abs(d[order[j]!]!) === Math.abs(d[order[i]!]!)) j++;
    const t = j - i;
    const avg = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]!] = avg;
    if (t > 1) tieTerm += t * (t * t - 1);
    i = j;
  }
  let tPlus = 0;
  for (let i = 0; i < n; i++) if (d[i]! > 0) tPlus += ranks[i]!;

  if (n <= 20 && tieTerm === 0) {
    const counts = signedRankCounts(n);
    let upper = 0;
    for (let s = tPlus; s < counts.length; s++) upper += counts[s]!;
    return { p: Math.min(1, upper / 2 ** n), method: 'exact', statistic: tPlus, n, zeros, z: NaN };
  }
  const mean = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1) - 0.5 * tieTerm) / 24;
  const z = (tPlus - mean) / Math.sqrt(variance);
  return { p: normalSf(z), method: 'approx', statistic: tPlus, n, zeros, z };
}
