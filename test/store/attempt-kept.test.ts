/**
 * Migration 8 (issue 12, part 4c): each attempt's phase timings, dropped binary files and stored patch. Rows stored
 * before it stay valid (all three null), new rows read back as written, and a value edited by hand into something
 * that is not JSON of its shape reads as null instead of failing every read of the run.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptInput } from '../../src/domain/types.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/context.ts';

const attempt = (taskId: string, extra: Partial<AttemptInput> = {}): AttemptInput => ({
  taskId,
  sampleIndex: 0,
  outcome: 'resolved',
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
  transcriptPath: '/data/transcripts/t/1/x-0.jsonl.gz',
  gradingLogPath: null,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:01:00Z',
  ...extra,
});

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

describe('attempts: what is kept of each (migration 8)', () => {
  it('keeps the rows of a store at version 7, reading the new fields as null', () => {
    const file = path.join(tempDir(), 'v7.sqlite');
    const old = new Database(file);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 7)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    old.prepare("INSERT INTO tracks (id, name, agent, model, created_at) VALUES (1, 'a', 'claude-code', 'm', 0)").run();
    old.prepare("INSERT INTO runs (id, track_id, state, trigger, started_at, ended_at) VALUES (1, 1, 'completed', 'cli', 0, 60000)").run();
    old.prepare(`INSERT INTO attempts (run_id, track_id, task_id, sample_index, outcome, patch_bytes, started_at, ended_at)
      VALUES (1, 1, 'old-task', 0, 'resolved', 77, 0, 60000)`).run();
    old.close();

    store = new Store(file);
    expect(store.schemaVersion()).toBeGreaterThanOrEqual(8);
    const [a] = store.attempts.ofRun(1);
    expect(a).toMatchObject({ taskId: 'old-task', patchBytes: 77, phaseTimings: null, droppedFiles: null, patchPath: null });
    expect(store.attempts.ofRunById(1, a!.id)).toEqual(a);
  });

  it('reads back what the runner stores, and an attempt only under its own run', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const run = (n: number) =>
      store!.runs.create({ track: 'a', state: 'completed', startedAt: `2026-01-0${n}T00:00:00Z`, endedAt: null, agentVersion: null, modelId: null, suiteHash: null, trigger: 'cli', reason: null });
    const [r1, r2] = [run(1), run(2)];
    const phaseTimings = { image: 3, harness: 1, containerStart: 400, agent: 61_000, extraction: 120, agentTeardown: 90 };
    const id = store.attempts.insert(r1, attempt('t', { phaseTimings, droppedFiles: ['a.png', 'sp ace.bin'], patchPath: '/data/transcripts/a/1/t-0.patch.gz' }));
    const plain = store.attempts.insert(r1, attempt('u'));
    expect(store.attempts.ofRunById(r1, id)).toMatchObject({ phaseTimings, droppedFiles: ['a.png', 'sp ace.bin'], patchPath: '/data/transcripts/a/1/t-0.patch.gz' });
    expect(store.attempts.ofRunById(r1, plain)).toMatchObject({ phaseTimings: null, droppedFiles: null, patchPath: null });
    // An empty list is not "unknown".
    const none = store.attempts.insert(r2, attempt('v', { droppedFiles: [] }));
    expect(store.attempts.ofRunById(r2, none)?.droppedFiles).toEqual([]);
    expect(store.attempts.ofRunById(r2, id)).toBeNull();
    expect(store.attempts.ofRunById(r1, 999)).toBeNull();
  });

  it('reads a value edited by hand into something else as null, and the rest of the row as stored', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const r = store.runs.create({ track: 'a', state: 'completed', startedAt: '2026-01-01T00:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null, trigger: 'cli', reason: null });
    const bad: [string, string][] = [
      ['{not json', '[1'],
      ['[1, 2]', '{"a": 1}'],
      ['{"agent": "slow"}', '["a", 2]'],
      ['null', 'null'],
    ];
    for (const [i, [timings, dropped]] of bad.entries()) {
      const id = store.attempts.insert(r, attempt(`t${i}`, { phaseTimings: { agent: 1 }, droppedFiles: ['x'] }));
      store.db.prepare('UPDATE attempts SET phase_timings = ?, dropped_files = ? WHERE id = ?').run(timings, dropped, id);
      expect(store.attempts.ofRunById(r, id), timings).toMatchObject({ taskId: `t${i}`, phaseTimings: null, droppedFiles: null, patchBytes: 10 });
    }
    expect(store.attempts.ofRun(r)).toHaveLength(bad.length);
  });
});
