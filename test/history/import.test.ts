import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImportError, marginRunTime, parseHistory } from '../../src/core/history/format.ts';
import { exportHistory, importHistoryFile, importHistoryText } from '../../src/core/history/import.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/windows/history-30d.json');

function run(startedAt: string, attempts: unknown[], extra: Record<string, unknown> = {}) {
  return { startedAt, endedAt: new Date(Date.parse(startedAt) + 3_600_000).toISOString(), attempts, ...extra };
}
const attempt = (taskId: string, outcome = 'resolved', extra: Record<string, unknown> = {}) => ({ taskId, outcome, ...extra });
const doc = (runs: unknown[]) => JSON.stringify({ format: 'agentdrift-history/1', runs });

function importError(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImportError) return e;
    throw e;
  }
  throw new Error('expected an ImportError');
}

let t: TestContext;
afterEach(() => t?.cleanup());

describe('import and export', () => {
  it('imports a 30-day history and exports the same runs and attempts back', () => {
    t = makeContext({ tracks: [{ name: 'fixture' }] });
    const r = importHistoryFile(t.ctx, 'fixture', FIXTURE);
    expect(r).toMatchObject({ kind: 'agentdrift', runsStored: 30, attemptsStored: 1200, runsSkipped: 0 });
    const exported = exportHistory(t.ctx, 'fixture') as { runs: { attempts: unknown[] }[] };
    const original = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { runs: { startedAt: string; attempts: { taskId: string; costUsd: number; endedAt: string }[] }[] };
    expect(exported.runs).toHaveLength(30);
    // Round trip: a second context importing the export holds the same figures.
    const file = path.join(t.dir, 'export.json');
    writeFileSync(file, JSON.stringify(exported));
    const t2 = makeContext({ tracks: [{ name: 'copy' }] });
    try {
      expect(importHistoryFile(t2.ctx, 'copy', file)).toMatchObject({ runsStored: 30, attemptsStored: 1200 });
      expect(t2.ctx.store.attempts.totals('copy')).toEqual(t.ctx.store.attempts.totals('fixture'));
      const a = (exported.runs[3] as { attempts: { taskId: string; costUsd: number; endedAt: string }[] }).attempts[7]!;
      const o = original.runs[3]!.attempts[7]!;
      expect([a.taskId, a.costUsd, Date.parse(a.endedAt)]).toEqual([o.taskId, o.costUsd, Date.parse(o.endedAt)]);
    } finally {
      t2.cleanup();
    }
  });

  it('importing the same file twice stores nothing the second time', () => {
    t = makeContext({ tracks: [{ name: 'fixture' }] });
    importHistoryFile(t.ctx, 'fixture', FIXTURE);
    expect(importHistoryFile(t.ctx, 'fixture', FIXTURE)).toMatchObject({ runsStored: 0, attemptsStored: 0, runsSkipped: 30 });
    expect(t.ctx.store.runs.list('fixture', { limit: 1, offset: 0 }).total).toBe(30);
  });

  it('rejects a bad record with its index and reason, and stores nothing of that file', () => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    const file = path.join(t.dir, 'bad.json');
    writeFileSync(
      file,
      doc([
        run('2026-01-01T03:00:00Z', [attempt('t1'), attempt('t2', 'unresolved')]),
        run('2026-01-02T03:00:00Z', [attempt('t1'), attempt('t2', 'passed'), attempt('t3', 'resolved', { costUsd: -1 })]),
      ]),
    );
    const e = importError(() => importHistoryFile(t.ctx, 'a', file));
    expect(e.message).toContain('nothing from it was stored');
    expect(e.problems.join('\n')).toContain('runs[1].attempts[1].outcome: got "passed"');
    expect(e.problems.join('\n')).toContain('runs[1].attempts[2].costUsd: got -1');
    expect(t.ctx.store.runs.list('a', { limit: 10, offset: 0 }).total).toBe(0);
    expect(t.ctx.store.attempts.totals('a').attemptsByOutcome.resolved).toBe(0);
  });

  it('rejects duplicate attempts, reversed times, unknown keys and non-JSON with clear errors', () => {
    const problems = (text: string) => importError(() => parseHistory(text, { fileName: 'f.json' })).message;
    expect(problems(doc([run('2026-01-01T03:00:00Z', [attempt('t1'), attempt('t1')])]))).toContain('runs[0].attempts[1].sampleIndex');
    expect(problems(doc([{ startedAt: '2026-01-02T00:00:00Z', endedAt: '2026-01-01T00:00:00Z', attempts: [] }]))).toContain('runs[0].endedAt');
    expect(problems(doc([run('2026-01-01T03:00:00Z', [attempt('t1', 'resolved', { tokns: 3 })])]))).toContain('runs[0].attempts[0].tokns: unknown key');
    expect(problems(doc([{ startedAt: 'yesterday', endedAt: '2026-01-01T00:00:00Z', attempts: [] }]))).toContain('runs[0].startedAt: got "yesterday"');
    expect(problems('{not json')).toContain('f.json is not valid JSON');
    expect(problems('{"hello": 1}')).toContain('neither an agentdrift history file');
  });

  it('rejects an import into a track that is not configured', () => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    expect(() => importHistoryFile(t.ctx, 'b', FIXTURE)).toThrow('unknown track "b"; configured tracks: a');
  });

  describe('margin results.json', () => {
    const margin = {
      instances: [
        { case_id: 'c1', sample_index: 0, final_state: 'succeeded', runtime_ms: 60_000, usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 7, total_cost_usd: 0.5 } },
        { case_id: 'c2', sample_index: 0, final_state: 'test_failed', runtime_ms: 30_000, usage: { input_tokens: 20, output_tokens: 1 } },
        { case_id: 'c3', sample_index: 0, final_state: 'infra_failed', runtime_ms: 1000 },
        { case_id: 'c4', sample_index: 0, final_state: 'canceled' },
      ],
    };

    it('takes the run time from the YYYYMMDD-HHMMSS directory and maps final states', () => {
      t = makeContext({ tracks: [{ name: 'peer' }] });
      const dir = path.join(tempDir(), '20260315-031500');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'results.json');
      writeFileSync(file, JSON.stringify(margin));
      const r = importHistoryFile(t.ctx, 'peer', file);
      expect(r).toMatchObject({ kind: 'margin', runsStored: 1, attemptsStored: 3 });
      expect(r.notes[0]).toContain('1 canceled instance(s) left out');
      const runs = t.ctx.store.runs.list('peer', { limit: 5, offset: 0 }).runs;
      expect(runs[0]!.startedAt).toBe('2026-03-15T03:15:00.000Z');
      expect(runs[0]!.endedAt).toBe('2026-03-15T03:16:00.000Z');
      const totals = t.ctx.store.attempts.totals('peer');
      expect(totals.attemptsByOutcome).toEqual({ resolved: 1, unresolved: 1, agent_error: 0, timeout: 0, infra_error: 1 });
      expect(totals).toMatchObject({ inputTokens: 30, outputTokens: 6, cacheReadTokens: 7, costUsd: 0.5 });
    });

    it('uses --at over the directory name, and says what to do when neither gives a time', () => {
      expect(marginRunTime('/x/20260315-031500/results.json', '2026-04-01T00:00:00Z')).toBe('2026-04-01T00:00:00.000Z');
      expect(() => marginRunTime('/x/latest/results.json')).toThrow('pass --at ISO, or keep it in its YYYYMMDD-HHMMSS run directory');
      expect(() => marginRunTime('/x/20261341-031500/results.json')).toThrow('not a real date and time');
      expect(() => marginRunTime('/x/results.json', 'soon')).toThrow('--at "soon"');
    });

    it('--at needs an explicit time zone: without one it is refused, naming --at, the value and the expected form', () => {
      expect(() => marginRunTime('/x/results.json', '2026-01-31T03:00:00')).toThrow(
        '--at "2026-01-31T03:00:00": expected an ISO 8601 instant with a time zone, Z or ±hh:mm, such as 2026-01-31T03:00:00Z',
      );
      expect(() => marginRunTime('/x/results.json', '2026-01-31T03:00:00')).toThrow('no time zone given');
      expect(() => marginRunTime('/x/results.json', '2026-01-31')).toThrow('--at "2026-01-31": expected an ISO 8601 instant with a time zone');
      expect(marginRunTime('/x/results.json', '2026-01-31T04:00:00+01:00')).toBe('2026-01-31T03:00:00.000Z');
      expect(marginRunTime('/x/results.json', '2026-01-31T03:00:00.250Z')).toBe('2026-01-31T03:00:00.250Z');
      expect(marginRunTime('/x/results.json', '2026-01-30T22:00:00-05:00')).toBe('2026-01-31T03:00:00.000Z');
    });

    it('rejects a results.json with no instance but canceled ones and stores nothing of it; infra failures alone are kept', () => {
      t = makeContext({ tracks: [{ name: 'peer' }] });
      const at = '2026-03-15T03:15:00Z';
      const cases: [string, unknown[], string][] = [
        ['empty', [], 'instances: got an empty list; expected at least one instance that succeeded, test_failed or infra_failed'],
        ['canceled', [{ case_id: 'c1', final_state: 'canceled' }, { case_id: 'c2', final_state: 'canceled' }], 'instances: got 2 instance(s), all canceled'],
      ];
      for (const [name, instances, problem] of cases) {
        const e = importError(() => importHistoryText(t.ctx, 'peer', JSON.stringify({ instances }), { fileName: `${name}.json`, at }));
        expect(e.message).toContain(`${name}.json was rejected; nothing from it was stored`);
        expect(e.problems).toEqual([expect.stringContaining(problem)]);
      }
      expect(t.ctx.store.runs.list('peer', { limit: 5, offset: 0 }).runs).toHaveLength(0);
      // A day of infra failures is a run of infra errors (the infra error ratio shows it), and one instance is enough.
      const infra = importHistoryText(t.ctx, 'peer', JSON.stringify({ instances: [{ case_id: 'c1', final_state: 'canceled' }, { case_id: 'c2', final_state: 'infra_failed' }] }), { fileName: 'infra.json', at });
      expect(infra).toMatchObject({ runsStored: 1, attemptsStored: 1 });
      expect(t.ctx.figures.snapshot('peer').windows.find((w) => w.window === '1d')).toMatchObject({ attempts: 0, infraErrorRatio: 1 });
    });

    it('rejects an unknown final_state with the instance index', () => {
      const bad = { instances: [{ case_id: 'c1', final_state: 'succeeded' }, { case_id: 'c2', final_state: 'exploded' }] };
      const e = importError(() => parseHistory(JSON.stringify(bad), { fileName: 'r.json', at: '2026-01-01T00:00:00Z' }));
      expect(e.problems.join('\n')).toContain('instances[1].final_state: got "exploded"');
    });
  });
});
