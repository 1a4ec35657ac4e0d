/**
 * The embedded SQLite store (better-sqlite3): WAL, foreign keys, versioned migrations, and every write in a
 * transaction so a crash never leaves a half-written run or attempt.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AttemptInput, AttemptRow, Outcome, RunInput, RunRow, RunState } from '../domain/types.ts';
import { MIGRATIONS } from './migrations.ts';
import { isoOrNull } from '../domain/values.ts';

export interface TrackRow {
  id: number;
  name: string;
  agent: string;
  model: string;
  suiteHash: string | null;
  createdAt: string;
}

/** What the statistics need of an attempt: small, so years of history stay cheap to read. */
export type AttemptFacts = Pick<
  AttemptInput,
  'taskId' | 'outcome' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheCreationTokens' | 'costUsd' | 'turns' | 'toolCalls' | 'agentDurationMs'
> & { endedAtMs: number };

export interface TrackTotals {
  attemptsByOutcome: Record<Outcome, number>;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
}

/** What a run is to attempt: every listed task, samples times. */
export interface RunPlan {
  taskIds: string[];
  samples: number;
}

export interface TaskCount {
  passes: number;
  trials: number;
}

export interface BaselineInput {
  kind: 'fixed' | 'reference';
  p0: number | null;
  fromMs: number | null;
  toMs: number | null;
  /** Frozen per-task counts of the reference period. */
  perTask: Record<string, TaskCount> | null;
  /** The CUSUM counts attempts that ended after this instant. */
  monitorFromMs: number;
  createdBy: string;
  reason: string;
  /** For baselines that came from the config file: the spec they came from. */
  configSpec: string | null;
}

export interface BaselineRow extends BaselineInput {
  id: number;
  track: string;
  createdAt: string;
}

export interface ImportedRun extends Omit<RunInput, 'track'> {
  externalKey: string;
  attempts: AttemptInput[];
}

export interface ImportResult {
  runsStored: number;
  attemptsStored: number;
  runsSkipped: number;
}

const ms = (iso: string): number => Date.parse(iso);

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

const ATTEMPT_COLUMNS = `id, run_id AS runId, task_id AS taskId, sample_index AS sampleIndex, outcome, reason,
  input_tokens AS inputTokens, output_tokens AS outputTokens, cache_read_tokens AS cacheReadTokens,
  cache_creation_tokens AS cacheCreationTokens, cost_usd AS costUsd, turns, tool_calls AS toolCalls,
  agent_duration_ms AS agentDurationMs, agent_api_duration_ms AS agentApiDurationMs, grading_duration_ms AS gradingDurationMs, patch_bytes AS patchBytes,
  transcript_path AS transcriptPath, grading_log_path AS gradingLogPath, started_at AS startedAt, ended_at AS endedAt`;

const RUN_COLUMNS = `r.id, t.name AS track, r.state, r.trigger, r.reason, r.started_at, r.ended_at, r.agent_version,
  r.model_id, r.suite_hash`;

/** Who holds a track's lease: one process running the track (see src/core/runner/lease.ts). */
export interface LeaseHolder {
  /** Unique per acquisition. */
  id: string;
  pid: number;
  host: string;
  /** What it is doing, for the message another process shows (e.g. "the daemon", "agentdrift run"). */
  purpose: string;
}

export interface LeaseRow extends LeaseHolder {
  acquiredAtMs: number;
  renewedAtMs: number;
}

