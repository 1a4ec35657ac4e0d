import { describe, expect, it } from 'vitest';
import { binomialLowerP, evaluateWindows, type Baseline, type TaskCount } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

type Compact = Record<string, [number, number]>;
interface Case {
  baseline: { kind: 'fixed'; p0: number } | { kind: 'reference'; perTask: Compact };
  windows: { window: string; perTask: Compact }[];
  alpha: number;
  p: (number | null)[];
  pAdjusted: (number | null)[];
  method: string[];
  significant: boolean[];
}

const toMap = (c: Compact): Map<string, TaskCount> =>
  new Map(Object.entries(c).map(([id, [passes, trials]]) => [id, { passes, trials }]));

const uniform = (tasks: number, passes: number, trials: number): Map<string, TaskCount> =>
  new Map(Array.from({ length: tasks }, (_, i) => [`t${i}`, { passes, trials }]));

describe('evaluateWindows', () => {
  it('tests a fixed p0 with the exact binomial and Holm across windows', () => {
    const baseline: Baseline = { kind: 'fixed', p0: 0.73 };
    const res = evaluateWindows(baseline, [
      { window: '1d', perTask: new Map([['a', { passes: 29, trials: 50 }]]) },
      { window: '7d', perTask: new Map([['a', { passes: 250, trials: 350 }]]) },
    ]);
    const [d1, d7] = res.results;
    expect(d1!.method).toBe('binomial');
    expect(d1!.p).toBe(binomialLowerP(29, 50, 0.73));
    expect(d1!.p.toFixed(4)).toBe('0.0155');
    expect(res.familySize).toBe(2);
    // Holm with m = 2: the smaller p is doubled, the larger is max(its own p, the doubled smaller one)
    const lo = Math.min(d1!.p, d7!.p);
    const hi = Math.max(d1!.p, d7!.p);
    expect(d1!.p).toBe(lo);
    expect(d1!.pAdjusted).toBe(Math.min(1, 2 * lo));
    expect(d7!.pAdjusted).toBe(Math.min(1, Math.max(2 * lo, hi)));
    expect(d1!.significant).toBe(false); // 0.0155 is not below 0.01 after (or before) adjustment
    expect(d1!.lower.toFixed(4)).toBe('0.4423');
    expect(d1!.minimumDetectableDrop).toBeGreaterThan(0.2);
    expect(d7!.minimumDetectableDrop).toBeLessThan(d1!.minimumDetectableDrop);
  });

  it('leaves a window without attempts out of the Holm family', () => {
    const baseline: Baseline = { kind: 'fixed', p0: 0.55 };
    const res = evaluateWindows(baseline, [
      { window: '1d', perTask: new Map() },
      { window: '7d', perTask: uniform(50, 3, 7) },
      { window: '30d', perTask: uniform(50, 15, 30) },
    ]);
    const [d1, d7, d30] = res.results;
    expect(res.familySize).toBe(2);
    expect(d1).toMatchObject({ method: 'none', n: 0, significant: false });
    expect(d1!.p).toBeNaN();
    expect(d1!.pAdjusted).toBeNaN();
    expect(d1!.minimumDetectableDrop).toBeNaN();
    const lo = Math.min(d7!.p, d30!.p);
    const hi = Math.max(d7!.p, d30!.p);
    expect(Math.min(d7!.pAdjusted, d30!.pAdjusted)).toBe(Math.min(1, 2 * lo));
    expect(Math.max(d7!.pAdjusted, d30!.pAdjusted)).toBe(Math.min(1, Math.max(2 * lo, hi)));
  });

  it('uses CMH against a reference baseline and reports its inputs', () => {
    const baseline: Baseline = { kind: 'reference', perTask: uniform(50, 8, 14) };
    const window = new Map(uniform(50, 2, 7));
    window.set('new-task', { passes: 0, trials: 7 }); // not in the baseline: drops out of the strata
    const res = evaluateWindows(baseline, [{ window: '7d', perTask: window }], { alpha: 0.01 });
    const r = res.results[0]!;
    expect(r.method).toBe('cmh');
    expect(r.n).toBe(357);
    expect(r.testN).toBe(350);
    expect(r.strata).toBe(50);
    expect(r.coverage).toBeCloseTo(350 / 357, 14);
    expect(r.baselineRate).toBeCloseTo(8 / 14, 14);
    expect(r.significant).toBe(true);
    expect(r.z).toBeLessThan(0);
    // MDD uses the two-sample effective size 1/(1/350 + 1/700) at alpha / 1
    expect(r.minimumDetectableDrop).toBeGreaterThan(0.05);
    expect(r.minimumDetectableDrop).toBeLessThan(0.15);
  });

  it('switches to the pooled Fisher test when most window attempts are on tasks the baseline lacks', () => {
    const baseline: Baseline = { kind: 'reference', perTask: uniform(10, 8, 14) };
    const window = new Map([...uniform(10, 3, 7)].map(([id, c]) => [`new-${id}`, c]));
    window.set('t0', { passes: 1, trials: 7 });
    const r = evaluateWindows(baseline, [{ window: '7d', perTask: window }]).results[0]!;
    expect(r.method).toBe('fisher');
    expect(r.testN).toBe(77);
    expect(r.baselineRate).toBeCloseTo(8 / 14, 14);
  });

  const fx = loadFixture<Case>('windows');
  it(`matches binomtest / CMH / fisher_exact + multipletests(holm) on ${fx.cases.length} cases`, () => {
    expect(fx.cases.length).toBeGreaterThan(100);
    let significant = 0;
    for (const [i, c] of fx.cases.entries()) {
      const baseline: Baseline =
        c.baseline.kind === 'fixed' ? c.baseline : { kind: 'reference', perTask: toMap(c.baseline.perTask) };
      const res = evaluateWindows(
        baseline,
        c.windows.map((w) => ({ window: w.window, perTask: toMap(w.perTask) })),
        { alpha: c.alpha },
      );
      res.results.forEach((r, k) => {
        const label = `case ${i} ${r.window}`;
        expect(r.method, label).toBe(c.method[k]);
        expectClose(r.p, num(c.p[k]), 1e-9, 1e-14, `${label} p`);
        expectClose(r.pAdjusted, num(c.pAdjusted[k]), 1e-9, 1e-14, `${label} adjusted`);
        expect(r.significant, label).toBe(c.significant[k]);
        if (r.significant) significant++;
      });
    }
    expect(significant).toBeGreaterThan(10);
  });
});
