/**
 * The window test of one group of tasks (a language, a repository) against the baseline, Holm-adjusted across the
 * groups of one dimension in one window (docs/statistics.md, "Breakdown by group").
 *
 * For each group:
 * - n, passes and the Wilson interval of the group's pass rate in the window;
 * - the group's reference rate: the pooled pass rate of the baseline restricted to the group's tasks (passes / trials
 *   of those tasks in the reference period), or p0 for a fixed baseline; NaN when the reference holds none of them;
 * - change = window pass rate - reference rate (NaN when either is missing);
 * - raw one-sided p: the same test as the window's (windows.ts: task-stratified CMH with its pooled Fisher fallback
 *   for a reference, exact binomial for a fixed p0), on the group's tasks only;
 * - Holm-adjusted p across the groups that have a test (a group without one, p = NaN, is not in the family), and
 *   significant = adjusted p < alpha.
 * A task belongs to exactly one group of a dimension, so the groups' tests are on disjoint samples.
 */
import { baselinePassRate, type Baseline, type TaskCount } from './baseline.ts';
import { holm } from './holm.ts';
import { evaluateWindows, type WindowResult } from './windows.ts';
import { wilson } from './wilson.ts';

export interface GroupTally {
  group: string;
  /** The window's counted attempts of the group's tasks, per task (infra errors excluded). */
  perTask: ReadonlyMap<string, TaskCount>;
  /** The baseline restricted to the group's tasks (a fixed p0 stays as it is); null when there is no baseline yet. */
  baseline: Baseline | null;
}

export interface GroupOptions {
  /** Family-wise alpha for Holm across the groups and the significant flag (default 0.01). */
  alpha?: number;
  /** Confidence of the Wilson interval (default 0.95). */
  confidence?: number;
}

export interface GroupResult {
  group: string;
  n: number;
  passes: number;
  /** Wilson interval of passes / n (NaN when n = 0). */
  estimate: number;
  lower: number;
  upper: number;
  /** Pooled baseline pass rate of the group's tasks (p0 for a fixed baseline), NaN without one. */
  referenceRate: number;
  /** estimate - referenceRate: negative when the group does worse than its reference. */
  change: number;
  method: WindowResult['method'];
  p: number;
  pAdjusted: number;
  significant: boolean;
}

/** The groups of one dimension in one window: one result per group, in the order given. */
export function evaluateGroups(groups: readonly GroupTally[], options: GroupOptions = {}): GroupResult[] {
  const alpha = options.alpha ?? 0.01;
  const confidence = options.confidence ?? 0.95;
  const raw = groups.map((g) => {
    let passes = 0;
    let n = 0;
    for (const c of g.perTask.values()) {
      passes += c.passes;
      n += c.trials;
    }
    const ci = wilson(passes, n, confidence);
    // The group's test: the window test (windows.ts) on the group's tasks alone; its own Holm over one member is p.
    const test = g.baseline ? (evaluateWindows(g.baseline, [{ window: g.group, perTask: g.perTask }], { alpha, confidence }).results[0] as WindowResult) : null;
    const referenceRate = g.baseline ? baselinePassRate(g.baseline) : NaN;
    return {
      group: g.group,
      n,
      passes,
      ...ci,
      referenceRate,
      change: n > 0 && Number.isFinite(referenceRate) ? ci.estimate - referenceRate : NaN,
      method: test ? test.method : ('none' as const),
      p: test ? test.p : NaN,
    };
  });
  const adjusted = holm(raw.map((r) => r.p));
  return raw.map((r, i) => ({ ...r, pAdjusted: adjusted[i] as number, significant: (adjusted[i] as number) < alpha }));
}

/** The baseline restricted to the tasks `inGroup` accepts (a fixed p0 applies to every group as it is). */
export function restrictBaseline(baseline: Baseline, inGroup: (taskId: string) => boolean): Baseline {
  if (baseline.kind === 'fixed') return baseline;
  return { kind: 'reference', perTask: new Map([...baseline.perTask].filter(([id]) => inGroup(id))) };
}
