/**
 * The history file formats agentdrift reads and writes (docs/import-format.md). Pure: text in, runs out.
 *  - agentdrift's own format, "agentdrift-history/1", which `agentdrift export` writes;
 *  - the results.json that the peer tracker's `margin` CLI writes, so its users can bring their history.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { InputError, describeIssue } from '../../domain/issues.ts';
import { LANGUAGES, OUTCOMES, REPOSITORY_MAX_LENGTH, REPOSITORY_PATTERN, type AttemptInput, type AttemptRow, type RunRow } from '../../domain/types.ts';
import type { ImportedRun } from '../../domain/records.ts';
import { behaviourSchema } from './behaviour-schema.ts';
import { testsSchema } from './tests-schema.ts';

export const HISTORY_FORMAT = 'agentdrift-history/1';

export class ImportError extends InputError {}

/**
 * The range of every imported number: wider than any real attempt, narrow enough that no sum over a lifetime of
 * attempts leaves the range of a double (two attempts of costUsd 1e308 once summed to Infinity and made every command
 * crash at start on that store). docs/import-format.md lists them.
 */
export const IMPORT_LIMITS = {
  /** Each token count of an attempt. */
  tokens: 10_000_000_000,
  /** An attempt's cost, USD. */
  costUsd: 10_000,
  /** An attempt's turns, and its tool calls. */
  turns: 1_000_000,
  /** An attempt's agent and grading time, ms (a week). */
  durationMs: 7 * 86_400_000,
  /** An attempt's patch size (1 GiB). */
  patchBytes: 1_073_741_824,
  sampleIndex: 10_000,
} as const;

/** The earliest instant imported: anything before is a mistake (a zero date, a unit error), not agent history. */
export const EARLIEST_INSTANT = '2000-01-01T00:00:00Z';
const EARLIEST_MS = Date.parse(EARLIEST_INSTANT);
/** How far after now a run or attempt may end (clock skew between machines); anything later is in the future. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** A number from 0 to max (an integer unless `kind` says otherwise), and a message naming that range. */
function bounded(max: number, kind: 'integer' | 'number' = 'integer', unit = '') {
  const message = `out of range: expected ${kind === 'integer' ? 'an integer' : 'a number'} in 0..${max}${unit}`;
  return (kind === 'integer' ? z.number().int({ message }) : z.number()).min(0, { message }).max(max, { message });
}

const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 instant such as 2026-01-31T03:00:00Z' });
const instant = isoInstant.refine((v) => !(Date.parse(v) < EARLIEST_MS), { message: `expected an instant at or after ${EARLIEST_INSTANT}` });
const tokens = bounded(IMPORT_LIMITS.tokens);
const turns = bounded(IMPORT_LIMITS.turns);
const costUsd = bounded(IMPORT_LIMITS.costUsd, 'number', ' (USD per attempt)');
const durationMs = bounded(IMPORT_LIMITS.durationMs, 'number', ' (ms, a week)');
const sampleIndex = bounded(IMPORT_LIMITS.sampleIndex);
const optionalMs = durationMs.nullable().default(null);
/**
 * The task's repository and language (the breakdown's groups): each a bounded value, so the `group` label stays
 * bounded; absent or null when not known (grouped as `unknown`).
 */
const repositoryMessage = `expected a repository as owner/name (letters, digits, '.', '_', '-'; at most ${REPOSITORY_MAX_LENGTH} characters), or null when not known`;
const repository = z.string().max(REPOSITORY_MAX_LENGTH, { message: repositoryMessage }).regex(REPOSITORY_PATTERN, { message: repositoryMessage });
const language = z.enum(LANGUAGES, { message: `expected one of ${LANGUAGES.join(', ')} (the suite's languages), or null when not known` });

/** "ends more than 5 minutes after now": the message of an instant in the future. */
function futureMessage(nowMs: number): string {
  return `expected an instant at most ${FUTURE_TOLERANCE_MS / 60_000} minutes after now (${new Date(nowMs).toISOString()}); a run from the future would pin last_success and every window to its date`;
}

const attemptSchema = z.strictObject({
  taskId: z.string().min(1).max(512),
  sampleIndex: sampleIndex.default(0),
  outcome: z.enum(OUTCOMES),
  reason: z.string().max(4096).nullable().default(null),
  inputTokens: tokens.default(0),
  outputTokens: tokens.default(0),
  cacheReadTokens: tokens.default(0),
  cacheCreationTokens: tokens.default(0),
  costUsd: costUsd.default(0),
  turns: turns.default(0),
  toolCalls: turns.default(0),
  agentDurationMs: optionalMs,
  agentApiDurationMs: optionalMs,
  gradingDurationMs: optionalMs,
  patchBytes: bounded(IMPORT_LIMITS.patchBytes).nullable().default(null),
  repository: repository.nullable().default(null),
  language: language.nullable().default(null),
  // What the agent did (behaviour-schema.ts); absent or null: not recorded, left out of the behaviour figures.
  behaviour: behaviourSchema.nullable().default(null),
  // The per-test results of grading (tests-schema.ts); absent or null: none, left out of the graded score.
  tests: testsSchema.nullable().default(null),
  startedAt: instant.optional(),
  endedAt: instant.optional(),
});

