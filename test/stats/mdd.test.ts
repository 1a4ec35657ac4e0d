import { describe, expect, it } from 'vitest';
import { minimumDetectableDrop } from '../../src/stats/index.ts';
import { normalCdf, normalInv } from '../../src/stats/dist.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Case {
  n: number;
  p0: number;
  alpha: number;
  power: number;
  mdd: number | null | string;
}

/** Power of the one-sided normal-approximation test of p1 = p0 - d. */
function power(n: number, p0: number, d: number, alpha: number): number {
  const p1 = p0 - d;
  const crit = normalInv(1 - alpha) * Math.sqrt(p0 * (1 - p0));
  return normalCdf((Math.sqrt(n) * d - crit) / Math.sqrt(p1 * (1 - p1)));
}

describe('minimumDetectableDrop', () => {
  it('is the drop that the test detects with exactly the requested power', () => {
    for (const [n, p0, alpha] of [
      [50, 0.55, 0.05],
      [350, 0.55, 0.01 / 3],
      [1500, 0.3, 0.01],
    ] as const) {
      const d = minimumDetectableDrop(n, p0, alpha);
      expectClose(power(n, p0, d, alpha), 0.8, 1e-9, 0, `power at n=${n}`);
    }
  });

  it('shrinks like 1/sqrt(n)', () => {
    const a = minimumDetectableDrop(350, 0.55, 0.01);
    const b = minimumDetectableDrop(1400, 0.55, 0.01);
    expect(b).toBeLessThan(a);
    expect(a / b).toBeGreaterThan(1.9);
    expect(a / b).toBeLessThan(2.1);
  });

  it('is NaN without attempts and Infinity when no drop is detectable', () => {
    expect(minimumDetectableDrop(0, 0.5, 0.05)).toBeNaN();
    expect(minimumDetectableDrop(1, 0.55, 0.001)).toBe(Infinity);
    expect(minimumDetectableDrop(50, 0, 0.05)).toBe(Infinity);
  });

  it('rejects a power below 0.5 (the convexity its solver relies on needs z_power >= 0)', () => {
    expect(() => minimumDetectableDrop(50, 0.5, 0.05, 0.4)).toThrow(RangeError);
  });

  const fx = loadFixture<Case>('mdd');
  it(`matches an independent brentq solution of the same equation on ${fx.cases.length} cases`, () => {
    expect(fx.cases.length).toBeGreaterThan(150);
    for (const c of fx.cases) {
      const d = minimumDetectableDrop(c.n, c.p0, c.alpha, c.power);
      expectClose(d, num(c.mdd), 1e-9, 1e-11, `n=${c.n} p0=${c.p0} alpha=${c.alpha} power=${c.power}`);
    }
  });
});
