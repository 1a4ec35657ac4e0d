import { describe, expect, it } from 'vitest';
import { holm } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Case {
  p: (number | null)[];
  adjusted: (number | null)[];
}

describe('holm', () => {
  it('adjusts (0.01, 0.04, 0.03) to (0.03, 0.06, 0.06)', () => {
    const adj = holm([0.01, 0.04, 0.03]);
    expect(adj.map((v) => v.toFixed(10))).toEqual(['0.0300000000', '0.0600000000', '0.0600000000']);
  });

  it('caps at 1 and keeps the order of the raw p-values', () => {
    const raw = [0.6, 0.2, 0.9, 0.01];
    const adj = holm(raw);
    expect(Math.max(...adj)).toBe(1);
    const order = raw.map((_, i) => i).sort((i, j) => raw[i]! - raw[j]!);
    for (let k = 1; k < order.length; k++) expect(adj[order[k]!]!).toBeGreaterThanOrEqual(adj[order[k - 1]!]!);
  });

  it('leaves NaN (absent windows) out of the family', () => {
    const adj = holm([0.01, NaN, 0.03]);
    expect(adj[1]).toBeNaN();
    expect(adj[0]).toBeCloseTo(0.02, 15);
    expect(adj[2]).toBeCloseTo(0.03, 15);
    expect(holm([])).toEqual([]);
    expect(holm([NaN, NaN])).toEqual([NaN, NaN]);
  });

  it('rejects values outside [0, 1]', () => {
    expect(() => holm([0.5, 1.5])).toThrow(RangeError);
  });

  const fx = loadFixture<Case>('holm');
  it(`matches statsmodels multipletests(method='holm') on ${fx.cases.length} families`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    for (const c of fx.cases) {
      const adj = holm(c.p.map(num));
      expect(adj.length).toBe(c.adjusted.length);
      adj.forEach((v, i) => expectClose(v, num(c.adjusted[i]), 1e-12, 1e-15, `${JSON.stringify(c.p)}[${i}]`));
    }
  });
});
