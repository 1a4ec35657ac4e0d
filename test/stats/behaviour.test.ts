/**
 * The behaviour test (src/stats/behaviour.ts): the two-sided Wilcoxon signed-rank test against SciPy 1.17
 * (scipy.stats.wilcoxon(d, alternative='two-sided', method=<as below>, correction=False, zero_method='wilcox')), the
 * shifted ratio, Holm across windows and the practical threshold either way.
 */
import { describe, expect, it } from 'vitest';
import { behaviourChange, behaviourWindows, wilcoxonTwoSided } from '../../src/stats/behaviour.ts';

describe('wilcoxonTwoSided', () => {
  it.each([
    ['exact', [0.5, -0.2, 1.3, 0.8, -0.1, 0.9, 1.1, 0.05, -0.7, 0.6], 0.10546875],
    ['exact', [-0.5, -0.2, -1.3, -0.8, 0.1, -0.9, -1.1, -0.05, -0.7, 0.6, -0.3, -0.45], 0.01611328125],
    ['approx', [1, 1, -1, 2, 2, 2, -0.5, 3, 1, 0.5, 0.5, 2], 0.01262435657427729],
    ['approx', Array.from({ length: 40 }, (_, i) => (((i * 37) % 23) - 9) / 7), 0.11451030786011211],
  ] as const)('%s: matches SciPy', (method, values, p) => {
    const r = wilcoxonTwoSided(values);
    expect(r.method).toBe(method);
    expect(r.p).toBeCloseTo(p, 12);
  });

  it('is symmetric: negating the values gives the same p; no data gives NaN', () => {
    const d = [0.3, -0.1, 0.7, 0.2, 0.9, -0.4, 0.6];
    expect(wilcoxonTwoSided(d.map((v) => -v)).p).toBeCloseTo(wilcoxonTwoSided(d).p, 15);
    expect(wilcoxonTwoSided([]).p).toBeNaN();
    expect(wilcoxonTwoSided([0, 0]).method).toBe('none');
  });
});

/** `tasks` tasks whose window and reference values are given per task index. */
const paired = (tasks: number, window: (i: number) => number[], reference: (i: number) => number[]) =>
  Array.from({ length: tasks }, (_, i) => ({ window: window(i), reference: reference(i) }));

describe('behaviourChange', () => {
  it('6.6 -> 2.0 reads before the first edit on every task: ratio 3/7.6, tiny p, means of the pairs', () => {
    const r = behaviourChange(paired(50, (i) => [2 + ((i % 3) - 1) * 0.5], (i) => [6.6 + ((i % 5) - 2) * 0.3]));
    expect(r.n).toBe(50);
    expect(r.windowMean).toBeCloseTo(2.0, 1);
    expect(r.referenceMean).toBeCloseTo(6.6, 1);
    expect(r.ratio).toBeLessThan(0.45);
    expect(r.p).toBeLessThan(1e-8);
  });

  it('zeros on both sides are fine (shifted by one); equal sides give ratio 1 and p 1; a side without values drops the task', () => {
    const same = behaviourChange(paired(10, () => [0, 0], () => [0]));
    expect(same).toMatchObject({ n: 10, ratio: 1, p: 1, dropped: 0 });
    const dropped = behaviourChange([{ window: [], reference: [1] }, { window: [2], reference: [] }, { window: [1], reference: [1] }]);
    expect(dropped).toMatchObject({ n: 1, dropped: 2 });
    expect(behaviourChange([]).p).toBeNaN();
    expect(behaviourChange([]).ratio).toBeNaN();
  });
});

describe('behaviourWindows', () => {
  it('Holm across the windows and the practical threshold either way', () => {
    const down = paired(30, (i) => [2 + (i % 4) * 0.25], (i) => [6 + (i % 3) * 0.5]);
    const up = paired(30, (i) => [6 + (i % 3) * 0.5], (i) => [2 + (i % 4) * 0.25]);
    // Small but consistent: significant, not practical.
    const small = paired(30, (i) => [100 * 1.05 + i], (i) => [100 + i]);
    const r = behaviourWindows([
      { window: '1d', tasks: down },
      { window: '7d', tasks: up },
      { window: '30d', tasks: small },
    ]);
    expect(r.map((w) => [w.window, w.direction, w.significant])).toEqual([
      ['1d', 'down', true],
      ['7d', 'up', true],
      ['30d', 'up', false],
    ]);
    expect(r[2]!.pAdjusted).toBeLessThan(0.01);
    // Holm: the adjusted p of each is at least its raw p, and the smallest is multiplied by the 3 windows.
    const smallest = Math.min(...r.map((w) => w.p));
    expect(Math.min(...r.map((w) => w.pAdjusted))).toBeCloseTo(Math.min(1, 3 * smallest), 15);
    for (const w of r) expect(w.pAdjusted).toBeGreaterThanOrEqual(w.p);
    // A threshold above the change: nothing is practical.
    expect(behaviourWindows([{ window: '1d', tasks: down }], { threshold: 4 })[0]!.significant).toBe(false);
  });

  it('no change gives no significant window', () => {
    const noise = (seed: number) => (i: number) => [5 + (((i * seed) % 11) - 5) / 10];
    const r = behaviourWindows(['1d', '7d', '30d'].map((window, k) => ({ window, tasks: paired(50, noise(7 + k), noise(13 + k)) })));
    expect(r.every((w) => !w.significant)).toBe(true);
  });
});
