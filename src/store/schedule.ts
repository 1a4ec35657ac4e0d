/**
 * The schedule's record (migration 4): slots missed while the daemon was down (run_events of kind `missed`) and how
 * far each track's schedule has been handled (schedule_marks).
 */
import type Database from 'better-sqlite3';
import type { MissedRecord } from '../domain/records.ts';
import type { Tracks } from './tracks.ts';

export class Schedule {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {}

  /** Records `count` slots in [fromMs, toMs] missed while the daemon was down. */
  recordMissed(track: string, m: MissedRecord): void {
    this.db
      .prepare("INSERT INTO run_events (track_id, run_id, kind, count, at, slot_from, slot_to, reason) VALUES (?, NULL, 'missed', ?, ?, ?, ?, ?)")
      .run(this.tracks.id(track), m.count, m.at, m.fromMs, m.toMs, m.reason);
  }

  missedTotal(track: string): number {
    // TOTAL, not SUM: SUM throws "integer overflow" past 2^63, and a figure must never stop a start.
    const r = this.db.prepare("SELECT TOTAL(count) AS n FROM run_events WHERE track_id = ? AND kind = 'missed'").get(this.tracks.id(track)) as { n: number };
    return r.n;
  }

  lastMissed(track: string): MissedRecord | null {
    const r = this.db
      .prepare("SELECT count, slot_from AS fromMs, slot_to AS toMs, at, reason FROM run_events WHERE track_id = ? AND kind = 'missed' ORDER BY id DESC LIMIT 1")
      .get(this.tracks.id(track)) as MissedRecord | undefined;
    return r ?? null;
  }

  /** Every slot at or before this instant has been handled (run, skipped or recorded missed); null before the first start. */
  coveredUntil(track: string): number | null {
    const r = this.db.prepare('SELECT covered_until AS c FROM schedule_marks WHERE track_id = ?').get(this.tracks.id(track)) as { c: number } | undefined;
    return r?.c ?? null;
  }

  setCoveredUntil(track: string, ms: number): void {
    this.db
      .prepare('INSERT INTO schedule_marks (track_id, covered_until) VALUES (?, ?) ON CONFLICT(track_id) DO UPDATE SET covered_until = MAX(covered_until, excluded.covered_until)')
      .run(this.tracks.id(track), ms);
  }
}
