/**
 * Choosing the CUSUM threshold h, and caching it.
 *
 * Goal: the in-control average run length (ARL0: mean number of attempts until S_t > h when nothing changed) must be
 * at least horizonDays * attemptsPerDay.
 *
 * Method (seeded Monte-Carlo with common random numbers):
 * 1. Simulate `sims` independent in-control histories. Attempt t is on task t mod K (round-robin over the K task
 *    probabilities, as a daily run over a fixed task set does) and succeeds with that task's baseline probability.
 *    Each history runs the CUSUM (no threshold) for at most cap = capFactor * target attempts.
 * 2. Along each history keep only the record highs of S_t (value, time). For any h, that history's run length is
 *    the time of its first record above h, or "censored at cap" if none. Because the same histories serve every h,
 *    the estimated ARL is a non-decreasing step function of h and bisection on h is exact for the sample.
 * 3. ARL(h) is estimated by the censored-exponential maximum likelihood: (sum of min(run length, cap)) / (number of
 *    histories that signalled). CUSUM run lengths from S_0 = 0 are very nearly geometric (the statistic keeps
 *    renewing at 0), so this uses the censored histories without the downward bias of a truncated mean.
 * 4. h = the smallest value (to 1e-6) whose estimated ARL, less `confidenceZ` standard errors, reaches the target:
 *    a one-sided bound, so that with the default z = 1.645 the simulated ARL falls short of the target in about 5%
 *    of seeds rather than in half of them (a point estimate exactly at the target gives about 1 false page a year
 *    at a 365-day horizon, as often above 1 as below).
 *
 * For a reference baseline the per-task p_i are estimates (14 attempts a task by default), not the truth: with
 * `uncertainty`, each group of histories runs under its own draw of the tasks' true probabilities from their
 * posteriors, the draws stratified by how unfavourable they are (planDraws), and the rate is the stratified mean
 * over the draws (see InControlOptions.uncertainty; docs/statistics.md, "How h is chosen"). What that cannot remove
 * is the spread between reference periods: a lucky one pages more often (bench/stats.ts prints it).
 *
 * Accuracy: the relative standard error of the ARL estimate is about 1 / sqrt(signalled histories): ~4% with the
 * defaults (1000 histories, cap = 1 x target, about 630 of them signal), reported as `standardError`. W is a
 * log-likelihood ratio, so E[exp(W)] = 1 in control and ARL grows roughly like exp(h): a 4% ARL error is an error of
 * about 0.04 in h. The tests cross-check the estimate against the exact ARL of a lattice Markov chain
 * (a task probability for which W only takes values that are multiples of one step) and against long untruncated
 * simulations for a heterogeneous task set. With `uncertainty` (4000 histories, 200 draws in 8 strata) the averaged
 * rate's relative standard error is about 3%, and h moves by about 0.06 between seeds.
 * Cost: sims * cap CUSUM steps (18 M steps, about 0.5 s on one core, for 50 attempts a day, a 365-day horizon and the
 * defaults; with `uncertainty`, 4000 histories and the candidate truths, about 2 s).
 */
import { createRng, sampleBeta } from './rng.ts';
import { DEFAULT_ODDS_RATIO, cusumWeight } from './cusum.ts';
import type { PriorPosterior } from './prior.ts';

/** How uncertain the baseline probabilities are: the reference tallies behind them and the prior they were fitted with. */
export interface BaselineUncertainty {
  /** One per task, in the order of taskProbs. */
  tallies: readonly { passes: number; trials: number }[];
  prior: { a: number; b: number };
  /**
   * How uncertain the prior itself is (prior.ts, priorPosterior): when given, each draw of the truth first draws its
   * own prior from it, then the tasks' probabilities from Beta(passes + a, trials - passes + b) under that prior.
   */
  priorPosterior?: PriorPosterior;
  /** Draws of the true probabilities the histories are split over (default: one per 20 histories). */
  draws?: number;
  /** Strata the draws are spread over (default: one per 20 draws, at most 8; 1 = plain draws). See planDraws. */
  strata?: number;
}

export interface InControlOptions {
  /** Baseline success probability of each task in the daily set (round-robin order): what the CUSUM weighs with. */
  taskProbs: readonly number[];
  /**
   * When given, the histories come in groups, each group with its own draw of the tasks' true probabilities from
   * their posteriors Beta(passes + a, trials - passes + b), stratified (planDraws), and arl(h) is the reciprocal of
   * the false-signal rate averaged over the posterior (the strata's mean rates weighted by their probabilities).
   */
  uncertainty?: BaselineUncertainty;
  R?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Simulated histories (default 1000). */
  sims?: number;
  /** Length of each history, in attempts. */
  cap: number;
}

