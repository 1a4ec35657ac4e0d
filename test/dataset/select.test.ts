import { describe, expect, it } from 'vitest';
import { allocate, selectTasks, stratifiedSample, suiteHash } from '../../src/dataset/select.ts';
import { TaskSelectionError } from '../../src/dataset/types.ts';

/** A synthetic dataset: repository sizes like a small SWE-Bench-Pro. */
function dataset(sizes: Record<string, number>): { instanceId: string; repo: string }[] {
  const out: { instanceId: string; repo: string }[] = [];
  for (const [repo, n] of Object.entries(sizes)) {
    for (let i = 0; i < n; i++) out.push({ instanceId: `instance_${repo.replace('/', '__')}-${String(i).padStart(3, '0')}`, repo });
  }
  return out;
}
const SIZES = { 'a/big': 50, 'b/mid': 30, 'c/small': 15, 'd/tiny': 5 };
const ids = (ts: { instanceId: string }[]) => ts.map((t) => t.instanceId);
const countBy = (ts: { repo: string }[]) => ts.reduce<Record<string, number>>((acc, t) => ({ ...acc, [t.repo]: (acc[t.repo] ?? 0) + 1 }), {});

describe('allocate (largest remainder)', () => {
  it('gives exact proportional shares when they are whole', () => {
    expect(allocate([50, 30, 15, 5], 20)).toEqual([10, 6, 3, 1]);
  });
  it('hands the leftover seats to the largest fractional parts', () => {
    // exact shares 3.5, 2.1, 1.05, 0.35 -> floors 3, 2, 1, 0; one seat left, to the largest fraction (a: .5).
    expect(allocate([50, 30, 15, 5], 7)).toEqual([4, 2, 1, 0]);
  });
  it('breaks equal fractions by the larger group, then by position', () => {
    expect(allocate([1, 3], 2)).toEqual([0, 2]);
    expect(allocate([2, 2, 2], 1)).toEqual([1, 0, 0]);
  });
  it('always sums to k', () => {
    for (let k = 1; k < 100; k++) expect(allocate([50, 30, 15, 5], k).reduce((a, b) => a + b, 0)).toBe(k);
  });
});

describe('stratifiedSample', () => {
  const tasks = dataset(SIZES);

  it('draws a proportional share from each repository', () => {
    const sample = stratifiedSample(tasks, 20, 1);
    expect(sample).toHaveLength(20);
    expect(countBy(sample)).toEqual({ 'a/big': 10, 'b/mid': 6, 'c/small': 3, 'd/tiny': 1 });
    expect(new Set(ids(sample)).size).toBe(20);
  });
  it('is the same for the same seed, whatever the order of the rows', () => {
    const shuffled = [...tasks].reverse();
    expect(ids(stratifiedSample(shuffled, 20, 42))).toEqual(ids(stratifiedSample(tasks, 20, 42)));
  });
  it('differs between seeds', () => {
    expect(ids(stratifiedSample(tasks, 20, 1))).not.toEqual(ids(stratifiedSample(tasks, 20, 2)));
  });
  it('returns its tasks sorted by id', () => {
    const got = ids(stratifiedSample(tasks, 20, 3));
    expect(got).toEqual([...got].sort());
  });
  it('selects every task when k is at least the dataset size', () => {
    expect(ids(stratifiedSample(tasks, 500, 1))).toEqual(ids(tasks).sort());
  });
  it('picks every task of a repository with comparable frequency over many seeds', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 400; seed++) {
      for (const t of stratifiedSample(tasks, 20, seed)) counts.set(t.instanceId, (counts.get(t.instanceId) ?? 0) + 1);
    }
    // a/big: 10 of 50 each time -> expected 80 picks per task over 400 seeds.
    const big = ids(tasks.filter((t) => t.repo === 'a/big')).map((id) => counts.get(id) ?? 0);
    expect(Math.min(...big)).toBeGreaterThan(45);
    expect(Math.max(...big)).toBeLessThan(120);
  });
});

describe('selectTasks', () => {
  const tasks = dataset(SIZES);

  it('returns explicit ids, de-duplicated and sorted', () => {
    const chosen = selectTasks(tasks, { ids: ['instance_b__mid-002', 'instance_a__big-001', 'instance_b__mid-002'] });
    expect(ids(chosen)).toEqual(['instance_a__big-001', 'instance_b__mid-002']);
  });
  it('names every unknown id', () => {
    let error: unknown;
    try {
      selectTasks(tasks, { ids: ['instance_a__big-001', 'nope-1', 'nope-2'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaskSelectionError);
    expect((error as TaskSelectionError).message).toBe('unknown task id(s): nope-1, nope-2');
    expect((error as TaskSelectionError).unknownIds).toEqual(['nope-1', 'nope-2']);
  });
  it('samples when no ids are given, leaving excluded tasks out', () => {
    const excluded = ids(tasks.filter((t) => t.repo === 'd/tiny'));
    const chosen = selectTasks(tasks, { size: 19, seed: 5, exclude: excluded });
    expect(chosen).toHaveLength(19);
    expect(countBy(chosen)['d/tiny']).toBeUndefined();
    expect(countBy(chosen)).toEqual({ 'a/big': 10, 'b/mid': 6, 'c/small': 3 });
  });
  it('refuses unknown excluded ids, an id both selected and excluded, and a bad size or seed', () => {
    expect(() => selectTasks(tasks, { size: 5, exclude: ['ghost'] })).toThrow('excluded task id(s) not in the dataset: ghost');
    expect(() => selectTasks(tasks, { ids: ['instance_a__big-001'], exclude: ['instance_a__big-001'] })).toThrow(
      'task id(s) both selected and excluded: instance_a__big-001',
    );
    expect(() => selectTasks(tasks, { size: 0 })).toThrow('sample size must be a positive integer, got 0');
    expect(() => selectTasks(tasks, {})).toThrow('sample size must be a positive integer, got undefined');
    expect(() => selectTasks(tasks, { size: 3, seed: 1.5 })).toThrow('seed must be an integer, got 1.5');
  });
});

describe('suiteHash', () => {
  const base = suiteHash(['b', 'a', 'c'], 'rev1', 'commit1');
  it('is a sha256 hex digest that ignores order and repeats', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(suiteHash(['c', 'a', 'b', 'a'], 'rev1', 'commit1')).toBe(base);
  });
  it('changes with the selection, the dataset revision and the harness commit', () => {
    const others = [
      suiteHash(['a', 'b'], 'rev1', 'commit1'),
      suiteHash(['a', 'b', 'd'], 'rev1', 'commit1'),
      suiteHash(['a', 'b', 'c'], 'rev2', 'commit1'),
      suiteHash(['a', 'b', 'c'], 'rev1', 'commit2'),
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });
  it('cannot be confused by ids that contain separators', () => {
    expect(suiteHash(['a,b'], 'r', 'c')).not.toBe(suiteHash(['a', 'b'], 'r', 'c'));
  });
});
