import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../app/context.ts';
import { CONTENT_TYPE } from '../../metrics/exporter.ts';
import { jsonSchema } from '../schema.ts';

const health = z.object({ status: z.string() });
const ready = z.object({ status: z.string(), store: z.boolean(), config: z.string(), tracks: z.number().int() });

export default async function healthRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get('/healthz', { logLevel: 'warn', schema: { tags: ['health'], summary: 'The process answers', response: { 200: jsonSchema(health) } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { logLevel: 'warn', schema: { tags: ['health'], summary: 'Store open and config valid', response: { 200: jsonSchema(ready), 503: jsonSchema(ready) } } },
    async (_req, reply) => {
      const storeOpen = ctx.store.isOpen;
      const body = { status: storeOpen ? 'ready' : 'not ready', store: storeOpen, config: ctx.configSource ?? 'embedded defaults', tracks: ctx.config.tracks.length };
      return reply.code(storeOpen ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    // Scrapes come every few seconds: they are not worth a log line each.
    { logLevel: 'warn', schema: { tags: ['metrics'], summary: 'Prometheus exposition (see docs/metrics.md)', produces: [CONTENT_TYPE] } },
    async (_req, reply) => {
      const text = await ctx.exporter.render();
      return reply.type(CONTENT_TYPE).send(text);
    },
  );
}
