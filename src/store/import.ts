/** Imports: a whole history file's runs and attempts stored in one transaction. */
import type Database from 'better-sqlite3';
import type { ImportedRun, ImportResult } from '../domain/records.ts';
import type { Attempts } from './attempts.ts';
import { ms } from './db.ts';
import type { Tracks } from './tracks.ts';

export class Imports {
  constructor(
    private readonly db: Database.Database,
    private readonly tracks: Tracks,
    private readonly attempts: Attempts,
  ) {}

  /**
   * Stores a whole imported file in one transaction: either every new run lands or none does.
   * A run whose external key is already stored for the track is skipped, so importing a file twice is harmless.
   */
  save(track: string, runs: ImportedRun[]): ImportResult {
    const id = this.tracks.id(track);
    // A run already stored under the same key, or starting at the same instant, is the same run seen again.
    const exists = this.db.prepare('SELECT 1 FROM runs WHERE track_id = ? AND (external_key = ? OR started_at = ?)');
    const insertRun = this.db.prepare(`INSERT INTO runs (track_id, state, trigger, reason, started_at, ended_at, agent_version,
      model_id, suite_hash, external_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const result: ImportResult = { runsStored: 0, attemptsStored: 0, runsSkipped: 0 };
    this.db.transaction(() => {
      for (const run of runs) {
        if (exists.get(id, run.externalKey, ms(run.startedAt))) {
          result.runsSkipped++;
          continue;
        }
        const res = insertRun.run(id, run.state, run.trigger, run.reason, ms(run.startedAt), run.endedAt ? ms(run.endedAt) : null,
          run.agentVersion, run.modelId, run.suiteHash, run.externalKey);
        const runId = Number(res.lastInsertRowid);
        for (const a of run.attempts) this.attempts.insertInto(runId, id, a);
        result.runsStored++;
        result.attemptsStored += run.attempts.length;
      }
    })();
    return result;
  }
}
