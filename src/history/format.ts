/**
 * The history file formats agentdrift reads and writes (docs/import-format.md). Pure: text in, runs out.
 *  - agentdrift's own format, "agentdrift-history/1", which `agentdrift export` writes;
 *  - the results.json that the peer tracker's `margin` CLI writes, so its users can bring their history.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { InputError, describeIssue } from '../model/issues.ts';
import { OUTCOMES, type AttemptInput, type AttemptRow, type RunRow } from '../model/types.ts';
import type { ImportedRun } from '../store/store.ts';

export const HISTORY_FORMAT = 'agentdrift-history/1';

export class ImportError extends InputError {}

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 instant such as 2026-01-31T03:00:00Z' });
const count = z.number().int().min(0);
const optionalMs = z.number().min(0).nullable().default(null);

const attemptSchema = z.strictObject({
  taskId: z.string().min(1).max(512),
  sampleIndex: count.default(0),
  outcome: z.enum(OUTCOMES),
  reason: z.string().max(4096).nullable().default(null),
  inputTokens: count.default(0),
  outputTokens: count.default(0),
  cacheReadTokens: count.default(0),
  cacheCreationTokens: count.default(0),
  costUsd: z.number().min(0).default(0),
  turns: count.default(0),
  toolCalls: count.default(0),
  agentDurationMs: optionalMs,
  gradingDurationMs: optionalMs,
  patchBytes: count.nullable().default(null),
  startedAt: instant.optional(),
  endedAt: instant.optional(),
});

const FINISHED_IMPORT_STATES = ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exhausted'] as const;

const runSchema = z
  .strictObject({
    startedAt: instant,
    endedAt: instant,
    state: z.enum(FINISHED_IMPORT_STATES).default('completed'),
    reason: z.string().max(4096).nullable().default(null),
    agentVersion: z.string().max(200).nullable().default(null),
    modelId: z.string().max(200).nullable().default(null),
    suiteHash: z.string().max(200).nullable().default(null),
    attempts: z.array(attemptSchema),
  })
  .superRefine((run, ctx) => {
    if (Date.parse(run.endedAt) < Date.parse(run.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['endedAt'], message: 'expected an instant at or after startedAt' });
    }
    const seen = new Set<string>();
    run.attempts.forEach((a, i) => {
      const key = `${a.taskId}#${a.sampleIndex}`;
      if (seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['attempts', i, 'sampleIndex'], message: `expected each (taskId, sampleIndex) once per run; ${key} repeats` });
      }
      seen.add(key);
      const s = Date.parse(a.startedAt ?? run.startedAt);
      const e = Date.parse(a.endedAt ?? run.endedAt);
      if (e < s) ctx.addIssue({ code: 'custom', path: ['attempts', i, 'endedAt'], message: 'expected an instant at or after the attempt\'s startedAt' });
    });
  });

const historySchema = z.strictObject({
  format: z.literal(HISTORY_FORMAT),
  track: z.string().optional(),
  exportedAt: instant.optional(),
  runs: z.array(runSchema),
});

const marginUsage = z
  .looseObject({
    input_tokens: count.optional(),
    output_tokens: count.optional(),
    cache_read_input_tokens: count.optional(),
    cache_creation_input_tokens: count.optional(),
    cache_read_tokens: count.optional(),
    cache_creation_tokens: count.optional(),
    cost_usd: z.number().min(0).optional(),
    total_cost_usd: z.number().min(0).optional(),
    num_turns: count.optional(),
    turns: count.optional(),
    tool_calls: count.optional(),
  })
  .nullable()
  .optional();

const marginInstance = z.looseObject({
  case_id: z.string().min(1),
  sample_index: count.default(0),
  final_state: z.enum(['succeeded', 'test_failed', 'infra_failed', 'canceled']),
  runtime_ms: z.number().min(0).nullable().optional(),
  usage: marginUsage,
});

const marginSchema = z.looseObject({ instances: z.array(marginInstance) });

const MARGIN_OUTCOME = { succeeded: 'resolved', test_failed: 'unresolved', infra_failed: 'infra_error' } as const;

export interface ParsedHistory {
  kind: 'agentdrift' | 'margin';
  runs: ImportedRun[];
  /** Things the reader should know that were not errors (e.g. canceled instances left out). */
  notes: string[];
}