export interface ArlEstimate {
  /** Estimated in-control ARL in attempts (Infinity when no history signalled). */
  arl: number;
  /** Standard error of arl: arl / sqrt(signalled) (exponential model); with uncertainty, from the spread between draws. */
  standardError: number;
  /** Histories that signalled before the cap. */
  signalled: number;
}

export interface InControlSimulation {
  /** ARL estimate for threshold h (signal when S_t > h), from the same histories for every h. */
  arl(h: number): ArlEstimate;
  /** Largest S_t seen in any history. */
  maxStatistic: number;
  sims: number;
  cap: number;
}

/** At most this many strata of the reference's possible truths (see planDraws). */
const MAX_STRATA = 8;
/** Candidate truths drawn per draw of the top stratum: that stratum is picked from at least this many. */
const TOP_CANDIDATES = 40;

interface DrawPlan {
  /** The tasks' true probabilities of each draw, in draw order (strata are contiguous). */
  truths: Float64Array[];
  strata: { first: number; count: number; weight: number }[];
}

/**
 * Which truths the histories are run under, for a reference baseline: `draws` draws from the tasks' posteriors,
 * stratified by how unfavourable they are.
 *
 * The false-signal rate over the posterior is heavy-tailed: a truth a few points below the reference pages many
 * times a year, and those truths carry much of the mean. Drawn plainly, 200 draws catch the top 1% about twice, so
 * the averaged rate scatters by a third from seed to seed and the bound on it is unstable. Instead: draw many
 * candidate truths (cheap), order them by their expected CUSUM increment per round over the task set (the drift
 * sum_k q_k w_pass_k + (1 - q_k) w_fail_k, which the in-control rate rises with), cut the order into strata of
 * probability 1/2, 1/4, ..., 1/2^(S-1), 1/2^(S-1), and run the same number of draws in each. The estimate is the
 * strata's rates weighted by their probabilities, an unbiased estimate of the posterior mean rate with the
 * unfavourable tail sampled 2^(S-1)/S times more densely than plain draws would.
 */
function planDraws(u: BaselineUncertainty, wPass: Float64Array, wFail: Float64Array, draws: number, rng: ReturnType<typeof createRng>): DrawPlan {
  const K = wPass.length;
  const S = Math.max(1, Math.min(draws, Math.round(u.strata ?? Math.min(MAX_STRATA, Math.floor(draws / 20)))));
  const M = S === 1 ? draws : Math.max(draws, TOP_CANDIDATES * 2 ** (S - 1));
  const candidates = new Float64Array(M * K);
  const drift = new Float64Array(M);
  for (let j = 0; j < M; j++) {
    let d = 0;
    const prior = u.priorPosterior ? u.priorPosterior.draw(rng) : u.prior;
    for (let k = 0; k < K; k++) {
      const c = u.tallies[k]!;
      const q = sampleBeta(rng, c.passes + prior.a, c.trials - c.passes + prior.b);
      candidates[j * K + k] = q;
      d += q * wPass[k]! + (1 - q) * wFail[k]!;
    }
    drift[j] = d;
  }
  const truth = (j: number): Float64Array => candidates.subarray(j * K, (j + 1) * K);
  if (S === 1) return { truths: Array.from({ length: M }, (_, j) => truth(j)), strata: [{ first: 0, count: M, weight: 1 }] };
  const order = Array.from({ length: M }, (_, j) => j).sort((x, y) => drift[x]! - drift[y]! || x - y);
  const truths: Float64Array[] = [];
  const strata: DrawPlan['strata'] = [];
  for (let s = 0; s < S; s++) {
    const lower = 1 - 2 ** -s;
    const upper = s === S - 1 ? 1 : 1 - 2 ** -(s + 1);
    const from = Math.floor(lower * M);
    const to = Math.floor(upper * M);
    // the remainder of draws / S goes to the top strata, where the rates spread most
    const count = Math.floor(draws / S) + (s >= S - (draws % S) ? 1 : 0);
    strata.push({ first: truths.length, count, weight: upper - lower });
    for (let i = 0; i < count; i++) truths.push(truth(order[from + Math.floor(rng.next() * (to - from))]!));
  }
  return { truths, strata };
}

