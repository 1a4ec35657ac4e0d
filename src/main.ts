/**
 * The one place that wires concrete parts together: the store, the metrics exporter, the figures, the worker
 * threads, the Docker runtime and the scheduler. Every other room takes its dependencies as arguments; the CLI
 * (adapters/cli) asks this module for them through {@link Wiring}. bin/agentdrift.js calls main().
 */
import type { Logger } from 'pino';
import type { App, Wiring } from './adapters/app.ts';
import { runCli } from './adapters/cli/main.ts';
import { MetricsExporter } from './adapters/metrics/exporter.ts';
import { VERSION } from './adapters/version.ts';
import { credentialState } from './agent/credentials.ts';
import type { Config, LoadedConfig } from './config/index.ts';
import { Figures } from './core/figures/figures.ts';
import type { ContainerRuntime } from './executor/index.ts';
import { Store } from './store/store.ts';
import { CpuPool } from './workers/pool.ts';

/**
 * Opens the store of the config's dataDir (or takes the one given), and builds the exporter and the figures on it:
 * what the daemon and every one-shot command share. The figures are computed once before this returns.
 */
export function openApp(loaded: LoadedConfig, log: Logger, givenStore?: Store): App {
  const { config, secrets } = loaded;
  const store = givenStore ?? Store.open(config.dataDir);
  const exporter = new MetricsExporter(VERSION, (fields, message) => log.warn(fields, message), config.metrics);
  const agentCredentials = credentialState(secrets);
  exporter.setAgentCredentials(config.tracks.map((t) => t.name), agentCredentials.present);
  let pool: CpuPool | null = null;
  const cpu = (): CpuPool => (pool ??= new CpuPool());
  const figures = new Figures({ config, store, sink: exporter, log, cpu });
  for (const t of config.tracks) store.tracks.ensure({ name: t.name, agent: t.agent, model: t.model });
  figures.refresh();
  return {
    config,
    secrets,
    configSource: loaded.source,
    store,
    log,
    figures,
    exporter,
    agentCredentials,
    cpu,
    close() {
      figures.close();
      void pool?.close();
      pool = null;
      store.close();
    },
  };
}

/** The Docker runtime's options from the config: its socket and the deadlines of the engine's work. */
export function dockerOptions(config: Config): { socketPath: string; callTimeoutMs: number; transferTimeoutMs: number } {
  const d = config.docker;
  return { socketPath: d.socketPath, callTimeoutMs: d.engineTimeoutSeconds * 1000, transferTimeoutMs: d.transferTimeoutSeconds * 1000 };
}

export const wiring: Wiring = {
  openApp: (loaded, log) => openApp(loaded, log),
  // Loaded on demand, so a command that needs neither (status, metrics, import) starts without dockerode.
  async runtime(config): Promise<ContainerRuntime> {
    const { DockerRuntime } = await import('./executor/index.ts');
    return new DockerRuntime(dockerOptions(config));
  },
  async scheduler(app, runtime) {
    const { Scheduler } = await import('./core/scheduler/scheduler.ts');
    return new Scheduler({ deps: app, runtime, disk: app.exporter });
  },
};

export function main(argv: string[]): Promise<number> {
  return runCli(argv, wiring);
}
