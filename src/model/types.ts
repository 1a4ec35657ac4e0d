/**
 * Record types shared by every room: what an attempt and a run are.
 * Pure declarations, no I/O.
 */

export const OUTCOMES = ['resolved', 'unresolved', 'agent_error', 'timeout', 'infra_error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

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

/** States after which a run never changes again. */
export const FINISHED_RUN_STATES: readonly RunState[] = ['completed', 'failed', 'cancelled', 'skipped', 'budget_exhausted'];

export const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_creation'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

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
