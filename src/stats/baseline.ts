/**
 * Baseline descriptions shared by the window tests and the CUSUM: either a fixed p0, or a frozen reference period kept
 * per task as passes / trials.
 */
import { createHash } from 'node:crypto';
import { taskBaselineProbability } from './cusum.ts';

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

/**
 * Baseline probability for one task, as the CUSUM uses it: p0 for a fixed baseline; the smoothed
 * (passes + 1) / (trials + 2) for a task of the reference period; for a task absent from the reference, the smoothed
 * pooled rate (all passes + 1) / (all trials + 2), so a new task neither pages nor is ignored.
 */
export function taskProbability(baseline: Baseline, taskId: string): number {
  if (baseline.kind === 'fixed') return baseline.p0;
  const c = baseline.perTask.get(taskId);
  if (c && c.trials > 0) return taskBaselineProbability(c);
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
