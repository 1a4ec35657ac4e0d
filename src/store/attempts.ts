/** Attempts: one row per (run, task, sample), and what the statistics, the budget and the API read of them. */
import type Database from 'better-sqlite3';
import { isAttemptBehaviour } from '../domain/behaviour.ts';
import { isTestResults, type TestCounts } from '../domain/test-results.ts';
import type { AttemptFacts, TaskCount, TrackTotals } from '../domain/records.ts';
import type { AttemptInput, AttemptRow, Language, Outcome, PhaseTimings } from '../domain/types.ts';
import { isoOrNull } from '../domain/values.ts';
import { ms } from './db.ts';
import type { Tracks } from './tracks.ts';

const ATTEMPT_COLUMNS = `id, run_id AS runId, task_id AS taskId, sample_index AS sampleIndex, outcome, reason,
  input_tokens AS inputTokens, output_tokens AS outputTokens, cache_read_tokens AS cacheReadTokens,
  cache_creation_tokens AS cacheCreationTokens, cost_usd AS costUsd, turns, tool_calls AS toolCalls,
  agent_duration_ms AS agentDurationMs, agent_api_duration_ms AS agentApiDurationMs, grading_duration_ms AS gradingDurationMs, patch_bytes AS patchBytes,
  transcript_path AS transcriptPath, grading_log_path AS gradingLogPath, started_at AS startedAt, ended_at AS endedAt,
  phase_timings AS phaseTimings, dropped_files AS droppedFiles, patch_path AS patchPath, repository, language, behaviour, test_results AS tests`;

/** A row as SQLite returns it: instants as epoch ms, the JSON columns as text. */
type RawAttempt = Omit<AttemptRow, 'startedAt' | 'endedAt' | 'phaseTimings' | 'droppedFiles' | 'behaviour' | 'tests'> & {
  tests: string | null;
  startedAt: number;
  endedAt: number;
  phaseTimings: string | null;
  droppedFiles: string | null;
  behaviour: string | null;
};

