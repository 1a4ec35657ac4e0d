/**
 * Record types shared by every room: what an attempt and a run are.
 * Pure declarations, no I/O.
 */
import type { AttemptBehaviour } from './behaviour.ts';
import type { TestResults } from './test-results.ts';

export const OUTCOMES = ['resolved', 'unresolved', 'agent_error', 'timeout', 'infra_error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Every state a run can be in: the one list of run states (the store's CHECK constraints are written from it). The
 * two lists below are derived from it and keep its order.
 */
export const RUN_STATES = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
  'skipped',
  'budget_exhausted',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** The states of a run that has not ended yet. */
const UNENDED_RUN_STATES: readonly RunState[] = ['pending', 'running'];

/** A state a run's ending is recorded with; `interrupted` included (such a run resumes later). */
export type EndedRunState = Exclude<RunState, 'pending' | 'running'>;

/**
 * The states an ending is recorded with (one run event each; a slot can also be recorded `skipped`), `interrupted`
 * included: every state but pending and running, in RUN_STATES order, which is the order of the `state` label values
 * of agentdrift_runs_total in the exposition.
 */
export const ENDED_RUN_STATES: readonly EndedRunState[] = RUN_STATES.filter((s): s is EndedRunState => !UNENDED_RUN_STATES.includes(s));

/** The states after which a run never changes again: the ended states but `interrupted`, which resumes. */
export const FINISHED_RUN_STATES: readonly RunState[] = ENDED_RUN_STATES.filter((s) => s !== 'interrupted');

/** The languages of the suite's tasks (SWE-Bench-Pro's `repo_language`): a bounded set, one `group` label value each. */
export const LANGUAGES = ['python', 'go', 'js', 'ts'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A task's repository, `owner/name` as the dataset spells it (at most 200 characters). */
export const REPOSITORY_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
export const REPOSITORY_MAX_LENGTH = 200;

export const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_creation'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/**
 * The phases of an attempt whose wall time is kept, in the order they run: the task image (pulled when missing), the
 * harness files, the agent container's start (tool volume, create, start), the agent's run (the CLI, its transcript
 * stored and parsed), the candidate patch's extraction (and storing it), the agent container's removal, then grading:
 * its container's start (create, start, files copied in), reset + patch apply + test files restored, the tests, the
 * parse and results copied out, and the container's removal.
 */
export const ATTEMPT_PHASES = [
  'image',
  'harness',
  'containerStart',
  'agent',
  'extraction',
  'agentTeardown',
  'gradingStart',
  'gradingPrepare',
  'tests',
  'gradingResults',
  'gradingTeardown',
] as const;
export type AttemptPhase = (typeof ATTEMPT_PHASES)[number];

/** Wall time (whole ms) of each phase an attempt went through; a phase it did not reach is left out. */
export type PhaseTimings = Partial<Record<AttemptPhase, number>>;

/** One attempt of one task, as the runner or an import produces it (before it has a database id). */
export interface AttemptInput {
  taskId: string;
  sampleIndex: number;
  outcome: Outcome;
  reason: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  turns: number;
  toolCalls: number;
  agentDurationMs: number | null;
  /** The share of the agent's time spent waiting on the model API (the result event's duration_ms_api). */
  agentApiDurationMs?: number | null;
  gradingDurationMs: number | null;
  patchBytes: number | null;
  transcriptPath: string | null;
  gradingLogPath: string | null;
  /** Wall time of each phase (null: not recorded, as for imported attempts and those stored before migration 8). */
  phaseTimings?: PhaseTimings | null;
  /**
   * The binary files the agent changed that its candidate patch leaves out (git apply takes text patches only), as
   * git names them, redacted; [] when none; null when no patch was extracted (timeout, extraction failed) or not recorded.
   */
  droppedFiles?: string[] | null;
  /** The stored candidate patch (gzip, beside the transcript); null when not kept (README, "What is kept of an attempt"). */
  patchPath?: string | null;
  /** What the agent did (behaviour.ts): null when not recorded (an oracle run, an old row, an import without it). */
  behaviour?: AttemptBehaviour | null;
  /**
   * The per-test results of grading (test-results.ts: counts and capped names of fail_to_pass and pass_to_pass); null
   * when not graded, when output.json was missing or malformed, on rows stored before migration 9 and imports without it.
   */
  tests?: TestResults | null;
  /**
   * The task's repository (`owner/name`) and language, from the frozen suite's task (or an imported attempt); null
   * when not known (attempts stored before migration 11, imported ones without them): grouped as `unknown`.
   */
  repository?: string | null;
  language?: Language | null;
  /** ISO 8601 instants. */
  startedAt: string;
  endedAt: string;
}

export interface AttemptRow extends AttemptInput {
  id: number;
  runId: number;
}

export interface RunInput {
  track: string;
  state: RunState;
  startedAt: string;
  endedAt: string | null;
  agentVersion: string | null;
  modelId: string | null;
  suiteHash: string | null;
  /** Where the run came from: 'scheduler', 'manual', 'cli', 'import', 'catch-up'. */
  trigger: string;
  reason: string | null;
}

export interface RunRow extends RunInput {
  id: number;
}
