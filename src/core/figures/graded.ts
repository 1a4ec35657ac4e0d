/**
 * The graded figures of a track (pure; issue 12, part 4b): partial credit beside the pass rate. Per window, over the
 * counted attempts that have per-test results (graded, with a readable output.json; stored since migration 9 or
 * imported with them), the mean graded score (share of fail_to_pass tests passed) and the mean p2p breakage (share of
 * pass_to_pass tests not passed), and the per-task paired test of each against the reference period
 * (stats/share.ts: one-sided Wilcoxon signed-rank on per-task differences, Holm across the windows, the practical
 * threshold statistics.gradedShareThreshold). A secondary signal, for warnings: never for paging. Attempts without
 * per-test results (agent errors, timeouts, infra errors, a missing or malformed output.json, older rows) are left
 * out here; the pass rate counts them. docs/statistics.md "Per-test results" describes it.
 */
import { gradedScore, p2pBrokenShare, type TestCounts } from '../../domain/test-results.ts';
import type { AttemptFacts } from '../../domain/records.ts';
import { shareWindows, type ShareDirection } from '../../stats/share.ts';
import type { WindowName, WindowSelection } from './windows.ts';

export const GRADED_METRICS = ['graded_score', 'p2p_broken'] as const;
export type GradedMetric = (typeof GRADED_METRICS)[number];

const gradedValue: Record<GradedMetric, (c: TestCounts) => number | null> = { graded_score: gradedScore, p2p_broken: p2pBrokenShare };
/** The bad way of each metric: the graded score should not fall, the breakage should not rise. */
export const GRADED_WORSE: Record<GradedMetric, ShareDirection> = { graded_score: 'down', p2p_broken: 'up' };

export interface GradedWindow {
  window: WindowName;
  /** Counted attempts of the window with per-test results and a non-empty fail_to_pass list: the graded score's. */
  attempts: number;
  /** Mean graded score per attempt; null when `attempts` is 0. */
  gradedScoreMean: number | null;
  /** Counted attempts with per-test results and a non-empty pass_to_pass list: the breakage's. */
  p2pAttempts: number;
  /** Mean share of pass_to_pass tests not passed per attempt; null when `p2pAttempts` is 0. */
  p2pBrokenMean: number | null;
}

export interface GradedTest {
  metric: GradedMetric;
  window: string;
  /** Mean per-task change of the share, window minus reference (share points); NaN when no task is paired. */
  change: number;
  p: number;
  pAdjusted: number;
  significant: boolean;
  /** Tasks paired (a value on both sides). */
  tasks: number;
  /** Means over the paired tasks of their window and reference means. */
  windowMean: number;
  referenceMean: number;
}

function valuesByTask(facts: readonly AttemptFacts[], metric: GradedMetric): Map<string, number[]> {
  const value = gradedValue[metric];
  const m = new Map<string, number[]>();
  for (const a of facts) {
    if (a.outcome === 'infra_error' || !a.testCounts) continue;
    const v = value(a.testCounts);
    if (v === null) continue;
    const list = m.get(a.taskId);
    if (list) list.push(v);
    else m.set(a.taskId, [v]);
  }
  return m;
}

function meanOf(facts: readonly AttemptFacts[], metric: GradedMetric): { n: number; mean: number | null } {
  let n = 0;
  let sum = 0;
  for (const list of valuesByTask(facts, metric).values()) {
    for (const v of list) sum += v;
    n += list.length;
  }
  return { n, mean: n ? sum / n : null };
}

/** The means of each window (every counted attempt of its runs that has per-test results). */
export function gradedWindowMeans(selections: readonly WindowSelection[]): GradedWindow[] {
  return selections.map((s) => {
    const score = meanOf(s.facts, 'graded_score');
    const broken = meanOf(s.facts, 'p2p_broken');
    return { window: s.window, attempts: score.n, gradedScoreMean: score.mean, p2pAttempts: broken.n, p2pBrokenMean: broken.mean };
  });
}

/**
 * The paired test of both metrics in every window against the reference period's attempts (`perWindow` holds each
 * window's attempts to test: after the reference period, as the pass-rate tests). Holm runs across the windows of one
 * metric. A metric with no reference values gives no tests; one with no paired task in a window gives NaN there
 * (left out of /metrics).
 */
export function gradedTests(
  perWindow: readonly { window: string; facts: readonly AttemptFacts[] }[],
  reference: readonly AttemptFacts[],
  options: { alpha: number; threshold: number },
): GradedTest[] {
  const out: GradedTest[] = [];
  for (const metric of GRADED_METRICS) {
    const ref = valuesByTask(reference, metric);
    if (ref.size === 0) continue;
    const inputs = perWindow.map((w) => {
      const byTask = valuesByTask(w.facts, metric);
      return { window: w.window, tasks: [...byTask].filter(([id]) => ref.has(id)).map(([id, v]) => ({ window: v, reference: ref.get(id) as number[] })) };
    });
    for (const r of shareWindows(inputs, { worse: GRADED_WORSE[metric], alpha: options.alpha, threshold: options.threshold })) {
      out.push({
        metric,
        window: r.window,
        change: r.change,
        p: r.p,
        pAdjusted: r.pAdjusted,
        significant: r.significant,
        tasks: r.n,
        windowMean: r.windowMean,
        referenceMean: r.referenceMean,
      });
    }
  }
  return out;
}
