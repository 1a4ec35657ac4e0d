/**
 * Thin, typed wrappers over jStat for the few distribution functions src/stats needs.
 *
 * Accuracy notes (measured against SciPy 1.10):
 * - `normalCdf` is jStat's 0.5 * (1 + erf(z / sqrt 2)). It is accurate to ~1e-15 absolute everywhere, but for
 *   z below about -6 the *relative* accuracy degrades (1e-5 at z = -7) and it returns 0 below about z = -8.3.
 *   Those are p-values under 1e-9, far from any alpha a user would set, so we accept it.
 * - `normalInv` agrees with scipy.stats.norm.ppf to ~1e-15 in the range used here (0.5 .. 1 - 1e-9).
 * - `lgamma` (jStat.gammaln, Lanczos) agrees with scipy.special.gammaln to ~1e-13 relative.
 */
import jStat from 'jstat';

/** Standard normal CDF, P(Z <= z). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return jStat.normal.cdf(z, 0, 1);
}

/** Standard normal upper tail, P(Z >= z). */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

/** Standard normal quantile: the z with P(Z <= z) = p. */
export function normalInv(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  return jStat.normal.inv(p, 0, 1);
}

/** ln Gamma(x) for x > 0. */
export function lgamma(x: number): number {
  return jStat.gammaln(x);
}

/** ln C(n, k) for integers 0 <= k <= n. */
export function lchoose(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}