/** Simulate `sims` in-control histories of length `cap` and keep their record highs (steps 1 and 2 above). */
export function simulateInControl(options: InControlOptions): InControlSimulation {
  const R = options.R ?? DEFAULT_ODDS_RATIO;
  const sims = options.sims ?? 1000;
  const { taskProbs } = options;
  const cap = Math.ceil(options.cap);
  if (taskProbs.length === 0) throw new RangeError('simulateInControl: need at least one task probability');
  if (!(sims >= 1) || !(cap >= 1)) throw new RangeError('simulateInControl: sims and cap must be >= 1');
  const K = taskProbs.length;
  const u = options.uncertainty;
  if (u && u.tallies.length !== K) throw new RangeError('simulateInControl: uncertainty.tallies must match taskProbs');
  const probs = Float64Array.from(taskProbs);
  const wPass = Float64Array.from(taskProbs, (p) => cusumWeight(1, p, R));
  const wFail = Float64Array.from(taskProbs, (p) => cusumWeight(0, p, R));
  const rng = createRng(options.seed ?? 1);
  const plan = u ? planDraws(u, wPass, wFail, Math.max(1, Math.min(sims, Math.round(u.draws ?? sims / 20))), rng) : undefined;
  const draws = plan ? plan.truths.length : 1;

  // Record highs of every history, flattened; offsets[i]..offsets[i+1] belong to history i.
  const recValues: number[] = [];
  const recTimes: number[] = [];
  const offsets: number[] = [0];
  const block = new Float64Array(8192);
  let pos = block.length;
  let maxStatistic = 0;
  const drawOf = (i: number): number => Math.floor((i * draws) / sims);
  for (let i = 0; i < sims; i++) {
    if (plan && (i === 0 || drawOf(i) !== drawOf(i - 1))) probs.set(plan.truths[drawOf(i)]!);
    let s = 0;
    let best = 0;
    let k = 0;
    for (let t = 1; t <= cap; t++) {
      if (pos === block.length) {
        rng.fill(block);
        pos = 0;
      }
      s += block[pos++]! < probs[k]! ? wPass[k]! : wFail[k]!;
      if (s < 0) s = 0;
      else if (s > best) {
        best = s;
        recValues.push(s);
        recTimes.push(t);
      }
      if (++k === K) k = 0;
    }
    if (best > maxStatistic) maxStatistic = best;
    offsets.push(recValues.length);
  }

  const exposure = new Float64Array(draws);
  const signals = new Float64Array(draws);
  const arl = (h: number): ArlEstimate => {
    exposure.fill(0);
    signals.fill(0);
    for (let i = 0; i < sims; i++) {
      let lo = offsets[i]!;
      let hi = offsets[i + 1]!;
      // first record with value > h (record values increase within a history)
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (recValues[mid]! > h) hi = mid;
        else lo = mid + 1;
      }
      const d = drawOf(i);
      if (lo < offsets[i + 1]!) {
        exposure[d]! += recTimes[lo]!;
        signals[d]!++;
      } else exposure[d]! += cap;
    }
    let signalled = 0;
    for (const n of signals) signalled += n;
    if (signalled === 0) return { arl: Infinity, standardError: Infinity, signalled };
    if (!plan) {
      const est = exposure[0]! / signalled;
      return { arl: est, standardError: est / Math.sqrt(signalled), signalled };
    }
    // Each draw's rate by the same censored-exponential estimate; the stratified mean of the draws' rates is the
    // false-signal rate a user meets whatever the truth behind the reference turns out to be. Its standard error
    // comes from the spread of the rates within each stratum.
    let rate = 0;
    let variance = 0;
    for (const { first, count, weight } of plan.strata) {
      let sum = 0;
      let sumSq = 0;
      for (let d = first; d < first + count; d++) {
        const r = signals[d]! / exposure[d]!;
        sum += r;
        sumSq += r * r;
      }
      const m = sum / count;
      rate += weight * m;
      if (count > 1) variance += (weight * weight * Math.max(0, sumSq / count - m * m)) / (count - 1);
    }
    return { arl: 1 / rate, standardError: Math.sqrt(variance) / (rate * rate), signalled };
  };
  return { arl, maxStatistic, sims, cap };
}

export interface ThresholdOptions {
  /** Baseline success probability of each task in the daily set (round-robin order). */
  taskProbs: readonly number[];
  /** For a reference baseline: its uncertainty, averaged over (see simulateInControl). */
  uncertainty?: BaselineUncertainty;
  /** Attempts per day on the track (converts the horizon from days to attempts). */
  attemptsPerDay: number;
  R?: number;
  /** Required in-control mean time to a false signal, in days (default 365). */
  horizonDays?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Simulated histories (default 1000). */
  sims?: number;
  /** Each history stops at capFactor * target attempts (default 1). */
  capFactor?: number;
  /** Standard errors by which the simulated ARL must clear the target (default 1.645, a one-sided 95% bound). */
  confidenceZ?: number;
}

