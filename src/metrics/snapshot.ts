/**
 * A track's precomputed figures: what /metrics and GET /api/tracks/:track serve. Computed from the store when a
 * run or an import finishes, never on a scrape, so a scrape stays fast with years of history.
 */
import type { Config, TrackConfig } from '../config/index.ts';
import { evaluateRegression, type RegressionFigures } from '../regression/evaluate.ts';
import type { ThresholdCache } from '../stats/index.ts';
import { nextRuns } from '../scheduler/cron.ts';
import type { Store, TrackTotals } from '../store/store.ts';
import { DAY_MS, summarizeWindow, WINDOWS, type WindowSummary } from './windows.ts';

export interface TrackSnapshot {
  track: string;
  agent: string;
  /** Agent version and model as the agent reported them in the latest run that recorded one. */
  agentVersion: string;
  model: string;
  suite: string;
  computedAt: number;
  /** End of the most recent finished run: where every window ends. Null with no history. */
  windowEndMs: number | null;
  windows: WindowSummary[];
  totals: TrackTotals;
  lastRunMs: number | null;
  lastSuccessMs: number | null;
  nextRunMs: number | null;
  runInProgress: boolean;
  regression: RegressionFigures;
}

export interface SnapshotOptions {
  statistics: Config['statistics'];
  thresholds: ThresholdCache;
  now?: number;
}

const FINISHED = ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exhausted'] as const;

export function computeSnapshot(store: Store, track: TrackConfig, opts: SnapshotOptions): TrackSnapshot {
  const row = store.ensureTrack({ name: track.name, agent: track.agent, model: track.model });
  const endMs = store.latestFinishedRunEnd(track.name);
  const longest = Math.max(...WINDOWS.map((w) => w.days));
  const facts = endMs === null ? [] : store.attemptFacts(track.name, endMs - longest * DAY_MS, endMs);
  const windows = endMs === null ? [] : WINDOWS.map((w) => summarizeWindow(facts, w, endMs, opts.statistics.confidence));
  const lastFinished = store.latestRun(track.name, FINISHED);
  const lastSuccess = store.latestRun(track.name, ['completed']);
  const latest = store.latestRun(track.name);
  const reported = store.db
    .prepare(`SELECT agent_version AS v, model_id AS m FROM runs WHERE track_id = ? AND (agent_version IS NOT NULL OR model_id IS NOT NULL)
      ORDER BY started_at DESC LIMIT 1`)
    .get(row.id) as { v: string | null; m: string | null } | undefined;
  const next = nextRuns(track.schedule, 1)[0];
  return {
    track: track.name,
    agent: track.agent,
    agentVersion: reported?.v ?? 'unknown',
    model: reported?.m ?? track.model,
    suite: row.suiteHash ? row.suiteHash.slice(0, 12) : 'unfrozen',
    computedAt: opts.now ?? Date.now(),
    windowEndMs: endMs,
    windows,
    totals: store.totals(track.name),
    lastRunMs: lastFinished?.endedAt ? Date.parse(lastFinished.endedAt) : null,
    lastSuccessMs: lastSuccess?.endedAt ? Date.parse(lastSuccess.endedAt) : null,
    nextRunMs: next ? next.getTime() : null,
    runInProgress: latest?.state === 'running',
    regression: evaluateRegression(store, track, opts.statistics, { endMs, facts }, opts.thresholds, opts.now),
  };
}
