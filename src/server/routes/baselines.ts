import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../app/context.ts';
import { baselineSummary, setBaseline } from '../../regression/service.ts';
import { BaselineError } from '../../regression/baseline.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';

const who = { reason: z.string().min(1).max(500).optional(), by: z.string().min(1).max(100).optional() };
const putBody = z.union([
  z.strictObject({ p0: z.number().min(0).max(1), from: z.string().optional(), ...who }),
  z.strictObject({ from: z.string(), to: z.string(), ...who }),
]);

export const baselineBody = z.object({
  id: z.number().int(),
  kind: z.string(),
  p0: z.number().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  monitorFrom: z.string(),
  passRate: z.number().nullable(),
  tasks: z.number().int(),
  trials: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  reason: z.string(),
});

export default async function baselineRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Params: z.infer<typeof trackParams> }>(
    '/api/tracks/:track/baselines',
    {
      schema: {
        tags: ['baselines'],
        summary: 'Every baseline the track has had, newest (in force) first, with who set it, when and why',
        params: jsonSchema(trackParams),
        response: { 200: jsonSchema(z.object({ baselines: z.array(baselineBody) })), 404: jsonSchema(errorBody) },
      },
    },
    async (req) => {
      ctx.track(req.params.track);
      return { baselines: ctx.store.listBaselines(req.params.track).map(baselineSummary) };
    },
  );

  app.put<{ Params: z.infer<typeof trackParams>; Body: z.infer<typeof putBody> }>(
    '/api/tracks/:track/baseline',
    {
      schema: {
        tags: ['baselines'],
        summary: 'Set the baseline: a fixed p0, or a reference period frozen per task (token required)',
        security: [{ bearer: [] }],
        params: jsonSchema(trackParams),
        body: jsonSchema(putBody),
        response: { 200: jsonSchema(baselineBody), 400: jsonSchema(errorBody), 401: jsonSchema(errorBody), 404: jsonSchema(errorBody) },
      },
    },
    async (req, reply) => {
      ctx.track(req.params.track);
      // Fastify validated the body against this same schema.
      const body = req.body;
      try {
        const row = setBaseline(ctx, req.params.track, 'p0' in body ? { p0: body.p0, from: body.from } : { from: body.from, to: body.to }, { by: body.by ?? 'api', reason: body.reason ?? 'set through the API' });
        return baselineSummary(row);
      } catch (e) {
        if (e instanceof BaselineError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: e.message });
        throw e;
      }
    },
  );
}