const FINISHED_IMPORT_STATES = ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exhausted'] as const;

/** A run of the agentdrift format; `latestMs` is the latest end accepted (now plus the tolerance). */
const runSchema = (latestMs: number) => z
  .strictObject({
    startedAt: instant,
    endedAt: instant,
    state: z.enum(FINISHED_IMPORT_STATES).default('completed'),
    reason: z.string().max(4096).nullable().default(null),
    agentVersion: z.string().max(200).nullable().default(null),
    modelId: z.string().max(200).nullable().default(null),
    suiteHash: z.string().max(200).nullable().default(null),
    // One rule for both formats: a run without attempts would still be a finished run, moving the window ends and
    // last_success with nothing to show for it.
    attempts: z.array(attemptSchema).min(1, { message: 'expected at least one attempt: a run without any would still move the window ends and last_success' }),
  })
  .superRefine((run, ctx) => {
    if (Date.parse(run.endedAt) < Date.parse(run.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['endedAt'], message: 'expected an instant at or after startedAt' });
    }
    if (Date.parse(run.endedAt) > latestMs) ctx.addIssue({ code: 'custom', path: ['endedAt'], message: futureMessage(latestMs - FUTURE_TOLERANCE_MS) });
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
      // The run's own end is checked above; an attempt's is checked when it has one of its own.
      if (a.endedAt !== undefined && e > latestMs) ctx.addIssue({ code: 'custom', path: ['attempts', i, 'endedAt'], message: futureMessage(latestMs - FUTURE_TOLERANCE_MS) });
    });
  });

/**
 * The document around its runs; each run is validated on its own (parseNative), so that a large file is never held
 * twice, as parsed JSON and as zod's validated copy, at once.
 */
const historyHead = z.strictObject({
  format: z.literal(HISTORY_FORMAT),
  track: z.string().optional(),
  exportedAt: instant.optional(),
  runs: z.array(z.unknown()),
});

/**
 * A track holds one run per start instant (the store skips a second one as "already stored"): two in one file are a
 * conflict to resolve, not a duplicate to drop silently.
 */
function startConflicts(runs: readonly unknown[]): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const first = new Map<number, number>();
  runs.forEach((r, i) => {
    const startedAt = (r as { startedAt?: unknown } | null)?.startedAt;
    const t = typeof startedAt === 'string' ? Date.parse(startedAt) : NaN;
    if (Number.isNaN(t)) return;
    const j = first.get(t);
    if (j === undefined) first.set(t, i);
    else {
      issues.push({
        code: 'custom',
        input: startedAt,
        path: ['runs', i, 'startedAt'],
        message: `conflicts with runs[${j}], which starts at the same instant (${new Date(t).toISOString()}): a track holds one run per start instant, so one of the two would be dropped; merge them or correct one`,
      });
    }
  });
  return issues;
}

const marginUsage = z
  .looseObject({
    input_tokens: tokens.optional(),
    output_tokens: tokens.optional(),
    cache_read_input_tokens: tokens.optional(),
    cache_creation_input_tokens: tokens.optional(),
    cache_read_tokens: tokens.optional(),
    cache_creation_tokens: tokens.optional(),
    cost_usd: costUsd.optional(),
    total_cost_usd: costUsd.optional(),
    num_turns: turns.optional(),
    turns: turns.optional(),
    tool_calls: turns.optional(),
  })
  .nullable()
  .optional();

