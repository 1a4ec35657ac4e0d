/**
 * Glue between a track's baseline and the CUSUM: per-attempt probabilities, the running statistic, and the cached
 * threshold. Pure apart from the optional in-memory cache the caller owns.
 */
import { baselineHash, referencePrior, taskProbability, type Baseline, type ReferenceBaseline, type TaskCount } from './baseline.ts';
import { DEFAULT_ODDS_RATIO, cusumStep, taskBaselineProbability } from './cusum.ts';
import { ThresholdCache, chooseThreshold, type BaselineUncertainty, type ThresholdResult } from './cusum-threshold.ts';
import { priorPosterior } from './prior.ts';

export interface TrackAttempt {
  taskId: string;
  success: boolean;
}

/** The tallies of a reference's tasks that have trials, sorted by task id. */
function referenceTallies(baseline: ReferenceBaseline): TaskCount[] {
  return [...baseline.perTask.entries()]
    .filter(([, c]) => c.trials > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => c);
}

/** A reference's tallies, its fitted prior and that prior's own posterior, as chooseThreshold averages over them. */
function referenceUncertainty(baseline: ReferenceBaseline): BaselineUncertainty {
  const tallies = referenceTallies(baseline);
  const prior = referencePrior(baseline);
  return { tallies, prior, priorPosterior: priorPosterior(tallies, prior) };
}

/** Baseline probability of each reference task (sorted by task id), or [p0] for a fixed baseline. */
export function baselineTaskProbs(baseline: Baseline): number[] {
  if (baseline.kind === 'fixed') return [baseline.p0];
  const prior = referencePrior(baseline);
  return referenceTallies(baseline).map((c) => taskBaselineProbability(c, prior));
}

/**
 * S_T over the track's attempts (in time order) since the baseline was set; S_0 = 0, so the statistic restarts
 * whenever the caller starts a new baseline. Tasks absent from a reference baseline use its smoothed pooled rate.
 */
export function trackCusum(baseline: Baseline, attempts: Iterable<TrackAttempt>, R = DEFAULT_ODDS_RATIO): number {
  const cache = new Map<string, number>();
  let s = 0;
  for (const a of attempts) {
    let p = cache.get(a.taskId);
    if (p === undefined) {
      p = taskProbability(baseline, a.taskId);
      cache.set(a.taskId, p);
    }
    s = cusumStep(s, a.success, p, R);
  }
  return s;
}

export interface TrackThresholdOptions {
  attemptsPerDay: number;
  R?: number;
  horizonDays?: number;
  seed?: number;
  sims?: number;
}

/** The CUSUM threshold for a track, from `cache` when (baseline, volume, R, horizon) was seen before. */
export function trackThreshold(
  baseline: Baseline,
  options: TrackThresholdOptions,
  cache?: ThresholdCache,
): ThresholdResult {
  const R = options.R ?? DEFAULT_ODDS_RATIO;
  const horizonDays = options.horizonDays ?? 365;
  const compute = (): ThresholdResult =>
    chooseThreshold({
      taskProbs: baselineTaskProbs(baseline),
      // A reference period is an estimate: the false-signal rate is averaged over the truths it is compatible with.
      // The prior fitted to the reference is itself an estimate from its few dozen tasks, and is drawn too.
      uncertainty: baseline.kind === 'reference' ? referenceUncertainty(baseline) : undefined,
      attemptsPerDay: options.attemptsPerDay,
      R,
      horizonDays,
      seed: options.seed ?? 1,
      // Averaging over a reference's uncertainty needs more histories: 200 draws of the truth x 20 histories.
      sims: options.sims ?? (baseline.kind === 'reference' ? 4000 : 1000),
    });
  if (!cache) return compute();
  const key = { baselineHash: baselineHash(baseline), attemptsPerDay: options.attemptsPerDay, R, horizonDays };
  return cache.getOrCompute(key, compute);
}
