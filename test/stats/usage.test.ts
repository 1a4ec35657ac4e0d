import { describe, expect, it } from 'vitest';
import { holm, median, usageRatio, usageWindows, type UsageTaskValues } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Case {
  tasks: UsageTaskValues[];
  ratio: number | null;
  p: number | null;
  n: number;
  dropped: number;
}

describe('usage', () => {
  it('computes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('gives the geometric-mean ratio of per-task medians', () => {
    const r = usageRatio([
      { window: [2, 2, 2], baseline: [1, 1, 1] },
      { window: [8], baseline: [1, 16, 0.5] },
    ]);
    expect(r.n).toBe(2);
    expect(r.ratio).toBeCloseTo(Math.sqrt(2 * 8), 12);
  });

  it('drops tasks without data on both sides or with non-positive medians', () => {
    const r = usageRatio([
      { window: [], baseline: [1] },
      { window: [1], baseline: [] },
      { window: [0], baseline: [1] },
      { window: [2], baseline: [1] },
    ]);
    expect(r.dropped).toBe(3);
    expect(r.n).toBe(1);
  });

  it('flags a window only when Holm-adjusted p < alpha AND the ratio exceeds the threshold', () => {
    // 25 tasks, each 1.1x or 2x its baseline: both are significant increases, only the 2x one is practical.
    const tasks = (f: number): UsageTaskValues[] =>
      Array.from({ length: 25 }, (_, i) => ({ window: [(10 + i) * f * (1 + i / 1000)], baseline: [10 + i] }));
    const res = usageWindows([
      { window: '1d', tasks: tasks(1.1) },
      { window: '7d', tasks: tasks(2) },
      { window: '30d', tasks: [] },
    ]);
    expect(res.map((r) => r.window)).toEqual(['1d', '7d', '30d']);
    expect(res[0]!.pAdjusted).toBeLessThan(0.01);
    expect(res[0]!.significant).toBe(false);
    expect(res[1]!.significant).toBe(true);
    expect(res[2]!.p).toBeNaN();
    expect(res[2]!.significant).toBe(false);
    const adj = holm([res[0]!.p, res[1]!.p]);
    expect(res[0]!.pAdjusted).toBe(adj[0]);
    // a stricter threshold removes the flag
    expect(usageWindows([{ window: '7d', tasks: tasks(2) }], { threshold: 2.5 })[0]!.significant).toBe(false);
  });

  const fx = loadFixture<Case>('usage');
  it(`matches numpy medians + scipy wilcoxon on ${fx.cases.length} cases`, () => {
    expect(fx.cases.length).toBeGreaterThan(100);
    for (const [i, c] of fx.cases.entries()) {
      const r = usageRatio(c.tasks);
      expect(r.n, `case ${i}`).toBe(c.n);
      expect(r.dropped, `case ${i}`).toBe(c.dropped);
      expectClose(r.ratio, num(c.ratio), 1e-12, 0, `case ${i} ratio`);
      expectClose(r.p, num(c.p), 1e-9, 1e-14, `case ${i} p`);
    }
  });
});
