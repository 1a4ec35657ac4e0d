/**
 * The agent room's declarations: how an agent CLI is invoked and what one attempt's transcript says.
 * Pure declarations, no I/O. Other CLIs can follow Claude Code by implementing {@link Agent}.
 */
import type { StreamBehaviour } from './behaviour.ts';

/** How the agent authenticates. Exactly one kind; every secret value ends up in `Invocation.redact`. */
export type Credentials =
  | { apiKey: string }
  | { oauthToken: string }
  | {
      bedrock: {
        region: string;
        accessKeyId?: string;
        secretAccessKey?: string;
        sessionToken?: string;
        /** A Bedrock API key (bearer token), instead of access keys. */
        bearerToken?: string;
        profile?: string;
      };
    }
  | {
      vertex: {
        projectId: string;
        region: string;
        /** Path (inside the container) of a service-account JSON file. */
        credentialsFile?: string;
      };
    };

export interface InvocationOptions {
  /** The official prompt (see prompt.ts). */
  prompt: string;
  model: string;
  maxTurns: number;
  maxBudgetUsd: number;
  credentials: Credentials;
  /** ANTHROPIC_BASE_URL: a gateway, or the fake API in tests. */
  baseUrl?: string;
  /** Path of the CLI binary where it runs (default `claude`, found on PATH). */
  binary?: string;
  /** Working directory (default `/app`, where SWE-Bench-Pro images check the repository out). */
  cwd?: string;
  /** Extra environment (e.g. CLAUDE_CODE_MAX_RETRIES in tests); cannot override credentials. */
  extraEnv?: Record<string, string>;
}

export interface Invocation {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Feed this to the process's stdin (set when the prompt is too long for one argv entry). */
  stdin?: string;
  /** Secret values that must be replaced by [REDACTED] in anything stored or logged. */
  redact: string[];
}

/** How the agent's own run ended. `timeout` is set by the runner when it had to kill the agent. */
export type AgentOutcome = 'completed' | 'agent_error' | 'timeout';

/** Why the agent run is an error (null when completed). */
export type AgentErrorSubtype =
  | 'error_max_turns'
  | 'error_during_execution'
  | 'error_max_budget_usd'
  | 'api_error'
  | 'no_result'
  | 'timeout'
  | (string & {});

export interface AgentResult {
  cliVersion: string | null;
  /** Model the CLI reported in its init event (falls back to the assistant messages' model). */
  model: string | null;
  outcome: AgentOutcome;
  errorSubtype: AgentErrorSubtype | null;
  /** HTTP status / error type of an API error that ended the run. */
  apiErrorStatus: number | null;
  apiErrorType: string | null;
  /** The result event's error messages, joined (null when none). */
  errorMessage: string | null;
  isError: boolean;
  turns: number;
  toolCalls: number;
  toolCallsByName: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  durationMs: number | null;
  durationApiMs: number | null;
  resultText: string | null;
  /** Whether the totals come from the final `result` event (true) or were summed from assistant messages (false). */
  totalsFromResult: boolean;
  /** API retries the CLI reported (system/api_retry events). */
  apiRetries: number;
  /** JSON events parsed. */
  events: number;
  /** Non-empty lines that were not JSON objects (counted, never thrown). */
  garbageLines: number;
  /** What the agent did, as the stream tells it (behaviour.ts); the runner adds the patch's size. */
  behaviour: StreamBehaviour;
}

export interface Agent {
  readonly name: 'claude-code';
  /** Version of the CLI the project ships (what gets mounted into containers). */
  version(): string;
  /** Parses the output of `<binary> --version`. */
  parseVersion(output: string): string | null;
  buildInvocation(opts: InvocationOptions): Invocation;
  /** Pure: the transcript's lines (stdout of the CLI) into a result. Never throws. */
  parseTranscript(lines: Iterable<string> | string): AgentResult;
}
