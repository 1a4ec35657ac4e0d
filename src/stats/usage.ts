/**
 * Usage regressions (cost, tokens, duration, turns, tool calls): did a per-attempt quantity go UP against the
 * baseline?
 *
 * Per task i present in both periods: r_i = ln(median of the task's window values / median of its baseline values).
 * The window's figure is the geometric-mean ratio exp(mean r_i); the p-value is the one-sided Wilcoxon signed-rank
 * test of "r tends to be > 0" across tasks (wilcoxon.ts). A task drops out when it has no window or no baseline
 * values, or when either median is not a positive finite number (a log ratio needs both sides > 0); `dropped`
 * counts those tasks.
 *
 * `usageWindows` applies Holm across the windows given (normally 1d, 7d, 30d of ONE metric) and flags a window only
 * when its Holm-adjusted p < alpha AND its ratio > the practical threshold (default 1.25): a significant 3% rise is
 * not worth a warning.
 */
import { holm } from './holm.ts';
import { wilcoxonGreater, type WilcoxonResult } from './wilcoxon.ts';

export interface UsageTaskValues {
  window: readonly number[];
  baseline: readonly number[];
}

export interface UsageResult {
  /** Geometric-mean ratio window / baseline over the tasks used; NaN when none. */
  ratio: number;
  /** One-sided Wilcoxon p (values went up); NaN when no task is usable. */
  p: number;
  /** Tasks entering the test (including those with a log ratio of exactly 0). */
  n: number;
  /** Tasks without usable data on both sides. */
  dropped: number;
  wilcoxon: WilcoxonResult;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function usageRatio(tasks: Iterable<UsageTaskValues>): UsageResult {
  const logs: number[] = [];
  let dropped = 0;
  for (const t of tasks) {
    const w = median(t.window);
    const b = median(t.baseline);
    if (!(w > 0 && b > 0 && Number.isFinite(w) && Number.isFinite(b))) {
      dropped++;
      continue;
    }
    logs.push(Math.log(w / b));
  }
  const wilcoxon = wilcoxonGreater(logs);
  const ratio = logs.length ? Math.exp(logs.reduce((a, v) => a + v, 0) / logs.length) : NaN;
  return { ratio, p: wilcoxon.p, n: logs.length, dropped, wilcoxon };
}

export interface UsageWindowInput {
  window: string;
  tasks: Iterable<UsageTaskValues>;
}

export interface UsageWindowResult extends UsageResult {
  window: string;
  pAdjusted: number;
  significant: boolean;
}

export interface UsageOptions {
  /** Family-wise alpha for Holm across the windows (default 0.01). */
  alpha?: number;
  /** Practical threshold on the geometric-mean ratio (default 1.25). */
  threshold?: number;
}

export function usageWindows(windows: readonly UsageWindowInput[], options: UsageOptions = {}): UsageWindowResult[] {
  const alpha = options.alpha ?? 0.01;
  const threshold = options.threshold ?? 1.25;
  const results = windows.map((w) => ({ window: w.window, ...usageRatio(w.tasks) }));
  const adjusted = holm(results.map((r) => r.p));
  return results.map((r, i) => {
    const pAdjusted = adjusted[i]!;
    return { ...r, pAdjusted, significant: pAdjusted < alpha && r.ratio > threshold };
  });
}
