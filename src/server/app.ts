/**
 * The HTTP API as one Fastify plugin: OpenAPI at /docs, JSON errors, token-guarded mutating routes (the token is
 * checked in onRequest, before the body is read).
 * server.ts owns listening and shutdown; tests register this plugin on their own instance.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance } from 'fastify';
import { UnknownTrackError, VERSION, type AppContext } from '../app/context.ts';
import { bearerGuard } from './auth.ts';
import healthRoutes from './routes/health.ts';
import baselineRoutes from './routes/baselines.ts';
import controlRoutes from './routes/control.ts';
import runRoutes from './routes/runs.ts';
import type { RunControl } from '../scheduler/scheduler.ts';
import trackRoutes from './routes/tracks.ts';

/** Methods that change something: their routes need the bearer token. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AppOptions {
  ctx: AppContext;
  control?: RunControl;
}

export default async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const { ctx } = opts;
  await fastify.register(swagger, {
    openapi: {
      info: { title: 'agentdrift', version: VERSION, description: 'Pass-rate drift of coding agents, with statistics you can trust.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });

  fastify.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof UnknownTrackError) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: err.message });
    }
    if (err.validation) {
      const problems = err.validation.map((v) => `${v.instancePath || err.validationContext || 'request'} ${v.message ?? 'is invalid'}`.trim());
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `invalid ${err.validationContext ?? 'request'}`, problems });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ statusCode: status, error: status >= 500 ? 'Internal Server Error' : 'Bad Request', message: status >= 500 ? 'internal error' : err.message });
  });
  fastify.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  // Every mutating route checks the token first thing, in onRequest: before Fastify reads and parses the body (the
  // import route takes up to 256 MB), so nobody without the token can make the daemon read or parse one. Added here
  // for every route registered below, so a new mutating route cannot forget it.
  const requireToken = bearerGuard(ctx.secrets.apiToken);
  fastify.addHook('onRoute', (route) => {
    if (![route.method].flat().some((m) => MUTATING.has(m.toUpperCase()))) return;
    route.onRequest = [requireToken, ...[route.onRequest ?? []].flat()];
  });
  await fastify.register(healthRoutes, { ctx });
  await fastify.register(trackRoutes, { ctx });
  await fastify.register(runRoutes, { ctx, ...(opts.control ? { control: opts.control } : {}) });
  await fastify.register(controlRoutes, { ctx, ...(opts.control ? { control: opts.control } : {}) });
  await fastify.register(baselineRoutes, { ctx });
}
