import { trackNamed } from '../../../config/index.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { baselineSummary, setBaseline } from '../../../core/baselines/service.ts';
import { BaselineError, P0_RULE } from '../../../core/baselines/baseline.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';

/** 0 < p0 < 1, a JSON number (never a string coerced): the rule of buildBaseline (P0_RULE), here for the OpenAPI too. */
const p0 = z.number({ error: P0_RULE }).gt(0, { error: P0_RULE }).lt(1, { error: P0_RULE });
const instant = z.string().max(64);
/**
 * One object rather than a union of the two forms: a bad field is then named alone (`p0: expected ...`), not with every
 * field the other form would have needed.
 */
const putBody = z
  .strictObject({
    p0: p0.optional().describe('a fixed baseline pass rate, strictly between 0 and 1 (with an optional from: when monitoring starts, default now)'),
    from: instant.optional().describe('with p0: when monitoring starts; with to: the start of the reference period to freeze'),
    to: instant.optional().describe('the end of the reference period (with from, without p0)'),
    reason: z.string().min(1).max(500).optional(),
    by: z.string().min(1).max(100).optional(),
  })
  .superRefine((b, issue) => {
    if (b.p0 !== undefined && b.to !== undefined) issue.addIssue({ code: 'custom', path: ['to'], message: 'goes with from for a reference period, not with p0' });
    else if (b.p0 === undefined && b.from === undefined) issue.addIssue({ code: 'custom', path: ['p0'], message: 'give p0 (a fixed baseline), or from and to (a reference period)' });
    else if (b.p0 === undefined && b.to === undefined) issue.addIssue({ code: 'custom', path: ['to'], message: 'a reference period needs to as well as from (or give p0 for a fixed baseline)' });
  });

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

export default async function baselineRoutes(app: FastifyInstance, opts: { ctx: App }): Promise<void> {
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
      trackNamed(ctx.config, req.params.track);
      return { baselines: ctx.store.baselines.list(req.params.track).map(baselineSummary) };
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
      trackNamed(ctx.config, req.params.track);
      // Fastify validated the body against this same schema.
      const body = req.body;
      try {
        const row = setBaseline(ctx, req.params.track, body.p0 !== undefined ? { p0: body.p0, from: body.from } : { from: body.from as string, to: body.to as string }, { by: body.by ?? 'api', reason: body.reason ?? 'set through the API' });
        // Answer once the figures (and the new baseline's CUSUM threshold, simulated in a worker thread in the daemon)
        // are in: a GET after this PUT sees them. The event loop serves other requests meanwhile.
        await ctx.figures.settled();
        return baselineSummary(row);
      } catch (e) {
        if (e instanceof BaselineError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: e.message });
        throw e;
      }
    },
  );
}
