import { describe, expect, it } from 'vitest';
import { formatEta, passSoFar } from '../../src/cli/progress.ts';
import type { RunProgress } from '../../src/runner/run.ts';

const p = (done: number, total: number, resolved: number, counted: number, startedAtMs = 0): RunProgress => ({ runId: 1, done, total, resolved, counted, startedAtMs });

describe('run progress display', () => {
  it('estimates the time left from the mean time per finished attempt', () => {
    expect(formatEta(p(0, 10, 0, 0), 5_000)).toBe('?');
    expect(formatEta(p(2, 10, 1, 2), 20_000)).toBe('1m20s');
    expect(formatEta(p(1, 200, 0, 1), 60_000)).toBe('3h19m');
    expect(formatEta(p(5, 10, 1, 5), 10_000)).toBe('10s');
    expect(formatEta(p(10, 10, 5, 10), 99_000)).toBe('0s');
  });

  it('shows the pass rate over counted attempts (infra errors left out)', () => {
    expect(passSoFar(p(0, 10, 0, 0))).toBe('-');
    expect(passSoFar(p(4, 10, 1, 3))).toBe('1/3 (33%)');
  });
});