export interface ParseOptions {
  /** Name of the file (its parent directory may carry the run time of a margin results.json). */
  fileName: string;
  /** Run time for a margin results.json (ISO). */
  at?: string | undefined;
}

export function parseHistory(text: string, opts: ParseOptions): ParsedHistory {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ImportError(`${opts.fileName} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    if ('format' in raw) return parseNative(raw, opts);
    if ('instances' in raw) return parseMargin(raw, opts);
  }
  throw new ImportError(
    `${opts.fileName} is neither an agentdrift history file (no "format": "${HISTORY_FORMAT}") nor a margin results.json (no "instances" list)`,
  );
}

function fail(fileName: string, error: z.ZodError, raw: unknown): never {
  const problems = error.issues.slice(0, 50).map((i) => describeIssue(i, raw));
  if (error.issues.length > 50) problems.push(`... and ${error.issues.length - 50} more`);
  throw new ImportError(`${fileName} was rejected; nothing from it was stored`, problems);
}

function parseNative(raw: object, opts: ParseOptions): ParsedHistory {
  const parsed = historySchema.safeParse(raw);
  if (!parsed.success) fail(opts.fileName, parsed.error, raw);
  const runs = parsed.data.runs.map((r): ImportedRun => ({
    state: r.state,
    trigger: 'import',
    reason: r.reason,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    agentVersion: r.agentVersion,
    modelId: r.modelId,
    suiteHash: r.suiteHash,
    externalKey: `${HISTORY_FORMAT}:${new Date(r.startedAt).toISOString()}`,
    attempts: r.attempts.map((a) => ({
      ...a,
      transcriptPath: null,
      gradingLogPath: null,
      startedAt: a.startedAt ?? r.startedAt,
      endedAt: a.endedAt ?? r.endedAt,
    })),
  }));
  return { kind: 'agentdrift', runs, notes: [] };
}

/** The run time of a margin results.json: --at, else a YYYYMMDD-HHMMSS directory name (UTC) holding it. */
export function marginRunTime(fileName: string, at?: string): string {
  if (at) {
    // An explicit zone is required: without one Date.parse reads the time in this machine's zone, so the same command
    // would store a different instant on another host.
    if (!instant.safeParse(at).success) {
      const hint = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(at) ? ' (no time zone given; it would be read as local time)' : '';
      throw new ImportError(
        `--at ${JSON.stringify(at)}: expected an ISO 8601 instant with a time zone, Z or ±hh:mm, such as 2026-01-31T03:00:00Z or 2026-01-31T04:00:00+01:00${hint}`,
      );
    }
    return new Date(Date.parse(at)).toISOString();
  }
  const dir = path.basename(path.dirname(path.resolve(fileName)));
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(dir);
  if (!m) {
    throw new ImportError(
      `${fileName}: a margin results.json carries no date; pass --at ISO, or keep it in its YYYYMMDD-HHMMSS run directory (found "${dir}")`,
    );
  }
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  if (Number.isNaN(Date.parse(iso)) || new Date(iso).toISOString() !== iso.replace('Z', '.000Z')) {
    throw new ImportError(`${fileName}: directory name "${dir}" is not a real date and time`);
  }
  return new Date(iso).toISOString();
}

function parseMargin(raw: object, opts: ParseOptions): ParsedHistory {
  const parsed = marginSchema.safeParse(raw);
  if (!parsed.success) fail(opts.fileName, parsed.error, raw);
  const startedAt = marginRunTime(opts.fileName, opts.at);
  const start = Date.parse(startedAt);
  const notes: string[] = [];
  const seen = new Set<string>();
  const problems: string[] = [];
  const attempts: AttemptInput[] = [];
  let canceled = 0;
  parsed.data.instances.forEach((inst, i) => {
    const key = `${inst.case_id}#${inst.sample_index}`;
    if (seen.has(key)) problems.push(`instances[${i}]: (case_id, sample_index) ${key} repeats`);
    seen.add(key);
    if (inst.final_state === 'canceled') {
      canceled++;
      return;
    }
    const u = inst.usage ?? {};
    const runtime = inst.runtime_ms ?? null;
    attempts.push({
      taskId: inst.case_id,
      sampleIndex: inst.sample_index,
      outcome: MARGIN_OUTCOME[inst.final_state],
      reason: `margin final_state ${inst.final_state}`,
      inputTokens: u.input_tokens ?? 0,
      outputTokens: u.output_tokens ?? 0,
      cacheReadTokens: u.cache_read_input_tokens ?? u.cache_read_tokens ?? 0,
      cacheCreationTokens: u.cache_creation_input_tokens ?? u.cache_creation_tokens ?? 0,
      costUsd: u.total_cost_usd ?? u.cost_usd ?? 0,
      turns: u.num_turns ?? u.turns ?? 0,
      toolCalls: u.tool_calls ?? 0,
      agentDurationMs: runtime,
      gradingDurationMs: null,
      patchBytes: null,
      transcriptPath: null,
      gradingLogPath: null,
      startedAt,
      endedAt: new Date(start + (runtime ?? 0)).toISOString(),
    });
  });
  // A run with no attempt would still be a "completed" run: it would move window ends and last_success. A run of
  // infra failures only is kept: it is what that day was, and the infra error series should show it.
  if (attempts.length === 0) {
    const total = parsed.data.instances.length;
    problems.push(
      total === 0
        ? 'instances: got an empty list; expected at least one instance that succeeded, test_failed or infra_failed'
        : `instances: got ${total} instance(s), all canceled; expected at least one that succeeded, test_failed or infra_failed`,
    );
  }
  if (problems.length) throw new ImportError(`${opts.fileName} was rejected; nothing from it was stored`, problems);
  if (canceled) notes.push(`${canceled} canceled instance(s) left out: a cancellation is not an outcome of the agent`);
  const endedAt = new Date(Math.max(start, ...attempts.map((a) => Date.parse(a.endedAt)))).toISOString();
  const digest = createHash('sha256').update(JSON.stringify(parsed.data.instances.map((x) => [x.case_id, x.sample_index]))).digest('hex').slice(0, 16);
  return {
    kind: 'margin',
    notes,
    runs: [
      {
        state: 'completed',
        trigger: 'import',
        reason: 'imported from a margin results.json',
        startedAt,
        endedAt,
        agentVersion: null,
        modelId: null,
        suiteHash: null,
        externalKey: `margin:${startedAt}:${digest}`,
        attempts,
      },
    ],
  };
}

