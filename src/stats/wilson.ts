/**
 * Wilson score interval for a binomial proportion (Brown, Cai & DasGupta 2001).
 *
 *   z = Phi^-1(1 - (1 - confidence) / 2),  phat = passes / n
 *   centre = (phat + z^2 / 2n) / (1 + z^2 / n)
 *   half   = z * sqrt(phat (1 - phat) / n + z^2 / 4n^2) / (1 + z^2 / n)
 *
 * Same arithmetic as statsmodels `proportion_confint(method='wilson')`. Bounds are clamped to [0, 1], and are
 * exactly 0 (no passes) or 1 (all passed) at the edges.
 * With n = 0 there is no information: estimate, lower and upper are all NaN (callers show "no data").
 */
import { normalInv } from './dist.ts';

export interface WilsonInterval {
  /** passes / n, NaN when n = 0. */
  estimate: number;
  lower: number;
  upper: number;
}

export function wilson(passes: number, n: number, confidence = 0.95): WilsonInterval {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(passes) || passes < 0 || passes > n) {
    throw new RangeError(`wilson: need integers 0 <= passes <= n, got ${passes}/${n}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`wilson: confidence must be in (0, 1)`);
  if (n === 0) return { estimate: NaN, lower: NaN, upper: NaN };
  const phat = passes / n;
  const z = normalInv(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (phat + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n))) / denom;
  return {
    estimate: phat,
    // The exact bounds are 0 when passes = 0 and 1 when passes = n; rounding would give 1e-17 away from them.
    lower: passes === 0 ? 0 : Math.max(0, centre - half),
    upper: passes === n ? 1 : Math.min(1, centre + half),
  };
}
