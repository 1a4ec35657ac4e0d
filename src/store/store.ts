/**
 * The embedded SQLite store: one connection (db.ts: pragmas, migrations) and one repository per kind of record. Other
 * rooms call the repositories' typed methods (`store.runs.create(...)`, `store.baselines.active(track)`); all SQL
 * lives in this folder. The record types are in src/domain/records.ts.
 */
import path from 'node:path';
import { Attempts } from './attempts.ts';
import { Baselines } from './baselines.ts';
import { Db } from './db.ts';
import { Images } from './images.ts';
import { Imports } from './import.ts';
import { Leases } from './leases.ts';
import { Runs } from './runs.ts';
import { Schedule } from './schedule.ts';
import { Suites } from './suites.ts';
import { Thresholds } from './thresholds.ts';
import { Tracks } from './tracks.ts';

export class Store extends Db {
  readonly tracks = new Tracks(this.db);
  readonly leases = new Leases(this.db, this.tracks);
  readonly suites = new Suites(this.db, this.tracks);
  readonly images = new Images(this.db, this.tracks);
  readonly attempts = new Attempts(this.db, this.tracks);
  readonly runs = new Runs(this.db, this.tracks, this.attempts);
  readonly schedule = new Schedule(this.db, this.tracks);
  readonly baselines = new Baselines(this.db, this.tracks);
  readonly thresholds = new Thresholds(this.db);
  readonly imports = new Imports(this.db, this.tracks, this.attempts);

  static open(dataDir: string): Store {
    return new Store(path.join(dataDir, 'agentdrift.sqlite'));
  }
}
