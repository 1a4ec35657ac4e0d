/** Images (the docker.images policy): the references agentdrift pulled, and the ones each track's suite uses. */
import type Database from 'better-sqlite3';
import type { Tracks } from './tracks.ts';

export class Images {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {}

  /** Records that agentdrift pulled `ref` (only such references are ever removed by it). */
  recordPulled(ref: string, nowMs = Date.now()): void {
    this.db.prepare('INSERT INTO pulled_images (ref, pulled_at) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET pulled_at = excluded.pulled_at').run(ref, nowMs);
  }

  /** Forgets a pulled reference (it was removed). */
  forgetPulled(ref: string): void {
    this.db.prepare('DELETE FROM pulled_images WHERE ref = ?').run(ref);
  }

  /** Every reference agentdrift pulled and has not removed, oldest pull first. */
  pulled(): { ref: string; pulledAtMs: number }[] {
    return this.db.prepare('SELECT ref, pulled_at AS pulledAtMs FROM pulled_images ORDER BY pulled_at, ref').all() as { ref: string; pulledAtMs: number }[];
  }

  /** Replaces the image references the track's suite uses (written when a run resolves its suite). */
  setOfTrack(track: string, refs: readonly string[]): void {
    const trackId = this.tracks.id(track);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM track_images WHERE track_id = ?').run(trackId);
      const insert = this.db.prepare('INSERT OR IGNORE INTO track_images (track_id, ref) VALUES (?, ?)');
      for (const ref of refs) insert.run(trackId, ref);
    })();
  }

  /** The image references of the track's suite as last resolved; null when no run has resolved it yet. */
  ofTrack(track: string): string[] | null {
    const t = this.tracks.get(track);
    if (!t) return null;
    const rows = this.db.prepare('SELECT ref FROM track_images WHERE track_id = ? ORDER BY ref').all(t.id) as { ref: string }[];
    return rows.length ? rows.map((r) => r.ref) : null;
  }
}
