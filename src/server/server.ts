/**
 * Builds and runs the daemon's HTTP server: listen, and on SIGTERM/SIGINT stop accepting, let in-flight responses
 * finish while `stop` (the scheduler's shutdown) stops the runs, then close the store. A second signal exits at once.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from '../app/context.ts';
import type { RunControl } from '../scheduler/scheduler.ts';
import app from './app.ts';

export interface ServerOptions {
  /** Runs on demand and cancels (the daemon's scheduler); without it those routes answer 503. */
  control?: RunControl;
}

export async function buildServer(ctx: AppContext, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const fastify = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true } },
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

export async function startServer(ctx: AppContext, opts: StartOptions = {}): Promise<RunningServer> {
  const fastify = await buildServer(ctx, opts);
  const address = await fastify.listen({ host: ctx.config.server.host, port: ctx.config.server.port });
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
