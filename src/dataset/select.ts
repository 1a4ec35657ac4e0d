/**
 * Which tasks a suite runs, and the hash that names that choice. Pure functions.
 *
 * Sampling (when no ids are given), deterministic for a seed and independent of the order of the input rows:
 * 1. excluded ids are removed; the rest are grouped by repository (strata) and each group sorted by instance id;
 * 2. allocation is proportional with largest remainders: repository r with N_r of the N tasks gets floor(k·N_r/N)
 *    tasks, and the k − Σfloor left go one each to the repositories with the largest fractional parts k·N_r/N −
 *    floor(k·N_r/N) (ties: the larger N_r, then the repository name). A small repository may get none when k is small;
 * 3. inside each repository (in name order) a seeded Fisher–Yates shuffle (xoshiro128**, state from sha256 of the
 *    seed) picks its share; the result is sorted by instance id.
 * k ≥ N selects every task.
 */
import { createHash } from 'node:crypto';
import { createRng } from '../stats/rng.ts';
import { TaskSelectionError, type Task } from './types.ts';

export interface SelectionSpec {
  /** Explicit instance ids; when non-empty, `size` and `seed` are not used. */
  ids?: readonly string[];
  /** Ids never selected (e.g. tasks whose oracle fails); every one must exist in the dataset. */
  exclude?: readonly string[];
  /** Sample size k when no ids are given. */
  size?: number;
  seed?: number;
}

/** Choose the suite's tasks from the dataset's; throws TaskSelectionError naming unknown ids. */
export function selectTasks<T extends Pick<Task, 'instanceId' | 'repo'>>(tasks: readonly T[], spec: SelectionSpec): T[] {
  const byId = new Map(tasks.map((t) => [t.instanceId, t]));
  const exclude = new Set(spec.exclude ?? []);
  const unknownExcluded = [...exclude].filter((id) => !byId.has(id));
  if (unknownExcluded.length > 0) {
    throw new TaskSelectionError(
      `excluded task id(s) not in the dataset: ${unknownExcluded.sort().join(', ')}`,
      unknownExcluded,
    );
  }
  const ids = spec.ids ?? [];
  if (ids.length > 0) {
    const unknown = [...new Set(ids.filter((id) => !byId.has(id)))];
    if (unknown.length > 0) {
      throw new TaskSelectionError(`unknown task id(s): ${unknown.join(', ')}`, unknown);
    }
    const both = [...new Set(ids.filter((id) => exclude.has(id)))];
    if (both.length > 0) throw new TaskSelectionError(`task id(s) both selected and excluded: ${both.join(', ')}`, []);
    return [...new Set(ids)].sort(compare).map((id) => byId.get(id) as T);
  }
  const size = spec.size;
  if (size === undefined || !Number.isInteger(size) || size < 1) {
    throw new TaskSelectionError(`sample size must be a positive integer, got ${String(size)}`);
  }
  const seed = spec.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new TaskSelectionError(`seed must be an integer, got ${String(seed)}`);
  return stratifiedSample(
    tasks.filter((t) => !exclude.has(t.instanceId)),
    size,
    seed,
  );
}

/** The seeded, repository-stratified sample described at the top of this file. */
export function stratifiedSample<T extends Pick<Task, 'instanceId' | 'repo'>>(tasks: readonly T[], k: number, seed: number): T[] {
  const strata = new Map<string, T[]>();
  for (const t of tasks) {
    const group = strata.get(t.repo);
    if (group) group.push(t);
    else strata.set(t.repo, [t]);
  }
  const repos = [...strata.keys()].sort(compare);
  const total = tasks.length;
  if (k >= total) return [...tasks].sort((a, b) => compare(a.instanceId, b.instanceId));
  const quota = allocate(
    repos.map((r) => (strata.get(r) as T[]).length),
    k,
  );
  // The project's one seeded generator (xoshiro128**), salted so that a suite's seed is not the CUSUM's seed stream.
  const gen = createRng(hashSeed(seed));
  const rng = () => gen.next();
  const chosen: T[] = [];
  repos.forEach((repo, i) => {
    const group = (strata.get(repo) as T[]).slice().sort((a, b) => compare(a.instanceId, b.instanceId));
    const take = quota[i] as number;
    // Partial Fisher–Yates: the first `take` places hold a uniform random subset.
    for (let j = 0; j < take; j++) {
      const pick = j + Math.floor(rng() * (group.length - j));
      [group[j], group[pick]] = [group[pick] as T, group[j] as T];
    }
    chosen.push(...group.slice(0, take));
  });
  return chosen.sort((a, b) => compare(a.instanceId, b.instanceId));
}

/** Largest-remainder proportional allocation of k among groups of the given sizes (k < Σ sizes). */
export function allocate(sizes: readonly number[], k: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((n) => (k * n) / total);
  const quota = exact.map(Math.floor);
  let left = k - quota.reduce((a, b) => a + b, 0);
  const order = sizes
    .map((n, i) => ({ i, frac: (exact[i] as number) - (quota[i] as number), n }))
    .sort((a, b) => b.frac - a.frac || b.n - a.n || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    quota[i] = (quota[i] as number) + 1;
    left--;
  }
  return quota;
}

/**
 * sha256 (hex) naming a suite: the sorted, de-duplicated task ids with the dataset revision and the harness commit.
 * Any change to the selection or to either revision gives a new hash; the order of the ids does not matter.
 */
export function suiteHash(taskIds: readonly string[], datasetRevision: string, harnessCommit: string): string {
  const ids = [...new Set(taskIds)].sort(compare);
  const canonical = JSON.stringify({ v: 1, dataset: datasetRevision, harness: harnessCommit, tasks: ids });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Code-unit order: the same everywhere, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A 32-bit seed derived from the user's seed, so that seeds 1, 2, 3 give unrelated samples. */
function hashSeed(seed: number): number {
  return createHash('sha256').update(`agentdrift-sample:${seed}`).digest().readUInt32LE(0);
}
