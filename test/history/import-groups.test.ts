/**
 * The optional `repository` and `language` of an imported attempt (issue 12 part 2): validated as bounded values with
 * messages naming the field, stored per attempt, absent ones stored as null (the breakdown's `unknown`), and written
 * back by the export only when known.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ImportError, parseHistory } from '../../src/core/history/format.ts';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const attempt = (taskId: string, extra: Record<string, unknown> = {}) => ({ taskId, outcome: 'resolved', ...extra });
const run = (startedAt: string, attempts: unknown[]) => ({ startedAt, endedAt: new Date(Date.parse(startedAt) + 3_600_000).toISOString(), attempts });
const native = (runs: unknown[]) => JSON.stringify({ format: 'agentdrift-history/1', runs });

function problems(text: string): string[] {
  try {
    parseHistory(text, { fileName: 'f.json', now: NOW });
  } catch (e) {
    if (e instanceof ImportError) return [e.message.split('\n')[0]!, ...e.problems];
    throw e;
  }
  throw new Error('expected the file to be rejected');
}

let t: TestContext | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

describe('repository and language of an imported attempt', () => {
  it('refuses a language outside the suite\'s set and a repository that is not owner/name, naming each field', () => {
    const p = problems(
      native([
        run('2026-01-01T03:00:00Z', [
          attempt('a', { language: 'javascript' }),
          attempt('b', { language: 'unknown', repository: 'just-a-name' }),
          attempt('c', { language: 3, repository: `acme/${'x'.repeat(200)}` }),
          attempt('d', { repository: 'acme/ok name' }),
          attempt('e', { repository: 42 }),
        ]),
      ]),
    );
    const lang = "expected one of python, go, js, ts (the suite's languages), or null when not known";
    const repo = "expected a repository as owner/name (letters, digits, '.', '_', '-'; at most 200 characters), or null when not known";
    expect(p[0]).toBe('f.json was rejected; nothing from it was stored');
    expect(p).toEqual(
      expect.arrayContaining([
        `runs[0].attempts[0].language: got "javascript"; ${lang}`,
        `runs[0].attempts[1].language: got "unknown"; ${lang}`,
        `runs[0].attempts[1].repository: got "just-a-name"; ${repo}`,
        `runs[0].attempts[2].language: got 3; ${lang}`,
        `runs[0].attempts[3].repository: got "acme/ok name"; ${repo}`,
      ]),
    );
    expect(p.some((l) => l.startsWith('runs[0].attempts[2].repository: got "acme/xxx'))).toBe(true);
    expect(p.some((l) => l.startsWith('runs[0].attempts[4].repository: got 42;'))).toBe(true);
  });

  it('stores them per attempt (null when absent or null), keeps nothing of a rejected file, and exports them only when known', () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    const good = native([
      run('2026-01-01T03:00:00Z', [
        attempt('a', { repository: 'acme/py-one', language: 'python' }),
        attempt('b', { language: 'go' }),
        attempt('c', { repository: null, language: null }),
        attempt('d'),
      ]),
    ]);
    expect(importHistoryText(t.ctx, 'g', good, { fileName: 'good.json' })).toMatchObject({ runsStored: 1, attemptsStored: 4 });
    // A file with one bad field stores nothing, and what was stored before stays.
    const bad = native([run('2026-01-02T03:00:00Z', [attempt('a', { repository: 'acme/py-one', language: 'python' }), attempt('b', { language: 'golang' })])]);
    expect(() => importHistoryText(t!.ctx, 'g', bad, { fileName: 'bad.json' })).toThrow(/runs\[0\]\.attempts\[1\]\.language: got "golang"/);

    const [stored] = t.ctx.store.runs.list('g', { limit: 10, offset: 0 }).runs;
    const attempts = t.ctx.store.attempts.ofRun(stored!.id);
    expect(attempts.map((a) => [a.taskId, a.repository, a.language])).toEqual([
      ['a', 'acme/py-one', 'python'],
      ['b', null, 'go'],
      ['c', null, null],
      ['d', null, null],
    ]);
    const groups = t.ctx.store.attempts.taskGroups('g', ['a', 'b', 'c', 'd', 'never']);
    expect([...groups.repository]).toEqual([['a', 'acme/py-one']]);
    expect([...groups.language].sort()).toEqual([['a', 'python'], ['b', 'go']]);

    const doc = exportHistory(t.ctx, 'g') as { runs: { attempts: Record<string, unknown>[] }[] };
    const out = doc.runs[0]!.attempts;
    expect(out[0]).toMatchObject({ repository: 'acme/py-one', language: 'python' });
    expect(out[1]).toMatchObject({ language: 'go' });
    expect('repository' in out[1]!).toBe(false);
    expect('repository' in out[2]! || 'language' in out[2]!).toBe(false);
    // The export reads back as it was.
    const t2 = makeContext({ tracks: [{ name: 'copy' }] });
    try {
      importHistoryText(t2.ctx, 'copy', JSON.stringify(doc), { fileName: 'export.json' });
      const [copied] = t2.ctx.store.runs.list('copy', { limit: 10, offset: 0 }).runs;
      expect(t2.ctx.store.attempts.ofRun(copied!.id).map((a) => [a.taskId, a.repository, a.language])).toEqual(attempts.map((a) => [a.taskId, a.repository, a.language]));
    } finally {
      t2.cleanup();
    }
  });

  it('a task takes the group its latest attempt that names one stored', () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    importHistoryText(
      t.ctx,
      'g',
      native([
        run('2026-01-01T03:00:00Z', [attempt('a', { repository: 'acme/old', language: 'js' })]),
        run('2026-01-02T03:00:00Z', [attempt('a', { repository: 'acme/new', language: 'ts' })]),
        run('2026-01-03T03:00:00Z', [attempt('a')]),
      ]),
      { fileName: 'moves.json' },
    );
    const groups = t.ctx.store.attempts.taskGroups('g', ['a', 'b', 'c', 'd', 'never']);
    expect(groups.repository.get('a')).toBe('acme/new');
    expect(groups.language.get('a')).toBe('ts');
  });

  it('the store itself refuses a language outside the set (CHECK of migration 11)', () => {
    t = makeContext({ tracks: [{ name: 'g' }] });
    importHistoryText(t.ctx, 'g', native([run('2026-01-01T03:00:00Z', [attempt('a')])]), { fileName: 'one.json' });
    const [r] = t.ctx.store.runs.list('g', { limit: 1, offset: 0 }).runs;
    const base = { ...t.ctx.store.attempts.ofRun(r!.id)[0]!, taskId: 'b' };
    expect(() => t!.ctx.store.attempts.insert(r!.id, { ...base, language: 'cobol' as never })).toThrow(/CHECK constraint failed/);
    expect(t.ctx.store.attempts.insert(r!.id, { ...base, language: 'ts' })).toBeGreaterThan(0);
  });
});
