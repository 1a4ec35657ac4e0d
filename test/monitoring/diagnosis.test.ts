/**
 * The "Where and how" dashboard (grafana/src/diagnosis.ts) against real servers on loopback: the agentdrift daemon
 * with two imported histories (tasks of one repository break over the last 7 days, one task is fixed, the agent reads
 * less before editing: diagnosis-history.ts), and a real Prometheus (Debian's) scraping it every second with the
 * shipped rules. Every query of the dashboard runs for every value of `$track` and `$window` and returns data; the
 * tables' rows, the flip list, the push bars and the "fell most" stats say what the daemon's API says; the task
 * timeline has one row per task. The generic checks (data source wiring, layout, overrides, PromQL validity) are in
 * grafana.test.ts, the committed JSON in generated.test.ts.
 *
 * No Docker Engine is needed: no container is started, and no alert is looked at (the engine's absence only makes
 * agentdrift_docker_up 0).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOverview, DASHBOARD_UID } from '../../grafana/src/dashboard.ts';
import { BEHAVIOUR_PANELS, buildDiagnosis, DIAGNOSIS_UID, OUTCOME_CODES, TASK_WINDOW } from '../../grafana/src/diagnosis.ts';
import { panelQueries } from '../../grafana/src/queries.ts';
import { LATEST_OUTCOME_CODE, TASK_SERIES_WINDOW } from '../../src/adapters/metrics/exporter.ts';
import { BEHAVIOUR_METRICS } from '../../src/domain/behaviour.ts';
import { runCli, startDaemon, type Daemon } from '../helpers/cli.ts';
import { historyDocument, type HistoryRun } from '../helpers/history.ts';
import { freePort, query, queryRangeSeries, type Running, type Sample, startPrometheus } from '../helpers/prometheus.ts';
import { expandedQueries, failingQueries, variableValues, type ExpandedQuery } from './dashboard-queries.ts';
import { DAYS, diagnosisHistory, meanReadsBeforeFirstEdit, REFERENCE_DAYS, REPOSITORIES, taskId, WINDOW_FROM_DAY } from './diagnosis-history.ts';

const db = buildDiagnosis();

type Panel = {
  type: string;
  title: string;
  targets?: { expr: string; refId: string; format?: string; instant?: boolean }[];
  fieldConfig?: { overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
};
const panels = (db.panels ?? []) as unknown as Panel[];
const panel = (title: string) => {
  const p = panels.find((x) => x.title === title);
  if (!p) throw new Error(`no panel "${title}"`);
  return p;
};

/** The series the dashboard is for (docs/metrics.md: per-task history, breakdown, behaviour). */
const DIAGNOSIS_SERIES = [
  'agentdrift_task_latest_outcome', 'agentdrift_task_reference_rate', 'agentdrift_task_window_attempts', 'agentdrift_task_window_passes',
  'agentdrift_task_cusum_push', 'agentdrift_task_flip',
  'agentdrift_group_attempts', 'agentdrift_group_pass_rate', 'agentdrift_group_pass_rate_lower', 'agentdrift_group_pass_rate_upper',
  'agentdrift_group_change', 'agentdrift_group_p_value', 'agentdrift_group_significant',
  'agentdrift_behaviour_mean', 'agentdrift_tool_calls_mean', 'agentdrift_behaviour_reference_mean', 'agentdrift_behaviour_ratio',
  'agentdrift_behaviour_p_value_adjusted', 'agentdrift_behaviour_change_significant',
];

