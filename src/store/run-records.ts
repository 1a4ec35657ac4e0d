/**
 * The operations record in the store (migration 4): how each run ended (one event per ending, so a run interrupted
 * and then resumed to completion counts once as interrupted and once as completed), slots missed while the daemon
 * was down, how far each track's schedule has been handled, and the spend the budget guard reads.
 */
import { ENDED_RUN_STATES, FINISHED_RUN_STATES, type EndedRunState, type RunInput, type RunState } from '../domain/types.ts';
import type { Store } from './store.ts';

const trackId = (store: Store, track: string): number => {
  const t = store.getTrack(track);
  if (!t) throw new Error(`unknown track "${track}"`);
  return t.id;
};

/**
 * Sets a run's final (or interrupted) state and records the ending, in one transaction. `endedAt` is set for every
 * state but `interrupted`, which resumes later.
 */
export function finishRun(store: Store, runId: number, state: EndedRunState, reason: string | null, at = Date.now()): boolean {
  const run = store.getRun(runId);
  if (!run) throw new Error(`unknown run ${runId}`);
  // A run that ended stays ended: a late second ending (a stop that raced the run's own end) changes nothing.
  if (FINISHED_RUN_STATES.includes(run.state)) return false;
  store.db.transaction(() => {
    store.updateRun(runId, { state, reason, endedAt: state === 'interrupted' ? null : new Date(at).toISOString() });
    store.db
      .prepare('INSERT INTO run_events (track_id, run_id, kind, at, reason) VALUES (?, ?, ?, ?, ?)')
      .run(trackId(store, run.track), runId, state, at, reason);
  })();
  return true;
}

/** Stores a run that never ran (a slot skipped, a run that failed to start) with its ending recorded. */
export function recordEndedRun(store: Store, run: Omit<RunInput, 'endedAt' | 'agentVersion' | 'modelId' | 'suiteHash'> & { state: 'skipped' | 'failed' }, at = Date.now()): number {
  return store.db.transaction(() => {
    // A skipped slot has no end: it never ran, and must not move the end of the statistics windows.
    const endedAt = run.state === 'skipped' ? null : new Date(at).toISOString();
    const id = store.createRun({ ...run, endedAt, agentVersion: null, modelId: null, suiteHash: null });
    store.db.prepare('INSERT INTO run_events (track_id, run_id, kind, at, slot_from, slot_to, reason) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      trackId(store, run.track),
      id,
      run.state,
      at,
      run.state === 'skipped' ? Date.parse(run.startedAt) : null,
      run.state === 'skipped' ? Date.parse(run.startedAt) : null,
      run.reason,
    );
    return id;
  })();
}

export interface MissedRecord {
  count: number;
  fromMs: number;
  toMs: number;
  at: number;
  reason: string;
}

/** Records `count` slots in [fromMs, toMs] missed while the daemon was down. */
export function recordMissed(store: Store, track: string, m: MissedRecord): void {
  store.db
    .prepare("INSERT INTO run_events (track_id, run_id, kind, count, at, slot_from, slot_to, reason) VALUES (?, NULL, 'missed', ?, ?, ?, ?, ?)")
    .run(trackId(store, track), m.count, m.at, m.fromMs, m.toMs, m.reason);
}

export function missedTotal(store: Store, track: string): number {
  // TOTAL, not SUM, in every sum here: SUM throws "integer overflow" past 2^63, and a figure must never stop a start.
  const r = store.db.prepare("SELECT TOTAL(count) AS n FROM run_events WHERE track_id = ? AND kind = 'missed'").get(trackId(store, track)) as { n: number };
  return r.n;
}

export function lastMissed(store: Store, track: string): MissedRecord | null {
  const r = store.db
    .prepare("SELECT count, slot_from AS fromMs, slot_to AS toMs, at, reason FROM run_events WHERE track_id = ? AND kind = 'missed' ORDER BY id DESC LIMIT 1")
    .get(trackId(store, track)) as MissedRecord | undefined;
  return r ?? null;
}

/** Runs by the state they ended in (every state present). */
export function runEndCounts(store: Store, track: string): Record<EndedRunState, number> {
  const rows = store.db
    .prepare("SELECT kind, TOTAL(count) AS n FROM run_events WHERE track_id = ? AND kind != 'missed' GROUP BY kind")
    .all(trackId(store, track)) as { kind: EndedRunState; n: number }[];
  const out = Object.fromEntries(ENDED_RUN_STATES.map((s) => [s, 0])) as Record<EndedRunState, number>;
  for (const r of rows) if (r.kind in out) out[r.kind] = r.n;
  return out;
}

/** Every slot at or before this instant has been handled (run, skipped or recorded missed); null before the first start. */
export function coveredUntil(store: Store, track: string): number | null {
  const r = store.db.prepare('SELECT covered_until AS c FROM schedule_marks WHERE track_id = ?').get(trackId(store, track)) as { c: number } | undefined;
  return r?.c ?? null;
}

export function setCoveredUntil(store: Store, track: string, ms: number): void {
  store.db
    .prepare('INSERT INTO schedule_marks (track_id, covered_until) VALUES (?, ?) ON CONFLICT(track_id) DO UPDATE SET covered_until = MAX(covered_until, excluded.covered_until)')
    .run(trackId(store, track), ms);
}

/** Cost (USD) and count of the track's attempts that ended in [fromMs, toMs). */
export function attemptCostBetween(store: Store, track: string, fromMs: number, toMs: number): { costUsd: number; attempts: number } {
  return store.db
    .prepare('SELECT TOTAL(cost_usd) AS costUsd, COUNT(*) AS attempts FROM attempts WHERE track_id = ? AND ended_at >= ? AND ended_at < ?')
    .get(trackId(store, track), fromMs, toMs) as { costUsd: number; attempts: number };
}

/** Cost of the track's attempts that ended in [fromMs, toMs). */
export function spentBetween(store: Store, track: string, fromMs: number, toMs: number): number {
  return attemptCostBetween(store, track, fromMs, toMs).costUsd;
}

export interface RunFigures {
  /** Attempts stored. */
  done: number;
  /** Attempts planned (tasks x samples); null for a run without a plan (imported, skipped). */
  total: number | null;
  resolved: number;
  costUsd: number;
}

export function runFigures(store: Store, runId: number): RunFigures {
  const r = store.db
    .prepare("SELECT COUNT(*) AS done, COALESCE(SUM(outcome = 'resolved'), 0) AS resolved, TOTAL(cost_usd) AS cost FROM attempts WHERE run_id = ?")
    .get(runId) as { done: number; resolved: number; cost: number };
  const plan = store.runPlan(runId);
  return { done: r.done, total: plan ? plan.taskIds.length * plan.samples : null, resolved: r.resolved, costUsd: r.cost };
}

/** The newest run of the track that had (or has) attempts to make: not a skipped slot. */
export function latestRealRun(store: Store, track: string): { id: number; state: RunState } | null {
  const r = store.latestRun(track, ['running', 'interrupted', 'completed', 'failed', 'cancelled', 'budget_exhausted']);
  return r ? { id: r.id, state: r.state } : null;
}
