/**
 * Builds and runs the daemon's HTTP server: listen, and on SIGTERM/SIGINT stop accepting, let in-flight responses
 * finish while `stop` (the scheduler's shutdown) stops the runs, then close the store. A second signal exits at once.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { App } from '../app.ts';
import type { RunControl } from '../../core/scheduler/scheduler.ts';
import app from './app.ts';

/** The daemon could not listen where its config says (port in use, no such address): a one-line CLI error. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/** The longest path parameter the router hands to a route (find-my-way's default, 100, cut a long track name short). */
export const MAX_PARAM_LENGTH = 8192;

export interface ServerOptions {
  /** Runs on demand and cancels (the daemon's scheduler); without it those routes answer 503. */
  control?: RunControl;
}

export async function buildServer(ctx: App, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const fastify = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Requests are validated by the routes' zod schemas (validation.ts), not by Ajv. A path parameter is checked by its
    // schema (a track name is at most 64 characters, it says so) up to 8 KiB; the router refuses a longer one itself.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors of the router (a parameter too long, a malformed escape) in the API's own shape and status names.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const status = err.statusCode ?? 400;
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `path: a parameter is longer than ${MAX_PARAM_LENGTH} characters` : `path: ${err.message}`;
      return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
    },
  });
  await fastify.register(app, { ctx, ...(opts.control ? { control: opts.control } : {}) });
  return fastify;
}

export interface RunningServer {
  fastify: FastifyInstance;
  address: string;
  /** Resolves when the server has closed (after a signal or close()). */
  closed: Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions extends ServerOptions {
  /** Runs when closing begins, alongside the draining of in-flight requests; the store closes after both. */
  stop?: () => Promise<void> | void;
  onClose?: () => Promise<void> | void;
  handleSignals?: boolean;
}

export async function startServer(ctx: App, opts: StartOptions = {}): Promise<RunningServer> {
  // From here on the figures are recomputed in a worker thread (a threshold simulation takes seconds), so that no
  // request waits for them.
  ctx.figures.offloadRefreshes();
  const fastify = await buildServer(ctx, opts);
  const { host, port } = ctx.config.server;
  let address: string;
  try {
    address = await fastify.listen({ host, port });
  } catch (e) {
    await fastify.close();
    const err = e as NodeJS.ErrnoException;
    const why: Record<string, string> = {
      EADDRINUSE: 'the port is in use (another agentdrift daemon?)',
      EACCES: 'permission denied (a port below 1024 needs privileges)',
      EADDRNOTAVAIL: 'no interface of this machine has that address',
    };
    throw new ListenError(`cannot listen on ${host}:${port}: ${(err.code && why[err.code]) ?? err.message}; set server.host / server.port in the config`);
  }
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      const stopping = Promise.resolve()
        .then(() => opts.stop?.())
        .catch((e: unknown) => ctx.log.error({ err: (e as Error).message }, 'stopping failed'));
      await fastify.close();
      await stopping;
      await opts.onClose?.();
      ctx.close();
      ctx.log.info('stopped');
      resolveClosed();
    })();
    return closing;
  };
  if (opts.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) {
        ctx.log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      ctx.log.info({ signal }, 'shutting down: no new requests or runs, finishing the requests in flight, stopping the runs (again to exit at once)');
      void close();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void closed.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }
  ctx.log.info({ address, config: ctx.configSource ?? 'embedded defaults', dataDir: ctx.config.dataDir, tracks: ctx.config.tracks.map((t) => t.name) }, 'agentdrift listening');
  return { fastify, address, closed, close };
}
