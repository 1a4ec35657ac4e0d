/**
 * What the agent did in one attempt, beyond its usage (issue 12, part 4): its tool calls by tool, the files it read
 * before its first edit, its thinking, the turns that ended in an API error or a retry, and the size of its candidate
 * patch. The agent room extracts it from the stream (src/agent/behaviour.ts), the store keeps it per attempt, the
 * figures average and test it (src/core/figures/behaviour.ts). Pure declarations and small pure helpers.
 */

/**
 * The tool labels agentdrift counts by name, in the order the exposition lists them (docs/metrics.md): the tools of
 * the Claude Code CLI it ships (its init event's list, 2.1.x) that an agent solving a task uses to read, search, edit,
 * run, plan, delegate and look up, and the file tools older versions offer (MultiEdit, Grep, Glob, LS, TodoWrite).
 * Every other name (the CLI's cron, worktree and messaging tools, MCP tools `mcp__*`, a tool of a later version) is
 * counted as `other`, so the label's values stay this list: 17 names and `other`.
 */
export const AGENT_TOOLS = [
  'Bash',
  'Read',
  'Edit',
  'MultiEdit',
  'Write',
  'NotebookEdit',
  'Grep',
  'Glob',
  'LS',
  'Task',
  'TodoWrite',
  'TaskCreate',
  'TaskUpdate',
  'WebFetch',
  'WebSearch',
  'Skill',
  'ToolSearch',
] as const;
export type AgentTool = (typeof AGENT_TOOLS)[number];
export type ToolLabel = AgentTool | 'other';

/** Every value of the `tool` label: AGENT_TOOLS, then `other`. */
export const TOOL_LABELS: readonly ToolLabel[] = [...AGENT_TOOLS, 'other'];

const KNOWN_TOOLS: ReadonlySet<string> = new Set(AGENT_TOOLS);

/** The label a tool name is counted under: itself when it is one of AGENT_TOOLS (exact, case-sensitive), else `other`. */
export function toolLabel(name: string): ToolLabel {
  return KNOWN_TOOLS.has(name) ? (name as AgentTool) : 'other';
}

/** Tools that only look at files: a call of one is a file read. (Bash commands that only look count too: agent room.) */
export const READ_TOOLS: ReadonlySet<string> = new Set(['Read', 'NotebookRead', 'Grep', 'Glob', 'LS']);
/** Tools that change files: the first call of one is the attempt's first edit. */
export const EDIT_TOOLS: ReadonlySet<string> = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit']);

/** One attempt's behaviour, as stored (a compact JSON per attempt) and imported. */
export interface AttemptBehaviour {
  /** Tool calls by label (labels with no call left out). Their sum is the attempt's tool calls. */
  toolCalls: Partial<Record<ToolLabel, number>>;
  /** File reads: calls of READ_TOOLS and Bash commands that only look at files (src/agent/behaviour.ts). */
  fileReads: number;
  /** File reads before the first call of an EDIT_TOOLS tool; null when the agent made no such call. */
  readsBeforeFirstEdit: number | null;
  /** Calls of EDIT_TOOLS tools. */
  fileEdits: number;
  /** Characters (Unicode code points) of the thinking blocks' text; redacted or omitted thinking has none. */
  thinkingChars: number;
  /** Thinking blocks, redacted ones included. */
  thinkingBlocks: number;
  /** Thinking tokens: the API's count when the stream's result reports one, else the CLI's estimate; 0 without either. */
  thinkingTokens: number;
  /** API calls the CLI retried (system/api_retry events). */
  apiRetries: number;
  /** Turns that ended in an API error the CLI gave up on (its synthetic API error messages). */
  apiErrors: number;
  /** The candidate patch's text files, lines added and lines removed; null when there was no patch (timeout, extraction failed). */
  patchFiles: number | null;
  patchLinesAdded: number | null;
  patchLinesRemoved: number | null;
}

/**
 * The behaviour metrics the figures average per window and test against the reference (docs/statistics.md). Each is
 * a per-attempt number; an attempt whose value is null (no edit, no patch) is left out of that metric only.
 */
export const BEHAVIOUR_METRICS = [
  'reads_before_first_edit',
  'file_reads',
  'file_edits',
  'thinking_chars',
  'thinking_tokens',
  'api_error_turns',
  'patch_files',
  'patch_lines_added',
  'patch_lines_removed',
] as const;
export type BehaviourMetric = (typeof BEHAVIOUR_METRICS)[number];

export const behaviourValue: Record<BehaviourMetric, (b: AttemptBehaviour) => number | null> = {
  reads_before_first_edit: (b) => b.readsBeforeFirstEdit,
  file_reads: (b) => b.fileReads,
  file_edits: (b) => b.fileEdits,
  thinking_chars: (b) => b.thinkingChars,
  thinking_tokens: (b) => b.thinkingTokens,
  api_error_turns: (b) => b.apiRetries + b.apiErrors,
  patch_files: (b) => b.patchFiles,
  patch_lines_added: (b) => b.patchLinesAdded,
  patch_lines_removed: (b) => b.patchLinesRemoved,
};

const COUNT_FIELDS = ['fileReads', 'fileEdits', 'thinkingChars', 'thinkingBlocks', 'thinkingTokens', 'apiRetries', 'apiErrors'] as const;
const NULLABLE_FIELDS = ['readsBeforeFirstEdit', 'patchFiles', 'patchLinesAdded', 'patchLinesRemoved'] as const;
const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const LABELS: ReadonlySet<string> = new Set(TOOL_LABELS);

/** Whether a value (a stored JSON column read back) is an AttemptBehaviour: every field there, of its type, counts >= 0. */
export function isAttemptBehaviour(v: unknown): v is AttemptBehaviour {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const b = v as Record<string, unknown>;
  const tools = b.toolCalls;
  if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) return false;
  if (!Object.entries(tools).every(([k, n]) => LABELS.has(k) && isCount(n))) return false;
  return COUNT_FIELDS.every((k) => isCount(b[k])) && NULLABLE_FIELDS.every((k) => b[k] === null || isCount(b[k]));
}