function toAttempt(r: RawAttempt): AttemptRow {
  return {
    ...r,
    startedAt: isoOrNull(r.startedAt) as string,
    endedAt: isoOrNull(r.endedAt) as string,
    phaseTimings: parsedOr(r.phaseTimings, (v): v is PhaseTimings => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number')),
    droppedFiles: parsedOr(r.droppedFiles, (v): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')),
    patchPath: r.patchPath ?? null,
    repository: r.repository ?? null,
    language: r.language ?? null,
    behaviour: parsedOr(r.behaviour, isAttemptBehaviour),
    tests: parsedOr(r.tests, isTestResults),
  };
}

/** A JSON column's value; null when absent, or when the text is not JSON of that shape (a store edited by hand). */
function parsedOr<T>(text: string | null, ok: (v: unknown) => v is T): T | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return ok(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * A finished run (the runs table as `r`), as the statistics windows and the latest finished end count runs: one that
 * has an end and is not going on. That is completed, failed, cancelled and budget_exhausted, and an imported run of
 * any state (each has its end); a run interrupted here has no end until it resumes and ends, a skipped slot none.
 */
export const FINISHED_RUN = "r.ended_at IS NOT NULL AND r.state NOT IN ('running', 'pending')";

/** The columns of AttemptFacts, from attempts `a` joined with their runs `r`. */
const FACT_COLUMNS = `a.task_id AS taskId, a.outcome, a.ended_at AS endedAtMs, a.input_tokens AS inputTokens,
  a.output_tokens AS outputTokens, a.cache_read_tokens AS cacheReadTokens, a.cache_creation_tokens AS cacheCreationTokens,
  a.cost_usd AS costUsd, a.turns, a.tool_calls AS toolCalls, a.agent_duration_ms AS agentDurationMs,
  a.run_id AS runId, r.started_at AS runStartedAtMs, r.ended_at AS runEndedAtMs, a.behaviour,
  CASE WHEN json_valid(a.test_results) THEN json_extract(a.test_results, '$.f2p.passed', '$.f2p.total', '$.p2p.passed', '$.p2p.total') END AS testCounts`;

/**
 * The per-test counts of fact rows (the JSON array the query extracts: f2p passed, total, p2p passed, total), parsed
 * in place; null when the attempt has none, or when they are not counts with passed <= total (a store edited by hand).
 */
function withTestCounts<T extends { testCounts?: unknown }>(rows: T[]): T[] {
  for (const r of rows) {
    const counts4 = (x: unknown): x is number[] => Array.isArray(x) && x.length === 4 && x.every((n) => Number.isInteger(n) && n >= 0);
    const v = typeof r.testCounts === 'string' ? parsedOr(r.testCounts, counts4) : null;
    const counts: TestCounts | null = v && v[0]! <= v[1]! && v[2]! <= v[3]! ? { f2pPassed: v[0]!, f2pTotal: v[1]!, p2pPassed: v[2]!, p2pTotal: v[3]! } : null;
    r.testCounts = counts;
  }
  return rows;
}

/** Fact rows as SQLite returns them, their behaviour parsed in place (null when not recorded, or not of its shape). */
function withBehaviour(rows: (Omit<AttemptFacts, 'behaviour'> & { behaviour: unknown })[]): AttemptFacts[] {
  for (const r of rows) r.behaviour = typeof r.behaviour === 'string' ? parsedOr(r.behaviour, isAttemptBehaviour) : null;
  return rows as AttemptFacts[];
}

export class Attempts {
  private readonly insertStmt: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {
    this.insertStmt = this.db.prepare(`INSERT INTO attempts (run_id, track_id, task_id, sample_index, outcome,
      reason, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, turns, tool_calls,
      agent_duration_ms, agent_api_duration_ms, grading_duration_ms, patch_bytes, transcript_path, grading_log_path, started_at, ended_at,
      phase_timings, dropped_files, patch_path, repository, language, behaviour, test_results)
      VALUES (@runId, @trackId, @taskId, @sampleIndex, @outcome, @reason, @inputTokens, @outputTokens,
      @cacheReadTokens, @cacheCreationTokens, @costUsd, @turns, @toolCalls, @agentDurationMs, @agentApiDurationMs, @gradingDurationMs,
      @patchBytes, @transcriptPath, @gradingLogPath, @startedAt, @endedAt, @phaseTimings, @droppedFiles, @patchPath, @repository, @language, @behaviour,
      @tests)`);
  }

  /** Stores one attempt atomically; the (run, task, sample) triple is unique so a resumed run never doubles one. */
  insert(runId: number, a: AttemptInput): number {
    const run = this.db.prepare('SELECT track_id FROM runs WHERE id = ?').get(runId) as { track_id: number } | undefined;
    if (!run) throw new Error(`unknown run ${runId}`);
    return this.insertInto(runId, run.track_id, a);
  }

  /** Stores an attempt of a run whose track is known (an import, inside its transaction). */
  insertInto(runId: number, trackId: number, a: AttemptInput): number {
    const res = this.insertStmt.run({
      ...a,
      agentApiDurationMs: a.agentApiDurationMs ?? null,
      phaseTimings: a.phaseTimings ? JSON.stringify(a.phaseTimings) : null,
      droppedFiles: a.droppedFiles ? JSON.stringify(a.droppedFiles) : null,
      patchPath: a.patchPath ?? null,
      repository: a.repository ?? null,
      language: a.language ?? null,
      behaviour: a.behaviour ? JSON.stringify(a.behaviour) : null,
      tests: a.tests ? JSON.stringify(a.tests) : null,
      runId,
      trackId,
      startedAt: ms(a.startedAt),
      endedAt: ms(a.endedAt),
    });
    return Number(res.lastInsertRowid);
  }

  ofRun(runId: number): AttemptRow[] {
    const rows = this.db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? ORDER BY id`).all(runId) as RawAttempt[];
    return rows.map(toAttempt);
  }

  /** One attempt of a run, by its id; null when the run has no attempt with that id. */
  ofRunById(runId: number, attemptId: number): AttemptRow | null {
    const r = this.db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? AND id = ?`).get(runId, attemptId) as RawAttempt | undefined;
    return r ? toAttempt(r) : null;
  }

  /** The (task, sample) pairs a run has stored already. */
  keys(runId: number): Set<string> {
    const rows = this.db.prepare('SELECT task_id, sample_index FROM attempts WHERE run_id = ?').all(runId) as { task_id: string; sample_index: number }[];
    return new Set(rows.map((r) => `${r.task_id}#${r.sample_index}`));
  }

  /** Attempts of a track that ended in (fromMs, toMs], oldest first. */
  facts(track: string, fromMs: number, toMs: number): AttemptFacts[] {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT ${FACT_COLUMNS} FROM attempts a JOIN runs r ON r.id = a.run_id
        WHERE a.track_id = ? AND a.ended_at > ? AND a.ended_at <= ? ORDER BY a.ended_at, a.id`)
      .all(id, fromMs, toMs) as Parameters<typeof withBehaviour>[0];
    return withBehaviour(withTestCounts(rows));
  }

  /**
   * Every attempt of the track's finished runs ({@link FINISHED_RUN}) that started at or after `startedFromMs`, oldest
   * first: what the statistics windows choose their whole runs from. A run going on (or interrupted, to resume) has
   * none here.
   */
  ofFinishedRunsSince(track: string, startedFromMs: number): AttemptFacts[] {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT ${FACT_COLUMNS} FROM attempts a JOIN runs r ON r.id = a.run_id
        WHERE a.run_id IN (SELECT r.id FROM runs r WHERE r.track_id = ? AND r.started_at >= ? AND ${FINISHED_RUN})
        ORDER BY a.ended_at, a.id`)
      .all(id, startedFromMs) as Parameters<typeof withBehaviour>[0];
    return withBehaviour(withTestCounts(rows));
  }

  /**
   * Each given task's repository and language, as its latest stored attempt that names one stored them (from the frozen
   * suite's task, or an import); a task no attempt names one of is left out of that map (the breakdown's `unknown`).
   * One index lookup per task and column (attempts_by_track_task), however long the history.
   */
  taskGroups(track: string, taskIds: Iterable<string>): { repository: Map<string, string>; language: Map<string, Language> } {
    const id = this.tracks.id(track);
    const latest = (column: 'repository' | 'language') =>
      this.db.prepare(`SELECT ${column} AS value FROM attempts WHERE track_id = ? AND task_id = ? AND ${column} IS NOT NULL ORDER BY id DESC LIMIT 1`);
    const repository = latest('repository');
    const language = latest('language');
    const out = { repository: new Map<string, string>(), language: new Map<string, Language>() };
    for (const taskId of taskIds) {
      const r = repository.get(id, taskId) as { value: string } | undefined;
      if (r) out.repository.set(taskId, r.value);
      const l = language.get(id, taskId) as { value: Language } | undefined;
      if (l) out.language.set(taskId, l.value);
    }
    return out;
  }

  /** Counted attempts (infra errors left out) that ended after `fromMs`, in time order, streamed from the database. */
  *iterateCounted(track: string, fromMs: number): Generator<{ taskId: string; success: boolean }> {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT task_id AS taskId, outcome = 'resolved' AS success FROM attempts
        WHERE track_id = ? AND ended_at > ? AND outcome != 'infra_error' ORDER BY ended_at, id`)
      .iterate(id, fromMs) as IterableIterator<{ taskId: string; success: number }>;
    for (const r of rows) yield { taskId: r.taskId, success: r.success === 1 };
  }

  countCounted(track: string, fromMs: number): number {
    const id = this.tracks.id(track);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM attempts WHERE track_id = ? AND ended_at > ? AND outcome != 'infra_error'`).get(id, fromMs) as { n: number }).n;
  }

  /** Passes and trials per task of the attempts that ended in [fromMs, toMs], infra errors left out. */
  perTask(track: string, fromMs: number, toMs: number): Record<string, TaskCount> {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT task_id AS taskId, SUM(outcome = 'resolved') AS passes, COUNT(*) AS trials FROM attempts
        WHERE track_id = ? AND ended_at >= ? AND ended_at <= ? AND outcome != 'infra_error' GROUP BY task_id ORDER BY task_id`)
      .all(id, fromMs, toMs) as { taskId: string; passes: number; trials: number }[];
    return Object.fromEntries(rows.map((r) => [r.taskId, { passes: r.passes, trials: r.trials }]));
  }

  /**
   * Each task's latest counted attempt (infra errors left out), by task id: the attempt that ended last (the larger id
   * on a tie). What the per-task history shows as the latest outcome.
   */
  latestPerTask(track: string): { taskId: string; outcome: Exclude<Outcome, 'infra_error'>; endedAtMs: number; runId: number }[] {
    const id = this.tracks.id(track);
    return this.db
      .prepare(`SELECT taskId, outcome, endedAtMs, runId FROM (
          SELECT task_id AS taskId, outcome, ended_at AS endedAtMs, run_id AS runId,
            ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY ended_at DESC, id DESC) AS n
          FROM attempts WHERE track_id = ? AND outcome != 'infra_error')
        WHERE n = 1 ORDER BY taskId`)
      .all(id) as { taskId: string; outcome: Exclude<Outcome, 'infra_error'>; endedAtMs: number; runId: number }[];
  }

  totals(track: string): TrackTotals {
    const id = this.tracks.id(track);
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

  /** Cost (USD) and count of the track's attempts that ended in [fromMs, toMs). */
  costBetween(track: string, fromMs: number, toMs: number): { costUsd: number; attempts: number } {
    return this.db
      .prepare('SELECT TOTAL(cost_usd) AS costUsd, COUNT(*) AS attempts FROM attempts WHERE track_id = ? AND ended_at >= ? AND ended_at < ?')
      .get(this.tracks.id(track), fromMs, toMs) as { costUsd: number; attempts: number };
  }

  /** Cost of the track's attempts that ended in [fromMs, toMs). */
  spentBetween(track: string, fromMs: number, toMs: number): number {
    return this.costBetween(track, fromMs, toMs).costUsd;
  }
}