export class Store {
  readonly db: Database.Database;
  private readonly insertAttemptStmt: Database.Statement;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.insertAttemptStmt = this.db.prepare(`INSERT INTO attempts (run_id, track_id, task_id, sample_index, outcome,
      reason, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, turns, tool_calls,
      agent_duration_ms, agent_api_duration_ms, grading_duration_ms, patch_bytes, transcript_path, grading_log_path, started_at, ended_at)
      VALUES (@runId, @trackId, @taskId, @sampleIndex, @outcome, @reason, @inputTokens, @outputTokens,
      @cacheReadTokens, @cacheCreationTokens, @costUsd, @turns, @toolCalls, @agentDurationMs, @agentApiDurationMs, @gradingDurationMs,
      @patchBytes, @transcriptPath, @gradingLogPath, @startedAt, @endedAt)`);
  }

  static open(dataDir: string): Store {
    return new Store(path.join(dataDir, 'agentdrift.sqlite'));
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  private dataVersion: number | null = null;

  /**
   * Whether another connection (another agentdrift process: `agentdrift import`, `agentdrift run`, `baseline set`)
   * committed a change since the last call. SQLite's data_version moves only for other connections' commits, so the
   * daemon's own writes never count. The first call only takes the mark.
   */
  changedByOthers(): boolean {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    const changed = this.dataVersion !== null && v !== this.dataVersion;
    this.dataVersion = v;
    return changed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const current = this.schemaVersion();
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`the store at ${this.file} has schema version ${current}, newer than this agentdrift knows (${latest})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      })();
    }
  }

  // --- tracks -------------------------------------------------------------------------------------------------

  /** Creates the track on first sight; keeps agent and model current. */
  ensureTrack(t: { name: string; agent: string; model: string }): TrackRow {
    this.db
      .prepare(`INSERT INTO tracks (name, agent, model, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET agent = excluded.agent, model = excluded.model`)
      .run(t.name, t.agent, t.model, Date.now());
    return this.getTrack(t.name) as TrackRow;
  }

  getTrack(name: string): TrackRow | null {
    const r = this.db.prepare('SELECT id, name, agent, model, suite_hash, created_at FROM tracks WHERE name = ?').get(name) as
      | { id: number; name: string; agent: string; model: string; suite_hash: string | null; created_at: number }
      | undefined;
    return r
      ? { id: r.id, name: r.name, agent: r.agent, model: r.model, suiteHash: r.suite_hash, createdAt: isoOrNull(r.created_at) as string }
      : null;
  }

  private trackId(name: string): number {
    const t = this.getTrack(name);
    if (!t) throw new Error(`unknown track "${name}"`);
    return t.id;
  }

  // --- track leases -------------------------------------------------------------------------------------------

  /**
   * Takes the track's lease in one immediate transaction (so two processes cannot both take it) unless another holder
   * has it and `stillHeld` says that lease still binds (the rule is the caller's: src/core/runner/lease.ts). Otherwise
   * returns that holder.
   */
  acquireLease(track: string, holder: LeaseHolder, nowMs: number, stillHeld: (l: LeaseRow) => boolean): { acquired: true } | { acquired: false; holder: LeaseRow } {
    const trackId = this.trackId(track);
    return this.db.transaction((): { acquired: true } | { acquired: false; holder: LeaseRow } => {
      const current = this.currentLease(track);
      if (current && current.id !== holder.id && stillHeld(current)) return { acquired: false, holder: current };
      this.db
        .prepare(`INSERT OR REPLACE INTO track_leases (track_id, holder, pid, host, purpose, acquired_at, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(trackId, holder.id, holder.pid, holder.host, holder.purpose, nowMs, nowMs);
      return { acquired: true };
    }).immediate();
  }

  /** Renews the holder's lease; false when it no longer holds it (it expired and another process took it). */
  renewLease(track: string, holderId: string, nowMs: number): boolean {
    const r = this.db.prepare(`UPDATE track_leases SET renewed_at = ? WHERE holder = ? AND track_id = (SELECT id FROM tracks WHERE name = ?)`).run(nowMs, holderId, track);
    return r.changes === 1;
  }

  /** Gives the lease back (a no-op when the holder no longer has it). */
  releaseLease(track: string, holderId: string): void {
    this.db.prepare(`DELETE FROM track_leases WHERE holder = ? AND track_id = (SELECT id FROM tracks WHERE name = ?)`).run(holderId, track);
  }

  currentLease(track: string): LeaseRow | null {
    const r = this.db
      .prepare(`SELECT l.holder, l.pid, l.host, l.purpose, l.acquired_at, l.renewed_at FROM track_leases l JOIN tracks t ON t.id = l.track_id WHERE t.name = ?`)
      .get(track) as { holder: string; pid: number; host: string; purpose: string; acquired_at: number; renewed_at: number } | undefined;
    return r ? { id: r.holder, pid: r.pid, host: r.host, purpose: r.purpose, acquiredAtMs: r.acquired_at, renewedAtMs: r.renewed_at } : null;
  }

  // --- suites -------------------------------------------------------------------------------------------------

  /** Freezes a task selection under its hash and makes it the track's suite. */
  freezeSuite(track: string, s: { hash: string; taskIds: string[]; datasetRevision: string | null; harnessCommit: string | null }): void {
    const id = this.trackId(track);
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT OR IGNORE INTO suites (hash, task_ids, dataset_revision, harness_commit, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(s.hash, JSON.stringify(s.taskIds), s.datasetRevision, s.harnessCommit, Date.now());
      this.db.prepare('UPDATE tracks SET suite_hash = ? WHERE id = ?').run(s.hash, id);
    })();
  }

  getSuite(hash: string): { hash: string; taskIds: string[]; datasetRevision: string | null; harnessCommit: string | null } | null {
    const r = this.db.prepare('SELECT hash, task_ids, dataset_revision, harness_commit FROM suites WHERE hash = ?').get(hash) as
      | { hash: string; task_ids: string; dataset_revision: string | null; harness_commit: string | null }
      | undefined;
    return r ? { hash: r.hash, taskIds: JSON.parse(r.task_ids) as string[], datasetRevision: r.dataset_revision, harnessCommit: r.harness_commit } : null;
  }

  // --- images (docker.images policy) --------------------------------------------------------------------------

  /** Records that agentdrift pulled `ref` (only such references are ever removed by it). */
  recordPulledImage(ref: string, nowMs = Date.now()): void {
    this.db.prepare('INSERT INTO pulled_images (ref, pulled_at) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET pulled_at = excluded.pulled_at').run(ref, nowMs);
  }

  /** Forgets a pulled reference (it was removed). */
  forgetPulledImage(ref: string): void {
    this.db.prepare('DELETE FROM pulled_images WHERE ref = ?').run(ref);
  }

  /** Every reference agentdrift pulled and has not removed, oldest pull first. */
  pulledImages(): { ref: string; pulledAtMs: number }[] {
    return this.db.prepare('SELECT ref, pulled_at AS pulledAtMs FROM pulled_images ORDER BY pulled_at, ref').all() as { ref: string; pulledAtMs: number }[];
  }

  /** Replaces the image references the track's suite uses (written when a run resolves its suite). */
  setTrackImages(track: string, refs: readonly string[]): void {
    const trackId = this.trackId(track);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM track_images WHERE track_id = ?').run(trackId);
      const insert = this.db.prepare('INSERT OR IGNORE INTO track_images (track_id, ref) VALUES (?, ?)');
      for (const ref of refs) insert.run(trackId, ref);
    })();
  }

  /** The image references of the track's suite as last resolved; null when no run has resolved it yet. */
  trackImages(track: string): string[] | null {
    const t = this.getTrack(track);
    if (!t) return null;
    const rows = this.db.prepare('SELECT ref FROM track_images WHERE track_id = ? ORDER BY ref').all(t.id) as { ref: string }[];
    return rows.length ? rows.map((r) => r.ref) : null;
  }

  // --- runs ---------------------------------------------------------------------------------------------------

  createRun(run: RunInput, plan?: RunPlan): number {
    const id = this.trackId(run.track);
    const res = this.db
      .prepare(`INSERT INTO runs (track_id, state, trigger, reason, started_at, ended_at, agent_version, model_id, suite_hash, plan)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, run.state, run.trigger, run.reason, ms(run.startedAt), run.endedAt ? ms(run.endedAt) : null, run.agentVersion, run.modelId, run.suiteHash, plan ? JSON.stringify(plan) : null);
    return Number(res.lastInsertRowid);
  }

  /** Stores the plan and suite of a run created before its suite was resolved. */
  setRunPlan(id: number, plan: RunPlan, suiteHash: string): void {
    this.db.prepare('UPDATE runs SET plan = ?, suite_hash = ? WHERE id = ?').run(JSON.stringify(plan), suiteHash, id);
  }

  runPlan(id: number): RunPlan | null {
    const r = this.db.prepare('SELECT plan FROM runs WHERE id = ?').get(id) as { plan: string | null } | undefined;
    return r?.plan ? (JSON.parse(r.plan) as RunPlan) : null;
  }

  /** The (task, sample) pairs a run has stored already. */
  attemptKeys(runId: number): Set<string> {
    const rows = this.db.prepare('SELECT task_id, sample_index FROM attempts WHERE run_id = ?').all(runId) as { task_id: string; sample_index: number }[];
    return new Set(rows.map((r) => `${r.task_id}#${r.sample_index}`));
  }

  updateRun(id: number, patch: Partial<Pick<RunInput, 'state' | 'endedAt' | 'agentVersion' | 'modelId' | 'reason'>>): void {
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

  getRun(id: number): RunRow | null {
    const r = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.id = ?`).get(id) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  /** Newest first. */
  listRuns(track: string, opts: { limit: number; offset: number }): { runs: RunRow[]; total: number } {
    const id = this.trackId(track);
    const rows = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ?
        ORDER BY r.started_at DESC, r.id DESC LIMIT ? OFFSET ?`)
      .all(id, opts.limit, opts.offset) as RawRun[];
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE track_id = ?').get(id) as { n: number }).n;
    return { runs: rows.map(toRun), total };
  }

  /** The cost (USD) of each of these runs' stored attempts; 0 for a run without any. */
  runCosts(runIds: readonly number[]): Map<number, number> {
    const out = new Map<number, number>(runIds.map((id) => [id, 0]));
    if (!runIds.length) return out;
    const rows = this.db
      .prepare(`SELECT run_id AS id, TOTAL(cost_usd) AS cost FROM attempts WHERE run_id IN (${runIds.map(() => '?').join(',')}) GROUP BY run_id`)
      .all(...runIds) as { id: number; cost: number }[];
    for (const r of rows) out.set(r.id, r.cost);
    return out;
  }

  /** Every run of a track, oldest first, with its attempts (for export). */
  *iterateRunsWithAttempts(track: string): Generator<RunRow & { attempts: AttemptRow[] }> {
    const id = this.trackId(track);
    const runs = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ? ORDER BY r.started_at, r.id`)
      .all(id) as RawRun[];
    for (const r of runs) yield { ...toRun(r), attempts: this.attemptsOfRun(r.id) };
  }

  latestRun(track: string, states?: readonly RunState[]): RunRow | null {
    const id = this.trackId(track);
    const filter = states?.length ? `AND r.state IN (${states.map(() => '?').join(',')})` : '';
    const r = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN tracks t ON t.id = r.track_id WHERE r.track_id = ? ${filter}
        ORDER BY r.started_at DESC, r.id DESC LIMIT 1`)
      .get(id, ...(states ?? [])) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  /** End of the most recent run that finished (completed, or stopped with its attempts kept). */
  latestFinishedRunEnd(track: string): number | null {
    const id = this.trackId(track);
    const r = this.db
      .prepare(`SELECT MAX(ended_at) AS e FROM runs WHERE track_id = ? AND ended_at IS NOT NULL AND state NOT IN ('running', 'pending')`)
      .get(id) as { e: number | null };
    return r.e;
  }

  // --- attempts -----------------------------------------------------------------------------------------------

  /** Stores one attempt atomically; the (run, task, sample) triple is unique so a resumed run never doubles one. */
  insertAttempt(runId: number, a: AttemptInput): number {
    const run = this.db.prepare('SELECT track_id FROM runs WHERE id = ?').get(runId) as { track_id: number } | undefined;
    if (!run) throw new Error(`unknown run ${runId}`);
    const res = this.insertAttemptStmt.run(this.attemptParams(runId, run.track_id, a));
    return Number(res.lastInsertRowid);
  }

  private attemptParams(runId: number, trackId: number, a: AttemptInput): Record<string, unknown> {
    return { ...a, agentApiDurationMs: a.agentApiDurationMs ?? null, runId, trackId, startedAt: ms(a.startedAt), endedAt: ms(a.endedAt) };
  }

  attemptsOfRun(runId: number): AttemptRow[] {
    const rows = this.db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? ORDER BY id`).all(runId) as (Omit<AttemptRow, 'startedAt' | 'endedAt'> & {
      startedAt: number;
      endedAt: number;
    })[];
    return rows.map((r) => ({ ...r, startedAt: isoOrNull(r.startedAt) as string, endedAt: isoOrNull(r.endedAt) as string }));
  }

  /** Attempts of a track that ended in (fromMs, toMs], oldest first. */
  attemptFacts(track: string, fromMs: number, toMs: number): AttemptFacts[] {
    const id = this.trackId(track);
    return this.db
      .prepare(`SELECT task_id AS taskId, outcome, ended_at AS endedAtMs, input_tokens AS inputTokens,
          output_tokens AS outputTokens, cache_read_tokens AS cacheReadTokens, cache_creation_tokens AS cacheCreationTokens,
          cost_usd AS costUsd, turns, tool_calls AS toolCalls, agent_duration_ms AS agentDurationMs
        FROM attempts WHERE track_id = ? AND ended_at > ? AND ended_at <= ? ORDER BY ended_at, id`)
      .all(id, fromMs, toMs) as AttemptFacts[];
  }

  /** Counted attempts (infra errors left out) that ended after `fromMs`, in time order, streamed from the database. */
  *iterateCountedOutcomes(track: string, fromMs: number): Generator<{ taskId: string; success: boolean }> {
    const id = this.trackId(track);
    const rows = this.db
      .prepare(`SELECT task_id AS taskId, outcome = 'resolved' AS success FROM attempts
        WHERE track_id = ? AND ended_at > ? AND outcome != 'infra_error' ORDER BY ended_at, id`)
      .iterate(id, fromMs) as IterableIterator<{ taskId: string; success: number }>;
    for (const r of rows) yield { taskId: r.taskId, success: r.success === 1 };
  }

  countCountedAttempts(track: string, fromMs: number): number {
    const id = this.trackId(track);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM attempts WHERE track_id = ? AND ended_at > ? AND outcome != 'infra_error'`).get(id, fromMs) as { n: number }).n;
  }

  totals(track: string): TrackTotals {
    const id = this.trackId(track);
    const byOutcome = this.db.prepare('SELECT outcome, COUNT(*) AS n FROM attempts WHERE track_id = ? GROUP BY outcome').all(id) as {
      outcome: Outcome;
      n: number;
    }[];
    // TOTAL, not SUM: SQLite's SUM of integers throws "integer overflow" past 2^63 (a store that holds such counts
    // could not even start); TOTAL sums in floating point, and a sum past the range of a double comes back Infinity,
    // which the exporter leaves out with a warning.
    const sums = this.db
      .prepare(`SELECT TOTAL(input_tokens) AS i, TOTAL(output_tokens) AS o, TOTAL(cache_read_tokens) AS cr,
          TOTAL(cache_creation_tokens) AS cc, TOTAL(cost_usd) AS c FROM attempts WHERE track_id = ?`)
      .get(id) as { i: number; o: number; cr: number; cc: number; c: number };
    const attemptsByOutcome = { resolved: 0, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 } as Record<Outcome, number>;
    for (const r of byOutcome) attemptsByOutcome[r.outcome] = r.n;
    return { attemptsByOutcome, inputTokens: sums.i, outputTokens: sums.o, cacheReadTokens: sums.cr, cacheCreationTokens: sums.cc, costUsd: sums.c };
  }

  // --- baselines ----------------------------------------------------------------------------------------------

  /** Records a baseline change (who, when, why); the newest one is in force. */
  insertBaseline(track: string, b: BaselineInput, now = Date.now()): BaselineRow {
    const id = this.trackId(track);
    const res = this.db
      .prepare(`INSERT INTO baselines (track_id, kind, p0, from_ms, to_ms, per_task, monitor_from_ms, created_at, created_by, reason, config_spec)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, b.kind, b.p0, b.fromMs, b.toMs, b.perTask ? JSON.stringify(b.perTask) : null, b.monitorFromMs, now, b.createdBy, b.reason, b.configSpec);
    return this.listBaselines(track).find((x) => x.id === Number(res.lastInsertRowid)) as BaselineRow;
  }

  /** Newest first. */
  listBaselines(track: string): BaselineRow[] {
    const id = this.trackId(track);
    const rows = this.db
      .prepare(`SELECT b.id, t.name AS track, kind, p0, from_ms, to_ms, per_task, monitor_from_ms, b.created_at, created_by, reason, config_spec
        FROM baselines b JOIN tracks t ON t.id = b.track_id WHERE b.track_id = ? ORDER BY b.id DESC`)
      .all(id) as {
      id: number; track: string; kind: 'fixed' | 'reference'; p0: number | null; from_ms: number | null; to_ms: number | null;
      per_task: string | null; monitor_from_ms: number; created_at: number; created_by: string; reason: string; config_spec: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      track: r.track,
      kind: r.kind,
      p0: r.p0,
      fromMs: r.from_ms,
      toMs: r.to_ms,
      perTask: r.per_task ? (JSON.parse(r.per_task) as Record<string, TaskCount>) : null,
      monitorFromMs: r.monitor_from_ms,
      createdAt: isoOrNull(r.created_at) as string,
      createdBy: r.created_by,
      reason: r.reason,
      configSpec: r.config_spec,
    }));
  }

  activeBaseline(track: string): BaselineRow | null {
    return this.listBaselines(track)[0] ?? null;
  }

  /** Passes and trials per task of the attempts that ended in [fromMs, toMs], infra errors left out. */
  perTaskCounts(track: string, fromMs: number, toMs: number): Record<string, TaskCount> {
    const id = this.trackId(track);
    const rows = this.db
      .prepare(`SELECT task_id AS taskId, SUM(outcome = 'resolved') AS passes, COUNT(*) AS trials FROM attempts
        WHERE track_id = ? AND ended_at >= ? AND ended_at <= ? AND outcome != 'infra_error' GROUP BY task_id ORDER BY task_id`)
      .all(id, fromMs, toMs) as { taskId: string; passes: number; trials: number }[];
    return Object.fromEntries(rows.map((r) => [r.taskId, { passes: r.passes, trials: r.trials }]));
  }

  /** The finished runs of a track, oldest first: start, end (for the auto baseline and the volume estimate). */
  finishedRunSpans(track: string, limit: number): { startedAtMs: number; endedAtMs: number }[] {
    const id = this.trackId(track);
    return this.db
      .prepare(`SELECT started_at AS startedAtMs, ended_at AS endedAtMs FROM runs WHERE track_id = ? AND ended_at IS NOT NULL
        AND state NOT IN ('running', 'pending', 'skipped') ORDER BY ended_at LIMIT ?`)
      .all(id, limit) as { startedAtMs: number; endedAtMs: number }[];
  }

  // --- CUSUM thresholds (a cache: losing it only costs a simulation) -------------------------------------------

  loadThresholds<T>(): [string, T][] {
    const rows = this.db.prepare('SELECT key, result FROM cusum_thresholds').all() as { key: string; result: string }[];
    return rows.map((r) => [r.key, JSON.parse(r.result) as T]);
  }

  saveThreshold(key: string, result: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO cusum_thresholds (key, result, created_at) VALUES (?, ?, ?)').run(key, JSON.stringify(result), Date.now());
  }

  // --- import -------------------------------------------------------------------------------------------------

  /**
   * Stores a whole imported file in one transaction: either every new run lands or none does.
   * A run whose external key is already stored for the track is skipped, so importing a file twice is harmless.
   */
  importRuns(track: string, runs: ImportedRun[]): ImportResult {
    const id = this.trackId(track);
    // A run already stored under the same key, or starting at the same instant, is the same run seen again.
    const exists = this.db.prepare('SELECT 1 FROM runs WHERE track_id = ? AND (external_key = ? OR started_at = ?)');
    const insertRun = this.db.prepare(`INSERT INTO runs (track_id, state, trigger, reason, started_at, ended_at, agent_version,
      model_id, suite_hash, external_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const result: ImportResult = { runsStored: 0, attemptsStored: 0, runsSkipped: 0 };
    this.db.transaction(() => {
      for (const run of runs) {
        if (exists.get(id, run.externalKey, ms(run.startedAt))) {
          result.runsSkipped++;
          continue;
        }
        const res = insertRun.run(id, run.state, run.trigger, run.reason, ms(run.startedAt), run.endedAt ? ms(run.endedAt) : null,
          run.agentVersion, run.modelId, run.suiteHash, run.externalKey);
        const runId = Number(res.lastInsertRowid);
        for (const a of run.attempts) this.insertAttemptStmt.run(this.attemptParams(runId, id, a));
        result.runsStored++;
        result.attemptsStored += run.attempts.length;
      }
    })();
    return result;
  }
}
