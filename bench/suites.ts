/**
 * What the detector bench knows about suites (issue 14 part 1): suite profiles (the true per-task pass probabilities
 * of a pool of candidate tasks), how a monitored suite is drawn from a pool (the suite-selection hook), the drop
 * applied to a suite (a shift in log-odds), and the posterior of a suite's truth given what was observed of it.
 * Pure functions apart from loadProfile, which reads its file.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Rng, TaskCount } from '../src/stats/index.ts';

/** A pool of candidate tasks: the true pass probability of each (one attempt of task i passes with p[i]). */
export interface Profile {
  /** The file name without its .json: the key of the profile's figures. */
  name: string;
  file: string;
  description?: string;
  p: number[];
}

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** Checks a parsed profile; `where` names it in the errors. */
export function parseProfile(value: unknown, where: string, suiteSize: number): { description?: string; p: number[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProfileError(`${where}: a profile is a JSON object {"p": [...]}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const obj = value as Record<string, unknown>;
  if (!('p' in obj)) throw new ProfileError(`${where}: no "p" array (the true pass probability of each task of the pool)`);
  const p = obj.p;
  if (!Array.isArray(p)) throw new ProfileError(`${where}: "p" must be an array of probabilities, got ${typeof p}`);
  const bad: string[] = [];
  p.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1) bad.push(`p[${i}] = ${JSON.stringify(x)}`);
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? ` and ${bad.length - 5} more` : '');
    throw new ProfileError(`${where}: every value of "p" must be a number in [0, 1]; not so: ${shown}`);
  }
  if (p.length < suiteSize) {
    throw new ProfileError(
      `${where}: the pool has ${p.length} task(s), fewer than the suite size ${suiteSize} (a suite is drawn without replacement)`,
    );
  }
  const description = typeof obj.description === 'string' ? obj.description : undefined;
  return { ...(description !== undefined ? { description } : {}), p: p as number[] };
}

/** Reads and checks a profile file. Throws ProfileError naming the file and what is wrong. */
export function loadProfile(file: string, suiteSize: number): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileError(`${file}: cannot read the profile (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = parseProfile(value, file, suiteSize);
  return { name: basename(file).replace(/\.json$/i, ''), file, ...parsed };
}

const logit = (p: number): number => Math.log(p / (1 - p));
const expit = (x: number): number => 1 / (1 + Math.exp(-x));
const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;

/**
 * The task probabilities after a drop of `points` (0.10 = 10 points) in the mean: every task's log-odds shifted down
 * by the same delta, found by bisection so that the mean falls by exactly `points` (to double precision). Tasks at 0
 * stay at 0 and tasks at 1 at 1 (their log-odds are infinite); tasks near 0 stay near 0. Throws when the suite's mean
 * cannot fall that far (it falls at most by the mean of its tasks strictly between 0 and 1).
 */
export function logitDrop(probs: readonly number[], points: number): number[] {
  if (!(points >= 0)) throw new RangeError(`a drop must be >= 0 points, got ${points}`);
  const base = mean(probs);
  const shifted = (delta: number): number[] => probs.map((p) => expit(logit(p) - delta));
  const fall = (delta: number): number => base - mean(shifted(delta));
  const most = probs.filter((p) => p > 0 && p < 1).reduce((a, v) => a + v, 0) / probs.length;
  if (points >= most) {
    throw new RangeError(`a drop of ${points} is impossible: the mean ${base} can fall by less than ${most} (tasks at 0 or 1 do not move)`);
  }
  if (points === 0) return [...probs];
  let lo = 0;
  let hi = 1;
  while (fall(hi) < points) hi *= 2;
  // Bisect to adjacent doubles: the fall is continuous and increasing in delta.
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (fall(mid) < points) lo = mid;
    else hi = mid;
  }
  const a = shifted(lo);
  const b = shifted(hi);
  return Math.abs(fall(lo) - points) <= Math.abs(fall(hi) - points) ? a : b;
}

/** The monitored suite a selector chose from a pool. */
export interface SelectedSuite {
  /** Indices into the pool, one per suite position (suite position k is task `task-<k>`). */
  indices: number[];
  /** Attempts spent choosing (a calibration phase): a one-off, reported apart from the daily spend. 0 for a plain draw. */
  calibrationAttempts: number;
  /**
   * What the selection observed of each chosen task (by suite position), when it ran any: the bench's posterior of a
   * suite's truth (truthPosterior) conditions on it as well as on the reference period, which keeps its estimate of
   * false pages unbiased for a suite chosen on its observed rates.
   */
  calibration?: TaskCount[];
}

/**
 * The suite-selection hook: how the monitored suite is drawn from the pool. Issue 14 part 3 (an informative suite,
 * chosen by a simulated calibration phase) plugs in here as another selector.
 */
export interface SuiteSelector {
  readonly name: string;
  select(pool: readonly number[], size: number, rng: Rng): SelectedSuite;
}

/**
 * Today's selection: a plain random sample of `size` tasks without replacement (partial Fisher-Yates). The daemon
 * samples a suite stratified by repository (src/dataset/select.ts: proportional allocation, a random sample inside
 * each repository); a profile has no repositories, so its sample is a plain one: the same thing with one stratum.
 */
export const randomSelection: SuiteSelector = {
  name: 'random',
  select(pool, size, rng) {
    const order = pool.map((_, i) => i);
    for (let j = 0; j < size; j++) {
      const pick = j + Math.floor(rng.next() * (order.length - j));
      [order[j], order[pick]] = [order[pick]!, order[j]!];
    }
    return { indices: order.slice(0, size), calibrationAttempts: 0 };
  },
};

/**
 * Draws of a suite's truth given what was observed of it, with the pool as the prior: task k's true probability is
 * pool value j with probability proportional to p_j^s (1 - p_j)^(n - s), s of n being its observed passes (the
 * reference period, plus any calibration). The tasks are treated as independent draws from the pool: a suite is a
 * sample without replacement, but 50 of 731 makes the difference negligible. Used to Rao-Blackwellise the false-page
 * rate: E[pages | observations] averaged over draws of the truth, instead of one truth's noisy count.
 */
export class TruthPosterior {
  private readonly cdfs: Float64Array[];

  constructor(
    private readonly pool: readonly number[],
    observed: readonly TaskCount[],
  ) {
    const memo = new Map<string, Float64Array>();
    this.cdfs = observed.map((c) => {
      const key = `${c.passes}/${c.trials}`;
      let cdf = memo.get(key);
      if (!cdf) {
        cdf = posteriorCdf(pool, c);
        memo.set(key, cdf);
      }
      return cdf;
    });
  }

  /** One draw of every task's truth, into `out` (by suite position). */
  draw(rng: Rng, out: Float64Array): void {
    this.cdfs.forEach((cdf, k) => {
      const u = rng.next() * cdf[cdf.length - 1]!;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out[k] = this.pool[lo]!;
    });
  }
}

function posteriorCdf(pool: readonly number[], c: TaskCount): Float64Array {
  const logs = pool.map((p) => {
    const a = c.passes === 0 ? 0 : c.passes * Math.log(p);
    const b = c.trials - c.passes === 0 ? 0 : (c.trials - c.passes) * Math.log(1 - p);
    return a + b;
  });
  const top = Math.max(...logs);
  if (!Number.isFinite(top)) throw new RangeError(`no task of the pool can give ${c.passes} passes of ${c.trials}`);
  const cdf = new Float64Array(pool.length);
  let sum = 0;
  logs.forEach((l, j) => {
    sum += Math.exp(l - top);
    cdf[j] = sum;
  });
  return cdf;
}
