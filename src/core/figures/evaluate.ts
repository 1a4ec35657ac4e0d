/**
 * A track's regression figures, from the store and the pure statistics (src/stats):
 *  - window tests (1d, 7d, 30d: the runs of the last 1, 7, 30 calendar days, windows.ts) against the baseline,
 *    Holm-corrected, with minimum detectable drops;
 *  - the risk-adjusted Bernoulli CUSUM over every attempt since the baseline, with its simulated threshold h
 *    (cached per baseline, volume, R and horizon, in memory and in the store);
 *  - usage regressions (cost, tokens, duration, turns, tool calls) against the reference period;
 *  - behaviour changes (reads before the first edit, thinking, API errors, patch size...: behaviour.ts) against it;
 *  - graded-score drops and pass_to_pass breakage (per-test results: graded.ts) against it.
 */
import type { Config, TrackConfig } from '../../config/index.ts';
import {
  baselinePassRate,
  evaluateWindows,
  ThresholdCache,
  trackCusum,
  trackThreshold,
  usageWindows,
  type ThresholdResult,
  type WindowResult,
} from '../../stats/index.ts';
import type { Store } from '../../store/store.ts';
import type { AttemptFacts, BaselineRow, TaskCount } from '../../domain/records.ts';
import type { WindowSelection } from './windows.ts';
import { referenceVolume, resolveBaseline, toStatsBaseline } from '../baselines/baseline.ts';
import { behaviourMeans, behaviourTests, type BehaviourMeans, type BehaviourTest } from './behaviour.ts';
import { gradedTests, type GradedTest } from './graded.ts';

