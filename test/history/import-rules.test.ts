/**
 * What an import accepts (issue 10 items 2 and 3): every number within a sane range, named when it is not; no run or
 * attempt ending in the future; two runs of one file starting at the same instant named as a conflict; a run without
 * attempts refused in both formats; `--at` refused on an agentdrift history file rather than silently ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FUTURE_TOLERANCE_MS, IMPORT_LIMITS, ImportError, parseHistory } from '../../src/core/history/format.ts';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

const attempt = (taskId: string, extra: Record<string, unknown> = {}) => ({ taskId, outcome: 'resolved', ...extra });
const run = (startedAt: string, attempts: unknown[], extra: Record<string, unknown> = {}) => ({
  startedAt,
  endedAt: iso(Date.parse(startedAt) + HOUR),
  attempts,
  ...extra,
});
const native = (runs: unknown[]) => JSON.stringify({ format: 'agentdrift-history/1', runs });
const margin = (instances: unknown[]) => JSON.stringify({ instances });

function problems(text: string, opts: { at?: string; now?: number } = {}): string[] {
  try {
    parseHistory(text, { fileName: 'f.json', now: NOW, ...opts });
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

describe('imported numbers are bounded', () => {
  it('names the record and field of each number out of range, with the range', () => {
    const p = problems(
      native([
        run('2026-01-01T03:00:00Z', [attempt('a', { costUsd: 1 }), attempt('b', { costUsd: 1e308 })]),
        run('2026-01-02T03:00:00Z', [
          attempt('a', { inputTokens: IMPORT_LIMITS.tokens + 1, cacheReadTokens: 1e300, turns: 1e7, toolCalls: 1.5 }),
          attempt('b', { agentDurationMs: 1e308, gradingDurationMs: -1, patchBytes: 2 ** 40, sampleIndex: 1e6 }),
        ]),
      ]),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'runs[0].attempts[1].costUsd: got 1e+308; out of range: expected a number in 0..10000 (USD per attempt)',
        'runs[1].attempts[0].inputTokens: got 10000000001; out of range: expected an integer in 0..10000000000',
        'runs[1].attempts[0].cacheReadTokens: got 1e+300; out of range: expected an integer in 0..10000000000',
        'runs[1].attempts[0].turns: got 10000000; out of range: expected an integer in 0..1000000',
        'runs[1].attempts[0].toolCalls: got 1.5; out of range: expected an integer in 0..1000000',
        'runs[1].attempts[1].agentDurationMs: got 1e+308; out of range: expected a number in 0..604800000 (ms, a week)',
        'runs[1].attempts[1].gradingDurationMs: got -1; out of range: expected a number in 0..604800000 (ms, a week)',
        'runs[1].attempts[1].patchBytes: got 1099511627776; out of range: expected an integer in 0..1073741824',
        'runs[1].attempts[1].sampleIndex: got 1000000; out of range: expected an integer in 0..10000',
      ]),
    );
    expect(p).toHaveLength(1 + 9);
  });

  it('bounds the margin format the same way', () => {
    const p = problems(
      margin([
        { case_id: 'a', final_state: 'succeeded', runtime_ms: 1e308, usage: { total_cost_usd: 1e308, input_tokens: 1e20 } },
        { case_id: 'b', final_state: 'succeeded', usage: { num_turns: -3, cost_usd: 10_001 } },
      ]),
      { at: '2026-01-01T00:00:00Z' },
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'instances[0].runtime_ms: got 1e+308; out of range: expected a number in 0..604800000 (ms, a week)',
        'instances[0].usage.total_cost_usd: got 1e+308; out of range: expected a number in 0..10000 (USD per attempt)',
        'instances[0].usage.input_tokens: got 100000000000000000000; out of range: expected an integer in 0..10000000000',
        'instances[1].usage.num_turns: got -3; out of range: expected an integer in 0..1000000',
        'instances[1].usage.cost_usd: got 10001; out of range: expected a number in 0..10000 (USD per attempt)',
      ]),
    );
  });

  it('two costs of 1e308 no longer reach the store; numbers at the bounds are stored and sum to finite figures', async () => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    const text = native([run('2026-01-01T03:00:00Z', [attempt('a', { costUsd: 1e308 }), attempt('b', { costUsd: 1e308 })])]);
    expect(() => importHistoryText(t!.ctx, 'a', text, { fileName: 'big.json' })).toThrow('runs[0].attempts[0].costUsd: got 1e+308; out of range');
    expect(t.ctx.store.runs.list('a', { limit: 1, offset: 0 }).total).toBe(0);
    const max = { costUsd: IMPORT_LIMITS.costUsd, inputTokens: IMPORT_LIMITS.tokens, turns: IMPORT_LIMITS.turns, agentDurationMs: IMPORT_LIMITS.durationMs };
    const r = importHistoryText(t.ctx, 'a', native([run('2026-01-01T03:00:00Z', [attempt('a', max), attempt('b', max)])]), { fileName: 'max.json' });
    expect(r).toMatchObject({ runsStored: 1, attemptsStored: 2 });
    expect(t.ctx.store.attempts.totals('a')).toMatchObject({ costUsd: 20_000, inputTokens: 20_000_000_000 });
    expect(await t.ctx.exporter.render()).toContain('agentdrift_cost_usd_total{track="a"} 20000');
  });

  it('refuses instants before 2000, naming them', () => {
    expect(problems(native([run('1970-01-01T00:00:00Z', [attempt('a')])]))).toContain(
      'runs[0].startedAt: got "1970-01-01T00:00:00Z"; expected an instant at or after 2000-01-01T00:00:00Z',
    );
    expect(problems(margin([{ case_id: 'a', final_state: 'succeeded' }]), { at: '1999-12-31T23:59:59Z' })[0]).toBe(
      '--at "1999-12-31T23:59:59Z": expected an instant at or after 2000-01-01T00:00:00Z',
    );
  });
});

describe('dates', () => {
  it('refuses a run or an attempt that ends more than 5 minutes after now, naming it', () => {
    const future = '2030-01-01T00:00:00Z';
    const p = problems(native([run('2026-05-01T00:00:00Z', [attempt('a')]), { startedAt: '2026-05-31T00:00:00Z', endedAt: future, attempts: [attempt('a')] }]));
    expect(p).toEqual([
      'f.json was rejected; nothing from it was stored',
      `runs[1].endedAt: got "${future}"; expected an instant at most 5 minutes after now (2026-06-01T12:00:00.000Z); a run from the future would pin last_success and every window to its date`,
    ]);
    const late = iso(NOW + FUTURE_TOLERANCE_MS + 1000);
    const a = problems(native([{ startedAt: iso(NOW - HOUR), endedAt: iso(NOW), attempts: [attempt('a', { endedAt: late })] }]));
    expect(a[1]).toMatch(/^runs\[0\]\.attempts\[0\]\.endedAt: got "[^"]+"; expected an instant at most 5 minutes after now/);
    // Within the tolerance (clocks differ a little between machines) is accepted.
    const ok = parseHistory(native([{ startedAt: iso(NOW - HOUR), endedAt: iso(NOW + FUTURE_TOLERANCE_MS - 1000), attempts: [attempt('a')] }]), { fileName: 'f.json', now: NOW });
    expect(ok.runs).toHaveLength(1);
  });

  it('refuses a margin run dated in the future by --at, or whose attempts would end in the future', () => {
    const one = margin([{ case_id: 'a', final_state: 'succeeded', runtime_ms: 60_000 }]);
    expect(problems(one, { at: '2030-01-01T00:00:00Z' })[0]).toBe(
      'f.json: the run\'s start, 2030-01-01T00:00:00.000Z (from --at "2030-01-01T00:00:00Z"), is in the future; expected an instant at most 5 minutes after now (2026-06-01T12:00:00.000Z); a run from the future would pin last_success and every window to its date',
    );
    const p = problems(margin([{ case_id: 'a', final_state: 'succeeded', runtime_ms: 1000 }, { case_id: 'b', final_state: 'succeeded', runtime_ms: 6 * HOUR }]), { at: iso(NOW - HOUR) });
    expect(p).toHaveLength(2);
    expect(p[1]).toMatch(/^instances\[1\]\.runtime_ms: got 21600000; the attempt would end at 2026-06-01T17:00:00\.000Z, expected an instant at most 5 minutes after now/);
  });

  it('the future is measured against the real clock by default', () => {
    const e = problems(native([{ startedAt: '2030-01-01T00:00:00Z', endedAt: '2030-01-01T01:00:00Z', attempts: [attempt('a')] }]), { now: undefined });
    expect(e[1]).toContain('runs[0].endedAt: got "2030-01-01T01:00:00Z"; expected an instant at most 5 minutes after now');
  });

  it('names two runs of one file starting at the same instant as a conflict, and stores neither', () => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    // The same instant, written two ways.
    const text = native([run('2026-01-01T03:00:00Z', [attempt('a')]), run('2026-01-02T03:00:00Z', [attempt('a')]), run('2026-01-01T04:00:00+01:00', [attempt('b')])]);
    let err: ImportError | undefined;
    try {
      importHistoryText(t.ctx, 'a', text, { fileName: 'twice.json' });
    } catch (e) {
      err = e as ImportError;
    }
    expect(err).toBeInstanceOf(ImportError);
    expect(err!.problems).toEqual([
      'runs[2].startedAt: got "2026-01-01T04:00:00+01:00"; conflicts with runs[0], which starts at the same instant (2026-01-01T03:00:00.000Z): a track holds one run per start instant, so one of the two would be dropped; merge them or correct one',
    ]);
    expect(t.ctx.store.runs.list('a', { limit: 5, offset: 0 }).total).toBe(0);
  });
});

describe('a run without attempts', () => {
  it('is refused in the agentdrift format, as in the margin format', () => {
    expect(problems(native([run('2026-01-01T03:00:00Z', [attempt('a')]), run('2026-01-02T03:00:00Z', [])]))).toEqual([
      'f.json was rejected; nothing from it was stored',
      'runs[1].attempts: got an empty list; expected at least one attempt: a run without any would still move the window ends and last_success',
    ]);
    expect(problems(margin([]), { at: '2026-01-01T00:00:00Z' })[1]).toContain('instances: got an empty list; expected at least one instance');
  });

  it('is left out of an export, which says so, so that the export imports back', () => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    importHistoryText(t.ctx, 'a', native([run('2026-01-01T03:00:00Z', [attempt('a')])]), { fileName: 'one.json' });
    // A run that failed before its first attempt (as the runner records one).
    t.ctx.store.runs.create({ track: 'a', state: 'failed', trigger: 'schedule', reason: 'suite could not be resolved', startedAt: '2026-01-02T03:00:00Z', endedAt: '2026-01-02T03:00:01Z', agentVersion: null, modelId: null, suiteHash: null });
    const doc = exportHistory(t.ctx, 'a') as { runs: unknown[] };
    expect(doc.runs).toHaveLength(1);
    expect(t.logs.join('')).toContain('1 finished run(s) without attempts left out of the export (a run is imported only with at least one attempt)');
    const t2 = makeContext({ tracks: [{ name: 'b' }] });
    try {
      expect(importHistoryText(t2.ctx, 'b', JSON.stringify(doc), { fileName: 'export.json' })).toMatchObject({ runsStored: 1, attemptsStored: 1 });
    } finally {
      t2.cleanup();
    }
  });
});

describe('--at', () => {
  it('is refused on an agentdrift history file, whose runs carry their own dates, and named when it is no instant', () => {
    const text = native([run('2026-01-01T03:00:00Z', [attempt('a')])]);
    expect(problems(text, { at: 'garbage' })[0]).toBe(
      '--at "garbage": expected an ISO 8601 instant with a time zone, Z or ±hh:mm, such as 2026-01-31T03:00:00Z or 2026-01-31T04:00:00+01:00',
    );
    expect(problems(text, { at: '2026-01-01T03:00:00Z' })[0]).toBe(
      '--at "2026-01-01T03:00:00Z": only a margin results.json takes a run time; f.json is an agentdrift history file, whose runs carry their own dates (leave --at out)',
    );
  });

  it('goes by the name it was given (the API\'s at parameter), and a body has no directory to date a margin file by', () => {
    const one = margin([{ case_id: 'a', final_state: 'succeeded' }]);
    const api = { atName: 'at', dateFromDirectory: false, fileName: 'request body', now: NOW };
    const refused = (opts: Record<string, unknown>) => {
      try {
        parseHistory(one, { ...api, ...opts });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a rejection');
    };
    const none = refused({});
    expect(none).toBe('request body: a margin results.json carries no date; give its run\'s start as the at parameter, an ISO 8601 instant with a time zone (at=2026-01-31T03:00:00Z)');
    expect(none).not.toMatch(/--at|director/);
    expect(refused({ at: 'soon' })).toMatch(/^at "soon": expected an ISO 8601 instant/);
    expect(parseHistory(one, { ...api, at: '2026-01-31T03:00:00Z' }).runs[0]!.startedAt).toBe('2026-01-31T03:00:00.000Z');
  });
});
