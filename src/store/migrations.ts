/**
 * Versioned schema migrations. Append only: a released migration is never edited, a change is a new entry.
 * Instants are stored as integer milliseconds since the epoch (UTC) so that window queries are index range scans.
 */
import { LANGUAGES, OUTCOMES, RUN_STATES } from '../domain/types.ts';

const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'tracks, suites, runs, attempts',
    sql: `
      CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        agent TEXT NOT NULL,
        model TEXT NOT NULL,
        suite_hash TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE suites (
        hash TEXT PRIMARY KEY,
        task_ids TEXT NOT NULL,
        dataset_revision TEXT,
        harness_commit TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN (${list(RUN_STATES)})),
        trigger TEXT NOT NULL,
        reason TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        agent_version TEXT,
        model_id TEXT,
        suite_hash TEXT,
        external_key TEXT,
        UNIQUE (track_id, external_key)
      );
      CREATE INDEX runs_by_track_start ON runs (track_id, started_at);
      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        task_id TEXT NOT NULL,
        sample_index INTEGER NOT NULL CHECK (sample_index >= 0),
        outcome TEXT NOT NULL CHECK (outcome IN (${list(OUTCOMES)})),
        reason TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
        output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
        cache_read_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_creation_tokens >= 0),
        cost_usd REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
        turns INTEGER NOT NULL DEFAULT 0 CHECK (turns >= 0),
        tool_calls INTEGER NOT NULL DEFAULT 0 CHECK (tool_calls >= 0),
        agent_duration_ms INTEGER,
        grading_duration_ms INTEGER,
        patch_bytes INTEGER,
        transcript_path TEXT,
        grading_log_path TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        UNIQUE (run_id, task_id, sample_index)
      );
      CREATE INDEX attempts_by_track_end ON attempts (track_id, ended_at);
    `,
  },
  {
    version: 2,
    name: 'baselines and cached CUSUM thresholds',
    sql: `
      CREATE TABLE baselines (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('fixed', 'reference')),
        p0 REAL CHECK (p0 IS NULL OR (p0 >= 0 AND p0 <= 1)),
        from_ms INTEGER,
        to_ms INTEGER,
        per_task TEXT,
        monitor_from_ms INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        config_spec TEXT,
        CHECK ((kind = 'fixed' AND p0 IS NOT NULL) OR (kind = 'reference' AND from_ms IS NOT NULL AND to_ms IS NOT NULL AND per_task IS NOT NULL))
      );
      CREATE INDEX baselines_by_track ON baselines (track_id, id);
      CREATE TABLE cusum_thresholds (
        key TEXT PRIMARY KEY,
        result TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'the plan of a run (its task ids and samples), so an interrupted run resumes with exactly the missing attempts',
    sql: `ALTER TABLE runs ADD COLUMN plan TEXT;`,
  },
  {
    version: 4,
    name: 'operations: how each run ended (and slots missed while the daemon was down), and how far each schedule was handled',
    sql: `
      CREATE TABLE run_events (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN (${list(RUN_STATES)}, 'missed')),
        count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
        at INTEGER NOT NULL,
        slot_from INTEGER,
        slot_to INTEGER,
        reason TEXT
      );
      CREATE INDEX run_events_by_track ON run_events (track_id, kind);
      CREATE TABLE schedule_marks (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        covered_until INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'track leases: which process (the daemon, or an agentdrift run) is running a track, so two never run it at once',
    sql: `
      CREATE TABLE track_leases (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        holder TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        purpose TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        renewed_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'images: the references agentdrift pulled itself (only those are ever removed), and the images of each track\'s suite',
    sql: `
      CREATE TABLE pulled_images (
        ref TEXT PRIMARY KEY,
        pulled_at INTEGER NOT NULL
      );
      CREATE TABLE track_images (
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        ref TEXT NOT NULL,
        PRIMARY KEY (track_id, ref)
      );
    `,
  },
  {
    version: 7,
    name: 'the share of an attempt\'s agent time spent on the model API (the CLI\'s duration_api_ms)',
    sql: `ALTER TABLE attempts ADD COLUMN agent_api_duration_ms INTEGER;`,
  },
  {
    version: 8,
    name: 'what the agent did: each attempt\'s phase timings, the binary files dropped from its candidate patch, and the stored patch',
    // All three NULL on older rows (and imported ones): not recorded.
    sql: `
      ALTER TABLE attempts ADD COLUMN phase_timings TEXT;
      ALTER TABLE attempts ADD COLUMN dropped_files TEXT;
      ALTER TABLE attempts ADD COLUMN patch_path TEXT;
    `,
  },
  {
    version: 9,
    name: 'each graded attempt\'s per-test results: counts and capped names of its fail_to_pass and pass_to_pass tests',
    // A compact JSON (domain/test-results.ts) per attempt; NULL on older rows, attempts not graded, those whose
    // output.json was missing or malformed, and imports without it: left out of the graded score and p2p breakage.
    sql: `ALTER TABLE attempts ADD COLUMN test_results TEXT CHECK (test_results IS NULL OR json_valid(test_results));`,
  },
  {
    version: 10,
    name: 'what the agent did in each attempt: tool calls by tool, reads before the first edit, thinking, API errors and retries, candidate patch size',
    // A compact JSON (domain/behaviour.ts) per attempt; NULL on older rows, oracle attempts and imports without it:
    // not recorded, and left out of the behaviour means and tests.
    sql: `ALTER TABLE attempts ADD COLUMN behaviour TEXT;`,
  },
  {
    version: 11,
    name: 'each attempt\'s task repository and language (from the frozen suite\'s task, or the imported attempt), for the breakdown by group',
    // NULL on older rows and on imported attempts without them: grouped as `unknown`. The index finds a task's latest
    // attempt that names them without a scan of the track's history.
    sql: `
      ALTER TABLE attempts ADD COLUMN repository TEXT;
      ALTER TABLE attempts ADD COLUMN language TEXT CHECK (language IS NULL OR language IN (${list(LANGUAGES)}));
      CREATE INDEX attempts_by_track_task ON attempts (track_id, task_id);
    `,
  },
];