export interface ThresholdResult {
  h: number;
  /** Estimated in-control ARL at h, in attempts and in days. */
  arlAttempts: number;
  arlDays: number;
  /** Standard error of arlAttempts, in attempts (see ArlEstimate.standardError). */
  standardError: number;
  targetAttempts: number;
  sims: number;
  /** Histories that signalled before the cap at this h. */
  signalled: number;
  seed: number;
  R: number;
  horizonDays: number;
  attemptsPerDay: number;
}

export function chooseThreshold(options: ThresholdOptions): ThresholdResult {
  const R = options.R ?? DEFAULT_ODDS_RATIO;
  const horizonDays = options.horizonDays ?? 365;
  const seed = options.seed ?? 1;
  const sims = options.sims ?? 1000;
  const capFactor = options.capFactor ?? 1;
  const z = options.confidenceZ ?? 1.645;
  const { taskProbs, attemptsPerDay } = options;
  if (!(attemptsPerDay > 0) || !(horizonDays > 0) || !(capFactor > 0) || !(z >= 0)) {
    throw new RangeError('chooseThreshold: attemptsPerDay, horizonDays and capFactor must be positive, confidenceZ >= 0');
  }
  const target = horizonDays * attemptsPerDay;
  const sim = simulateInControl({ taskProbs, uncertainty: options.uncertainty, R, seed, sims, cap: capFactor * target });
  // Infinity - z * Infinity is NaN: a threshold no history crosses clears any target.
  const reaches = (h: number, zz: number): boolean => {
    const e = sim.arl(h);
    return e.signalled === 0 || e.arl - zz * e.standardError >= target;
  };
  // Smallest h in [from, to] with reaches(h, zz), by bisection; reaches(to, zz) must hold.
  const bisect = (from: number, to: number, zz: number): number => {
    let lo = from;
    let hi = to;
    while (hi - lo > 1e-6) {
      const mid = (lo + hi) / 2;
      if (reaches(mid, zz)) hi = mid;
      else lo = mid;
    }
    return hi;
  };

  // The point estimate is non-decreasing in h (the same histories serve every h), so bisection finds where it
  // reaches the target; no history exceeds maxStatistic, so none signals there and the target is bracketed.
  let h = reaches(0, 0) ? 0 : bisect(0, sim.maxStatistic, 0);
  if (z > 0 && !reaches(h, z)) {
    // The bound is not monotone: far above the target only a handful of histories still signal, their standard
    // error swamps the estimate and the bound fails again. So walk up from the point estimate's h in small steps to
    // the first h that clears it, then bisect within that step: the smallest h whose bound reaches the target.
    const step = 0.02;
    let lo = h;
    while (lo + step < sim.maxStatistic && !reaches(lo + step, z)) lo += step;
    h = bisect(lo, Math.min(lo + step, sim.maxStatistic), z);
  }
  const at = sim.arl(h);
  return {
    h,
    arlAttempts: at.arl,
    arlDays: at.arl / attemptsPerDay,
    standardError: at.standardError,
    targetAttempts: target,
    sims,
    signalled: at.signalled,
    seed,
    R,
    horizonDays,
    attemptsPerDay,
  };
}

/**
 * Names the way thresholds are chosen (the method of this file); it is part of every cache key, so a store's
 * thresholds from an earlier method are simulated again rather than reused. Raise it whenever a change to the method
 * changes the h it chooses; the earlier versions are in docs/statistics.md, "History of the threshold method".
 */
export const THRESHOLD_METHOD = 'v4';

export interface ThresholdKey {
  baselineHash: string;
  attemptsPerDay: number;
  R: number;
  horizonDays: number;
}

/** In-memory cache of chosen thresholds keyed by (baseline hash, daily volume, R, horizon). */
export class ThresholdCache {
  private readonly map = new Map<string, ThresholdResult>();

  constructor(entries?: Iterable<[string, ThresholdResult]>) {
    if (entries) for (const [k, v] of entries) this.map.set(k, v);
  }

  static key(k: ThresholdKey): string {
    return `${THRESHOLD_METHOD}|${k.baselineHash}|${k.attemptsPerDay}|${k.R}|${k.horizonDays}`;
  }

  get(k: ThresholdKey): ThresholdResult | undefined {
    return this.map.get(ThresholdCache.key(k));
  }

  set(k: ThresholdKey, value: ThresholdResult): void {
    this.map.set(ThresholdCache.key(k), value);
  }

  /** Return the cached threshold or compute, store and return it. */
  getOrCompute(k: ThresholdKey, compute: () => ThresholdResult): ThresholdResult {
    const hit = this.get(k);
    if (hit) return hit;
    const value = compute();
    this.set(k, value);
    return value;
  }

  /** All entries, for the daemon to persist and to pass back to the constructor. */
  entries(): [string, ThresholdResult][] {
    return [...this.map.entries()];
  }

  get size(): number {
    return this.map.size;
  }
}
