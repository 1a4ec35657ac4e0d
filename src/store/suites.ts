/** Suites: frozen task selections under their hash; a track points at the one in force. */
import type Database from 'better-sqlite3';
import type { SuiteRow } from '../domain/records.ts';
import type { Tracks } from './tracks.ts';

export class Suites {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
  ) {}

  /** Freezes a task selection under its hash and makes it the track's suite. */
  freeze(track: string, s: SuiteRow): void {
    const id = this.tracks.id(track);
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT OR IGNORE INTO suites (hash, task_ids, dataset_revision, harness_commit, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(s.hash, JSON.stringify(s.taskIds), s.datasetRevision, s.harnessCommit, Date.now());
      this.db.prepare('UPDATE tracks SET suite_hash = ? WHERE id = ?').run(s.hash, id);
    })();
  }

  get(hash: string): SuiteRow | null {
    const r = this.db.prepare('SELECT hash, task_ids, dataset_revision, harness_commit FROM suites WHERE hash = ?').get(hash) as
      | { hash: string; task_ids: string; dataset_revision: string | null; harness_commit: string | null }
      | undefined;
    return r ? { hash: r.hash, taskIds: JSON.parse(r.task_ids) as string[], datasetRevision: r.dataset_revision, harnessCommit: r.harness_commit } : null;
  }
}
