/**
 * A track's baseline: which one is in force, and how it gets set. Every change is a stored, logged act (who, when,
 * why); nothing here changes a baseline silently.
 *  - from the config file: a fixed p0, or a reference period (frozen per task once the period is over and holds data);
 *  - `auto` (default): the track's first N finished days become the reference, once there are N;
 *  - the API (PUT /api/tracks/:track/baseline) and `agentdrift baseline set`.
 */
import type { TrackConfig } from '../../config/index.ts';
import type { Baseline } from '../../stats/index.ts';
import type { Store } from '../../store/store.ts';
import type { BaselineInput, BaselineRow } from '../../domain/records.ts';
import { DAY_MS } from '../../domain/values.ts';

export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

/** The pure form the statistics take. */
export function toStatsBaseline(row: BaselineRow): Baseline {
  if (row.kind === 'fixed') return { kind: 'fixed', p0: row.p0 as number };
  return { kind: 'reference', perTask: new Map(Object.entries(row.perTask ?? {})) };
}

export type BaselineRequest = { p0: number; from?: string } | { from: string; to: string };

/**
 * What a fixed baseline's p0 must be, wherever it comes from (config, API, CLI): a number strictly between 0 and 1. At
 * p0 = 1 a single failed attempt is "significant" and the CUSUM threshold collapses to 0; at p0 = 0 nothing can ever
 * be a drop.
 */
export const P0_RULE = 'expected a number strictly between 0 and 1 (a fixed baseline pass rate; 0 and 1 leave nothing to test)';

/** Why `p0` is not a usable fixed baseline, or null when it is. */
export function p0Problem(p0: unknown): string | null {
  if (typeof p0 === 'number' && p0 > 0 && p0 < 1) return null;
  return `got ${typeof p0 === 'string' ? JSON.stringify(p0) : String(p0)}; ${P0_RULE}`;
}

/** Builds (but does not store) a baseline from a request; a reference period must be over and hold attempts. */
export function buildBaseline(store: Store, track: string, req: BaselineRequest, who: { by: string; reason: string; configSpec?: string | null }, now = Date.now()): BaselineInput {
  if ('p0' in req) {
    const bad = p0Problem(req.p0);
    if (bad) throw new BaselineError(`p0: ${bad}`);
    const from = req.from === undefined ? now : parseInstant('from', req.from);
    return { kind: 'fixed', p0: req.p0, fromMs: null, toMs: null, perTask: null, monitorFromMs: from, createdBy: who.by, reason: who.reason, configSpec: who.configSpec ?? null };
  }
  const fromMs = parseInstant('from', req.from);
  const toMs = parseInstant('to', req.to);
  if (toMs <= fromMs) throw new BaselineError(`to: got ${req.to}; expected an instant after from (${req.from})`);
  if (toMs > now) throw new BaselineError(`to: got ${req.to}; expected an instant in the past: a reference period must be over to be frozen`);
  const perTask = store.attempts.perTask(track, fromMs, toMs);
  if (!Object.keys(perTask).length) throw new BaselineError(`the period ${req.from} .. ${req.to} holds no attempt of track ${track}`);
  return { kind: 'reference', p0: null, fromMs, toMs, perTask, monitorFromMs: toMs, createdBy: who.by, reason: who.reason, configSpec: who.configSpec ?? null };
}

function parseInstant(key: string, v: string): number {
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) throw new BaselineError(`${key}: got ${JSON.stringify(v)}; expected an ISO 8601 instant such as 2026-01-31T00:00:00Z`);
  return t;
}

function configSpec(b: TrackConfig['baseline']): string | null {
  if (b.kind === 'fixed') return `fixed:${b.p0}`;
  if (b.kind === 'reference') return `reference:${b.from}..${b.to}`;
  return null;
}

/**
 * Brings the stored baseline in line with the config (a changed config baseline is a new, logged baseline; one set
 * through the API stays in force until the config's own baseline changes), freezes the auto baseline once the track
 * has enough finished days, and returns the baseline in force, or null while there is none yet.
 */
export function resolveBaseline(store: Store, track: TrackConfig, now = Date.now()): BaselineRow | null {
  const spec = configSpec(track.baseline);
  const all = store.baselines.list(track.name);
  const b = track.baseline;
  if (spec !== null && b.kind !== 'auto') {
    const lastFromConfig = all.find((x) => x.configSpec !== null);
    if (!lastFromConfig || lastFromConfig.configSpec !== spec) {
      const reason = 'baseline set in the configuration file';
      if (b.kind === 'fixed') {
        // A fixed p0 from the config watches the whole history, as the peer tracker's rule does.
        return store.baselines.insert(track.name, { ...buildBaseline(store, track.name, { p0: b.p0 }, { by: 'config', reason, configSpec: spec }, now), monitorFromMs: 0 }, now);
      }
      try {
        return store.baselines.insert(track.name, buildBaseline(store, track.name, { from: b.from, to: b.to }, { by: 'config', reason, configSpec: spec }, now), now);
      } catch (e) {
        if (!(e instanceof BaselineError)) throw e;
        // The period is not over or holds no data yet: keep what is in force and try again at the next refresh.
        return all[0] ?? null;
      }
    }
    return all[0] ?? null;
  }
  if (all[0]) return all[0];
  if (b.kind !== 'auto') return null;
  // Auto: the first `days` distinct UTC days on which a run finished.
  const spans = store.runs.finishedSpans(track.name, 100_000);
  const days: { day: number; start: number; end: number }[] = [];
  for (const s of spans) {
    const day = Math.floor(s.endedAtMs / DAY_MS);
    const last = days.at(-1);
    if (last && last.day === day) last.end = Math.max(last.end, s.endedAtMs);
    else days.push({ day, start: s.startedAtMs, end: s.endedAtMs });
    if (days.length > b.days) break;
  }
  if (days.length < b.days) return null;
  const first = days[0]!;
  const lastDay = days[b.days - 1]!;
  // The last of those days is finished once it is over (or a later day has a run): a track that runs several times
  // a day would otherwise freeze its reference after the first run of that day.
  if (days.length === b.days && now < (lastDay.day + 1) * DAY_MS) return null;
  const input = buildBaseline(
    store,
    track.name,
    { from: new Date(first.start).toISOString(), to: new Date(lastDay.end).toISOString() },
    { by: 'auto', reason: `the track's first ${b.days} finished days` },
    now,
  );
  return store.baselines.insert(track.name, input, now);
}

/** Attempts per day the baseline period ran (for the CUSUM threshold), or null for a fixed baseline. */
export function referenceVolume(store: Store, row: BaselineRow): number | null {
  if (row.kind !== 'reference' || row.fromMs === null || row.toMs === null) return null;
  const trials = Object.values(row.perTask ?? {}).reduce((s, c) => s + c.trials, 0);
  const days = new Set(
    store
      .runs.finishedSpans(row.track, 100_000)
      .filter((s) => s.endedAtMs >= (row.fromMs as number) && s.endedAtMs <= (row.toMs as number))
      .map((s) => Math.floor(s.endedAtMs / DAY_MS)),
  ).size;
  return days > 0 ? trials / days : null;
}