describe('the "Where and how" dashboard as code', () => {
  it('has its own uid and exactly the overview\'s variables', () => {
    expect(db.uid).toBe(DIAGNOSIS_UID);
    expect(db.title).toBe('agentdrift / Where and how');
    expect(db.templating).toEqual(buildOverview().templating);
  });

  it('and the overview link to each other, keeping the time range and the variables', () => {
    const linkTo = (d: typeof db, uid: string) => (d.links ?? []).filter((l) => l.url === `/d/${uid}`);
    for (const [from, to] of [[buildOverview(), DIAGNOSIS_UID], [db, DASHBOARD_UID]] as const) {
      const links = linkTo(from, to);
      expect(links, `${from.uid} -> ${to}`).toHaveLength(1);
      expect(links[0]).toMatchObject({ type: 'link', includeVars: true, keepTime: true });
      expect(links[0]).not.toHaveProperty('placement');
    }
  });

  it('uses the exporter\'s task window and outcome codes, and has a panel for every behaviour metric', () => {
    expect(TASK_WINDOW).toBe(TASK_SERIES_WINDOW);
    expect(OUTCOME_CODES).toEqual(LATEST_OUTCOME_CODE);
    expect(Object.keys(BEHAVIOUR_PANELS).sort()).toEqual([...BEHAVIOUR_METRICS].sort());
    const exprs = panelQueries(db).map((q) => q.expr);
    for (const metric of BEHAVIOUR_METRICS) {
      expect(exprs.filter((e) => e.includes(`metric="${metric}"`)), metric).toHaveLength(2);
    }
  });

  it('shows every series of the per-task history, the breakdown and the behaviour', () => {
    const all = panelQueries(db).map((q) => q.expr).join('\n');
    expect(DIAGNOSIS_SERIES.filter((m) => !new RegExp(`\\b${m}\\b(?!_)`).test(all))).toEqual([]);
    // The task series exist for one window only: no task query may follow $window.
    const taskQueries = panelQueries(db).filter((q) => q.expr.includes('agentdrift_task_'));
    expect(taskQueries.length).toBeGreaterThan(10);
    for (const q of taskQueries) expect(q.expr, q.panel).not.toContain('$window');
  });

  it('the task timeline is a state timeline with a row per task and a text for every outcome', () => {
    const p = panel('Task outcomes per day') as Panel & { fieldConfig: { defaults: { mappings: { options: Record<string, { text: string }> }[] } } };
    expect(p.type).toBe('state-timeline');
    expect(p.targets?.map((t) => [t.expr, (t as { legendFormat?: string }).legendFormat])).toEqual([['agentdrift_task_latest_outcome{track="$track"}', '{{task}}']]);
    const texts = Object.fromEntries(Object.entries(p.fieldConfig.defaults.mappings[0]?.options ?? {}).map(([v, m]) => [v, m.text]));
    expect(texts).toEqual({ '1': 'resolved', '0': 'unresolved', '-1': 'agent error', '-2': 'timeout' });
  });

  it('each table column is an instant table query, named by an override on its Value #refId', () => {
    const tables = panels.filter((p) => p.type === 'table');
    expect(tables.length).toBe(5);
    for (const t of tables) {
      const ids = (t.targets ?? []).map((x) => x.refId);
      expect(ids.length, t.title).toBeGreaterThan(1);
      for (const x of t.targets ?? []) expect([x.format, x.instant], `${t.title} ${x.refId}`).toEqual(['table', true]);
      const named = (t.fieldConfig?.overrides ?? []).map((o) => [o.matcher.id, o.matcher.options, o.properties.find((p) => p.id === 'displayName')?.value]);
      expect(named.map(([id, name]) => [id, name]), t.title).toEqual(ids.map((id) => ['byName', `Value #${id}`]));
      expect(new Set(named.map((n) => n[2])).size, `${t.title}: column names`).toBe(ids.length);
    }
  });
});

// ---- against a real daemon and Prometheus ---------------------------------------------------------------------------

const TRACKS = {
  alpha: diagnosisHistory({ seed: 31, breaking: 0, fixedTask: 4, readsFactor: 0.3 }),
  beta: diagnosisHistory({ seed: 32, breaking: 1, fixedTask: 9, readsFactor: 0.3 }),
} satisfies Record<string, HistoryRun[]>;
const BREAKING = { alpha: REPOSITORIES[0], beta: REPOSITORIES[1] };
const FIXED = { alpha: taskId(4), beta: taskId(9) };
type TrackName = keyof typeof TRACKS;
const TRACK_NAMES = Object.keys(TRACKS).sort() as TrackName[];

