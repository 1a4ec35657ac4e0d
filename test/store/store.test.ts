import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptInput } from '../../src/domain/types.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/context.ts';
import path from 'node:path';

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
  transcriptPath: null,
  gradingLogPath: null,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:01:00Z',
  ...extra,
});

let store: Store;
afterEach(() => store?.close());

describe('store', () => {
  it('migrates to the latest version in WAL mode with foreign keys on, and reopens without migrating again', () => {
    const file = path.join(tempDir(), 'x.sqlite');
    store = new Store(file);
    expect(store.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    store.close();
    store = new Store(file);
    expect(store.tracks.get('a')?.model).toBe('m');
  });

  it('refuses a store written by a newer agentdrift', () => {
    const file = path.join(tempDir(), 'x.sqlite');
    store = new Store(file);
    store.db.prepare('INSERT INTO schema_migrations VALUES (999, ?, 0)').run('future');
    store.close();
    expect(() => new Store(file)).toThrow('schema version 999, newer than this agentdrift knows');
  });

  it('never stores an attempt twice for the same run, task and sample', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const run = store.runs.create({ track: 'a', state: 'running', startedAt: '2026-01-01T00:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null, trigger: 'cli', reason: null });
    store.attempts.insert(run, attempt('t1'));
    expect(() => store.attempts.insert(run, attempt('t1'))).toThrow(/UNIQUE/);
    store.attempts.insert(run, attempt('t1', { sampleIndex: 1 }));
    expect(store.attempts.ofRun(run)).toHaveLength(2);
  });

  it('rolls back a whole import when one attempt violates a constraint', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const good = { state: 'completed' as const, trigger: 'import', reason: null, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T01:00:00Z', agentVersion: null, modelId: null, suiteHash: null };
    expect(() =>
      store.imports.save('a', [
        { ...good, externalKey: 'k1', attempts: [attempt('t1')] },
        { ...good, startedAt: '2026-01-02T00:00:00Z', externalKey: 'k2', attempts: [attempt('t1'), attempt('t2', { turns: -1 })] },
      ]),
    ).toThrow(/CHECK/);
    expect(store.runs.list('a', { limit: 10, offset: 0 }).total).toBe(0);
    expect(store.attempts.totals('a').attemptsByOutcome.resolved).toBe(0);
  });

  it('rejects an outcome outside the five the product knows', () => {
    store = new Store(':memory:');
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    const run = store.runs.create({ track: 'a', state: 'running', startedAt: '2026-01-01T00:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null, trigger: 'cli', reason: null });
    expect(() => store.attempts.insert(run, attempt('t1', { outcome: 'great' as never }))).toThrow(/CHECK/);
  });
});
