/**
 * Changes of a per-attempt share (the graded score: the share of a task's fail_to_pass tests that passed; the p2p
 * breakage: the share of its pass_to_pass tests that did not): did it move the bad way against the reference period?
 * The same design as the usage and behaviour tests (usage.ts, behaviour.ts): per task, paired, Wilcoxon signed-rank
 * across tasks, Holm across the windows, and a practical threshold; but on differences, not log ratios, since a share
 * is often exactly 0 or 1, and bounded, so a difference of shares is comparable across tasks.
 *
 * Per task i with at least one value on each side: d_i = m_w - m_r, the mean of the task's window values minus the
 * mean of its reference values. The window's figure is the mean change mean(d_i) (share points: -0.25 is "a quarter
 * of the tests fewer passed, on the mean task"); the p-value is the ONE-sided Wilcoxon signed-rank test of "d tends to
 * be below 0" for a share that should not fall (`worse: 'down'`) or "above 0" for one that should not rise
 * (`worse: 'up'`). Tasks whose share did not move (d_i = 0) are dropped by the test, as usual, but counted in the
 * mean change. A task drops out when either side has no value, or a mean that is not in [0, 1].
 *
 * `shareWindows` applies Holm across the windows given (1d, 7d, 30d of ONE metric) and flags a window when its
 * Holm-adjusted p < alpha AND its mean change is at least the practical threshold the bad way (default 0.05, five
 * share points): a significant drop of one test in a hundred on the mean task is not worth a warning.
 */
import { holm } from './holm.ts';
import { wilcoxonGreater, type WilcoxonResult } from './wilcoxon.ts';

export interface ShareTaskValues {
  window: readonly number[];
  reference: readonly number[];
}

export type ShareDirection = 'down' | 'up';

export interface ShareResult {
  /** Mean over the paired tasks of d_i = window mean - reference mean; NaN when no task is paired. */
  change: number;
  /** One-sided Wilcoxon p (the share moved the `worse` way); NaN when no task is paired or no d_i is non-zero. */
  p: number;
  /** Tasks paired (those with d_i = 0 included). */
  n: number;
  /** Tasks without a usable value on both sides. */
  dropped: number;
  /** Mean over the paired tasks of each task's window mean, and of its reference mean; NaN when none. */
  windowMean: number;
  referenceMean: number;
  wilcoxon: WilcoxonResult;
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length : NaN;
}

const isShare = (v: number) => v >= 0 && v <= 1;

export function shareChange(tasks: Iterable<ShareTaskValues>, worse: ShareDirection): ShareResult {
  const d: number[] = [];
  let dropped = 0;
  let wSum = 0;
  let rSum = 0;
  for (const t of tasks) {
    const w = mean(t.window);
    const r = mean(t.reference);
    if (!(isShare(w) && isShare(r))) {
      dropped++;
      continue;
    }
    d.push(w - r);
    wSum += w;
    rSum += r;
  }
  const n = d.length;
  // "went down" is "the negated differences tend to be above 0".
  const wilcoxon = wilcoxonGreater(worse === 'down' ? d.map((v) => -v) : d);
  return { change: n ? mean(d) : NaN, p: wilcoxon.p, n, dropped, windowMean: n ? wSum / n : NaN, referenceMean: n ? rSum / n : NaN, wilcoxon };
}

export interface ShareWindowInput {
  window: string;
  tasks: Iterable<ShareTaskValues>;
}

export interface ShareWindowResult extends ShareResult {
  window: string;
  pAdjusted: number;
  significant: boolean;
}

export interface ShareOptions {
  /** Which way is worse: 'down' for a share that should not fall, 'up' for one that should not rise. */
  worse: ShareDirection;
  /** Family-wise alpha for Holm across the windows (default 0.01). */
  alpha?: number;
  /** Practical threshold on the mean change, in share points, the bad way (default 0.05). */
  threshold?: number;
}

export function shareWindows(windows: readonly ShareWindowInput[], options: ShareOptions): ShareWindowResult[] {
  const alpha = options.alpha ?? 0.01;
  const threshold = options.threshold ?? 0.05;
  const results = windows.map((w) => ({ window: w.window, ...shareChange(w.tasks, options.worse) }));
  const adjusted = holm(results.map((r) => r.p));
  return results.map((r, i) => {
    const pAdjusted = adjusted[i]!;
    const bad = options.worse === 'down' ? -r.change : r.change;
    return { ...r, pAdjusted, significant: pAdjusted < alpha && bad >= threshold };
  });
}
