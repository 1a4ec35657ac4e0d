import { describe, expect, it } from 'vitest';
import { wilson } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Case {
  passes: number;
  n: number;
  confidence: number;
  estimate: number | null;
  lower: number | null;
  upper: number | null;
}

describe('wilson', () => {
  it('gives the reference interval for 29 of 50 at 95%: [0.4423, 0.7062]', () => {
    const ci = wilson(29, 50);
    expect(ci.estimate).toBe(0.58);
    expect(ci.lower.toFixed(4)).toBe('0.4423');
    expect(ci.upper.toFixed(4)).toBe('0.7062');
  });

  it('returns NaN for everything when n = 0', () => {
    expect(wilson(0, 0)).toEqual({ estimate: NaN, lower: NaN, upper: NaN });
  });

  it('starts at 0 for all-fail and ends at 1 for all-pass', () => {
    expect(wilson(0, 20).lower).toBe(0);
    expect(wilson(20, 20).upper).toBe(1);
    expect(wilson(0, 20).upper).toBeGreaterThan(0);
    expect(wilson(20, 20).lower).toBeLessThan(1);
  });

  it('rejects impossible counts', () => {
    expect(() => wilson(5, 4)).toThrow(RangeError);
    expect(() => wilson(-1, 4)).toThrow(RangeError);
    expect(() => wilson(1.5, 4)).toThrow(RangeError);
    expect(() => wilson(1, 4, 1)).toThrow(RangeError);
  });

  const fx = loadFixture<Case>('wilson');
  it(`matches statsmodels proportion_confint(method='wilson') on ${fx.cases.length} cases to 1e-12`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    for (const c of fx.cases) {
      const r = wilson(c.passes, c.n, c.confidence);
      const label = `${c.passes}/${c.n} @${c.confidence}`;
      expectClose(r.estimate, num(c.estimate), 1e-12, 0, `${label} estimate`);
      expectClose(r.lower, num(c.lower), 1e-10, 1e-13, `${label} lower`);
      expectClose(r.upper, num(c.upper), 1e-10, 1e-13, `${label} upper`);
    }
  });
});
