/**
 * The figures of every track as /metrics and the API serve them: the precomputed snapshot of each track (snapshot.ts)
 * and the cheap operational figures, recomputed when something changed and handed to a {@link FiguresSink} (the
 * metrics exporter). Runner, scheduler, baselines and imports call refresh(track) after they store something; the
 * daemon moves the expensive part to a worker thread (offloadRefreshes).
 */
import type { Logger } from 'pino';
import type { Config, TrackConfig } from '../../config/index.ts';
import { trackNamed } from '../../config/index.ts';
import { CronSchedule } from '../../cron/cron.ts';
import type { Baseline, ThresholdResult, TrackThresholdOptions } from '../../stats/index.ts';
import type { Store } from '../../store/store.ts';
import type { CpuPool } from '../../workers/pool.ts';
import type { FiguresRefresh } from '../deps.ts';
import { StoredThresholdCache } from './evaluate.ts';
import { computeOps, computeSnapshot, type TrackOps, type TrackSnapshot } from './snapshot.ts';

/** Where the figures go once computed: the metrics exporter. */
export interface FiguresSink {
  apply(snapshots: readonly TrackSnapshot[]): void;
  applyOps(ops: readonly TrackOps[], dockerUp: boolean | null): void;
}

export type { FiguresRefresh };

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

/** The worker task that computes snapshots (run by src/worker.ts). */
export interface SnapshotTask {
  /** The store's SQLite file (Store.file): opened there on a connection of the thread's own. */
  file: string;
  tracks: TrackConfig[];
  statistics: Config['statistics'];
}

/** A track's new figures, or why they could not be computed (the main thread keeps its previous ones then). */
export type SnapshotOutcome = { track: string; snapshot: TrackSnapshot } | { track: string; error: string };

/** The worker task that simulates one CUSUM threshold, as trackThreshold computes it in-thread (same seed, same h). */
export interface ThresholdTask {
  baseline: Baseline;
  options: TrackThresholdOptions;
}

export function thresholdInWorker(pool: CpuPool, task: ThresholdTask): Promise<ThresholdResult> {
  return pool.run<ThresholdResult>('threshold', task);
}

export interface FiguresDeps {
  config: Config;
  store: Store;
  sink: FiguresSink;
  log: Logger;
  /** The worker threads, started on first use. */
  cpu: () => CpuPool;
}

export class Figures implements FiguresRefresh {
  private readonly config: Config;
  private readonly store: Store;
  private readonly sink: FiguresSink;
  private readonly log: Logger;
  private readonly cpu: () => CpuPool;
  private readonly snapshots = new Map<string, TrackSnapshot>();
  private readonly thresholds: StoredThresholdCache;
  private readonly schedules = new Map<string, { schedule: CronSchedule; periodSeconds: number | null }>();
  private live: LiveSource | null = null;
  /** Refreshes go to a worker thread (offloadRefreshes): the tracks waiting for one, and the one running. */
  private offload = false;
  private readonly stale = new Set<string>();
  private inflight: Promise<void> | null = null;

  constructor(deps: FiguresDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.sink = deps.sink;
    this.log = deps.log;
    this.cpu = deps.cpu;
    this.thresholds = new StoredThresholdCache(this.store);
  }

  snapshot(name: string): TrackSnapshot {
    trackNamed(this.config, name);
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
      const schedule = new CronSchedule(trackNamed(this.config, name).schedule);
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
    const t = trackNamed(this.config, name);
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
    this.sink.applyOps(ops, this.dockerUp());
  }

  private readonly failures = new Set<string>();

  private figuresFailed(track: string, what: string, e: unknown): void {
    const err = e instanceof Error ? e.message : String(e);
    const key = `${track}\n${what}\n${err}`;
    if (this.failures.has(key)) return;
    this.failures.add(key);
    this.log.error({ track, err }, `computing the ${what} of the track failed; its series are left out of /metrics (check the stored history)`);
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
    const task: SnapshotTask = { file: this.store.file, tracks, statistics: this.config.statistics };
    this.inflight = this.cpu()
      .run<SnapshotOutcome[]>('snapshots', task)
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
    this.sink.apply(this.config.tracks.map((t) => this.snapshots.get(t.name)).filter((s): s is TrackSnapshot => !!s));
    this.refreshOps();
  }

  /** Recomputes the figures of one track (or all) and swaps them into /metrics. */
  refresh(track?: string): void {
    const started = performance.now();
    const tracks = track ? [trackNamed(this.config, track)] : this.config.tracks;
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

  /** Ends the schedules' timers and forgets pending refreshes (the owner closes the pool and the store). */
  close(): void {
    for (const s of this.schedules.values()) s.schedule.dispose();
    this.schedules.clear();
    this.stale.clear();
  }
}
