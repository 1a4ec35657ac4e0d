/**
 * Baseline descriptions shared by the window tests and the CUSUM: either a fixed p0, or a frozen reference period kept
 * per task as passes / trials.
 */
import { createHash } from 'node:crypto';
import { taskBaselineProbability } from './cusum.ts';
import { UNIFORM_PRIOR, fitBetaPrior, type BetaPrior } from './prior.ts';

export interface TaskCount {
  passes: number;
  trials: number;
}

export interface FixedBaseline {
  kind: 'fixed';
  p0: number;
}

export interface ReferenceBaseline {
  kind: 'reference';
  perTask: ReadonlyMap<string, TaskCount>;
}

export type Baseline = FixedBaseline | ReferenceBaseline;

/** Pooled pass rate of the baseline: p0, or total passes / total trials (NaN when the reference is empty). */
export function baselinePassRate(baseline: Baseline): number {
  if (baseline.kind === 'fixed') return baseline.p0;
  let passes = 0;
  let trials = 0;
  for (const c of baseline.perTask.values()) {
    passes += c.passes;
    trials += c.trials;
  }
  return trials > 0 ? passes / trials : NaN;
}

const priors = new WeakMap<ReadonlyMap<string, TaskCount>, BetaPrior>();

/** The Beta prior fitted to a reference period's tallies (prior.ts), computed once per reference. */
export function referencePrior(baseline: ReferenceBaseline): BetaPrior {
  let prior = priors.get(baseline.perTask);
  if (!prior) {
    prior = fitBetaPrior([...baseline.perTask.values()]);
    priors.set(baseline.perTask, prior);
  }
  return prior;
}

/**
 * Baseline probability for one task, as the CUSUM uses it: p0 for a fixed baseline; for a task of the reference
 * period, its posterior mean (passes + a) / (trials + a + b) under the reference's fitted Beta(a, b) prior; for a
 * task absent from the reference, the prior mean a / (a + b) (a task of unknown difficulty), so a new task neither
 * pages nor is ignored. With fewer than 10 tasks, the prior is uniform: (passes + 1) / (trials + 2), and for an
 * absent task the smoothed pooled rate (all passes + 1) / (all trials + 2).
 */
export function taskProbability(baseline: Baseline, taskId: string): number {
  if (baseline.kind === 'fixed') return baseline.p0;
  const prior = referencePrior(baseline);
  const c = baseline.perTask.get(taskId);
  if (c && c.trials > 0) return taskBaselineProbability(c, prior);
  if (prior !== UNIFORM_PRIOR) return prior.a / (prior.a + prior.b);
  let passes = 0;
  let trials = 0;
  for (const v of baseline.perTask.values()) {
    passes += v.passes;
    trials += v.trials;
  }
  return taskBaselineProbability({ passes, trials });
}

/** Stable identity of a baseline (sha256 of its canonical form, hex), used to key the CUSUM threshold cache. */
export function baselineHash(baseline: Baseline): string {
  const canonical =
    baseline.kind === 'fixed'
      ? `fixed:${baseline.p0}`
      : 'reference:' +
        [...baseline.perTask.entries()]
          .filter(([, c]) => c.trials > 0)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([id, c]) => `${JSON.stringify(id)}=${c.passes}/${c.trials}`)
          .join(',');
  return createHash('sha256').update(canonical).digest('hex');
}
