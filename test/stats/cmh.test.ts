import { describe, expect, it } from 'vitest';
import { cmhLess, fisherLessP, type TaskTally } from '../../src/stats/index.ts';
import { expectClose, loadFixture, num } from './fixtures.ts';

interface Expected {
  method: 'cmh' | 'fisher' | 'none';
  p: number | null;
  strata: number;
  n: number;
  coverage?: number;
  z?: number;
}
interface Case {
  tasks: [number, number, number, number][];
  corrected: Expected;
  uncorrected: Expected;
}

const tally = (wp: number, wt: number, bp: number, bt: number): TaskTally => ({
  windowPasses: wp,
  windowTrials: wt,
  basePasses: bp,
  baseTrials: bt,
});

describe('cmhLess', () => {
  it("reproduces R's mantelhaen.test(alternative = 'less'), continuity correction on by default", () => {
    // R: x <- array(c(3,5,4,2, 6,1,2,7), dim = c(2,2,2)); rows window/baseline, columns pass/fail
    const tasks = [tally(3, 7, 5, 7), tally(6, 8, 1, 8)];
    expect(cmhLess(tasks).p.toFixed(7)).toBe('0.7617412');
    expect(cmhLess(tasks, { correct: true }).p).toBe(cmhLess(tasks).p);
    expect(cmhLess(tasks, { correct: false }).p.toFixed(7)).toBe('0.8572109');
    // R: y <- array(c(2,8,8,2, 3,7,7,3), dim = c(2,2,2))
    expect(cmhLess([tally(2, 10, 8, 10), tally(3, 10, 7, 10)]).p.toFixed(7)).toBe('0.0027687');
  });

  it('drops tasks seen in only one period', () => {
    const both = [tally(2, 10, 8, 10), tally(3, 10, 7, 10)];
    const withExtra = [...both, tally(0, 0, 5, 10), tally(1, 2, 0, 0)];
    const a = cmhLess(both);
    const b = cmhLess(withExtra);
    expect(b.method).toBe('cmh');
    expect(b.p).toBe(a.p);
    expect(b.matchedTasks).toBe(2);
    expect(b.n).toBe(20);
    expect(b.windowTrials).toBe(22);
    expect(b.coverage).toBeCloseTo(20 / 22, 15);
  });

  it('drops zero-variance strata (all pass or all fail in both periods) without changing p', () => {
    const informative = [tally(2, 10, 8, 10), tally(3, 10, 7, 10)];
    const r = cmhLess([...informative, tally(5, 5, 10, 10), tally(0, 4, 0, 8)]);
    expect(r.strata).toBe(2);
    expect(r.matchedTasks).toBe(4);
    expect(r.p).toBe(cmhLess(informative).p);
  });

  it('gives p = 1 when every stratum has zero variance', () => {
    const r = cmhLess([tally(5, 5, 10, 10), tally(0, 4, 0, 8)]);
    expect(r).toMatchObject({ method: 'cmh', p: 1, strata: 0, n: 9 });
  });

  it('falls back to the pooled Fisher test when fewer than half of the window attempts have a baseline', () => {
    const tasks = [tally(3, 10, 0, 0), tally(4, 10, 0, 0), tally(2, 3, 8, 10)];
    const r = cmhLess(tasks);
    expect(r.method).toBe('fisher');
    expect(r.p).toBe(fisherLessP({ a: 9, b: 14, c: 8, d: 2 }));
    expect(r.n).toBe(23);
    // exactly half is enough for CMH
    expect(cmhLess([tally(3, 10, 0, 0), tally(2, 10, 8, 10)]).method).toBe('cmh');
  });

  it("reports 'none' with p = NaN for an empty window or an empty baseline", () => {
    expect(cmhLess([]).method).toBe('none');
    expect(cmhLess([tally(0, 0, 5, 10)])).toMatchObject({ method: 'none', p: NaN });
    expect(cmhLess([tally(3, 5, 0, 0)])).toMatchObject({ method: 'none', p: NaN });
  });

  it('is one-sided: a window doing better gives a large p, worse a small one', () => {
    const better = cmhLess([tally(9, 10, 5, 10), tally(8, 10, 4, 10)]);
    const worse = cmhLess([tally(1, 10, 5, 10), tally(2, 10, 6, 10)]);
    expect(better.p).toBeGreaterThan(0.9);
    expect(worse.p).toBeLessThan(0.05);
    expect(worse.z).toBeLessThan(0);
    expect(worse.oddsRatio).toBeLessThan(1);
  });

  it('does not depend on task order', () => {
    const tasks = [tally(2, 10, 8, 10), tally(3, 10, 7, 10), tally(6, 9, 5, 12), tally(0, 3, 1, 4)];
    expect(cmhLess([...tasks].reverse()).p).toBeCloseTo(cmhLess(tasks).p, 14);
  });

  const fx = loadFixture<Case>('cmh');
  it(`matches R mantelhaen.test(alternative='less') / fisher_exact on ${fx.cases.length} cases`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    const methods = new Set<string>();
    for (const [i, c] of fx.cases.entries()) {
      const tasks = c.tasks.map(([wp, wt, bp, bt]) => tally(wp, wt, bp, bt));
      for (const [key, correct] of [
        ['corrected', true],
        ['uncorrected', false],
      ] as const) {
        const want = c[key];
        const got = cmhLess(tasks, { correct });
        const label = `case ${i} ${key}`;
        methods.add(got.method);
        expect(got.method, label).toBe(want.method);
        expect(got.strata, label).toBe(want.strata);
        expect(got.n, label).toBe(want.n);
        // normal tail from jStat: 1e-9 relative, or 1e-14 absolute far in the tail (see src/stats/dist.ts)
        expectClose(got.p, num(want.p), 1e-9, 1e-14, `${label} p`);
        if (want.z !== undefined) expectClose(got.z, num(want.z), 1e-9, 1e-12, `${label} z`);
      }
    }
    expect([...methods].sort()).toEqual(['cmh', 'fisher', 'none']);
  });
});
