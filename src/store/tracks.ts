/** Tracks: one row per configured track (name, agent, model, the suite in force). */
import type Database from 'better-sqlite3';
import type { TrackRow } from '../domain/records.ts';
import { isoOrNull } from '../domain/values.ts';

export class Tracks {
  constructor(private readonly db: Database.Database) {}

  /** Creates the track on first sight; keeps agent and model current. */
  ensure(t: { name: string; agent: string; model: string }): TrackRow {
    this.db
      .prepare(`INSERT INTO tracks (name, agent, model, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET agent = excluded.agent, model = excluded.model`)
      .run(t.name, t.agent, t.model, Date.now());
    return this.get(t.name) as TrackRow;
  }

  get(name: string): TrackRow | null {
    const r = this.db.prepare('SELECT id, name, agent, model, suite_hash, created_at FROM tracks WHERE name = ?').get(name) as
      | { id: number; name: string; agent: string; model: string; suite_hash: string | null; created_at: number }
      | undefined;
    return r
      ? { id: r.id, name: r.name, agent: r.agent, model: r.model, suiteHash: r.suite_hash, createdAt: isoOrNull(r.created_at) as string }
      : null;
  }

  /** The id of a stored track; throws for a name never stored. */
  id(name: string): number {
    const t = this.get(name);
    if (!t) throw new Error(`unknown track "${name}"`);
    return t.id;
  }
}
