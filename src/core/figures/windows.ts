/**
 * Per-window summaries of a track's attempts (pure). A window is the time span of 1, 7 or 30 days ending at the end
 * of the track's most recent finished run; an attempt belongs to it when it ended inside (end - days, end].
 * Infra errors (the harness failed, not the agent) are left out of every denominator and counted apart.
 */
import type { TokenType } from '../../domain/types.ts';
import { DAY_MS } from '../../domain/values.ts';
import type { AttemptFacts } from '../../domain/records.ts';
import { wilson } from '../../stats/wilson.ts';

export const WINDOWS = [
  { name: '1d', days: 1 },
  { name: '7d', days: 7 },
  { name: '30d', days: 30 },
] as const;
export type WindowName = (typeof WINDOWS)[number]['name'];

export interface WindowSummary {
  window: WindowName;
  fromMs: number;
  toMs: number;
  /** Attempts that count: every outcome but infra_error. */
  attempts: number;
  passes: number;
  infraErrors: number;
  passRate: number | null;
  lower: number | null;
  upper: number | null;
  infraErrorRatio: number | null;
  durationP50Seconds: number | null;
  durationP90Seconds: number | null;
  meanCostUsd: number | null;
  meanTokens: Record<TokenType, number> | null;
  meanTurns: number | null;
  meanToolCalls: number | null;
  /**
   * Figures that came out not finite (a sum past the range of a double, a text stored where a number belongs: only a
   * store written by hand or a bad import of an older version holds such values); they are null above, and the
   * exporter logs them. Absent when there are none.
   */
  notFinite?: string[];
}

/** Quantile by linear interpolation between order statistics (R type 7, NumPy's default). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  // Equal neighbours (two infinities included, where b - a is NaN) need no interpolation.
  return a === b ? a : a + (h - lo) * (b - a);
}

/** Summarises the attempts of one window; `facts` may hold more than the window (they are filtered here). */
export function summarizeWindow(
  facts: readonly AttemptFacts[],
  window: (typeof WINDOWS)[number],
  endMs: number,
  confidence: number,
): WindowSummary {
  const fromMs = endMs - window.days * DAY_MS;
  let attempts = 0;
  let passes = 0;
  let infraErrors = 0;
  let cost = 0;
  let turns = 0;
  let toolCalls = 0;
  const tokens = { input: 0, output: 0, cache_read: 0, cache_creation: 0 };
  const durations: number[] = [];
  for (const a of facts) {
    if (a.endedAtMs <= fromMs || a.endedAtMs > endMs) continue;
    if (a.outcome === 'infra_error') {
      infraErrors++;
      continue;
    }
    attempts++;
    if (a.outcome === 'resolved') passes++;
    cost += a.costUsd;
    turns += a.turns;
    toolCalls += a.toolCalls;
    tokens.input += a.inputTokens;
    tokens.output += a.outputTokens;
    tokens.cache_read += a.cacheReadTokens;
    tokens.cache_creation += a.cacheCreationTokens;
    if (a.agentDurationMs !== null) durations.push(a.agentDurationMs / 1000);
  }
  durations.sort((x, y) => x - y);
  const ci = attempts > 0 ? wilson(passes, attempts, confidence) : null;
  const mean = (x: number) => (attempts > 0 ? x / attempts : null);
  const total = attempts + infraErrors;
  return finiteFigures({
    window: window.name,
    fromMs,
    toMs: endMs,
    attempts,
    passes,
    infraErrors,
    passRate: ci ? ci.estimate : null,
    lower: ci ? ci.lower : null,
    upper: ci ? ci.upper : null,
    infraErrorRatio: total > 0 ? infraErrors / total : null,
    durationP50Seconds: quantile(durations, 0.5),
    durationP90Seconds: quantile(durations, 0.9),
    meanCostUsd: mean(cost),
    meanTokens:
      attempts > 0
        ? { input: tokens.input / attempts, output: tokens.output / attempts, cache_read: tokens.cache_read / attempts, cache_creation: tokens.cache_creation / attempts }
        : null,
    meanTurns: mean(turns),
    meanToolCalls: mean(toolCalls),
  });
}

/** Replaces each figure that is not a finite number (or, for meanTokens, has one) by null, and lists them in notFinite. */
function finiteFigures(w: WindowSummary): WindowSummary {
  const bad: string[] = [];
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const out: Record<string, unknown> = { ...w };
  for (const [k, v] of Object.entries(w)) {
    if (k === 'window' || v === null) continue;
    if (k === 'meanTokens' ? !Object.values(v as Record<string, unknown>).every(ok) : !ok(v)) {
      bad.push(k);
      out[k] = null;
    }
  }
  if (bad.length) out.notFinite = bad;
  return out as unknown as WindowSummary;
}