/** The export document for one track, in the format `parseHistory` reads back. */
export function toHistoryDocument(track: string, runs: Iterable<RunRow & { attempts: AttemptRow[] }>, now = new Date()): unknown {
  const out = [];
  for (const r of runs) {
    if (!r.endedAt || r.state === 'running' || r.state === 'pending' || r.state === 'skipped') continue;
    out.push({
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      state: r.state,
      reason: r.reason,
      agentVersion: r.agentVersion,
      modelId: r.modelId,
      suiteHash: r.suiteHash,
      attempts: r.attempts.map((a) => ({
        taskId: a.taskId,
        sampleIndex: a.sampleIndex,
        outcome: a.outcome,
        reason: a.reason,
        inputTokens: a.inputTokens,
        outputTokens: a.outputTokens,
        cacheReadTokens: a.cacheReadTokens,
        cacheCreationTokens: a.cacheCreationTokens,
        costUsd: a.costUsd,
        turns: a.turns,
        toolCalls: a.toolCalls,
        agentDurationMs: a.agentDurationMs,
        gradingDurationMs: a.gradingDurationMs,
        patchBytes: a.patchBytes,
        startedAt: a.startedAt,
        endedAt: a.endedAt,
      })),
    });
  }
  return { format: HISTORY_FORMAT, track, exportedAt: now.toISOString(), runs: out };
}
