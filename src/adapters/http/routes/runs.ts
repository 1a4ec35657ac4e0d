import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { MAX_STORED_PATCH_BYTES, readStoredPatch } from '../../../agent/index.ts';
import { ATTEMPT_PHASES, type AttemptRow, type PhaseTimings, type RunRow } from '../../../domain/types.ts';
import type { RunControl } from '../../../core/scheduler/scheduler.ts';
import { errorBody, jsonSchema } from '../schema.ts';
import { presentRun, runBody } from './tracks.ts';

export const runParams = z.object({ id: z.coerce.number().int().min(1) });
/** One attempt of one run: the attempt's id as GET /api/runs/:id lists it. */
export const attemptParams = z.object({ id: z.coerce.number().int().min(1), attempt: z.coerce.number().int().min(1) });

/** Wall time (ms) of each phase (README, "What is kept of an attempt"); null for a phase not reached. */
const phaseTimingsBody = z.object(Object.fromEntries(ATTEMPT_PHASES.map((p) => [p, z.number().nullable()])) as Record<(typeof ATTEMPT_PHASES)[number], z.ZodNullable<z.ZodNumber>>);
/** One list of the task as graded (src/domain/test-results.ts): counts, and the first 20 names that did not pass. */
const testListBody = z.object({
  total: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  error: z.number().int(),
  skipped: z.number().int(),
  missing: z.number().int(),
  notPassed: z.array(z.string()),
});
const attemptBody = z.object({
  id: z.number().int(),
  taskId: z.string(),
  sampleIndex: z.number().int(),
  outcome: z.string(),
  reason: z.string().nullable(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheCreationTokens: z.number(),
  costUsd: z.number(),
  turns: z.number(),
  toolCalls: z.number(),
  agentDurationMs: z.number().nullable(),
  /** Of the agent's time, the share spent on the model API (the CLI's duration_api_ms); null when unknown. */
  agentApiDurationMs: z.number().nullable(),
  gradingDurationMs: z.number().nullable(),
  patchBytes: z.number().nullable(),
  /** Per-phase wall time; null when not recorded (imported attempts, attempts stored before agentdrift kept them). */
  timings: phaseTimingsBody.nullable(),
  /** Binary files the agent changed that the candidate patch left out; null when no patch was extracted or not recorded. */
  droppedFiles: z.array(z.string()).nullable(),
  /** Whether the candidate patch is kept: GET /api/runs/:id/attempts/:attempt/patch serves it. */
  patchStored: z.boolean(),
  /** Per-test results of grading (fail_to_pass, pass_to_pass); null when not graded, output.json unreadable, or not recorded. */
  tests: z.object({ ran: z.number().int(), f2p: testListBody, p2p: testListBody }).nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
});

/** A run with its cost and progress; `live` while this daemon is running it (progress then moves). */
export const runStatus = runBody.extend({
  costUsd: z.number(),
  live: z.boolean(),
  progress: z.object({
    done: z.number().int(),
    total: z.number().int().nullable(),
    resolved: z.number().int(),
    ratio: z.number().nullable(),
  }),
});

const runDetail = runStatus.extend({
  attempts: z.array(attemptBody),
  summary: z.object({ attempts: z.number().int(), resolved: z.number().int(), infraErrors: z.number().int(), costUsd: z.number() }),
});

export function presentRunStatus(ctx: App, run: RunRow, control: RunControl | undefined): z.infer<typeof runStatus> {
  const f = ctx.store.runs.figures(run.id);
  return {
    ...presentRun(run),
    costUsd: f.costUsd,
    live: control?.isLive(run.id) ?? false,
    progress: { done: f.done, total: f.total, resolved: f.resolved, ratio: f.total ? f.done / f.total : null },
  };
}

export default async function runRoutes(app: FastifyInstance, opts: { ctx: App; control?: RunControl }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Params: z.infer<typeof runParams> }>(
    '/api/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run with its attempts, cost and progress (live while it runs)',
        params: jsonSchema(runParams),
        response: { 200: jsonSchema(runDetail), 404: jsonSchema(errorBody) },
      },
    },
    async (req, reply) => {
      const run = ctx.store.runs.get(req.params.id);
      if (!run) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no run with id ${req.params.id}` });
      const attempts = ctx.store.attempts.ofRun(run.id);
      return {
        ...presentRunStatus(ctx, run, opts.control),
        attempts: attempts.map(({ runId: _r, transcriptPath: _t, gradingLogPath: _g, phaseTimings, droppedFiles, patchPath, ...a }) => ({
          ...a,
          timings: phaseTimings ? presentTimings(phaseTimings) : null,
          droppedFiles: droppedFiles ?? null,
          patchStored: Boolean(patchPath),
          tests: a.tests ?? null,
        })),
        summary: {
          attempts: attempts.length,
          resolved: attempts.filter((a) => a.outcome === 'resolved').length,
          infraErrors: attempts.filter((a) => a.outcome === 'infra_error').length,
          costUsd: attempts.reduce((s, a) => s + a.costUsd, 0),
        },
      };
    },
  );

  app.get<{ Params: z.infer<typeof attemptParams> }>(
    '/api/runs/:id/attempts/:attempt/patch',
    {
      schema: {
        tags: ['runs'],
        summary: "One attempt's candidate patch, as graded (binary files dropped, secrets redacted)",
        description: `The diff the agent left against the task's base commit, byte for byte as it was graded; kept up to ${MAX_STORED_PATCH_BYTES / 1024 / 1024} MiB. 404 when the run or the attempt is unknown, or the attempt has no stored patch (the message says why).`,
        params: jsonSchema(attemptParams),
        response: {
          200: { description: 'the patch (text/x-diff, UTF-8); empty when the agent changed nothing', content: { 'text/x-diff': { schema: { type: 'string' } } } },
          404: jsonSchema(errorBody),
          500: jsonSchema(errorBody),
        },
      },
    },
    async (req, reply) => {
      const { id, attempt } = req.params;
      const notFound = (message: string) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
      if (!ctx.store.runs.get(id)) return notFound(`no run with id ${id}`);
      const a = ctx.store.attempts.ofRunById(id, attempt);
      if (!a) return notFound(`run ${id} has no attempt with id ${attempt} (GET /api/runs/${id} lists its attempts)`);
      if (!a.patchPath) return notFound(whyNoPatch(a));
      let bytes: Buffer;
      try {
        bytes = await readStoredPatch(a.patchPath);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === 'ENOENT') return notFound(`the patch of attempt ${attempt} is no longer in the data directory (removed from transcripts/)`);
        req.log.error({ err: (e as Error).message, code, attempt }, 'stored patch unreadable');
        return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: `the stored patch of attempt ${attempt} cannot be read (${String(code ?? 'corrupt')})` });
      }
      return reply.type('text/x-diff; charset=utf-8').header('content-disposition', `inline; filename="run-${id}-attempt-${attempt}.diff"`).send(bytes);
    },
  );
}

/** Every phase, null where the attempt did not reach it. */
function presentTimings(t: PhaseTimings): z.infer<typeof phaseTimingsBody> {
  return Object.fromEntries(ATTEMPT_PHASES.map((p) => [p, t[p] ?? null])) as z.infer<typeof phaseTimingsBody>;
}

/** Why an attempt has no stored patch, for the 404. */
function whyNoPatch(a: AttemptRow): string {
  if (a.patchBytes !== null && a.patchBytes > MAX_STORED_PATCH_BYTES) {
    return `the candidate patch of attempt ${a.id} (${a.patchBytes} bytes) was larger than the ${MAX_STORED_PATCH_BYTES / 1024 / 1024} MiB agentdrift keeps, and was not stored`;
  }
  if (a.patchBytes === null && a.phaseTimings) return `attempt ${a.id} has no candidate patch (${a.outcome}${a.reason ? `: ${a.reason}` : ''})`;
  return `attempt ${a.id} has no stored patch: it was imported, or stored before agentdrift kept patches`;
}
