import { describe, expect, it } from 'vitest';
import { wilcoxonGreater } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Case {
  values: number[];
  p: number | null;
  method: 'exact' | 'approx' | 'none';
  n: number;
  statistic: number | null;
}

describe('wilcoxonGreater', () => {
  it('gives 2^-n when every value is positive (exact)', () => {
    const r = wilcoxonGreater([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(r).toMatchObject({ method: 'exact', statistic: 15, n: 5 });
    expect(r.p).toBe(1 / 32);
  });

  it('drops zeros before ranking and reports them', () => {
    const r = wilcoxonGreater([0, 0.3, 0, -0.1, 0.2]);
    expect(r.n).toBe(3);
    expect(r.zeros).toBe(2);
    expect(r.p).toBe(wilcoxonGreater([0.3, -0.1, 0.2]).p);
  });

  it("uses the tie-corrected normal approximation for ties and for n > 20, and 'none' for no data", () => {
    expect(wilcoxonGreater([0.5, 0.5, -0.2]).method).toBe('approx');
    expect(wilcoxonGreater(Array.from({ length: 21 }, (_, i) => i + 1)).method).toBe('approx');
    expect(wilcoxonGreater(Array.from({ length: 20 }, (_, i) => i + 1)).method).toBe('exact');
    expect(wilcoxonGreater([0, 0])).toMatchObject({ method: 'none', p: NaN, zeros: 2 });
  });

  const fx = loadFixture<Case>('wilcoxon');
  it(`matches scipy.stats.wilcoxon(alternative='greater') on ${fx.cases.length} cases`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    const seen = new Set<string>();
    for (const [i, c] of fx.cases.entries()) {
      const r = wilcoxonGreater(c.values);
      seen.add(r.method);
      expect(r.method, `case ${i}`).toBe(c.method);
      expect(r.n, `case ${i}`).toBe(c.n);
      expectClose(r.statistic, num(c.statistic), 1e-12, 0, `case ${i} statistic`);
      // exact: 1e-12 (a ratio of integer counts); approx: jStat normal tail, 1e-9 relative or 1e-14 absolute
      expectClose(r.p, num(c.p), c.method === 'exact' ? 1e-12 : 1e-9, c.method === 'exact' ? 0 : 1e-14, `case ${i} p`);
    }
    expect([...seen].sort()).toEqual(['approx', 'exact', 'none']);
  });
});
