/**
 * The HTTP API as one Fastify plugin: OpenAPI at /docs, JSON errors, token-guarded mutating routes (the token is
 * checked in onRequest, before the body is read).
 * server.ts owns listening and shutdown; tests register this plugin on their own instance.
 */
import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance, FastifySchema } from 'fastify';
import { UnknownTrackError } from '../../config/index.ts';
import type { App } from '../app.ts';
import { VERSION } from '../version.ts';
import { bearerGuard } from './auth.ts';
import healthRoutes from './routes/health.ts';
import baselineRoutes from './routes/baselines.ts';
import controlRoutes from './routes/control.ts';
import runRoutes from './routes/runs.ts';
import type { RunControl } from '../../core/scheduler/scheduler.ts';
import trackRoutes from './routes/tracks.ts';
import breakdownRoutes from './routes/breakdown.ts';
import taskRoutes from './routes/tasks.ts';
import { errorBody, jsonSchema } from './schema.ts';
import { registerJsonParser, RequestValidationError, zodValidatorCompiler } from './validation.ts';

/** Methods that change something: their routes need the bearer token. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AppOptions {
  ctx: App;
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

  // Every request part is checked by its route's zod schema, and a JSON body's depth before it is parsed (validation.ts).
  fastify.setValidatorCompiler(zodValidatorCompiler);
  registerJsonParser(fastify);

  fastify.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof UnknownTrackError) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: err.message });
    }
    if (err instanceof RequestValidationError) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message, problems: err.problems });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode <= 599 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    let message = status >= 500 ? 'internal error' : err.message;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = `body: content type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted; send application/json`;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `body: larger than this route's limit of ${req.routeOptions.bodyLimit ?? fastify.initialConfig.bodyLimit} bytes`;
    // The status's own name: a 413 is "Payload Too Large", a 415 "Unsupported Media Type", a 403 "Forbidden".
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });
  fastify.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  // Every mutating route checks the token first thing, in onRequest: before Fastify reads and parses the body (the
  // import route takes up to 64 MiB), so nobody without the token can make the daemon read or parse one. Added here
  // for every route registered below, so a new mutating route cannot forget it.
  const requireToken = bearerGuard(ctx.secrets.apiToken);
  fastify.addHook('onRoute', (route) => {
    const mutating = [route.method].flat().some((m) => MUTATING.has(m.toUpperCase()));
    documentErrors(route, mutating);
    if (!mutating) return;
    route.onRequest = [requireToken, ...[route.onRequest ?? []].flat()];
  });
  await fastify.register(healthRoutes, { ctx });
  await fastify.register(trackRoutes, { ctx });
  await fastify.register(breakdownRoutes, { ctx });
  await fastify.register(taskRoutes, { ctx });
  await fastify.register(runRoutes, { ctx, ...(opts.control ? { control: opts.control } : {}) });
  await fastify.register(controlRoutes, { ctx, ...(opts.control ? { control: opts.control } : {}) });
  await fastify.register(baselineRoutes, { ctx });
}

/**
 * The errors every route can answer, in its OpenAPI entry (and serialised by errorBody): 400 where it takes params, a
 * query or a body; 413 and 415 where it takes a body (its size limit, a content type other than JSON).
 */
function documentErrors(route: { schema?: FastifySchema }, takesBody: boolean): void {
  const schema = route.schema as (FastifySchema & { hide?: boolean }) | undefined;
  if (!schema || schema.hide) return;
  const response = (schema.response ??= {}) as Record<string, unknown>;
  const add = (code: number) => (response[code] ??= jsonSchema(errorBody));
  if (schema.params || schema.querystring || schema.body) add(400);
  if (takesBody) {
    add(413);
    add(415);
  }
}
