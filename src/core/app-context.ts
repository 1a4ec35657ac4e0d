/**
 * What the daemon and the one-shot commands share: the validated config, the open store, the metrics exporter and
 * the precomputed snapshot of every track. Built once at start, closed once at the end.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config, LoadedConfig, Secrets, TrackConfig } from '../config/index.ts';
import { MetricsExporter } from '../adapters/metrics/exporter.ts';
import { computeOps, computeSnapshot, type TrackOps, type TrackSnapshot } from './figures/snapshot.ts';
import { CronSchedule } from '../cron/cron.ts';
import { StoredThresholdCache } from './figures/evaluate.ts';
import { Store } from '../store/store.ts';
import { CpuPool } from '../workers/pool.ts';
import { credentialState, type CredentialState } from '../agent/credentials.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export class UnknownTrackError extends Error {
  constructor(
    readonly track: string,
    known: string[],
  ) {
    super(`unknown track "${track}"; configured tracks: ${known.join(', ')}`);
    this.name = 'UnknownTrackError';
  }
}

/**
 * What only a running scheduler knows: its clock, the next slot it armed, the run it has going on. Without one (the
 * one-shot commands) the figures come from the schedule and the real clock, and a run stored as running counts as
 * going on.
 */
export interface LiveSource {
  now(): number;
  nextRunMs(track: string): number | null;
  /** The run going on (id null while it is being set up), or null. */
  liveRun(track: string): { id: number | null } | null;
  dockerUp(): boolean | null;
}

export class AppContext {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly configSource: string | null;
  readonly store: Store;
  readonly exporter: MetricsExporter;
  /** Whether the agent has credentials (from the environment, see credentials.ts): names only, never values. */
  readonly agentCredentials: CredentialState;
  private readonly snapshots = new Map<string, TrackSnapshot>();
  private readonly thresholds: StoredThresholdCache;
  private readonly schedules = new Map<string, { schedule: CronSchedule; periodSeconds: number | null }>();
  private live: LiveSource | null = null;
  private pool: CpuPool | null = null;
  /** Refreshes go to a worker thread (offloadRefreshes): the tracks waiting for one, and the one running. */
  private offload = false;
  private readonly stale = new Set<string>();
  private inflight: Promise<void> | null = null;

  constructor(
    loaded: LoadedConfig,
    readonly log: Logger,
    store?: Store,
  ) {
    this.config = loaded.config;
    this.secrets = loaded.secrets;
    this.configSource = loaded.source;
    this.store = store ?? Store.open(loaded.config.dataDir);
    this.exporter = new MetricsExporter(VERSION, (fields, message) => this.log.warn(fields, message));
    this.agentCredentials = credentialState(this.secrets);
    this.exporter.setAgentCredentials(this.config.tracks.map((t) => t.name), this.agentCredentials.present);
    this.thresholds = new StoredThresholdCache(this.store);
    for (const t of this.config.tracks) this.store.ensureTrack({ name: t.name, agent: t.agent, model: t.model });
    this.refresh();
  }

  track(name: string): TrackConfig {
    const t = this.config.tracks.find((x) => x.name === name);
    if (!t) throw new UnknownTrackError(name, this.config.tracks.map((x) => x.name));
    return t;
  }

  snapshot(name: string): TrackSnapshot {
    this.track(name);
    const s = this.snapshots.get(name);
    if (!s) throw new Error(`no snapshot for track ${name}`);
    return s;
  }

  /** A scheduler attaches here so that the operational figures say what it does (null detaches). */
  attachLive(live: LiveSource | null): void {
    this.live = live;
    this.refreshOps();
  }

  now(): number {
    return this.live ? this.live.now() : Date.now();
  }

  /** Whether the Docker Engine answered the scheduler's last check; null without a scheduler or before its first. */
  dockerUp(): boolean | null {
    return this.live ? this.live.dockerUp() : null;
  }

  private cronOf(name: string): { schedule: CronSchedule; periodSeconds: number | null } {
    let s = this.schedules.get(name);
    if (!s) {
      const schedule = new CronSchedule(this.track(name).schedule);
      s = { schedule, periodSeconds: schedule.periodSeconds(this.now()) };
      this.schedules.set(name, s);
    }
    return s;
  }

  /** The track's schedule (node-cron semantics, any instant). */
  schedule(name: string): CronSchedule {
    return this.cronOf(name).schedule;
  }

