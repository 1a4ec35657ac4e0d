/**
 * Minimum detectable drop (MDD): the smallest fall d in a pass rate p0 that a one-sided level-alpha test on a window
 * of n attempts detects with the given power (default 80%), by the normal approximation to the binomial:
 *
 *   sqrt(n) * d = z_{1-alpha} * sqrt(p0 (1 - p0)) + z_{power} * sqrt(p1 (1 - p1)),   p1 = p0 - d
 *
 * (the null variance sets the critical value, the alternative's variance sets the power; Fleiss, Statistical Methods
 * for Rates and Proportions, ch. 2). Solved numerically for the smallest d in (0, p0]. With power >= 0.5,
 * f(d) = sqrt(n) d - z_{1-alpha} sqrt(p0 q0) - z_power sqrt(p1 q1) is convex in d (sqrt(p(1-p)) is concave) and
 * f(0) <= 0, so {d : f(d) < 0} is an interval starting at 0 and plain bisection on [0, p0] finds its end to 1e-12.
 *
 * Results: NaN when n = 0 (no window); Infinity when even a fall to 0 would not be detected (n too small, or p0 = 0).
 * With p0 = 1 the null variance is 0 and d solves sqrt(n) d = z_power sqrt(p1 (1 - p1)).
 */
import { normalInv } from './dist.ts';

export function minimumDetectableDrop(n: number, p0: number, alpha: number, power = 0.8): number {
  if (!(n >= 0)) throw new RangeError(`minimumDetectableDrop: n must be >= 0`);
  if (!(p0 >= 0 && p0 <= 1)) throw new RangeError(`minimumDetectableDrop: p0 must be in [0, 1]`);
  if (!(alpha > 0 && alpha < 1) || !(power >= 0.5 && power < 1)) {
    throw new RangeError(`minimumDetectableDrop: alpha must be in (0, 1) and power in [0.5, 1)`);
  }
  if (n === 0) return NaN;
  if (p0 === 0) return Infinity;
  const za = normalInv(1 - alpha);
  const zb = normalInv(power);
  const rn = Math.sqrt(n);
  const nullSd = Math.sqrt(p0 * (1 - p0));
  const f = (d: number): number => {
    const p1 = p0 - d;
    return rn * d - za * nullSd - zb * Math.sqrt(Math.max(0, p1 * (1 - p1)));
  };
  if (f(p0) < 0) return Infinity;
  let lo = 0;
  let hi = p0;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) >= 0) hi = mid;
    else lo = mid;
  }
  return hi;
}