describe('the "Where and how" dashboard against agentdrift and Prometheus', () => {
  let dir: string;
  let daemon: Daemon | undefined;
  let api: string;
  let prom: Running;
  let queries: ExpandedQuery[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentdrift-diagnosis-'));
    const port = await freePort();
    const config = join(dir, 'agentdrift.yaml');
    const schedule = "    schedule: { cron: '0 3 1 1 *', timezone: UTC, catchUp: false }";
    writeFileSync(
      config,
      [`server: { host: 127.0.0.1, port: ${port} }`, `dataDir: ${join(dir, 'data')}`, 'logLevel: info', 'tracks:', ...TRACK_NAMES.flatMap((t) => [`  - name: ${t}`, schedule]), ''].join('\n'),
    );
    for (const track of TRACK_NAMES) {
      const file = join(dir, `${track}.json`);
      writeFileSync(file, historyDocument(TRACKS[track]));
      const r = await runCli(['--config', config, 'import', '--track', track, file], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`imported ${DAYS} run(s), ${DAYS * 50} attempt(s) into ${track}`);
    }
    daemon = await startDaemon(['--config', config], { env: { AGENTDRIFT_API_TOKEN: 'diagnosis-token-0123456789abcdef' } });
    api = daemon.url.replace('0.0.0.0', '127.0.0.1');
    prom = await startPrometheus({ target: `127.0.0.1:${port}` });
    const values = await variableValues(prom.url, db);
    expect(values).toEqual({ track: TRACK_NAMES, window: ['1d', '7d', '30d'] });
    queries = expandedQueries(db, values);
  }, 120_000);

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await prom?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The expanded query of a panel's column for a track (and window), run as an instant query. */
  async function run(title: string, refId: string, vars: Record<string, string>): Promise<Sample[]> {
    // The query's own variables (a query without $window has none for it) take the values given.
    const q = queries.find((x) => x.panel === title && x.refId === refId && Object.entries(x.vars).every(([k, v]) => vars[k] === v));
    if (!q) throw new Error(`no query ${title} / ${refId} for ${JSON.stringify(vars)}`);
    return query(prom.url, q.promql);
  }
  const byLabel = (samples: Sample[], label: string) => Object.fromEntries(samples.map((s) => [s.metric[label], s.value]));
  async function getJson<T>(path: string): Promise<T> {
    const r = await fetch(`${api}${path}`);
    expect(r.status, path).toBe(200);
    return (await r.json()) as T;
  }

  it('every query returns data, for every track and every window', async () => {
    // Each query of the dashboard is run, with every combination of the variables it uses.
    expect(new Set(queries.map((q) => `${q.panel}/${q.refId}`)).size).toBe(panelQueries(db).length);
    for (const window of ['1d', '7d', '30d']) {
      for (const track of TRACK_NAMES) expect(queries.some((q) => q.vars.window === window && q.vars.track === track), `${track} ${window}`).toBe(true);
    }
    expect(queries.length).toBeGreaterThan(200);
    expect(await failingQueries(prom.url, queries, 10_000)).toEqual([]);
  }, 180_000);

  it('every result is of the chosen track, and every table column has one series per row key', async () => {
    const problems: string[] = [];
    for (const q of queries) {
      const samples = await query(prom.url, q.promql);
      const other = samples.filter((s) => 'track' in s.metric && s.metric.track !== q.vars.track);
      if (other.length > 0) problems.push(`${q.panel} / ${q.refId} with track=${q.vars.track}: a series of track ${other[0]?.metric.track}`);
      const p = panel(q.panel);
      if (p.type !== 'table') continue;
      // The merge transformation puts one key's values on one row only if every column has the same label columns.
      const keys = samples.map((s) => Object.keys(s.metric).sort().join(','));
      const key = p.title.startsWith('Pass rate by') ? 'group' : p.title.startsWith('Behaviour') ? 'metric' : 'task';
      if (keys.some((k) => k !== ['track', key].sort().join(','))) problems.push(`${q.panel} / ${q.refId}: labels ${keys[0]}, expected track and ${key}`);
      if (new Set(samples.map((s) => s.metric[key])).size !== samples.length) problems.push(`${q.panel} / ${q.refId}: two series for one ${key}`);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  type TaskRow = { taskId: string; latest: { outcome: keyof typeof LATEST_OUTCOME_CODE } | null; reference: { rate: number } | null; attempts: number; passes: number; cusumPush: number | null; flip: 'broke' | 'fixed' | null };

  it.each(TRACK_NAMES)('%s: the flip list, the push bars, the task table and the timeline are what GET /api/tracks/:track/tasks says', async (track) => {
    const body = await getJson<{ tasks: TaskRow[]; flips: { broke: number; fixed: number } }>(`/api/tracks/${track}/tasks?window=${TASK_WINDOW}`);
    const broke = body.tasks.filter((t) => t.flip === 'broke').map((t) => t.taskId).sort();
    const breaking = Array.from({ length: 50 }, (_, i) => i).filter((i) => REPOSITORIES[i % 5] === BREAKING[track]).map(taskId);
    // The history makes exactly these flips (so the panels below are checked on a non-trivial list).
    expect(broke).toEqual(breaking);
    expect(body.tasks.filter((t) => t.flip === 'fixed').map((t) => t.taskId)).toEqual([FIXED[track]]);

    const vars = { track };
    expect((await run(`Tasks that broke (${TASK_WINDOW})`, 'A', vars))[0]?.value).toBe(body.flips.broke);
    expect((await run(`Tasks that were fixed (${TASK_WINDOW})`, 'A', vars))[0]?.value).toBe(body.flips.fixed);

    const flips = `Flips (${TASK_WINDOW})`;
    expect(byLabel(await run(flips, 'A', vars), 'task')).toEqual(Object.fromEntries([...breaking.map((t) => [t, 1]), [FIXED[track], -1]]));
    const flipped = body.tasks.filter((t) => t.flip !== null);
    expect(byLabel(await run(flips, 'B', vars), 'task')).toEqual(Object.fromEntries(flipped.map((t) => [t.taskId, t.reference?.rate])));
    expect(byLabel(await run(flips, 'C', vars), 'task')).toEqual(Object.fromEntries(flipped.map((t) => [t.taskId, t.passes])));
    expect(byLabel(await run(flips, 'D', vars), 'task')).toEqual(Object.fromEntries(flipped.map((t) => [t.taskId, t.attempts])));
    for (const t of flipped) expect(t.passes, t.taskId).toBe(t.flip === 'broke' ? 0 : t.attempts);

    // The bars: the 20 largest positive pushes, largest first, as the API orders the tasks.
    const bars = await run(`CUSUM push by task (${TASK_WINDOW}), largest first`, 'A', vars);
    const positive = body.tasks.filter((t) => (t.cusumPush ?? 0) > 0);
    expect(positive.length).toBeGreaterThan(breaking.length);
    // Tasks with the same push (the tasks that broke have the same history) may come in any order from Prometheus.
    expect(bars.map((s) => s.value)).toEqual([...bars.map((s) => s.value)].sort((a, b) => b - a));
    for (const s of bars) expect(s.value, s.metric.task).toBeCloseTo(positive.find((t) => t.taskId === s.metric.task)?.cusumPush as number, 9);
    expect(bars.map((s) => s.value)).toEqual(positive.slice(0, 20).map((t) => expect.closeTo(t.cusumPush as number, 9)));
    if (positive[19]?.cusumPush !== positive[20]?.cusumPush) expect(new Set(bars.map((s) => s.metric.task))).toEqual(new Set(positive.slice(0, 20).map((t) => t.taskId)));
    // The tasks that broke push the pager the most.
    expect(new Set(bars.slice(0, breaking.length).map((s) => s.metric.task))).toEqual(new Set(breaking));

    const every = `Every task (${TASK_WINDOW}), by CUSUM push`;
    const latest = byLabel(await run(every, 'B', vars), 'task');
    expect(latest).toEqual(Object.fromEntries(body.tasks.filter((t) => t.latest).map((t) => [t.taskId, LATEST_OUTCOME_CODE[t.latest!.outcome]])));
    expect(Object.keys(latest)).toHaveLength(50);
    expect(byLabel(await run(every, 'E', vars), 'task')).toEqual(Object.fromEntries(body.tasks.map((t) => [t.taskId, t.attempts])));

    // The timeline: one row per task over time, each in an outcome code.
    const timeline = panelQueries(db).find((q) => q.panel === 'Task outcomes per day');
    const promql = (timeline?.expr ?? '').replace('$track', track);
    expect(await queryRangeSeries(prom.url, promql)).toBe(50);
    expect(byLabel(await query(prom.url, promql), 'task')).toEqual(latest);
    for (const b of breaking) expect(latest[b], b).toBe(OUTCOME_CODES.unresolved);
  });

  type GroupRow = { window: string; dimension: string; group: string; attempts: number; method: string; passRate: number | null; lower: number | null; upper: number | null; change: number | null; pAdjusted: number | null; significant: boolean };

  it.each(TRACK_NAMES)('%s: the language and repository tables and the "fell most" stats are what GET /api/tracks/:track/breakdown says', async (track) => {
    const { groups } = await getJson<{ groups: GroupRow[] }>(`/api/tracks/${track}/breakdown`);
    for (const window of ['1d', '7d', '30d']) {
      for (const dimension of ['language', 'repository'] as const) {
        const rows = groups.filter((g) => g.window === window && g.dimension === dimension);
        const vars = { track, window };
        const title = `Pass rate by ${dimension} ($window)`;
        const col = async (refId: string) => byLabel(await run(title, refId, vars), 'group');
        const expected = (f: (g: GroupRow) => number | boolean | null) => Object.fromEntries(rows.filter((g) => f(g) !== null).map((g) => [g.group, Number(f(g))]));
        expect(await col('A'), `${title} ${window}`).toEqual(expected((g) => g.passRate));
        expect(await col('B')).toEqual(expected((g) => g.lower));
        expect(await col('C')).toEqual(expected((g) => g.upper));
        expect(await col('D')).toEqual(expected((g) => g.change));
        expect(await col('E')).toEqual(expected((g) => g.pAdjusted));
        expect(await col('F')).toEqual(Object.fromEntries(rows.filter((g) => g.method !== 'none').map((g) => [g.group, g.significant ? 1 : 0])));
        expect(await col('G')).toEqual(expected((g) => g.attempts));
        const groupsOf = new Set(rows.map((g) => g.group));
        expect(groupsOf, `${dimension} groups`).toEqual(new Set(dimension === 'language' ? ['go', 'python', 'js', 'ts'] : REPOSITORIES.map((r) => r.repository)));
        if (window === '1d') continue;
        // The stats name the group that fell most; by repository, that is the one whose tasks broke.
        const fell = (await run(`${dimension === 'language' ? 'Language' : 'Repository'} that fell most ($window)`, 'A', vars))[0];
        const worst = [...rows].sort((a, b) => (a.change ?? 0) - (b.change ?? 0))[0];
        expect(fell?.metric.group).toBe(worst?.group);
        expect(fell?.value).toBeCloseTo(worst?.change as number, 12);
        if (dimension === 'repository') expect(worst?.group).toBe(BREAKING[track].repository);
        if (window === '7d' && dimension === 'repository') expect(rows.find((g) => g.group === BREAKING[track].repository)?.significant).toBe(true);
      }
    }
  });

  it.each(TRACK_NAMES)('%s: the behaviour table shows the fall of reads before the first edit against its reference', async (track) => {
    const runs = TRACKS[track];
    const title = 'Behaviour against the reference ($window)';
    const vars = { track, window: '7d' };
    const metric = 'reads_before_first_edit';
    const windowMean = byLabel(await run(title, 'A', vars), 'metric')[metric] as number;
    const referenceMean = byLabel(await run(title, 'B', vars), 'metric')[metric] as number;
    expect(windowMean).toBeCloseTo(meanReadsBeforeFirstEdit(runs, WINDOW_FROM_DAY, DAYS - 1), 9);
    expect(referenceMean).toBeCloseTo(meanReadsBeforeFirstEdit(runs, 0, REFERENCE_DAYS - 1), 9);
    expect(byLabel(await run(title, 'C', vars), 'metric')[metric]).toBeLessThan(0.6);
    expect(byLabel(await run(title, 'D', vars), 'metric')[metric]).toBeLessThan(0.01);
    const changed = byLabel(await run(title, 'E', vars), 'metric');
    expect(changed[metric]).toBe(1);
    // Thinking did not change in the history: the verdict says so.
    expect(changed.thinking_chars).toBe(0);
    expect((await run('Behaviour metrics changed ($window)', 'A', vars))[0]?.value).toBe(Object.values(changed).filter((v) => v === 1).length);
    // The per-metric panel draws the same two means.
    const perMetric = `${BEHAVIOUR_PANELS[metric].title} per attempt ($window) and reference`;
    expect((await run(perMetric, 'A', vars))[0]?.value).toBeCloseTo(windowMean, 12);
    expect((await run(perMetric, 'B', { track }))[0]?.value).toBeCloseTo(referenceMean, 12);
    // Tool calls by tool: the tools the history uses, and no other.
    const tools = await run('Tool calls per attempt, by tool ($window)', 'A', vars);
    expect(tools.map((s) => s.metric.tool).sort()).toEqual(['Bash', 'Edit', 'Read', 'other']);
  });
});
