import { describe, expect, it } from 'vitest';
import jStat from 'jstat';
import { createRng, sampleBeta } from '../../src/stats/index.ts';

describe('rng', () => {
  it('repeats its sequence for a seed, and fill() follows next()', () => {
    const a = createRng(42);
    const b = createRng(42);
    const buf = new Float64Array(100);
    a.fill(buf);
    for (const v of buf) expect(v).toBe(b.next());
    expect(createRng(43).next()).not.toBe(createRng(42).next());
  });

  it('is uniform enough on [0, 1): mean, variance and deciles of 200 000 draws', () => {
    const rng = createRng(7);
    const n = 200_000;
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sq += u * u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.003); // sd of the mean is 0.00065
    expect(Math.abs(sq / n - (sum / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
    const chi2 = bins.reduce((acc, o) => acc + (o - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // chi-square(9) 0.999 quantile
  });

  it('draws Beta variates reproducibly and restores jStat’s own random source', () => {
    const before = jStat._random_fn;
    const rng = createRng(3);
    const xs = Array.from({ length: 20_000 }, () => sampleBeta(rng, 1.1, 0.9));
    expect(jStat._random_fn).toBe(before);
    const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
    expect(Math.abs(mean - 0.55)).toBeLessThan(0.01); // sd of the mean ~0.002
    const again = createRng(3);
    expect(sampleBeta(again, 1.1, 0.9)).toBe(xs[0]);
  });
});
