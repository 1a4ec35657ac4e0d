/**
 * Runs: one row per run of a track (its state, plan and reported versions), and the endings recorded in run_events
 * (migration 4): one event per ending, so a run interrupted and then resumed to completion counts once as
 * interrupted and once as completed.
 */
import type Database from 'better-sqlite3';
import type { ReportedVersion, RunFigures, RunPlan } from '../domain/records.ts';
import { ENDED_RUN_STATES, FINISHED_RUN_STATES, type AttemptRow, type EndedRunState, type RunInput, type RunRow, type RunState } from '../domain/types.ts';
import { isoOrNull } from '../domain/values.ts';
import { FINISHED_RUN, type Attempts } from './attempts.ts';
import { ms } from './db.ts';
import type { Tracks } from './tracks.ts';

interface RawRun {
  id: number;
  track: string;
  state: RunState;
  trigger: string;
  reason: string | null;
  started_at: number;
  ended_at: number | null;
  agent_version: string | null;
  model_id: string | null;
  suite_hash: string | null;
}

function toRun(r: RawRun): RunRow {
  return {
    id: r.id,
    track: r.track,
    state: r.state,
    trigger: r.trigger,
    reason: r.reason,
    startedAt: isoOrNull(r.started_at) as string,
    endedAt: isoOrNull(r.ended_at),
    agentVersion: r.agent_version,
    modelId: r.model_id,
    suiteHash: r.suite_hash,
  };
}

const RUN_COLUMNS = `r.id, t.name AS track, r.state, r.trigger, r.reason, r.started_at, r.ended_at, r.agent_version,
  r.model_id, r.suite_hash`;