const marginInstance = z.looseObject({
  case_id: z.string().min(1).max(512),
  sample_index: sampleIndex.default(0),
  final_state: z.enum(['succeeded', 'test_failed', 'infra_failed', 'canceled']),
  runtime_ms: durationMs.nullable().optional(),
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

/**
 * Everything parseHistory depends on besides the text: plain values, so that it runs the same in a worker thread.
 */
export interface ParseOptions {
  /** Name of the file (its parent directory may carry the run time of a margin results.json). */
  fileName: string;
  /** Run time for a margin results.json (ISO); refused for an agentdrift history file, whose runs carry their own. */
  at?: string | undefined;
  /** What `at` is called where it was given, for messages: "--at" (the CLI's option, the default) or "at" (the import route's query parameter). */
  atName?: string | undefined;
  /**
   * Whether a margin results.json given no `at` takes its date from the YYYYMMDD-HHMMSS directory holding it (default
   * true). Only a file on disk has such a directory: a request body does not.
   */
  dateFromDirectory?: boolean | undefined;
  /** The present, epoch ms (default Date.now()): a run or attempt that ends more than FUTURE_TOLERANCE_MS after it is refused. */
  now?: number | undefined;
}

export function parseHistory(text: string, opts: ParseOptions): ParsedHistory {
  let raw: unknown;
  try {
    // A byte order mark is not JSON, but editors on some systems write one.
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new ImportError(`${opts.fileName} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    if ('format' in raw) {
      if (opts.at !== undefined) refuseAt(opts);
      return parseNative(raw, opts);
    }
    if ('instances' in raw) return parseMargin(raw, opts);
  }
  throw new ImportError(
    `${opts.fileName} is neither an agentdrift history file (no "format": "${HISTORY_FORMAT}") nor a margin results.json (no "instances" list)`,
  );
}

function fail(fileName: string, error: z.ZodError | readonly z.core.$ZodIssue[], raw: unknown): never {
  const issues = error instanceof z.ZodError ? error.issues : error;
  // One line per distinct problem (a huge number fails both the integer and the range check, with one message).
  const all = [...new Set(issues.map((i) => describeIssue(i, raw)))];
  const problems = all.slice(0, 50);
  if (all.length > 50) problems.push(`... and ${all.length - 50} more`);
  throw new ImportError(`${fileName} was rejected; nothing from it was stored`, problems);
}

function parseNative(raw: object, opts: ParseOptions): ParsedHistory {
  const head = historyHead.safeParse(raw);
  if (!head.success) fail(opts.fileName, head.error, raw);
  const schema = runSchema((opts.now ?? Date.now()) + FUTURE_TOLERANCE_MS);
  // Run by run, each validated run taking the place of its parsed JSON in the document at once: a large file is
  // never held twice (parsed, and zod's validated copy) in memory. A rejected run keeps its JSON, for the messages.
  const list = (raw as { runs: unknown[] }).runs;
  const issues: z.core.$ZodIssue[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = schema.safeParse(list[i]);
    if (r.success) list[i] = r.data;
    else {
      for (const issue of r.error.issues) issues.push({ ...issue, path: ['runs', i, ...issue.path] });
    }
  }
  issues.push(...startConflicts(list));
  if (issues.length) fail(opts.fileName, issues, raw);
  const valid = list as z.output<ReturnType<typeof runSchema>>[];
  // The validated runs are this parse's own objects: completed in place rather than copied once more.
  const runs = valid.map((r): ImportedRun => {
    for (const a of r.attempts) {
      Object.assign(a, { transcriptPath: null, gradingLogPath: null, startedAt: a.startedAt ?? r.startedAt, endedAt: a.endedAt ?? r.endedAt });
    }
    return {
      state: r.state,
      trigger: 'import',
      reason: r.reason,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      agentVersion: r.agentVersion,
      modelId: r.modelId,
      suiteHash: r.suiteHash,
      externalKey: `${HISTORY_FORMAT}:${new Date(r.startedAt).toISOString()}`,
      attempts: r.attempts as ImportedRun['attempts'],
    };
  });
  return { kind: 'agentdrift', runs, notes: [] };
}

/** How a message names `at`: the CLI's option as it is typed, the API's as "the at parameter". */
function atLabel(name: string): string {
  return name.startsWith('-') ? name : `the ${name} parameter`;
}

/** The `at` an agentdrift history file was given: named whether it is not an instant or just not needed. */
function refuseAt(opts: ParseOptions): never {
  const at = opts.at as string;
  const name = opts.atName ?? '--at';
  if (!isoInstant.safeParse(at).success) throw badAt(name, at);
  throw new ImportError(
    `${name} ${JSON.stringify(at)}: only a margin results.json takes a run time; ${opts.fileName} is an agentdrift history file, whose runs carry their own dates (leave ${atLabel(name)} out)`,
  );
}

function badAt(name: string, at: string): ImportError {
  // An explicit zone is required: without one Date.parse reads the time in this machine's zone, so the same command
  // would store a different instant on another host.
  const hint = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(at) ? ' (no time zone given; it would be read as local time)' : '';
  return new ImportError(
    `${name} ${JSON.stringify(at)}: expected an ISO 8601 instant with a time zone, Z or ±hh:mm, such as 2026-01-31T03:00:00Z or 2026-01-31T04:00:00+01:00${hint}`,
  );
}

/** Where a margin run's start came from, for messages. */
interface MarginStart {
  iso: string;
  source: string;
}

function marginStart(fileName: string, at: string | undefined, opts: Pick<ParseOptions, 'atName' | 'dateFromDirectory'>): MarginStart {
  const name = opts.atName ?? '--at';
  if (at !== undefined) {
    if (!isoInstant.safeParse(at).success) throw badAt(name, at);
    const iso = new Date(Date.parse(at)).toISOString();
    if (Date.parse(iso) < EARLIEST_MS) throw new ImportError(`${name} ${JSON.stringify(at)}: expected an instant at or after ${EARLIEST_INSTANT}`);
    return { iso, source: `${name} ${JSON.stringify(at)}` };
  }
  if (opts.dateFromDirectory === false) {
    throw new ImportError(
      `${fileName}: a margin results.json carries no date; give its run's start as ${atLabel(name)}, an ISO 8601 instant with a time zone (${name}=2026-01-31T03:00:00Z)`,
    );
  }
  const dir = path.basename(path.dirname(path.resolve(fileName)));
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(dir);
  if (!m) {
    throw new ImportError(
      `${fileName}: a margin results.json carries no date; pass ${name} ISO, or keep it in its YYYYMMDD-HHMMSS run directory (found "${dir}")`,
    );
  }
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  if (Number.isNaN(Date.parse(iso)) || new Date(iso).toISOString() !== iso.replace('Z', '.000Z')) {
    throw new ImportError(`${fileName}: directory name "${dir}" is not a real date and time`);
  }
  if (Date.parse(iso) < EARLIEST_MS) throw new ImportError(`${fileName}: directory name "${dir}" is before ${EARLIEST_INSTANT}`);
  return { iso: new Date(iso).toISOString(), source: `directory name "${dir}"` };
}

/**
 * The run time of a margin results.json: `at` (the CLI's --at), else a YYYYMMDD-HHMMSS directory name (UTC) holding
 * it, unless `dateFromDirectory` is false (a request body has no directory).
 */
export function marginRunTime(fileName: string, at?: string, opts: Pick<ParseOptions, 'atName' | 'dateFromDirectory'> = {}): string {
  return marginStart(fileName, at, opts).iso;
}

function parseMargin(raw: object, opts: ParseOptions): ParsedHistory {
  const parsed = marginSchema.safeParse(raw);
  if (!parsed.success) fail(opts.fileName, parsed.error, raw);
  const now = opts.now ?? Date.now();
  const latest = now + FUTURE_TOLERANCE_MS;
  const from = marginStart(opts.fileName, opts.at, opts);
  const startedAt = from.iso;
  const start = Date.parse(startedAt);
  if (start > latest) throw new ImportError(`${opts.fileName}: the run's start, ${startedAt} (from ${from.source}), is in the future; ${futureMessage(now)}`);
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
    if (start + (runtime ?? 0) > latest) {
      problems.push(`instances[${i}].runtime_ms: got ${runtime}; the attempt would end at ${new Date(start + (runtime ?? 0)).toISOString()}, ${futureMessage(now)}`);
    }
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
  // A loop, not Math.max(...): spreading a large file's attempts as arguments overflows the stack.
  let end = start;
  for (const a of attempts) end = Math.max(end, Date.parse(a.endedAt));
  const endedAt = new Date(end).toISOString();
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

/**
 * The export document for one track, in the format `parseHistory` reads back. Runs it would refuse are left out and
 * told to `leftOut`, one line per reason: a run without attempts (one that failed before its first), and a run or
 * attempt whose stored instant is not a date (only a store written by hand has one).
 */
export function toHistoryDocument(
  track: string,
  runs: Iterable<RunRow & { attempts: AttemptRow[] }>,
  now = new Date(),
  leftOut: (why: string) => void = () => {},
): unknown {
  const out = [];
  let empty = 0;
  let undated = 0;
  for (const r of runs) {
    if (r.state === 'running' || r.state === 'pending' || r.state === 'skipped') continue;
    if (!r.startedAt || r.attempts.some((a) => !a.startedAt || !a.endedAt)) {
      undated++;
      continue;
    }
    if (!r.endedAt) continue;
    if (r.attempts.length === 0) {
      empty++;
      continue;
    }
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
        // Only when known, so that histories without it export as before.
        ...(a.agentApiDurationMs != null ? { agentApiDurationMs: a.agentApiDurationMs } : {}),
        gradingDurationMs: a.gradingDurationMs,
        patchBytes: a.patchBytes,
        // Only when known, as agentApiDurationMs.
        ...(a.repository != null ? { repository: a.repository } : {}),
        ...(a.language != null ? { language: a.language } : {}),
        ...(a.behaviour != null ? { behaviour: a.behaviour } : {}),
        ...(a.tests != null ? { tests: a.tests } : {}),
        startedAt: a.startedAt,
        endedAt: a.endedAt,
      })),
    });
  }
  if (empty) leftOut(`${empty} finished run(s) without attempts left out of the export (a run is imported only with at least one attempt)`);
  if (undated) leftOut(`${undated} run(s) left out of the export: a stored instant of the run or of one of its attempts is not a date`);
  return { format: HISTORY_FORMAT, track, exportedAt: now.toISOString(), runs: out };
}
