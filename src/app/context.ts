/**
 * What the daemon and the one-shot commands share: the validated config, the open store, the metrics exporter and
 * the precomputed snapshot of every track. Built once at start, closed once at the end.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config, LoadedConfig, Secrets, TrackConfig } from '../config/index.ts';
import { MetricsExporter } from '../metrics/exporter.ts';
import { computeSnapshot, type TrackSnapshot } from '../metrics/snapshot.ts';
import { StoredThresholdCache } from '../regression/evaluate.ts';
import { Store } from '../store/store.ts';

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

export class AppContext {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly configSource: string | null;
  readonly store: Store;
  readonly exporter: MetricsExporter;
  private readonly snapshots = new Map<string, TrackSnapshot>();
  private readonly thresholds: StoredThresholdCache;

  constructor(
    loaded: LoadedConfig,
    readonly log: Logger,
    store?: Store,
  ) {
    this.config = loaded.config;
    this.secrets = loaded.secrets;
    this.configSource = loaded.source;
    this.store = store ?? Store.open(loaded.config.dataDir);
    this.exporter = new MetricsExporter(VERSION);
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

  /** Recomputes the figures of one track (or all) and swaps them into /metrics. */
  refresh(track?: string): void {
    const started = performance.now();
    const tracks = track ? [this.track(track)] : this.config.tracks;
    for (const t of tracks) this.snapshots.set(t.name, computeSnapshot(this.store, t, { statistics: this.config.statistics, thresholds: this.thresholds }));
    this.exporter.apply(this.config.tracks.map((t) => this.snapshots.get(t.name)).filter((s): s is TrackSnapshot => !!s));
    this.log.debug({ track: track ?? 'all', ms: Math.round(performance.now() - started) }, 'figures recomputed');
  }

  close(): void {
    this.store.close();
  }
}