export class Runs {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
    private readonly attempts: Attempts,
  ) {}

  create(run: RunInput, plan?: RunPlan): number {
    const id = this.tracks.id(run.track);
    const res = this.db
      .prepare(`INSERT INTO runs (track_id, state, trigger, reason, started_at, ended_at, agent_version, model_id, suite_hash, plan)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, run.state, run.trigger, run.reason, ms(run.startedAt), run.endedAt ? ms(run.endedAt) : null, run.agentVersion, run.modelId, run.suiteHash, plan ? JSON.stringify(plan) : null);
    return Number(res.lastInsertRowid);
  }

  /** Stores the plan and suite of a run created before its suite was resolved. */
  setPlan(id: number, plan: RunPlan, suiteHash: string): void {
    this.db.prepare('UPDATE runs SET plan = ?, suite_hash = ? WHERE id = ?').run(JSON.stringify(plan), suiteHash, id);
  }

  plan(id: number): RunPlan | null {
    const r = this.db.prepare('SELECT plan FROM runs WHERE id = ?').get(id) as { plan: string | null } | undefined;
    return r?.plan ? (JSON.parse(r.plan) as RunPlan) : null;
  }

  update(id: number, patch: Partial<Pick<RunInput, 'state' | 'endedAt' | 'agentVersion' | 'modelId' | 'reason'>>): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    const col = { state: 'state', endedAt: 'ended_at', agentVersion: 'agent_version', modelId: 'model_id', reason: 'reason' } as const;
    for (const [k, c] of Object.entries(col) as [keyof typeof col, string][]) {
      if (patch[k] === undefined) continue;
      sets.push(`${c} = ?`);
      values.push(k === 'endedAt' ? (patch.endedAt ? ms(patch.endedAt) : null) : patch[k]);
    }
    if (!sets.length) return;
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  get(id: number): RunRow | null {
    const r = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.id = ?`).get(id) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  /** Newest first. */
  list(track: string, opts: { limit: number; offset: number }): { runs: RunRow[]; total: number } {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ?
        ORDER BY r.started_at DESC, r.id DESC LIMIT ? OFFSET ?`)
      .all(id, opts.limit, opts.offset) as RawRun[];
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE track_id = ?').get(id) as { n: number }).n;
    return { runs: rows.map(toRun), total };
  }

  /** The cost (USD) of each of these runs' stored attempts; 0 for a run without any. */
  costs(runIds: readonly number[]): Map<number, number> {
    const out = new Map<number, number>(runIds.map((id) => [id, 0]));
    if (!runIds.length) return out;
    const rows = this.db
      .prepare(`SELECT run_id AS id, TOTAL(cost_usd) AS cost FROM attempts WHERE run_id IN (${runIds.map(() => '?').join(',')}) GROUP BY run_id`)
      .all(...runIds) as { id: number; cost: number }[];
    for (const r of rows) out.set(r.id, r.cost);
    return out;
  }

  /** Every run of a track, oldest first, with its attempts (for export). */
  *iterateWithAttempts(track: string): Generator<RunRow & { attempts: AttemptRow[] }> {
    const id = this.tracks.id(track);
    const runs = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ? ORDER BY r.started_at, r.id`)
      .all(id) as RawRun[];
    for (const r of runs) yield { ...toRun(r), attempts: this.attempts.ofRun(r.id) };
  }

  latest(track: string, states?: readonly RunState[]): RunRow | null {
    const id = this.tracks.id(track);
    const filter = states?.length ? `AND r.state IN (${states.map(() => '?').join(',')})` : '';
    const r = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ? ${filter}
        ORDER BY r.started_at DESC, r.id DESC LIMIT 1`)
      .get(id, ...(states ?? [])) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  /** The newest run of the track that had (or has) attempts to make: not a skipped slot. */
  latestReal(track: string): { id: number; state: RunState } | null {
    const r = this.latest(track, ['running', 'interrupted', 'completed', 'failed', 'cancelled', 'budget_exhausted']);
    return r ? { id: r.id, state: r.state } : null;
  }

  /** End of the most recent run that finished (completed, or stopped with its attempts kept). */
  latestFinishedEnd(track: string): number | null {
    const id = this.tracks.id(track);
    const r = this.db.prepare(`SELECT MAX(r.ended_at) AS e FROM runs r WHERE r.track_id = ? AND ${FINISHED_RUN}`).get(id) as { e: number | null };
    return r.e;
  }

  /**
   * Start of the most recent finished run that stored an attempt: its calendar day is the last day of every
   * statistics window. A run with no attempt (one that failed to start) does not move the windows.
   */
  latestFinishedStartWithAttempts(track: string): number | null {
    const id = this.tracks.id(track);
    const r = this.db
      .prepare(`SELECT r.started_at AS s FROM runs r WHERE r.track_id = ? AND ${FINISHED_RUN}
        AND EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = r.id) ORDER BY r.started_at DESC LIMIT 1`)
      .get(id) as { s: number } | undefined;
    return r?.s ?? null;
  }

  /** Agent version and model of the latest run (by start) of the track that recorded either; undefined when none did. */
  latestReported(trackId: number): ReportedVersion | undefined {
    return this.db
      .prepare(`SELECT agent_version AS v, model_id AS m FROM runs WHERE track_id = ? AND (agent_version IS NOT NULL OR model_id IS NOT NULL)
      ORDER BY started_at DESC LIMIT 1`)
      .get(trackId) as ReportedVersion | undefined;
  }

  /** The finished runs of a track, oldest first: start, end (for the auto baseline and the volume estimate). */
  finishedSpans(track: string, limit: number): { startedAtMs: number; endedAtMs: number }[] {
    const id = this.tracks.id(track);
    return this.db
      .prepare(`SELECT started_at AS startedAtMs, ended_at AS endedAtMs FROM runs WHERE track_id = ? AND ended_at IS NOT NULL
        AND state NOT IN ('running', 'pending', 'skipped') ORDER BY ended_at LIMIT ?`)
      .all(id, limit) as { startedAtMs: number; endedAtMs: number }[];
  }

  /** Attempts stored and planned, resolved, and cost of a run. */
  figures(runId: number): RunFigures {
    const r = this.db
      .prepare("SELECT COUNT(*) AS done, COALESCE(SUM(outcome = 'resolved'), 0) AS resolved, TOTAL(cost_usd) AS cost FROM attempts WHERE run_id = ?")
      .get(runId) as { done: number; resolved: number; cost: number };
    const plan = this.plan(runId);
    return { done: r.done, total: plan ? plan.taskIds.length * plan.samples : null, resolved: r.resolved, costUsd: r.cost };
  }

  /**
   * Sets a run's final (or interrupted) state and records the ending, in one transaction. `endedAt` is set for every
   * state but `interrupted`, which resumes later.
   */
  finish(runId: number, state: EndedRunState, reason: string | null, at = Date.now()): boolean {
    const run = this.get(runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    // A run that ended stays ended: a late second ending (a stop that raced the run's own end) changes nothing.
    if (FINISHED_RUN_STATES.includes(run.state)) return false;
    this.db.transaction(() => {
      this.update(runId, { state, reason, endedAt: state === 'interrupted' ? null : new Date(at).toISOString() });
      this.db
        .prepare('INSERT INTO run_events (track_id, run_id, kind, at, reason) VALUES (?, ?, ?, ?, ?)')
        .run(this.tracks.id(run.track), runId, state, at, reason);
    })();
    return true;
  }

  /** Stores a run that never ran (a slot skipped, a run that failed to start) with its ending recorded. */
  recordEnded(run: Omit<RunInput, 'endedAt' | 'agentVersion' | 'modelId' | 'suiteHash'> & { state: 'skipped' | 'failed' }, at = Date.now()): number {
    return this.db.transaction(() => {
      // A skipped slot has no end: it never ran, and must not move the end of the statistics windows.
      const endedAt = run.state === 'skipped' ? null : new Date(at).toISOString();
      const id = this.create({ ...run, endedAt, agentVersion: null, modelId: null, suiteHash: null });
      this.db.prepare('INSERT INTO run_events (track_id, run_id, kind, at, slot_from, slot_to, reason) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        this.tracks.id(run.track),
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

  /** Runs by the state they ended in (every state present). */
  endCounts(track: string): Record<EndedRunState, number> {
    // TOTAL, not SUM: SUM throws "integer overflow" past 2^63, and a figure must never stop a start.
    const rows = this.db
      .prepare("SELECT kind, TOTAL(count) AS n FROM run_events WHERE track_id = ? AND kind != 'missed' GROUP BY kind")
      .all(this.tracks.id(track)) as { kind: EndedRunState; n: number }[];
    const out = Object.fromEntries(ENDED_RUN_STATES.map((s) => [s, 0])) as Record<EndedRunState, number>;
    for (const r of rows) if (r.kind in out) out[r.kind] = r.n;
    return out;
  }
}