  /** The track's operational figures, computed now. */
  ops(name: string): TrackOps {
    const t = this.track(name);
    const now = this.now();
    const c = this.cronOf(name);
    return computeOps(this.store, t, {
      now,
      nextRunMs: this.live ? this.live.nextRunMs(name) : c.schedule.nextAfter(now),
      schedulePeriodSeconds: c.periodSeconds,
      liveRun: this.live ? this.live.liveRun(name) : undefined,
    });
  }

  /** Recomputes the operational figures of every track and swaps them into /metrics (cheap). */
  refreshOps(): void {
    if (!this.store.isOpen) return;
    const ops: TrackOps[] = [];
    for (const t of this.config.tracks) {
      // One track's figures failing (a store holding what no code path writes) must not take the others, or the
      // process, with it: its series are left out, said once per reason.
      try {
        ops.push(this.ops(t.name));
      } catch (e) {
        this.figuresFailed(t.name, 'operational figures', e);
      }
    }
    this.exporter.applyOps(ops, this.dockerUp());
  }

  private readonly failures = new Set<string>();

  private figuresFailed(track: string, what: string, e: unknown): void {
    const err = e instanceof Error ? e.message : String(e);
    const key = `${track}\n${what}\n${err}`;
    if (this.failures.has(key)) return;
    this.failures.add(key);
    this.log.error({ track, err }, `computing the ${what} of the track failed; its series are left out of /metrics (check the stored history)`);
  }

  /** The worker threads for CPU-heavy work (workers/pool.ts), started on first use and ended by close(). */
  cpu(): CpuPool {
    this.pool ??= new CpuPool();
    return this.pool;
  }

  /**
   * From now on, refresh() recomputes the figures in a worker thread (the daemon's server turns this on, so that a
   * threshold simulation or a scan of a long history never holds up a request): it returns at once, /metrics and
   * the API serve the previous figures until the new ones are in, and settled() says when they are. Refreshes asked
   * for while one runs are merged into the next. The one-shot commands keep computing in-thread.
   */
  offloadRefreshes(): void {
    if (this.store.file !== ':memory:') this.offload = true;
  }

  /** Resolves once no refresh is waiting or running (at once when refreshes run in-thread). */
  async settled(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private startRefresh(): void {
    if (this.inflight || this.stale.size === 0 || !this.store.isOpen) return;
    const tracks = this.config.tracks.filter((t) => this.stale.has(t.name));
    this.stale.clear();
    const started = performance.now();
    this.inflight = this.cpu()
      .snapshots({ file: this.store.file, tracks, statistics: this.config.statistics })
      .then(
        (outcomes) => {
          if (!this.store.isOpen) return;
          for (const o of outcomes) {
            if ('snapshot' in o) this.snapshots.set(o.track, o.snapshot);
            else this.figuresFailed(o.track, 'figures', new Error(o.error));
          }
          this.applySnapshots();
          this.log.debug({ tracks: tracks.map((t) => t.name), ms: Math.round(performance.now() - started) }, 'figures recomputed in a worker');
        },
        (e: unknown) => {
          if (this.store.isOpen) this.log.error({ tracks: tracks.map((t) => t.name), err: e instanceof Error ? e.message : String(e) }, 'recomputing the figures failed; serving the previous ones');
        },
      )
      .finally(() => {
        this.inflight = null;
        this.startRefresh();
      });
  }

  private applySnapshots(): void {
    this.exporter.apply(this.config.tracks.map((t) => this.snapshots.get(t.name)).filter((s): s is TrackSnapshot => !!s));
    this.refreshOps();
  }

  /** Recomputes the figures of one track (or all) and swaps them into /metrics. */
  refresh(track?: string): void {
    const started = performance.now();
    const tracks = track ? [this.track(track)] : this.config.tracks;
    if (this.offload) {
      for (const t of tracks) this.stale.add(t.name);
      this.startRefresh();
      return;
    }
    for (const t of tracks) {
      try {
        this.snapshots.set(t.name, computeSnapshot(this.store, t, { statistics: this.config.statistics, thresholds: this.thresholds }));
      } catch (e) {
        // Keeps the previous figures, if any: every command must still start on a store it can open.
        this.figuresFailed(t.name, 'figures', e);
      }
    }
    this.applySnapshots();
    this.log.debug({ track: track ?? 'all', ms: Math.round(performance.now() - started) }, 'figures recomputed');
  }

  close(): void {
    for (const s of this.schedules.values()) s.schedule.dispose();
    this.schedules.clear();
    this.stale.clear();
    void this.pool?.close();
    this.pool = null;
    this.store.close();
  }
}
