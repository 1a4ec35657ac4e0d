/**
 * The records the store keeps, as the other rooms read and write them: tracks, leases, suites, run plans, baselines,
 * imports, the operations record. Plain data, no I/O (the store's repositories in src/store/ read and write them).
 */
import type { AttemptInput, Outcome, RunInput } from './types.ts';
import type { TestCounts } from './test-results.ts';

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
  'taskId' | 'outcome' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheCreationTokens' | 'costUsd' | 'turns' | 'toolCalls' | 'agentDurationMs' | 'behaviour'
> & {
  endedAtMs: number;
  /** The run the attempt belongs to, and when that run started and ended (null while it has not): windows hold whole runs. */
  runId: number;
  runStartedAtMs: number;
  runEndedAtMs: number | null;
  /** The counts of the attempt's per-test results (no names); null or absent when it has none. */
  testCounts?: TestCounts | null;
};

export interface TrackTotals {
  attemptsByOutcome: Record<Outcome, number>;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
}

/** A frozen task selection, stored under its hash. */
export interface SuiteRow {
  hash: string;
  taskIds: string[];
  datasetRevision: string | null;
  harnessCommit: string | null;
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

/** Slots of a track missed while the daemon was down: `count` of them in [fromMs, toMs], recorded at `at`. */
export interface MissedRecord {
  count: number;
  fromMs: number;
  toMs: number;
  at: number;
  reason: string;
}

export interface RunFigures {
  /** Attempts stored. */
  done: number;
  /** Attempts planned (tasks x samples); null for a run without a plan (imported, skipped). */
  total: number | null;
  resolved: number;
  costUsd: number;
}

export interface ReportedVersion {
  /** Agent version as the agent reported it; null when the run recorded only a model. */
  v: string | null;
  /** Model as the agent reported it; null when the run recorded only a version. */
  m: string | null;
}
