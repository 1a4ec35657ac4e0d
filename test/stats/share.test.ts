import { describe, expect, it } from 'vitest';
import { holm, shareChange, shareWindows, wilcoxonGreater } from '../../src/stats/index.ts';

/** Five tasks whose share fell by 0.1 .. 0.5 (one value per side each). */
const falling = [0.1, 0.2, 0.3, 0.4, 0.5].map((drop) => ({ window: [0.9 - drop], reference: [0.9] }));

describe('shareChange', () => {
  it('pairs tasks by their means and tests the bad way only, one-sided', () => {
    const down = shareChange(falling, 'down');
    expect(down).toMatchObject({ n: 5, dropped: 0, referenceMean: 0.9 });
    expect(down.change).toBeCloseTo(-0.3, 12);
    expect(down.windowMean).toBeCloseTo(0.6, 12);
    // Every difference negative: the exact one-sided p is 2^-5.
    expect(down.p).toBe(1 / 32);
    expect(down.wilcoxon.method).toBe('exact');
    // The same data tested for a rise: as far from it as can be.
    expect(shareChange(falling, 'up').p).toBe(1);
  });

  it('tests the differences of the task means, zeros dropped by the test but kept in the mean change', () => {
    const tasks = [
      { window: [1, 0, 0.5], reference: [1, 1] }, // 0.5 - 1 = -0.5
      { window: [0.25], reference: [0.25, 0.25] }, // 0
      { window: [0.2], reference: [0.6, 0.4] }, // -0.3
      { window: [0.9], reference: [0.8] }, // +0.1
    ];
    const r = shareChange(tasks, 'down');
    expect(r.n).toBe(4);
    expect(r.change).toBeCloseTo((-0.5 + 0 - 0.3 + 0.1) / 4, 12);
    expect(r.p).toBe(wilcoxonGreater([0.5, 0, 0.3, -0.1]).p);
    expect(r.wilcoxon.zeros).toBe(1);
  });

  it('drops a task without values on both sides, or with a mean outside [0, 1]', () => {
    const r = shareChange(
      [{ window: [], reference: [1] }, { window: [0.5], reference: [] }, { window: [1.5], reference: [1] }, { window: [NaN], reference: [1] }, ...falling],
      'down',
    );
    expect(r).toMatchObject({ n: 5, dropped: 4 });
    expect(shareChange([], 'down')).toMatchObject({ n: 0, p: NaN, change: NaN, windowMean: NaN });
  });
});

describe('shareWindows', () => {
  it('applies Holm across the windows and the practical threshold the bad way', () => {
    const small = [0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03].map((drop) => ({ window: [0.5 - drop], reference: [0.5] }));
    const big = Array.from({ length: 12 }, (_, i) => ({ window: [0.2 + i * 0.01], reference: [0.6] }));
    const r = shareWindows(
      [
        { window: '1d', tasks: small },
        { window: '7d', tasks: big },
        { window: '30d', tasks: [] },
      ],
      { worse: 'down', alpha: 0.01, threshold: 0.05 },
    );
    const raw = r.map((x) => x.p);
    expect(r.map((x) => x.pAdjusted)).toEqual(holm(raw));
    // 1d: significant by p, but a mean drop of 0.026 is below the threshold.
    expect(r[0]!.pAdjusted).toBeLessThan(0.01);
    expect(r[0]!.significant).toBe(false);
    expect(r[1]!.significant).toBe(true);
    expect(r[2]).toMatchObject({ n: 0, significant: false });
    expect(r[2]!.pAdjusted).toBeNaN();
    // A share that should not rise: the same falls are no finding.
    expect(shareWindows([{ window: '7d', tasks: big }], { worse: 'up' })[0]!.significant).toBe(false);
  });
});
