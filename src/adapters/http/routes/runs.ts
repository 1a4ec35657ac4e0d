import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { RunRow } from '../../../domain/types.ts';
import type { RunControl } from '../../../core/scheduler/scheduler.ts';
import { errorBody, jsonSchema } from '../schema.ts';
import { presentRun, runBody } from './tracks.ts';

export const runParams = z.object({ id: z.coerce.number().int().min(1) });
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
        attempts: attempts.map(({ runId: _r, transcriptPath: _t, gradingLogPath: _g, ...a }) => a),
        summary: {
          attempts: attempts.length,
          resolved: attempts.filter((a) => a.outcome === 'resolved').length,
          infraErrors: attempts.filter((a) => a.outcome === 'infra_error').length,
          costUsd: attempts.reduce((s, a) => s + a.costUsd, 0),
        },
      };
    },
  );
}
