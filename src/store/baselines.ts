/** Baselines: every change of a track's baseline (who, when, why); the newest one is in force. */
import type Database from 'better-sqlite3';
import type { BaselineInput, BaselineRow, TaskCount } from '../domain/records.ts';
import { isoOrNull } from '../domain/values.ts';
import type { Tracks } from './tracks.ts';

export class Baselines {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {}

  /** Records a baseline change (who, when, why); the newest one is in force. */
  insert(track: string, b: BaselineInput, now = Date.now()): BaselineRow {
    const id = this.tracks.id(track);
    const res = this.db
      .prepare(`INSERT INTO baselines (track_id, kind, p0, from_ms, to_ms, per_task, monitor_from_ms, created_at, created_by, reason, config_spec)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, b.kind, b.p0, b.fromMs, b.toMs, b.perTask ? JSON.stringify(b.perTask) : null, b.monitorFromMs, now, b.createdBy, b.reason, b.configSpec);
    return this.list(track).find((x) => x.id === Number(res.lastInsertRowid)) as BaselineRow;
  }

  /** Newest first. */
  list(track: string): BaselineRow[] {
    const id = this.tracks.id(track);
    const rows = this.db
      .prepare(`SELECT b.id, t.name AS track, kind, p0, from_ms, to_ms, per_task, monitor_from_ms, b.created_at, created_by, reason, config_spec
        FROM baselines b JOIN tracks t ON t.id = b.track_id WHERE b.track_id = ? ORDER BY b.id DESC`)
      .all(id) as {
      id: number; track: string; kind: 'fixed' | 'reference'; p0: number | null; from_ms: number | null; to_ms: number | null;
      per_task: string | null; monitor_from_ms: number; created_at: number; created_by: string; reason: string; config_spec: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      track: r.track,
      kind: r.kind,
      p0: r.p0,
      fromMs: r.from_ms,
      toMs: r.to_ms,
      perTask: r.per_task ? (JSON.parse(r.per_task) as Record<string, TaskCount>) : null,
      monitorFromMs: r.monitor_from_ms,
      createdAt: isoOrNull(r.created_at) as string,
      createdBy: r.created_by,
      reason: r.reason,
      configSpec: r.config_spec,
    }));
  }

  active(track: string): BaselineRow | null {
    return this.list(track)[0] ?? null;
  }
}
