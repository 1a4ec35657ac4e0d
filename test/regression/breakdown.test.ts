/**
 * The breakdown by language and by repository, fed from an imported history: python tasks fall while go tasks and
 * the tasks that name no group do not. The python group's test is significant after Holm across the languages, go's
 * is not; the change values are exact; attempts without `repository` and `language` are grouped as `unknown`; the
 * exporter's agentdrift_group_* series carry only the bounded labels.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { importHistoryText } from '../../src/core/history/import.ts';
import { computeBreakdown, OTHER_GROUP, REPOSITORY_GROUP_LIMIT } from '../../src/core/figures/groups.ts';
import { selectWindows } from '../../src/core/figures/windows.ts';
import { calendarDay } from '../../src/cron/cron.ts';
import { cmhLess, holm, type TaskTally } from '../../src/stats/index.ts';
import type { AttemptFacts, BaselineRow } from '../../src/domain/records.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

let t: TestContext | null = null;
let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  t?.cleanup();
  t = null;
});

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T03:00:00Z');
const REFERENCE_DAYS = 14;
const DAYS = 21;

/** 10 python tasks in acme/py-one, 10 go tasks in acme/go-svc, 5 tasks whose attempts name neither. */
const TASKS = Array.from({ length: 25 }, (_, i) => ({
  id: `task-${String(i).padStart(2, '0')}`,
  i,
  group: i < 10 ? ({ repository: 'acme/py-one', language: 'python' } as const) : i < 20 ? ({ repository: 'acme/go-svc', language: 'go' } as const) : null,
}));

/**
 * Task i passes on day d unless (i + d) % 5 == 0 (so each group passes 80% of its reference attempts, exactly); from
 * day 14 on, python tasks pass only when (i + d) % 5 == 0 (20% of the 7 days after the reference, exactly).
 */
function passes(task: (typeof TASKS)[number], d: number): boolean {
  const hit = (task.i + d) % 5 === 0;
  return task.group?.language === 'python' && d >= REFERENCE_DAYS ? hit : !hit;
}

function history(days: number): string {
  const runs = Array.from({ length: days }, (_, d) => {
    const t0 = START + d * DAY;
    return {
      startedAt: new Date(t0).toISOString(),
      endedAt: new Date(t0 + (TASKS.length + 1) * 60_000).toISOString(),
      agentVersion: '2.1.0',
      modelId: 'synthetic',
      attempts: TASKS.map((task) => ({
        taskId: task.id,
        outcome: passes(task, d) ? 'resolved' : 'unresolved',
        ...(task.group ?? {}),
        startedAt: new Date(t0 + task.i * 60_000).toISOString(),
        endedAt: new Date(t0 + (task.i + 1) * 60_000).toISOString(),
      })),
    };
  });
  return JSON.stringify({ format: 'agentdrift-history/1', runs });
}

/** One CMH test on the given tasks' tables (window: days 14..20, reference: days 0..13), as the group test must do it. */
function cmhOf(ids: (typeof TASKS)[number][], windowDays: number[]): number {
  const tallies: TaskTally[] = ids.map((task) => {
    const ref = Array.from({ length: REFERENCE_DAYS }, (_, d) => passes(task, d));
    const win = windowDays.map((d) => passes(task, d));
    return { windowPasses: win.filter(Boolean).length, windowTrials: win.length, basePasses: ref.filter(Boolean).length, baseTrials: ref.length };
  });
  return cmhLess(tallies).p;
}

