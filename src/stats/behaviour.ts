/**
 * Behaviour changes (reads before the first edit, thinking, tool use, API errors, patch size): did a per-attempt
 * count move, in either direction, against the reference period? The same design as the usage test (usage.ts):
 * per task, paired, Wilcoxon signed-rank across tasks, Holm across the windows, and a practical threshold.
 *
 * Per task i present in both periods with at least one value on each side: m_w, m_b = the means of the task's window
 * and reference values, and d_i = ln(1 + m_w) - ln(1 + m_b). Counts are often 0 (no API error, no read before an
 * early edit), where a plain log ratio is undefined, so both sides are shifted by one; for large counts (thinking
 * characters) d_i is the log ratio. The window's figure is the shifted geometric-mean ratio exp(mean d_i) (reads
 * before the first edit 6.6 -> 2.0 on every task gives 3.0 / 7.6 = 0.39); the p-value is the TWO-sided Wilcoxon
 * signed-rank test of "d tends to be 0" across tasks ({@link wilcoxonTwoSided}): a behaviour that changes either way
 * is a finding. A task drops out when either side has no value.
 *
 * `behaviourWindows` applies Holm across the windows given (normally 1d, 7d, 30d of ONE metric) and flags a window
 * when its Holm-adjusted p < alpha AND its ratio is beyond the practical threshold t either way (ratio >= t or
 * ratio <= 1/t; default t = 1.25): a significant 5% change is not worth a warning.
 */
import { holm } from './holm.ts';
import { wilcoxonGreater, type WilcoxonResult } from './wilcoxon.ts';

/**
 * Two-sided Wilcoxon signed-rank test: p = min(1, 2 min(P(T+ >= t), P(T+ <= t))), where P(T+ <= t) is the upper tail
 * of the negated values (T+ of -d is T- of d). Zeros dropped, exact for n <= 20 without ties, else the normal
 * approximation without continuity correction, as wilcoxonGreater; equals scipy.stats.wilcoxon(d,
 * alternative='two-sided') with the same method and correction=False. `statistic` is T+ of the values given.
 */
export function wilcoxonTwoSided(values: readonly number[]): WilcoxonResult {
  const up = wilcoxonGreater(values);
  if (up.method === 'none') return up;
  const down = wilcoxonGreater(values.map((v) => -v));
  return { ...up, p: Math.min(1, 2 * Math.min(up.p, down.p)) };
}

export interface BehaviourTaskValues {
  window: readonly number[];
  reference: readonly number[];
}

export interface BehaviourResult {
  /** Shifted geometric-mean ratio exp(mean d_i); NaN when no task is usable. */
  ratio: number;
  /** Two-sided Wilcoxon p; 1 when every d_i is 0; NaN when no task is usable. */
  p: number;
  /** Tasks entering the test (those with d_i = 0 included). */
  n: number;
  /** Tasks without a value on both sides. */
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

export function behaviourChange(tasks: Iterable<BehaviourTaskValues>): BehaviourResult {
  const d: number[] = [];
  let dropped = 0;
  let wSum = 0;
  let bSum = 0;
  for (const t of tasks) {
    const w = mean(t.window);
    const b = mean(t.reference);
    if (!(w >= 0 && b >= 0 && Number.isFinite(w) && Number.isFinite(b))) {
      dropped++;
      continue;
    }
    d.push(Math.log1p(w) - Math.log1p(b));
    wSum += w;
    bSum += b;
  }
  const wilcoxon = wilcoxonTwoSided(d);
  const n = d.length;
  return {
    ratio: n ? Math.exp(mean(d)) : NaN,
    // Every paired task exactly as in the reference (d_i = 0 throughout: no API error on either side, say) is no
    // evidence of a change: p = 1, not the signed-rank test's NaN, so the metric reads "not significant".
    p: n && wilcoxon.method === 'none' ? 1 : wilcoxon.p,
    n,
    dropped,
    windowMean: n ? wSum / n : NaN,
    referenceMean: n ? bSum / n : NaN,
    wilcoxon,
  };
}

export interface BehaviourWindowInput {
  window: string;
  tasks: Iterable<BehaviourTaskValues>;
}

export interface BehaviourWindowResult extends BehaviourResult {
  window: string;
  pAdjusted: number;
  significant: boolean;
  /** Which way the metric moved ('up': ratio > 1), 'none' when the ratio is 1 or NaN. */
  direction: 'up' | 'down' | 'none';
}

export interface BehaviourOptions {
  /** Family-wise alpha for Holm across the windows (default 0.01). */
  alpha?: number;
  /** Practical threshold t > 1 on the shifted ratio, either way (default 1.25). */
  threshold?: number;
}

export function behaviourWindows(windows: readonly BehaviourWindowInput[], options: BehaviourOptions = {}): BehaviourWindowResult[] {
  const alpha = options.alpha ?? 0.01;
  const threshold = options.threshold ?? 1.25;
  const results = windows.map((w) => ({ window: w.window, ...behaviourChange(w.tasks) }));
  const adjusted = holm(results.map((r) => r.p));
  return results.map((r, i) => {
    const pAdjusted = adjusted[i]!;
    const beyond = r.ratio >= threshold || r.ratio <= 1 / threshold;
    const direction = r.ratio > 1 ? 'up' : r.ratio < 1 ? 'down' : 'none';
    return { ...r, pAdjusted, significant: pAdjusted < alpha && beyond, direction };
  });
}
