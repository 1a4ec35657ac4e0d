/**
 * What the adapters (HTTP API, CLI) are handed: the process's parts, wired once by src/main.ts. The core rooms never
 * see this; each takes only the dependencies it names (CoreDeps and its own additions).
 */
import type { Logger } from 'pino';
import type { CredentialState } from '../agent/credentials.ts';
import type { Config, LoadedConfig, Secrets } from '../config/index.ts';
import type { Figures } from '../core/figures/figures.ts';
import type { ImportBodyDeps } from '../core/history/import-body.ts';
import type { Scheduler, SchedulerDeps } from '../core/scheduler/scheduler.ts';
import type { ContainerRuntime } from '../executor/index.ts';
import type { Store } from '../store/store.ts';
import type { CpuPool } from '../workers/pool.ts';
import type { MetricsExporter } from './metrics/exporter.ts';

export interface App extends SchedulerDeps, ImportBodyDeps {
  readonly config: Config;
  readonly secrets: Secrets;
  /** The config file in force, or null for the embedded defaults. */
  readonly configSource: string | null;
  readonly store: Store;
  readonly log: Logger;
  readonly figures: Figures;
  readonly exporter: MetricsExporter;
  /** Whether the agent has credentials (agent/credentials.ts): names only, never values. */
  readonly agentCredentials: CredentialState;
  /** The worker threads for CPU-heavy work, started on first use and ended by close(). */
  cpu(): CpuPool;
  close(): void;
}

/** The concrete parts the CLI's commands ask main.ts for. */
export interface Wiring {
  openApp(loaded: LoadedConfig, log: Logger): App;
  /** The container runtime of the daemon and of `agentdrift run` (the Docker Engine). */
  runtime(config: Config): Promise<ContainerRuntime>;
  scheduler(app: App, runtime: ContainerRuntime): Promise<Scheduler>;
}
