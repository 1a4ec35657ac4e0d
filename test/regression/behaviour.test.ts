/**
 * Behaviour figures from an imported history (nothing mocked: the real store, import, figures and exporter): reads
 * before the first edit falling from ~6.6 to ~2.0 on the same tasks is a significant change after Holm, and the
 * same history without the fall is none; attempts without behaviour (older rows) are left out of the means and the
 * tests; the series carry bounded labels; the import checks the behaviour object and the export writes it back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import { BEHAVIOUR_METRICS, TOOL_LABELS, type AttemptBehaviour } from '../../src/domain/behaviour.ts';
import { createRng } from '../../src/stats/rng.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { generateRuns, historyDocument, type HistoryRun } from '../helpers/history.ts';

let t: TestContext;
afterEach(() => t?.cleanup());

const importRuns = (track: string, runs: HistoryRun[]) => importHistoryText(t.ctx, track, historyDocument(runs), { fileName: 'generated' });

/** Samples of a metric series: labels text -> value. */
function samples(text: string, name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`)) m.set(line.slice(name.length, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return m;
}
const labelValues = (series: Map<string, number>, label: string) => new Set([...series.keys()].map((k) => new RegExp(`${label}="([^"]*)"`).exec(k)?.[1]));

interface BehaviourOptions {
  /** Reads before the first edit are multiplied by this from `fromDay` on (6.6 -> 2.0 is 2 / 6.6). */
  readsFactor: number;
  fromDay: number;
  /** Days before this one have no behaviour (rows stored before migration 10). */
  recordedFromDay: number;
}

/**
 * 50 tasks a day (helpers/history.ts) with a behaviour per attempt: each task reads 4.6..8.6 files before its first
 * edit (6.6 on average), give or take one; thinking, tools and the patch vary at random around fixed means.
 */
function withBehaviour(runs: HistoryRun[], o: BehaviourOptions): HistoryRun[] {
  const rng = createRng(4242);
  return runs.map((run, day) => ({
    ...run,
    attempts: run.attempts.map((a, i) => {
      if (day < o.recordedFromDay) return a;
      const base = 4.6 + (4 * i) / 49;
      const factor = day >= o.fromDay ? o.readsFactor : 1;
      const readsBefore = Math.max(0, Math.round(base * factor + (rng.next() - 0.5) * 2));
      const readsAfter = Math.floor(3 * rng.next());
      const edits = 1 + Math.floor(3 * rng.next());
      const bash = 5 + Math.floor(10 * rng.next());
      const behaviour: AttemptBehaviour = {
        toolCalls: { Read: readsBefore + readsAfter, Edit: edits, Bash: bash, ...(rng.next() < 0.3 ? { other: 1 } : {}) },
        fileReads: readsBefore + readsAfter,
        readsBeforeFirstEdit: readsBefore,
        fileEdits: edits,
        thinkingChars: Math.round(3000 + 2000 * rng.next()),
        thinkingBlocks: 3 + Math.floor(4 * rng.next()),
        thinkingTokens: Math.round(800 + 500 * rng.next()),
        apiRetries: rng.next() < 0.1 ? 1 : 0,
        apiErrors: 0,
        patchFiles: 1 + Math.floor(2 * rng.next()),
        patchLinesAdded: 5 + Math.floor(20 * rng.next()),
        patchLinesRemoved: 2 + Math.floor(10 * rng.next()),
      };
      return { ...a, behaviour };
    }),
  }));
}

