import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { MISSING_CREDENTIALS } from '../../../agent/credentials.ts';
import { CONTENT_TYPE } from '../../metrics/exporter.ts';
import { jsonSchema } from '../schema.ts';

const health = z.object({ status: z.string() });
const ready = z.object({
  status: z.string(),
  store: z.boolean(),
  config: z.string(),
  tracks: z.number().int(),
  engine: z.enum(['up', 'down', 'unknown']),
  credentials: z.boolean(),
  missing: z.array(z.string()),
});

export default async function healthRoutes(app: FastifyInstance, opts: { ctx: App }): Promise<void> {
  const { ctx } = opts;
  app.get('/healthz', { logLevel: 'warn', schema: { tags: ['health'], summary: 'The process answers', response: { 200: jsonSchema(health) } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Store open and config valid (200); `missing` names what runs still lack: the Docker Engine, agent credentials',
        response: { 200: jsonSchema(ready), 503: jsonSchema(ready) },
      },
    },
    async (_req, reply) => {
      // 503 only when this process cannot serve (its store is closed). An engine that does not answer, or no agent
      // credentials, make runs fail but not the process: it stays 200 and says so in `missing`.
      const storeOpen = ctx.store.isOpen;
      const up = ctx.figures.dockerUp();
      const engine = up === null ? 'unknown' : up ? 'up' : 'down';
      const missing: string[] = [];
      if (!storeOpen) missing.push('store: closed (the daemon is stopping)');
      if (engine === 'down') missing.push(`engine: the Docker Engine at ${ctx.config.docker.socketPath} does not answer; runs cannot start their containers`);
      if (!ctx.agentCredentials.present) missing.push(`credentials: ${MISSING_CREDENTIALS}; agent runs fail until they are set`);
      const body = {
        status: storeOpen ? 'ready' : 'not ready',
        store: storeOpen,
        config: ctx.configSource ?? 'embedded defaults',
        tracks: ctx.config.tracks.length,
        engine,
        credentials: ctx.agentCredentials.present,
        missing,
      } as const;
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
