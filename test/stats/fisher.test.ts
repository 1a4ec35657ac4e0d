import { describe, expect, it } from 'vitest';
import { fisherLessP } from '../../src/stats/index.ts';
import { expectClose, loadFixture } from './fixtures.ts';

interface Case {
  a: number;
  b: number;
  c: number;
  d: number;
  p: number;
}

describe('fisherLessP', () => {
  it('gives 1 for tables without evidence (an empty row or column)', () => {
    expect(fisherLessP({ a: 0, b: 0, c: 3, d: 4 })).toBe(1);
    expect(fisherLessP({ a: 5, b: 0, c: 7, d: 0 })).toBe(1);
  });

  it('gives the hypergeometric point probability at the extreme', () => {
    // [[0, 10], [10, 0]]: P(A <= 0) = 1 / C(20, 10)
    expectClose(fisherLessP({ a: 0, b: 10, c: 10, d: 0 }), 1 / 184756, 1e-12, 0, 'extreme');
  });

  const fx = loadFixture<Case>('fisher');
  it(`matches scipy.stats.fisher_exact(alternative='less') on ${fx.cases.length} tables to 1e-9 relative`, () => {
    expect(fx.cases.length).toBeGreaterThan(300);
    for (const c of fx.cases) {
      expectClose(fisherLessP(c), c.p, 1e-9, 1e-290, `[[${c.a},${c.b}],[${c.c},${c.d}]]`);
    }
  });
});