/** The mean of one metric over the attempts of the given days that carry a behaviour. */
function meanOf(runs: HistoryRun[], days: number[], pick: (b: AttemptBehaviour) => number | null): number {
  const values = days.flatMap((d) => runs[d]!.attempts.map((a) => (a.behaviour ? pick(a.behaviour as AttemptBehaviour) : null)).filter((v): v is number => v !== null));
  return values.reduce((s, v) => s + v, 0) / values.length;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('behaviour figures of an imported history', () => {
  it('reads before the first edit falling from ~6.6 to ~2.0 on the same tasks is significant after Holm, in every window', async () => {
    t = makeContext({ tracks: [{ name: 't' }] });
    // 14 days of reference (the auto baseline), the first 4 without behaviour, then 7 days with reads falling.
    const runs = withBehaviour(generateRuns({ seed: 5, days: 21 }), { readsFactor: 2 / 6.6, fromDay: 14, recordedFromDay: 4 });
    importRuns('t', runs);
    const snap = t.ctx.figures.snapshot('t');
    expect(snap.regression.baseline?.kind).toBe('reference');

    // Window means: every counted attempt of the window's runs that has a behaviour.
    const w7 = snap.behaviour.find((w) => w.window === '7d')!;
    expect(w7.attempts).toBe(7 * 50);
    expect(w7.means.reads_before_first_edit).toBeCloseTo(meanOf(runs, range(14, 21), (b) => b.readsBeforeFirstEdit), 10);
    expect(w7.means.reads_before_first_edit).toBeGreaterThan(1.6);
    expect(w7.means.reads_before_first_edit).toBeLessThan(2.4);
    // The 30d window holds days 0..20, but only days 4..20 have a behaviour: older rows are left out of the means.
    const w30 = snap.behaviour.find((w) => w.window === '30d')!;
    expect(w30.attempts).toBe(17 * 50);
    expect(w30.means.thinking_chars).toBeCloseTo(meanOf(runs, range(4, 21), (b) => b.thinkingChars), 8);
    // The reference means: days 4..13 only.
    const ref = snap.regression.behaviourReference!;
    expect(ref.attempts).toBe(10 * 50);
    expect(ref.means.reads_before_first_edit).toBeCloseTo(meanOf(runs, range(4, 14), (b) => b.readsBeforeFirstEdit), 10);
    expect(ref.means.reads_before_first_edit).toBeGreaterThan(6.2);
    expect(ref.means.reads_before_first_edit).toBeLessThan(7.0);

    const tests = snap.regression.behaviour;
    const reads = tests.filter((b) => b.metric === 'reads_before_first_edit');
    expect(reads.map((b) => b.window)).toEqual(['1d', '7d', '30d']);
    for (const b of reads) {
      expect(b.tasks).toBe(50);
      expect(b.direction).toBe('down');
      expect(b.ratio).toBeLessThan(0.5);
      expect(b.pAdjusted).toBeLessThan(1e-6);
      expect(b.pAdjusted).toBeGreaterThanOrEqual(b.p);
      expect(b.significant).toBe(true);
    }
    // The reads after the edit did not change, thinking and the patch neither: no warning for them.
    for (const metric of ['thinking_chars', 'thinking_tokens', 'file_edits', 'patch_files', 'patch_lines_added', 'api_error_turns'] as const) {
      expect(tests.filter((b) => b.metric === metric).map((b) => b.significant), metric).toEqual([false, false, false]);
    }

    const text = await t.ctx.exporter.render();
    const l7 = '{track="t",window="7d",metric="reads_before_first_edit"}';
    expect(samples(text, 'agentdrift_behaviour_change_significant').get(l7)).toBe(1);
    expect(samples(text, 'agentdrift_behaviour_p_value_adjusted').get(l7)).toBeLessThan(1e-6);
    expect(samples(text, 'agentdrift_behaviour_p_value').get(l7)).toBeLessThan(1e-6);
    expect(samples(text, 'agentdrift_behaviour_ratio').get(l7)).toBeLessThan(0.5);
    expect(samples(text, 'agentdrift_behaviour_mean').get(l7)).toBeCloseTo(w7.means.reads_before_first_edit!, 10);
    expect(samples(text, 'agentdrift_behaviour_reference_mean').get('{track="t",metric="reads_before_first_edit"}')).toBeCloseTo(ref.means.reads_before_first_edit!, 10);
    expect(samples(text, 'agentdrift_behaviour_change_significant').get('{track="t",window="7d",metric="thinking_chars"}')).toBe(0);
    expect(samples(text, 'agentdrift_behaviour_attempts').get('{track="t",window="30d"}')).toBe(17 * 50);

    // Bounded labels: every metric of BEHAVIOUR_METRICS, every tool of TOOL_LABELS (zeros included), nothing else.
    const means = samples(text, 'agentdrift_behaviour_mean');
    expect(labelValues(means, 'metric')).toEqual(new Set(BEHAVIOUR_METRICS));
    expect(means.size).toBe(3 * BEHAVIOUR_METRICS.length);
    const tools = samples(text, 'agentdrift_tool_calls_mean');
    expect(labelValues(tools, 'tool')).toEqual(new Set(TOOL_LABELS));
    expect(tools.size).toBe(3 * TOOL_LABELS.length);
    expect(tools.get('{track="t",window="7d",tool="Grep"}')).toBe(0);
    expect(tools.get('{track="t",window="7d",tool="Edit"}')).toBeCloseTo(meanOf(runs, range(14, 21), (b) => b.toolCalls.Edit ?? 0), 10);
    for (const name of ['agentdrift_behaviour_ratio', 'agentdrift_behaviour_p_value', 'agentdrift_behaviour_p_value_adjusted', 'agentdrift_behaviour_change_significant']) {
      expect(samples(text, name).size, name).toBe(3 * BEHAVIOUR_METRICS.length);
    }
  });

  it('the same history without the fall gives no significant change', async () => {
    t = makeContext({ tracks: [{ name: 't' }] });
    importRuns('t', withBehaviour(generateRuns({ seed: 5, days: 21 }), { readsFactor: 1, fromDay: 14, recordedFromDay: 0 }));
    const tests = t.ctx.figures.snapshot('t').regression.behaviour;
    expect(tests).toHaveLength(3 * BEHAVIOUR_METRICS.length);
    expect(tests.filter((b) => b.significant)).toEqual([]);
    const reads = tests.filter((b) => b.metric === 'reads_before_first_edit');
    for (const b of reads) expect(b.pAdjusted).toBeGreaterThan(0.01);
    const text = await t.ctx.exporter.render();
    expect([...samples(text, 'agentdrift_behaviour_change_significant').values()].every((v) => v === 0)).toBe(true);
  });

  it('a history without behaviour (older rows) has no means and no tests, only agentdrift_behaviour_attempts 0', async () => {
    t = makeContext({ tracks: [{ name: 't' }] });
    importRuns('t', generateRuns({ seed: 5, days: 21 }));
    const snap = t.ctx.figures.snapshot('t');
    expect(snap.behaviour.map((w) => [w.window, w.attempts, w.toolCalls])).toEqual([['1d', 0, null], ['7d', 0, null], ['30d', 0, null]]);
    expect(snap.regression.behaviour).toEqual([]);
    const text = await t.ctx.exporter.render();
    expect([...samples(text, 'agentdrift_behaviour_attempts').values()]).toEqual([0, 0, 0]);
    for (const name of ['agentdrift_behaviour_mean', 'agentdrift_tool_calls_mean', 'agentdrift_behaviour_reference_mean', 'agentdrift_behaviour_p_value', 'agentdrift_behaviour_change_significant']) {
      expect(samples(text, name).size, name).toBe(0);
    }
  });
});

const doc = (behaviour: unknown) =>
  JSON.stringify({ format: 'agentdrift-history/1', runs: [{ startedAt: '2026-03-01T03:00:00Z', endedAt: '2026-03-01T04:00:00Z', attempts: [{ taskId: 'task-a', outcome: 'resolved', behaviour }] }] });

const GOOD: AttemptBehaviour = {
  toolCalls: { Read: 3, Edit: 1, other: 2 },
  fileReads: 3,
  readsBeforeFirstEdit: 2,
  fileEdits: 1,
  thinkingChars: 1200,
  thinkingBlocks: 2,
  thinkingTokens: 300,
  apiRetries: 1,
  apiErrors: 0,
  patchFiles: 1,
  patchLinesAdded: 4,
  patchLinesRemoved: 1,
};

describe('behaviour in the history format', () => {
  it('is stored, exported as it was, and a file without it stays valid (and exports without it)', () => {
    t = makeContext({ tracks: [{ name: 'a' }, { name: 'b' }] });
    importHistoryText(t.ctx, 'a', doc(GOOD), { fileName: 'h.json' });
    const run = t.ctx.store.runs.latest('a', ['completed'])!;
    expect(t.ctx.store.attempts.ofRun(run.id)[0]!.behaviour).toEqual(GOOD);
    const exported = exportHistory(t.ctx, 'a') as { runs: { attempts: Record<string, unknown>[] }[] };
    expect(exported.runs[0]!.attempts[0]!.behaviour).toEqual(GOOD);
    // Read back into another track: the same.
    importHistoryText(t.ctx, 'b', JSON.stringify(exported), { fileName: 'export.json' });
    expect(t.ctx.store.attempts.ofRun(t.ctx.store.runs.latest('b', ['completed'])!.id)[0]!.behaviour).toEqual(GOOD);

    t.cleanup();
    t = makeContext({ tracks: [{ name: 'a' }] });
    importHistoryText(t.ctx, 'a', doc(undefined), { fileName: 'old.json' });
    importHistoryText(t.ctx, 'a', doc(null).replace('03:00:00Z', '05:00:00Z').replace('04:00:00Z', '06:00:00Z'), { fileName: 'null.json' });
    for (const r of t.ctx.store.runs.list('a', { limit: 10, offset: 0 }).runs) expect(t.ctx.store.attempts.ofRun(r.id)[0]!.behaviour).toBeNull();
    const old = exportHistory(t.ctx, 'a') as { runs: { attempts: Record<string, unknown>[] }[] };
    for (const r of old.runs) expect(Object.keys(r.attempts[0]!)).not.toContain('behaviour');
  });

  it.each([
    [{ ...GOOD, toolCalls: { Read: 3, Frobnicate: 1 } }, 'runs[0].attempts[0].behaviour.toolCalls.Frobnicate: got 1; unknown tool label "Frobnicate": expected one of Bash, Read'],
    [{ ...GOOD, toolCalls: { Read: -1 } }, 'runs[0].attempts[0].behaviour.toolCalls.Read: got -1; out of range: expected an integer in 0..1000000'],
    [{ ...GOOD, fileReads: 2.5 }, 'runs[0].attempts[0].behaviour.fileReads: got 2.5; out of range: expected an integer in 0..1000000'],
    [{ ...GOOD, thinkingChars: 1e12 }, 'runs[0].attempts[0].behaviour.thinkingChars: got 1000000000000; out of range: expected an integer in 0..1000000000 (thinking characters)'],
    [{ ...GOOD, readsBeforeFirstEdit: 9 }, 'runs[0].attempts[0].behaviour.readsBeforeFirstEdit: got 9; expected at most fileReads (3)'],
    [{ ...GOOD, fileEdits: 0 }, 'runs[0].attempts[0].behaviour.readsBeforeFirstEdit: got 2; expected null: fileEdits is 0, so there was no first edit'],
    [{ ...GOOD, patchFiles: null }, 'runs[0].attempts[0].behaviour.patchFiles: got null; expected patchFiles, patchLinesAdded and patchLinesRemoved all null'],
    [{ ...GOOD, thinkingTokens: undefined }, 'runs[0].attempts[0].behaviour.thinkingTokens: got nothing; expected an integer in 0..10000000000 (thinking tokens)'],
    [{ ...GOOD, extra: 1 }, 'runs[0].attempts[0].behaviour.extra: unknown key'],
    ['lots', 'runs[0].attempts[0].behaviour: got "lots"'],
  ])('refuses a bad behaviour with a message naming it, storing nothing (%#)', (behaviour, message) => {
    t = makeContext({ tracks: [{ name: 'a' }] });
    expect(() => importHistoryText(t.ctx, 'a', doc(behaviour), { fileName: 'bad.json' })).toThrow(message);
    expect(t.ctx.store.runs.list('a', { limit: 10, offset: 0 }).total).toBe(0);
  });
});
