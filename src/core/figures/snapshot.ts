/**
 * A track's precomputed figures: what /metrics and GET /api/tracks/:track serve. Computed from the store when a
 * run or an import finishes, never on a scrape, so a scrape stays fast with years of history.
 */
import type { Config, TrackConfig } from '../../config/index.ts';
import { evaluateRegression, type RegressionFigures } from './evaluate.ts';
import type { ThresholdCache } from '../../stats/index.ts';
import { startOfDay } from '../../cron/cron.ts';
import type { Store } from '../../store/store.ts';
import type { TrackTotals } from '../../domain/records.ts';
import { ENDED_RUN_STATES, type EndedRunState } from '../../domain/types.ts';
import { lastWindowDay, selectWindows, summarizeWindow, windowsStartMs, type WindowSummary } from './windows.ts';
import { behaviourWindowMeans, type BehaviourWindow } from './behaviour.ts';
import { gradedWindowMeans, type GradedWindow } from './graded.ts';
import { computeTaskHistory, type TaskHistory } from './tasks.ts';
import { breakdownTaskIds, computeBreakdown, type GroupFigures } from './groups.ts';

export interface TrackSnapshot {
  track: string;
  agent: string;
  /** Agent version and model as the agent reported them in the latest run that recorded one. */
  agentVersion: string;
  model: string;
  suite: string;
  computedAt: number;
  /** End of the windows' run that ended last (every window holds the latest day's runs). Null with no history. */
  windowEndMs: number | null;
  windows: WindowSummary[];
  /** Behaviour means of each window (behaviour.ts): reads before the first edit, thinking, tool calls by tool... */
  behaviour: BehaviourWindow[];
  /** Graded-score and p2p-breakage means of each window, over the attempts with per-test results (graded.ts). */
  graded: GradedWindow[];
  totals: TrackTotals;
  lastRunMs: number | null;
  lastSuccessMs: number | null;
  regression: RegressionFigures;
  /** Every task's latest outcome, reference and window figures (tasks.ts). */
  tasks: TaskHistory;
  /** Each window by language and by repository of its tasks, against the baseline (groups.ts). */
  breakdown: GroupFigures[];
}

export interface SnapshotOptions {
  statistics: Config['statistics'];
  thresholds: ThresholdCache;
  now?: number;
}


export function computeSnapshot(store: Store, track: TrackConfig, opts: SnapshotOptions): TrackSnapshot {
  // Tracks are registered once, when the context opens the store; a refresh only reads.
  const row = store.tracks.get(track.name);
  if (!row) throw new Error(`track ${track.name} is not in the store`);
  const endMs = store.runs.latestFinishedEnd(track.name);
  // Windows are whole finished runs, by the calendar day (schedule time zone) each started on (windows.ts).
  const tz = track.schedule.timezone;
  const lastDay = lastWindowDay(store.runs.latestFinishedStartWithAttempts(track.name), tz);
  const selections = lastDay === null ? [] : selectWindows(store.attempts.ofFinishedRunsSince(track.name, windowsStartMs(lastDay, tz)), lastDay, tz);
  const windows = selections.map((w) => summarizeWindow(w, opts.statistics.confidence));
  const lastSuccess = store.runs.latest(track.name, ['completed']);
  const reported = store.runs.latestReported(row.id);
  const regression = evaluateRegression(store, track, opts.statistics, selections, opts.thresholds, opts.now);
  const suite = row.suiteHash ? store.suites.get(row.suiteHash) : null;
  const tasks = computeTaskHistory({
    suiteTaskIds: suite ? suite.taskIds : null,
    selections,
    latest: store.attempts.latestPerTask(track.name),
    baseline: regression.baseline,
    oddsRatio: opts.statistics.cusumOddsRatio,
    flips: opts.statistics.flips,
  });
  return {
    track: track.name,
    agent: track.agent,
    agentVersion: reported?.v ?? 'unknown',
    model: reported?.m ?? track.model,
    suite: row.suiteHash ? row.suiteHash.slice(0, 12) : 'unfrozen',
    computedAt: opts.now ?? Date.now(),
    windowEndMs: selections.length ? Math.max(...selections.map((w) => w.toMs)) : null,
    windows,
    behaviour: behaviourWindowMeans(selections),
    graded: gradedWindowMeans(selections),
    totals: store.attempts.totals(track.name),
    // The latest end of any run that ended (an interrupted run, which has no end yet, does not hide the ones before).
    lastRunMs: endMs,
    lastSuccessMs: lastSuccess?.endedAt ? Date.parse(lastSuccess.endedAt) : null,
    regression,
    tasks,
    breakdown: computeBreakdown({
      selections,
      baseline: regression.baseline,
      groups: store.attempts.taskGroups(track.name, breakdownTaskIds(selections, regression.baseline)),
      statistics: opts.statistics,
    }),
  };
}

/**
 * A track's operational figures: schedule, the run going on, how runs ended, misses, today's spend. Cheap (a few
 * indexed queries), so they are recomputed whenever something changes and on a timer, not only when a run ends.
 */
export interface TrackOps {
  track: string;
  nextRunMs: number | null;
  schedulePeriodSeconds: number | null;
  runInProgress: boolean;
  /** The run going on, else null. */
  currentRunId: number | null;
  /** Stored / planned attempts of the current run, or of the latest run when none is going on; 0 before any. */
  progressRatio: number;
  runsByState: Record<EndedRunState, number>;
  missedRuns: number;
  costTodayUsd: number;
  /** Start of the track's day (its schedule's time zone) that costTodayUsd covers. */
  dayStartMs: number;
  budgetDailyUsd: number | null;
  budgetExhausted: boolean;
}

export interface LiveFacts {
  now: number;
  nextRunMs: number | null;
  schedulePeriodSeconds: number | null;
  /**
   * The run going on in this process (id null while it is being set up), null when none; undefined when no scheduler
   * runs here (then a run stored as running counts as going on).
   */
  liveRun: { id: number | null } | null | undefined;
}

export function computeOps(store: Store, track: TrackConfig, live: LiveFacts): TrackOps {
  const stored = live.liveRun === undefined ? (store.runs.latest(track.name, ['running'])?.id ?? null) : null;
  const running = live.liveRun === undefined ? stored : (live.liveRun?.id ?? null);
  const inProgress = live.liveRun === undefined ? stored !== null : live.liveRun !== null;
  const latest = running ?? store.runs.latestReal(track.name)?.id ?? null;
  let progressRatio = 0;
  if (latest !== null) {
    const f = store.runs.figures(latest);
    if (f.total) progressRatio = Math.min(1, f.done / f.total);
  }
  const dayStartMs = startOfDay(live.now, track.schedule.timezone);
  const costTodayUsd = store.attempts.spentBetween(track.name, dayStartMs, Number.MAX_SAFE_INTEGER);
  const budgetDailyUsd = track.budget.dailyUsd ?? null;
  const runsByState = store.runs.endCounts(track.name);
  for (const s of ENDED_RUN_STATES) runsByState[s] ??= 0;
  return {
    track: track.name,
    nextRunMs: live.nextRunMs,
    schedulePeriodSeconds: live.schedulePeriodSeconds,
    runInProgress: inProgress,
    currentRunId: running,
    progressRatio,
    runsByState,
    missedRuns: store.schedule.missedTotal(track.name),
    costTodayUsd,
    dayStartMs,
    budgetDailyUsd,
    budgetExhausted: budgetDailyUsd !== null && costTodayUsd >= budgetDailyUsd,
  };
}
