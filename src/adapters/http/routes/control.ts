/**
 * Run control (bearer token): start a run of a track now, cancel a run. Both need the daemon's scheduler; a server
 * without one (tests, tools) answers 503.
 */
import { trackNamed } from '../../../config/index.ts';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { TrackBusyError } from '../../../core/runner/lease.ts';
import { RunBusyError, RunElsewhereError, RunEndedError, SchedulerStoppingError, type RunControl } from '../../../core/scheduler/scheduler.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';
import { presentRunStatus, runParams, runStatus } from './runs.ts';

const error = (reply: FastifyReply, statusCode: number, message: string, extra: { runId?: number } = {}) =>
  reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...extra });

const noControl = 'this server runs no scheduler: start and cancel runs through `agentdrift daemon`';

export default async function controlRoutes(app: FastifyInstance, opts: { ctx: App; control?: RunControl }): Promise<void> {
  const { ctx, control } = opts;
  const errors = { 401: jsonSchema(errorBody), 404: jsonSchema(errorBody), 409: jsonSchema(errorBody), 503: jsonSchema(errorBody) };

  app.post<{ Params: z.infer<typeof trackParams> }>(
    '/api/tracks/:track/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Start a run of the track now (resuming its unfinished run if it has one); 409 while one is going on, here or in another agentdrift process (token required)',
        security: [{ bearer: [] }],
        params: jsonSchema(trackParams),
        response: { 202: jsonSchema(runStatus), ...errors },
      },
    },
    async (req, reply) => {
      trackNamed(ctx.config, req.params.track);
      if (!control) return error(reply, 503, noControl);
      try {
        const started = await control.trigger(req.params.track, 'manual');
        const run = ctx.store.runs.get(started.runId);
        if (!run) return error(reply, 503, `run ${started.runId} is gone`);
        if (run.state === 'failed') return error(reply, 503, `run ${run.id} ${run.reason ?? 'failed'}`, { runId: run.id });
        return reply.code(202).send(presentRunStatus(ctx, run, control));
      } catch (e) {
        if (e instanceof RunBusyError) return error(reply, 409, e.message, e.runId === null ? {} : { runId: e.runId });
        if (e instanceof TrackBusyError) return error(reply, 409, e.message);
        if (e instanceof SchedulerStoppingError) return error(reply, 503, e.message);
        throw e;
      }
    },
  );

  app.post<{ Params: z.infer<typeof runParams> }>(
    '/api/runs/:id/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run: its containers are stopped and removed, finished attempts are kept, it is never resumed; 409 when it has ended or another agentdrift process runs it (token required)',
        security: [{ bearer: [] }],
        params: jsonSchema(runParams),
        response: { 200: jsonSchema(runStatus), ...errors },
      },
    },
    async (req, reply) => {
      const run = ctx.store.runs.get(req.params.id);
      if (!run) return error(reply, 404, `no run with id ${req.params.id}`);
      if (!control) return error(reply, 503, noControl);
      try {
        const after = await control.cancel(run.id);
        return presentRunStatus(ctx, after, control);
      } catch (e) {
        if (e instanceof RunEndedError || e instanceof RunElsewhereError) return error(reply, 409, e.message, { runId: run.id });
        throw e;
      }
    },
  );
}