function gauges(text: string, name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`)) m.set(line.slice(name.length, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  return m;
}

describe('the breakdown by language and by repository', () => {
  it('finds the language and the repository that fell, with exact changes, Holm across the groups of a dimension, and unknown for attempts without fields', async () => {
    t = makeContext({ tracks: [{ name: 'bd' }] });
    importHistoryText(t.ctx, 'bd', history(DAYS), { fileName: 'groups.json' });
    const s = t.ctx.figures.snapshot('bd');
    expect(s.regression.baseline).toMatchObject({ kind: 'reference', createdBy: 'auto' });
    const of = (window: string, dimension: string) => s.breakdown.filter((g) => g.window === window && g.dimension === dimension);

    // Every window lists the same groups, in a fixed order: languages as listed, repositories by name, unknown last.
    for (const w of ['1d', '7d', '30d']) {
      expect(of(w, 'language').map((g) => g.group)).toEqual(['python', 'go', 'unknown']);
      expect(of(w, 'repository').map((g) => g.group)).toEqual(['acme/go-svc', 'acme/py-one', 'unknown']);
    }
    const [py, go, unknown] = of('7d', 'language');
    // 7d: days 14..20, tested against the reference (days 0..13). Python: 14 of 70 passed, reference 112 of 140.
    expect(py).toMatchObject({ n: 70, passes: 14, tasks: 10, estimate: 14 / 70, referenceRate: 112 / 140, change: 14 / 70 - 112 / 140, method: 'cmh' });
    expect(go).toMatchObject({ n: 70, passes: 56, tasks: 10, estimate: 56 / 70, referenceRate: 112 / 140, change: 56 / 70 - 112 / 140, method: 'cmh' });
    expect(unknown).toMatchObject({ n: 35, passes: 28, tasks: 5, estimate: 28 / 35, referenceRate: 56 / 70, change: 28 / 35 - 56 / 70, method: 'cmh' });
    expect(go!.change).toBe(0);
    expect(py!.change).toBeCloseTo(-0.6, 12);

    // Each group's test is the CMH test on its own tasks; Holm across the three languages.
    const window = [14, 15, 16, 17, 18, 19, 20];
    const raw = [cmhOf(TASKS.slice(0, 10), window), cmhOf(TASKS.slice(10, 20), window), cmhOf(TASKS.slice(20), window)];
    expect([py!.p, go!.p, unknown!.p]).toEqual(raw);
    expect([py!.pAdjusted, go!.pAdjusted, unknown!.pAdjusted]).toEqual(holm(raw));
    expect(py!.pAdjusted).toBeLessThan(1e-6);
    expect(py!.significant).toBe(true);
    expect(go!.pAdjusted).toBeGreaterThan(0.3);
    expect(go!.significant).toBe(false);
    expect(unknown!.significant).toBe(false);
    // The repository dimension is a family of its own: acme/py-one holds the same tasks as python, so the same p.
    const repo = of('7d', 'repository');
    expect(repo.map((g) => [g.group, g.change])).toEqual([
      ['acme/go-svc', 0],
      ['acme/py-one', 14 / 70 - 112 / 140],
      ['unknown', 0],
    ]);
    expect(repo.map((g) => g.p)).toEqual([raw[1], raw[0], raw[2]]);
    expect(repo.map((g) => g.pAdjusted)).toEqual(holm([raw[1]!, raw[0]!, raw[2]!]));

    // 1d: day 20 only. Python: tasks with (i + 20) % 5 == 0, i.e. i = 0 and 5, passed.
    const [py1, go1] = of('1d', 'language');
    expect(py1).toMatchObject({ n: 10, passes: 2, change: 2 / 10 - 112 / 140 });
    expect(go1).toMatchObject({ n: 10, passes: 8, change: 8 / 10 - 112 / 140 });

    // The exposition: one series per (track, window, dimension, group), labels bounded, values as computed.
    const text = await t.ctx.exporter.render();
    const change = gauges(text, 'agentdrift_group_change');
    expect(change.size).toBe(3 * (3 + 3));
    expect(change.get('{track="bd",window="7d",dimension="language",group="python"}')).toBe(14 / 70 - 112 / 140);
    expect(change.get('{track="bd",window="7d",dimension="language",group="go"}')).toBe(0);
    expect(change.get('{track="bd",window="7d",dimension="repository",group="acme/py-one"}')).toBe(14 / 70 - 112 / 140);
    expect(gauges(text, 'agentdrift_group_p_value').get('{track="bd",window="7d",dimension="language",group="python"}')).toBe(py!.pAdjusted);
    expect(gauges(text, 'agentdrift_group_significant').get('{track="bd",window="7d",dimension="language",group="python"}')).toBe(1);
    expect(gauges(text, 'agentdrift_group_significant').get('{track="bd",window="7d",dimension="language",group="go"}')).toBe(0);
    expect(gauges(text, 'agentdrift_group_attempts').get('{track="bd",window="30d",dimension="language",group="unknown"}')).toBe(35);
    const lower = gauges(text, 'agentdrift_group_pass_rate_lower').get('{track="bd",window="7d",dimension="language",group="python"}')!;
    const upper = gauges(text, 'agentdrift_group_pass_rate_upper').get('{track="bd",window="7d",dimension="language",group="python"}')!;
    expect(lower).toBeLessThan(0.2);
    expect(upper).toBeGreaterThan(0.2);
    expect(gauges(text, 'agentdrift_group_pass_rate').get('{track="bd",window="7d",dimension="language",group="python"}')).toBe(0.2);
    for (const name of ['agentdrift_group_attempts', 'agentdrift_group_pass_rate', 'agentdrift_group_p_value']) {
      for (const labels of gauges(text, name).keys()) {
        expect(labels).toMatch(/^\{track="bd",window="(1d|7d|30d)",dimension="(language|repository)",group="(python|go|js|ts|unknown|other|[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)"\}$/);
      }
    }
    // The paging alert's question, answered from the series: the language and the repository that fell most.
    const fellMost = (dimension: string) =>
      [...change].filter(([l]) => l.includes('window="7d"') && l.includes(`dimension="${dimension}"`)).sort((a, b) => a[1] - b[1])[0]![0];
    expect(fellMost('language')).toContain('group="python"');
    expect(fellMost('repository')).toContain('group="acme/py-one"');

    // The API serves the same figures, filtered by window and dimension; NaN as null; a bad filter is a 400.
    app = await buildServer(t.ctx);
    const body = (await app.inject('/api/tracks/bd/breakdown?window=7d&dimension=language')).json();
    expect(body).toMatchObject({ track: 'bd', alpha: 0.01, baseline: 'reference', repositoryGroupLimit: REPOSITORY_GROUP_LIMIT });
    expect(body.groups).toHaveLength(3);
    expect(body.groups[0]).toEqual({
      window: '7d',
      dimension: 'language',
      group: 'python',
      tasks: 10,
      attempts: 70,
      passes: 14,
      passRate: 0.2,
      lower: lower,
      upper: upper,
      referenceRate: 0.8,
      change: 14 / 70 - 112 / 140,
      method: 'cmh',
      p: py!.p,
      pAdjusted: py!.pAdjusted,
      significant: true,
    });
    expect((await app.inject('/api/tracks/bd/breakdown')).json().groups).toHaveLength(3 * 6);
    const bad = await app.inject('/api/tracks/bd/breakdown?dimension=model');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/dimension/);
    expect((await app.inject('/api/tracks/nope/breakdown')).statusCode).toBe(404);
  });

  it('has pass rates but no change nor test before a baseline, and nothing before any run', () => {
    t = makeContext({ tracks: [{ name: 'early' }] });
    expect(t.ctx.figures.snapshot('early').breakdown).toEqual([]);
    importHistoryText(t.ctx, 'early', history(3), { fileName: 'early.json' });
    const s = t.ctx.figures.snapshot('early');
    expect(s.regression.baseline).toBeNull();
    const py = s.breakdown.find((g) => g.window === '7d' && g.dimension === 'language' && g.group === 'python')!;
    expect(py).toMatchObject({ n: 30, method: 'none', significant: false });
    expect(py.estimate).toBe(py.passes / 30);
    expect(py.change).toBeNaN();
    expect(py.p).toBeNaN();
  });

  it('bounds the repository groups: past the limit the repositories with the fewest tasks are counted as other', () => {
    const n = REPOSITORY_GROUP_LIMIT + 3;
    const end = Date.parse('2026-02-01T04:00:00Z');
    const facts: AttemptFacts[] = Array.from({ length: n + 2 }, (_, i) => ({
      taskId: `t${i}`,
      outcome: i % 2 ? 'resolved' : 'unresolved',
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 0,
      turns: 0,
      toolCalls: 0,
      agentDurationMs: null,
      endedAtMs: end - 1000,
      runId: 1,
      runStartedAtMs: end - 3_600_000,
      runEndedAtMs: end,
    }));
    // Repository r<k> holds task t<k>; r0 and r1 hold a second task each (t<n>, t<n+1>), so they are kept first.
    const repository = new Map(facts.map((f, i) => [f.taskId, `org/r${String(i < n ? i : i - n).padStart(2, '0')}`]));
    const selections = selectWindows(facts, calendarDay(end - 3_600_000, 'UTC'), 'UTC');
    const fixed: BaselineRow = { id: 1, track: 'x', createdAt: '', kind: 'fixed', p0: 0.5, fromMs: null, toMs: null, perTask: null, monitorFromMs: 0, createdBy: 't', reason: 't', configSpec: null };
    const out = computeBreakdown({ selections, baseline: fixed, groups: { repository, language: new Map() }, statistics: { alpha: 0.01, confidence: 0.95 } });
    const repos = out.filter((g) => g.window === '1d' && g.dimension === 'repository');
    expect(repos).toHaveLength(REPOSITORY_GROUP_LIMIT + 1);
    expect(repos.at(-1)).toMatchObject({ group: OTHER_GROUP, n: n - REPOSITORY_GROUP_LIMIT, tasks: n - REPOSITORY_GROUP_LIMIT });
    expect(repos.slice(0, 2).map((g) => [g.group, g.n])).toEqual([['org/r00', 2], ['org/r01', 2]]);
    // Against a fixed p0 the change is the group's rate minus p0, and every group has its binomial test.
    expect(repos[0]).toMatchObject({ method: 'binomial', change: 1 / 2 - 0.5 });
    const languages = out.filter((g) => g.window === '1d' && g.dimension === 'language');
    expect(languages.map((g) => [g.group, g.n])).toEqual([['unknown', n + 2]]);
  });
});
