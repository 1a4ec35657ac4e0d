/**
 * Per-window summaries of a track's attempts (pure). A window is a set of whole runs: the finished runs whose day (the
 * calendar day, in the track's schedule time zone, on which the run started) lies in the last 1, 7 or 30 days ending
 * with the day of the latest finished run that stored an attempt. So `1d` is that day's run(s) and `7d` the last seven
 * days' runs, every attempt of each, whenever the attempts ended; a run going on is in no window. Days are calendar
 * dates, compared as dates (a day across a clock change is 23 or 25 hours long).
 * Infra errors (the harness failed, not the agent) are left out of every denominator and counted apart.
 */
import type { TokenType } from '../../domain/types.ts';
import type { AttemptFacts } from '../../domain/records.ts';
import { calendarDate, calendarDay, startOfCalendarDay } from '../../cron/cron.ts';
import { wilson } from '../../stats/wilson.ts';

export const WINDOWS = [
  { name: '1d', days: 1 },
  { name: '7d', days: 7 },
  { name: '30d', days: 30 },
] as const;
export type WindowName = (typeof WINDOWS)[number]['name'];

/** The runs of one window and their attempts. */
export interface WindowSelection {
  window: WindowName;
  /** First and last calendar day of the window (YYYY-MM-DD, in the schedule's time zone). */
  firstDay: string;
  lastDay: string;
  /** The instant the first day began (in the schedule's time zone): no run of the window started before it. */
  fromMs: number;
  /** The end of the window's run that ended last (fromMs when the window holds no run). */
  toMs: number;
  /** How many runs the window holds. */
  runs: number;
  /** Every attempt of those runs, infra errors included, in the order given. */
  facts: AttemptFacts[];
}

/**
 * The day number (see calendarDay) of the last day of every window: the day the latest finished run that stored an
 * attempt started on, null without one.
 */
export function lastWindowDay(latestRunStartMs: number | null, timeZone: string): number | null {
  return latestRunStartMs === null ? null : calendarDay(latestRunStartMs, timeZone);
}

/** The instant the earliest window's first day begins: windows choose their runs among those started since. */
export function windowsStartMs(lastDay: number, timeZone: string): number {
  return startOfCalendarDay(lastDay - Math.max(...WINDOWS.map((w) => w.days)) + 1, timeZone);
}

/**
 * Chooses each window's runs among the attempts of finished runs (`facts` may hold runs outside every window: they
 * are left out here, as is any attempt of a run that has not ended).
 */
export function selectWindows(facts: readonly AttemptFacts[], lastDay: number, timeZone: string): WindowSelection[] {
  const dayOfRun = new Map<number, number>();
  const day = (a: AttemptFacts) => {
    let d = dayOfRun.get(a.runId);
    if (d === undefined) dayOfRun.set(a.runId, (d = calendarDay(a.runStartedAtMs, timeZone)));
    return d;
  };
  return WINDOWS.map((w) => {
    const first = lastDay - w.days + 1;
    const fromMs = startOfCalendarDay(first, timeZone);
    const chosen = facts.filter((a) => a.runEndedAtMs !== null && day(a) >= first && day(a) <= lastDay);
    const runs = new Set(chosen.map((a) => a.runId));
    const toMs = chosen.reduce((m, a) => Math.max(m, a.runEndedAtMs as number), fromMs);
    return { window: w.name, firstDay: calendarDate(first), lastDay: calendarDate(lastDay), fromMs, toMs, runs: runs.size, facts: chosen };
  });
}

export interface WindowSummary {
  window: WindowName;
  /** First and last calendar day of the window, in the schedule's time zone (YYYY-MM-DD). */
  firstDay: string;
  lastDay: string;
  /** Start of the first day; end of the window's run that ended last. */
  fromMs: number;
  toMs: number;
  /** Runs in the window. */
  runs: number;
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

/** Summarises the attempts of one window (every attempt of its runs). */
export function summarizeWindow(selection: WindowSelection, confidence: number): WindowSummary {
  let attempts = 0;
  let passes = 0;
  let infraErrors = 0;
  let cost = 0;
  let turns = 0;
  let toolCalls = 0;
  const tokens = { input: 0, output: 0, cache_read: 0, cache_creation: 0 };
  const durations: number[] = [];
  for (const a of selection.facts) {
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
    window: selection.window,
    firstDay: selection.firstDay,
    lastDay: selection.lastDay,
    fromMs: selection.fromMs,
    toMs: selection.toMs,
    runs: selection.runs,
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
    if (k === 'window' || k === 'firstDay' || k === 'lastDay' || v === null) continue;
    if (k === 'meanTokens' ? !Object.values(v as Record<string, unknown>).every(ok) : !ok(v)) {
      bad.push(k);
      out[k] = null;
    }
  }
  if (bad.length) out.notFinite = bad;
  return out as unknown as WindowSummary;
}