export const USAGE_METRICS = ['cost', 'input_tokens', 'output_tokens', 'duration', 'turns', 'tool_calls'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

const usageValue: Record<UsageMetric, (a: AttemptFacts) => number | null> = {
  cost: (a) => a.costUsd,
  input_tokens: (a) => a.inputTokens,
  output_tokens: (a) => a.outputTokens,
  duration: (a) => (a.agentDurationMs === null ? null : a.agentDurationMs / 1000),
  turns: (a) => a.turns,
  tool_calls: (a) => a.toolCalls,
};

export interface RegressionFigures {
  baseline: (BaselineRow & { passRate: number; tasks: number; trials: number }) | null;
  windows: WindowResult[];
  cusum: {
    statistic: number;
    threshold: number;
    signal: boolean;
    attempts: number;
    since: string;
    oddsRatio: number;
    horizonDays: number;
    attemptsPerDay: number;
    inControlArlDays: number;
  } | null;
  usage: { metric: UsageMetric; window: string; ratio: number; p: number; pAdjusted: number; significant: boolean; tasks: number }[];
  /** Behaviour tests of each metric and window against the reference period ([] without one). */
  behaviour: BehaviourTest[];
  /** Behaviour means of the reference period's attempts (null without a reference period). */
  behaviourReference: BehaviourMeans | null;
  /** Graded-score and p2p-breakage tests of each window against the reference period ([] without one): graded.ts. */
  graded: GradedTest[];
}

/** The threshold cache, kept in memory and persisted in the store so a restart does not simulate again. */
export class StoredThresholdCache extends ThresholdCache {
  constructor(private readonly store: Store) {
    super(store.thresholds.load<ThresholdResult>());
  }

  override set(...args: Parameters<ThresholdCache['set']>): void {
    super.set(...args);
    this.store.thresholds.save(ThresholdCache.key(args[0]), args[1]);
  }
}

const NOT_READY: RegressionFigures = { baseline: null, windows: [], cusum: null, usage: [], behaviour: [], behaviourReference: null, graded: [] };

export function evaluateRegression(
  store: Store,
  track: TrackConfig,
  stats: Config['statistics'],
  selections: readonly WindowSelection[],
  cache: ThresholdCache,
  now = Date.now(),
): RegressionFigures {
  const row = resolveBaseline(store, track, now);
  if (!row) return NOT_READY;
  const baseline = toStatsBaseline(row);
  const counts = Object.values(row.perTask ?? {});
  const info = {
    ...row,
    passRate: baselinePassRate(baseline),
    tasks: counts.length,
    trials: counts.reduce((s, c) => s + c.trials, 0),
  };

  // The counted attempts (infra errors left out) of each window's runs, selected once for the pass-rate and usage
  // tests (and so for the minimum detectable drops). Against a reference period, a window is tested only on its
  // attempts that ended after the period: an attempt in both rows of a task's 2x2 table would make the two samples
  // overlap (for up to 30 days after the period ends). A fixed p0 has no such sample, and its windows are the gauges'.
  const notBefore = row.kind === 'reference' ? row.monitorFromMs : -Infinity;
  const perWindow = selections.map((w) => ({ window: w.window, facts: w.facts.filter((a) => a.outcome !== 'infra_error' && a.endedAtMs > notBefore) }));

  // Window tests over the same runs as the pass-rate gauges.
  const windows = perWindow.length
    ? evaluateWindows(baseline, perWindow.map((w) => ({ window: w.window, perTask: tally(w.facts) })), { alpha: stats.alpha, confidence: stats.confidence }).results
    : [];

  // CUSUM over every counted attempt since the baseline, in time order.
  const volume = Math.max(1, Math.round(referenceVolume(store, row) ?? observedVolume(track, selections)));
  const threshold = trackThreshold(baseline, { attemptsPerDay: volume, R: stats.cusumOddsRatio, horizonDays: stats.cusumHorizonDays }, cache);
  // Streamed: a year of attempts is never held in memory at once.
  const statistic = trackCusum(baseline, store.attempts.iterateCounted(track.name, row.monitorFromMs), stats.cusumOddsRatio);
  const cusum = {
    statistic,
    threshold: threshold.h,
    signal: statistic > threshold.h,
    attempts: store.attempts.countCounted(track.name, row.monitorFromMs),
    since: new Date(row.monitorFromMs).toISOString(),
    oddsRatio: stats.cusumOddsRatio,
    horizonDays: stats.cusumHorizonDays,
    attemptsPerDay: volume,
    inControlArlDays: threshold.arlDays,
  };

  // Usage: only against a reference period (a fixed p0 says nothing about cost or tokens).
  const usage: RegressionFigures['usage'] = [];
  // Behaviour: against the same reference period, per task and paired as usage, but two-sided (behaviour.ts).
  let behaviour: BehaviourTest[] = [];
  let behaviourReference: BehaviourMeans | null = null;
  // Per-test results: the same reference period, per task and paired, one-sided on share differences (graded.ts).
  let graded: GradedTest[] = [];
  if (row.kind === 'reference' && perWindow.length && row.fromMs !== null && row.toMs !== null) {
    const base = countedIn(store.attempts.facts(track.name, row.fromMs - 1, row.toMs), row.fromMs - 1, row.toMs);
    for (const metric of USAGE_METRICS) {
      const value = usageValue[metric];
      const baseByTask = valuesByTask(base, value);
      const inputs = perWindow.map((w) => {
        const byTask = valuesByTask(w.facts, value);
        return { window: w.window, tasks: [...byTask].filter(([id]) => baseByTask.has(id)).map(([id, v]) => ({ window: v, baseline: baseByTask.get(id) as number[] })) };
      });
      for (const r of usageWindows(inputs, { alpha: stats.alpha, threshold: stats.usageRatioThreshold })) {
        usage.push({ metric, window: r.window, ratio: r.ratio, p: r.p, pAdjusted: r.pAdjusted, significant: r.significant, tasks: r.n });
      }
    }
    behaviourReference = behaviourMeans(base);
    behaviour = behaviourTests(perWindow, base, { alpha: stats.alpha, threshold: stats.behaviourRatioThreshold });
    graded = gradedTests(perWindow, base, { alpha: stats.alpha, threshold: stats.gradedShareThreshold });
  }
  return { baseline: info, windows, cusum, usage, behaviour, behaviourReference, graded };
}

/** Attempts that count (every outcome but infra_error) and ended in (fromMs, toMs]: the reference period's sample. */
function countedIn(facts: readonly AttemptFacts[], fromMs: number, toMs: number): AttemptFacts[] {
  return facts.filter((a) => a.outcome !== 'infra_error' && a.endedAtMs > fromMs && a.endedAtMs <= toMs);
}

/** Passes and trials per task of counted attempts. */
function tally(facts: readonly AttemptFacts[]): Map<string, TaskCount> {
  const m = new Map<string, TaskCount>();
  for (const a of facts) {
    const c = m.get(a.taskId) ?? { passes: 0, trials: 0 };
    c.trials++;
    if (a.outcome === 'resolved') c.passes++;
    m.set(a.taskId, c);
  }
  return m;
}

function valuesByTask(facts: readonly AttemptFacts[], value: (a: AttemptFacts) => number | null): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const a of facts) {
    const v = value(a);
    if (v === null) continue;
    const list = m.get(a.taskId) ?? [];
    list.push(v);
    m.set(a.taskId, list);
  }
  return m;
}

/** Counted attempts per run of the 30d window (the longest), else the configured suite size x samples. */
function observedVolume(track: TrackConfig, selections: readonly WindowSelection[]): number {
  const longest = selections.find((w) => w.window === '30d');
  const configured = (track.suite.ids.length || track.suite.size) * track.samplesPerTask;
  if (!longest?.runs) return configured;
  return longest.facts.filter((a) => a.outcome !== 'infra_error').length / longest.runs;
}
