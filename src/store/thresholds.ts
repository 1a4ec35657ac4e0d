/** CUSUM thresholds: a cache of simulation results by key (losing it only costs a simulation). */
import type Database from 'better-sqlite3';

export class Thresholds {
  constructor(private readonly db: Database.Database) {}

  load<T>(): [string, T][] {
    const rows = this.db.prepare('SELECT key, result FROM cusum_thresholds').all() as { key: string; result: string }[];
    return rows.map((r) => [r.key, JSON.parse(r.result) as T]);
  }

  save(key: string, result: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO cusum_thresholds (key, result, created_at) VALUES (?, ?, ?)').run(key, JSON.stringify(result), Date.now());
  }
}
