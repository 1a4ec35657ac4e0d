/**
 * Migration 9: each attempt's per-test results in one compact JSON column. Old rows read as null, a stored summary
 * reads back as it was, the statistics read only its counts, and what no code path writes (JSON of another shape, or
 * counts that do not add up, put there by hand) reads as null instead of breaking the figures.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestResults } from '../../src/domain/test-results.ts';
import type { AttemptInput } from '../../src/domain/types.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/context.ts';

const attempt = (taskId: string, extra: Partial<AttemptInput> = {}): AttemptInput => ({
  taskId,
  sampleIndex: 0,
  outcome: 'unresolved',
  reason: null,
  inputTokens: 1,
  outputTokens: 2,
  cacheReadTokens: 3,
  cacheCreationTokens: 4,
  costUsd: 0.5,
  turns: 3,
  toolCalls: 4,
  agentDurationMs: 1000,
  gradingDurationMs: 500,
  patchBytes: 10,
  transcriptPath: null,
  gradingLogPath: null,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:01:00Z',
  ...extra,
});

const TESTS: TestResults = {
  ran: 12,
  f2p: { total: 3, passed: 1, failed: 1, error: 0, skipped: 0, missing: 1, notPassed: ['t::a', 't::b'] },
  p2p: { total: 5, passed: 4, failed: 0, error: 1, skipped: 0, missing: 0, notPassed: ['t::c'] },
};

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

describe('per-test results in the store (migration 9)', () => {
  it('keeps the rows of a store at version 8, reading their results as null', () => {
    const file = path.join(tempDir(), 'v8.sqlite');
    const old = new Database(file);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 8)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    old.prepare("INSERT INTO tracks (id, name, agent, model, created_at) VALUES (1, 'a', 'claude-code', 'm', 0)").run();
    old.prepare("INSERT INTO runs (id, track_id, state, trigger, started_at, ended_at) VALUES (1, 1, 'completed', 'cli', 0, 60000)").run();
    old
      .prepare(
        `INSERT INTO attempts (run_id, track_id, task_id, sample_index, outcome, started_at, ended_at) VALUES (1, 1, 'old-task', 0, 'resolved', 0, 60000)`,
      )
      .run();
    old.close();

    store = new Store(file);
    expect(store.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    const [a] = store.attempts.ofRun(1);
    expect(a).toMatchObject({ taskId: 'old-task', tests: null });
    expect(store.attempts.facts('a', -1, 60_000)[0]?.testCounts).toBeNull();
  });

  it('reads back what the runner stores; the facts carry the counts only', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const run = store.runs.create({
      track: 'a',
      state: 'completed',
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: null,
      agentVersion: null,
      modelId: null,
      suiteHash: null,
      trigger: 'cli',
      reason: null,
    });
    const id = store.attempts.insert(run, attempt('t', { tests: TESTS }));
    const plain = store.attempts.insert(run, attempt('u'));
    expect(store.attempts.ofRunById(run, id)?.tests).toEqual(TESTS);
    expect(store.attempts.ofRunById(run, plain)?.tests).toBeNull();
    const facts = store.attempts.facts('a', 0, Date.parse('2026-01-02T00:00:00Z'));
    expect(facts.map((f) => [f.taskId, f.testCounts])).toEqual([
      ['t', { f2pPassed: 1, f2pTotal: 3, p2pPassed: 4, p2pTotal: 5 }],
      ['u', null],
    ]);
    // No names in the facts: years of history stay cheap to read.
    expect(JSON.stringify(facts)).not.toContain('t::a');
  });

  it('refuses a column that is not JSON, and reads JSON of another shape (put there by hand) as null', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const run = store.runs.create({
      track: 'a',
      state: 'completed',
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: null,
      agentVersion: null,
      modelId: null,
      suiteHash: null,
      trigger: 'cli',
      reason: null,
    });
    const id = store.attempts.insert(run, attempt('t', { tests: TESTS }));
    const db = store.db;
    expect(() => db.prepare("UPDATE attempts SET test_results = '{not json' WHERE id = ?").run(id)).toThrow(/CHECK constraint failed/);
    const facts = () => store!.attempts.facts('a', 0, Date.parse('2026-01-02T00:00:00Z'))[0]!.testCounts;
    for (const bad of [{ ...TESTS, f2p: { ...TESTS.f2p, passed: 7 } }, { ...TESTS, p2p: { ...TESTS.p2p, total: 'five' } }, { ran: 1 }, [1, 2, 3, 4]]) {
      db.prepare('UPDATE attempts SET test_results = ? WHERE id = ?').run(JSON.stringify(bad), id);
      expect(store.attempts.ofRunById(run, id)?.tests, JSON.stringify(bad)).toBeNull();
    }
    // passed past total, or not counts: the figures see no results rather than a share above 1.
    for (const bad of [{ ...TESTS, f2p: { ...TESTS.f2p, passed: 7 } }, { ...TESTS, p2p: { ...TESTS.p2p, total: 'five' } }, { ran: 1 }]) {
      db.prepare('UPDATE attempts SET test_results = ? WHERE id = ?').run(JSON.stringify(bad), id);
      expect(facts(), JSON.stringify(bad)).toBeNull();
    }
  });
});
