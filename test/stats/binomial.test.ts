import { describe, expect, it } from 'vitest';
import { binomialLowerP } from '../../src/stats/index.ts';
import { expectClose, loadFixture } from './fixtures.ts';

interface Case {
  S: number;
  N: number;
  p0: number;
  p: number;
}

describe('binomialLowerP', () => {
  it('gives P(X <= 29 | 50, 0.73) = 0.0155', () => {
    const p = binomialLowerP(29, 50, 0.73);
    expect(p.toFixed(4)).toBe('0.0155');
  });

  it('handles n = 0 and p0 of 0 or 1', () => {
    expect(binomialLowerP(0, 0, 0.5)).toBe(1);
    expect(binomialLowerP(0, 10, 0)).toBe(1);
    expect(binomialLowerP(9, 10, 1)).toBe(0);
    expect(binomialLowerP(10, 10, 1)).toBe(1);
    expect(binomialLowerP(0, 10, 1)).toBe(0);
  });

  it('is exactly 1 when every attempt passed and (1 - p0)^N when none did', () => {
    expect(binomialLowerP(40, 40, 0.3)).toBe(1);
    expectClose(binomialLowerP(0, 40, 0.3), 0.7 ** 40, 1e-12, 0, 'all fail');
  });

  it('does not round tiny p-values to zero', () => {
    const p = binomialLowerP(2, 200, 0.5);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-50);
  });

  it('rejects impossible input', () => {
    expect(() => binomialLowerP(11, 10, 0.5)).toThrow(RangeError);
    expect(() => binomialLowerP(1, 10, 1.2)).toThrow(RangeError);
  });

  const fx = loadFixture<Case>('binomial');
  it(`matches scipy.stats.binomtest(alternative='less') on ${fx.cases.length} cases to 1e-9 relative`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    for (const c of fx.cases) {
      // below 1e-290 the reference itself is a denormal with fewer significant digits
      expectClose(binomialLowerP(c.S, c.N, c.p0), c.p, 1e-9, 1e-290, `${c.S}/${c.N} vs ${c.p0}`);
    }
  });
});
