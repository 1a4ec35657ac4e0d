/** Track leases: which process runs a track right now (the rule for when a lease binds is src/core/runner/lease.ts). */
import type Database from 'better-sqlite3';
import type { LeaseHolder, LeaseRow } from '../domain/records.ts';
import type { Tracks } from './tracks.ts';

export class Leases {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {}

  /**
   * Takes the track's lease in one immediate transaction (so two processes cannot both take it) unless another holder
   * has it and `stillHeld` says that lease still binds (the rule is the caller's: src/core/runner/lease.ts). Otherwise
   * returns that holder.
   */
  acquire(track: string, holder: LeaseHolder, nowMs: number, stillHeld: (l: LeaseRow) => boolean): { acquired: true } | { acquired: false; holder: LeaseRow } {
    const trackId = this.tracks.id(track);
    return this.db.transaction((): { acquired: true } | { acquired: false; holder: LeaseRow } => {
      const current = this.current(track);
      if (current && current.id !== holder.id && stillHeld(current)) return { acquired: false, holder: current };
      this.db
        .prepare(`INSERT OR REPLACE INTO track_leases (track_id, holder, pid, host, purpose, acquired_at, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(trackId, holder.id, holder.pid, holder.host, holder.purpose, nowMs, nowMs);
      return { acquired: true };
    }).immediate();
  }

  /** Renews the holder's lease; false when it no longer holds it (it expired and another process took it). */
  renew(track: string, holderId: string, nowMs: number): boolean {
    const r = this.db.prepare(`UPDATE track_leases SET renewed_at = ? WHERE holder = ? AND track_id = (SELECT id FROM tracks WHERE name = ?)`).run(nowMs, holderId, track);
    return r.changes === 1;
  }

  /** Gives the lease back (a no-op when the holder no longer has it). */
  release(track: string, holderId: string): void {
    this.db.prepare(`DELETE FROM track_leases WHERE holder = ? AND track_id = (SELECT id FROM tracks WHERE name = ?)`).run(holderId, track);
  }

  current(track: string): LeaseRow | null {
    const r = this.db
      .prepare(`SELECT l.holder, l.pid, l.host, l.purpose, l.acquired_at, l.renewed_at FROM track_leases l JOIN tracks t ON t.id = l.track_id WHERE t.name = ?`)
      .get(track) as { holder: string; pid: number; host: string; purpose: string; acquired_at: number; renewed_at: number } | undefined;
    return r ? { id: r.holder, pid: r.pid, host: r.host, purpose: r.purpose, acquiredAtMs: r.acquired_at, renewedAtMs: r.renewed_at } : null;
  }
}
