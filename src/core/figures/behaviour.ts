/**
 * The behaviour figures of a track (pure; issue 12, part 4): per window, the mean of each behaviour metric and the
 * mean tool calls by tool over the attempts whose behaviour was recorded, and the per-task paired test of each metric
 * against the reference period (stats/behaviour.ts: two-sided Wilcoxon signed-rank, Holm across the windows, the
 * practical ratio statistics.behaviourRatioThreshold). Infra errors are left out, as everywhere; so are attempts
 * with no behaviour recorded (stored before migration 10, oracle runs, imports without it), and, per metric, those
 * where the metric has no value (reads before the first edit of an attempt that never edited; patch size without a
 * patch). docs/metrics.md and docs/statistics.md describe them.
 */
import { BEHAVIOUR_METRICS, TOOL_LABELS, behaviourValue, type AttemptBehaviour, type BehaviourMetric, type ToolLabel } from '../../domain/behaviour.ts';
import type { AttemptFacts } from '../../domain/records.ts';
import { behaviourWindows } from '../../stats/behaviour.ts';
import type { WindowName, WindowSelection } from './windows.ts';

export interface BehaviourMeans {
  /** Counted attempts (infra errors left out) whose behaviour was recorded. */
  attempts: number;
  /** Mean per attempt of each metric, over the attempts where it has a value; null when none has. */
  means: Record<BehaviourMetric, number | null>;
  /** Mean calls per attempt of each tool label (every label, 0 included); null when `attempts` is 0. */
  toolCalls: Record<ToolLabel, number> | null;
}

export interface BehaviourWindow extends BehaviourMeans {
  window: WindowName;
}

export interface BehaviourTest {
  metric: BehaviourMetric;
  window: string;
  /** Shifted geometric-mean ratio window / reference per task (stats/behaviour.ts); NaN when no task is paired. */
  ratio: number;
  p: number;
  pAdjusted: number;
  significant: boolean;
  direction: 'up' | 'down' | 'none';
  /** Tasks paired (a value on both sides). */
  tasks: number;
  /** Means over the paired tasks of their window and reference means. */
  windowMean: number;
  referenceMean: number;
}

/** The attempts that count for behaviour: not infra errors, behaviour recorded. */
function recorded(facts: readonly AttemptFacts[]): AttemptBehaviour[] {
  const out: AttemptBehaviour[] = [];
  for (const a of facts) if (a.outcome !== 'infra_error' && a.behaviour) out.push(a.behaviour);
  return out;
}

export function behaviourMeans(facts: readonly AttemptFacts[]): BehaviourMeans {
  const list = recorded(facts);
  const means = {} as Record<BehaviourMetric, number | null>;
  for (const metric of BEHAVIOUR_METRICS) {
    const value = behaviourValue[metric];
    let sum = 0;
    let n = 0;
    for (const b of list) {
      const v = value(b);
      if (v === null) continue;
      sum += v;
      n++;
    }
    means[metric] = n ? sum / n : null;
  }
  let toolCalls: Record<ToolLabel, number> | null = null;
  if (list.length) {
    const sums = Object.fromEntries(TOOL_LABELS.map((t) => [t, 0])) as Record<ToolLabel, number>;
    for (const b of list) for (const [t, n] of Object.entries(b.toolCalls) as [ToolLabel, number][]) if (t in sums) sums[t] += n;
    toolCalls = Object.fromEntries(TOOL_LABELS.map((t) => [t, sums[t] / list.length])) as Record<ToolLabel, number>;
  }
  return { attempts: list.length, means, toolCalls };
}

/** The means of each window (every counted attempt of its runs, as the window's other gauges). */
export function behaviourWindowMeans(selections: readonly WindowSelection[]): BehaviourWindow[] {
  return selections.map((s) => ({ window: s.window, ...behaviourMeans(s.facts) }));
}

function valuesByTask(facts: readonly AttemptFacts[], metric: BehaviourMetric): Map<string, number[]> {
  const value = behaviourValue[metric];
  const m = new Map<string, number[]>();
  for (const a of facts) {
    if (a.outcome === 'infra_error' || !a.behaviour) continue;
    const v = value(a.behaviour);
    if (v === null) continue;
    const list = m.get(a.taskId);
    if (list) list.push(v);
    else m.set(a.taskId, [v]);
  }
  return m;
}

/**
 * The paired test of every metric in every window against the reference period's attempts (`perWindow` holds each
 * window's attempts to test: after the reference period, as the pass-rate tests). Holm runs across the windows of
 * one metric. A metric with no paired task in a window gives NaN figures there (left out of /metrics).
 */
export function behaviourTests(
  perWindow: readonly { window: string; facts: readonly AttemptFacts[] }[],
  reference: readonly AttemptFacts[],
  options: { alpha: number; threshold: number },
): BehaviourTest[] {
  const out: BehaviourTest[] = [];
  for (const metric of BEHAVIOUR_METRICS) {
    const ref = valuesByTask(reference, metric);
    if (ref.size === 0) continue;
    const inputs = perWindow.map((w) => {
      const byTask = valuesByTask(w.facts, metric);
      return { window: w.window, tasks: [...byTask].filter(([id]) => ref.has(id)).map(([id, v]) => ({ window: v, reference: ref.get(id) as number[] })) };
    });
    for (const r of behaviourWindows(inputs, options)) {
      out.push({
        metric,
        window: r.window,
        ratio: r.ratio,
        p: r.p,
        pAdjusted: r.pAdjusted,
        significant: r.significant,
        direction: r.direction,
        tasks: r.n,
        windowMean: r.windowMean,
        referenceMean: r.referenceMean,
      });
    }
  }
  return out;
}
