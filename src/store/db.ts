/**
 * The connection to the embedded SQLite store (better-sqlite3): WAL, foreign keys, versioned migrations. Every
 * write the repositories make runs in a transaction, so a crash never leaves a half-written run or attempt.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';

export class Db {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    // First, so that everything after it (switching to WAL, the migrations) waits for another process's lock
    // instead of failing at once: two commands started together on a fresh dataDir both open it.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  private dataVersion: number | null = null;

  /**
   * Whether another connection (another agentdrift process: `agentdrift import`, `agentdrift run`, `baseline set`)
   * committed a change since the last call. SQLite's data_version moves only for other connections' commits, so the
   * daemon's own writes never count. The first call only takes the mark.
   */
  changedByOthers(): boolean {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    const changed = this.dataVersion !== null && v !== this.dataVersion;
    this.dataVersion = v;
    return changed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const current = this.schemaVersion();
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`the store at ${this.file} has schema version ${current}, newer than this agentdrift knows (${latest})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      // Under the write lock, the version is read again: another process that opened the store at the same moment
      // may have applied this migration while this one waited.
      this.db
        .transaction(() => {
          if (this.schemaVersion() >= m.version) return;
          this.db.exec(m.sql);
          this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        })
        .immediate();
    }
  }
}

/** Instants are stored as epoch milliseconds. */
export const ms = (iso: string): number => Date.parse(iso);
