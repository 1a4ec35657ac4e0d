/**
 * The periodic check of the container engine: a ping (agentdrift_docker_up; a change is logged once) and, at most
 * once per disk interval while it answers, the engine's disk (agentdrift_docker_* disk series: image disk use, the
 * data root's space, what each track's next run needs). An engine that does not answer leaves the disk series out.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import type { ContainerRuntime } from '../../executor/runtime.ts';
import type { Store } from '../../store/store.ts';
import { dockerDiskFigures, type DockerDiskFigures } from '../runner/images.ts';
import type { Clock } from './clock.ts';

/** Where the engine's disk figures go (the metrics exporter). */
export interface DockerDiskSink {
  applyDockerDisk(d: DockerDiskFigures | null): void;
}

export interface EngineHealthOptions {
  deps: { config: Config; store: Store };
  runtime: ContainerRuntime;
  disk: DockerDiskSink;
  clock: Clock;
  log: Logger;
  /** How often, at most, the engine's disk is measured at a check. */
  diskIntervalMs: number;
}

export class EngineHealth {
  private readonly deps: { config: Config; store: Store };
  private readonly runtime: ContainerRuntime;
  private readonly disk: DockerDiskSink;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly diskIntervalMs: number;
  private up: boolean | null = null;
  private lastDiskMs = -Infinity;

  constructor(opts: EngineHealthOptions) {
    this.deps = opts.deps;
    this.runtime = opts.runtime;
    this.disk = opts.disk;
    this.clock = opts.clock;
    this.log = opts.log;
    this.diskIntervalMs = opts.diskIntervalMs;
  }

  /** Whether the engine answered the last check; null before the first. */
  dockerUp(): boolean | null {
    return this.up;
  }

  /** Pings the engine, then measures its disk when due (not once the store is closed: a shutdown came meanwhile). */
  async check(): Promise<void> {
    let up: boolean;
    try {
      await this.runtime.ping();
      up = true;
    } catch {
      up = false;
    }
    if (up !== this.up) {
      if (up) this.log.info('the Docker Engine answers');
      else this.log.error('the Docker Engine does not answer');
    }
    this.up = up;
    if (!this.deps.store.isOpen) return;
    await this.checkDisk(up);
  }

  /** Measures the engine's disk when the last measure is older than the disk interval. */
  private async checkDisk(up: boolean): Promise<void> {
    if (!up) {
      this.disk.applyDockerDisk(null);
      this.lastDiskMs = -Infinity;
      return;
    }
    const now = this.clock.now();
    if (now - this.lastDiskMs < this.diskIntervalMs) return;
    this.lastDiskMs = now;
    const { store, config } = this.deps;
    try {
      // The suites' own images serve to measure the data root when the daemon cannot see it (runs in a container).
      const helperImages = [...new Set(config.tracks.flatMap((t) => store.images.ofTrack(t.name) ?? []))];
      const usage = await this.runtime.diskUsage({ helperImages });
      if (!store.isOpen) return;
      this.disk.applyDockerDisk(dockerDiskFigures(usage, store, config));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not measure the Docker Engine\'s disk');
      this.disk.applyDockerDisk(null);
    }
  }
}

/** Runs a check every interval of the clock, the next wait starting when a check ends, while `running()`. */
export class CheckTimer {
  private handle: unknown = null;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly running: () => boolean,
    private readonly check: () => Promise<void>,
  ) {}

  start(): void {
    if (!this.running()) return;
    this.handle = this.clock.setTimeout(() => {
      void this.check().finally(() => this.start());
    }, this.intervalMs);
  }

  stop(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
