/**
 * The dashboards as code (the overview and "Where and how"): the committed JSON is what grafana/src builds with the
 * default settings, every panel reads the `datasource` variable, panels do not overlap, every override names a series
 * its panel draws, every query is valid PromQL for every value of every template variable (checked by promtool) and
 * the metrics contract is on the overview. Running the queries against a real Prometheus is the job of
 * alert-path.test.ts and e2e.test.ts (the overview) and diagnosis.test.ts (through dashboard-queries.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { render, DASHBOARD_FILES } from '../../grafana/src/build.ts';
import { DEFAULT_MONITORING_CONFIG } from '../../monitoring/config.ts';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildOverview, DASHBOARD_UID } from '../../grafana/src/dashboard.ts';
import { buildDiagnosis } from '../../grafana/src/diagnosis.ts';
import { expandVariables, panelQueries, variableQueries } from '../../grafana/src/queries.ts';
import { customValues, expandedQueries, substitutedVariables } from './dashboard-queries.ts';
import { readRepo, run, shippedRules } from './tools.ts';

type Panel = {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { datasource?: { uid?: string }; expr?: string; refId?: string; legendFormat?: string; format?: string }[];
};

const db = buildOverview();

/** Every dashboard written by the generator, by file name. */
const DASHBOARDS: [string, dashboard.Dashboard][] = [
  ['agentdrift-overview.json', db],
  ['agentdrift-diagnosis.json', buildDiagnosis()],
];

describe('grafana dashboards', () => {
  // That the committed JSON is what `npm run monitoring:build` writes is checked in generated.test.ts.
  it.each(DASHBOARDS)('the committed %s is this dashboard, with the default settings', (file, built) => {
    expect(Object.keys(DASHBOARD_FILES)).toEqual(DASHBOARDS.map(([f]) => f));
    const build = DASHBOARD_FILES[file];
    expect(readRepo(`grafana/dashboards/${file}`)).toBe(render(build?.(DEFAULT_MONITORING_CONFIG.dashboards)));
    expect(render(built)).toBe(readRepo(`grafana/dashboards/${file}`));
    expect(render({ ...built, title: 'something else' })).not.toBe(readRepo(`grafana/dashboards/${file}`));
  });

  it('the dashboards have distinct uids and titles, the agentdrift tag and the same variables', () => {
    expect(new Set(DASHBOARDS.map(([, d]) => d.uid)).size).toBe(DASHBOARDS.length);
    expect(new Set(DASHBOARDS.map(([, d]) => d.title)).size).toBe(DASHBOARDS.length);
    for (const [, d] of DASHBOARDS) {
      expect(d.tags).toEqual(['agentdrift']);
      expect(d.templating).toEqual(db.templating);
    }
  });

  it('has a stable uid, the datasource and track variables, and a window variable', () => {
    expect(db.uid).toBe(DASHBOARD_UID);
    const vars = Object.fromEntries((db.templating?.list ?? []).map((v) => [v.name, v]));
    expect(vars.datasource?.type).toBe('datasource');
    expect(vars.datasource?.query).toBe('prometheus');
    expect(vars.track?.type).toBe('query');
    expect(vars.track?.datasource?.uid).toBe('${datasource}');
    expect(variableQueries(db)).toEqual([{ name: 'track', query: 'label_values(agentdrift_track_info, track)' }]);
    expect(vars.window?.type).toBe('custom');
    expect(vars.window?.query).toBe('1d,7d,30d');
  });

  const panelsOf = (d: dashboard.Dashboard) => (d.panels ?? []) as unknown as Panel[];

  it.each(DASHBOARDS)('%s: every panel and every target reads from the datasource variable', (_file, d) => {
    const withData = panelsOf(d).filter((p) => p.type !== 'row');
    expect(withData.length).toBeGreaterThan(20);
    for (const p of withData) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, `${p.title} has no query`).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it.each(DASHBOARDS)('%s: panels have unique ids and titles and do not overlap on the 24-column grid', (_file, d) => {
    const panels = panelsOf(d);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(new Set(panels.map((p) => p.title)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const c = `${x},${y}`;
          expect(cells.has(c), `${p.title} overlaps another panel at ${c}`).toBe(false);
          cells.add(c);
        }
      }
    }
  });

  it('shows every figure of the metrics contract', () => {
    const all = panelQueries(db)
      .map((q) => q.expr)
      .join('\n');
    const contract = [
      'agentdrift_build_info', 'agentdrift_track_info',
      'agentdrift_pass_rate', 'agentdrift_pass_rate_lower', 'agentdrift_pass_rate_upper',
      'agentdrift_window_attempts', 'agentdrift_window_passes', 'agentdrift_infra_error_ratio',
      'agentdrift_attempts_total', 'agentdrift_tokens_total', 'agentdrift_cost_usd_total',
      'agentdrift_agent_duration_seconds', 'agentdrift_mean_cost_usd', 'agentdrift_mean_tokens', 'agentdrift_mean_turns', 'agentdrift_mean_tool_calls',
      'agentdrift_last_success_timestamp_seconds', 'agentdrift_next_run_timestamp_seconds', 'agentdrift_run_in_progress',
      'agentdrift_baseline_pass_rate', 'agentdrift_baseline_ready', 'agentdrift_regression_p_value', 'agentdrift_regression_p_value_adjusted',
      'agentdrift_regression_significant', 'agentdrift_minimum_detectable_drop', 'agentdrift_cusum_statistic', 'agentdrift_cusum_threshold',
      'agentdrift_usage_ratio', 'agentdrift_usage_regression_significant',
      'agentdrift_runs_total', 'agentdrift_run_progress_ratio', 'agentdrift_docker_up', 'agentdrift_scheduler_missed_runs_total', 'agentdrift_budget_exhausted',
    ];
    const missing = contract.filter((m) => !new RegExp(`\\b${m}\\b(?!_)`).test(all));
    expect(missing).toEqual([]);
  });

  it.each(DASHBOARDS)('%s: every field override names a series its panel\'s queries draw (legend, refId, table column or regexp on a legend)', (_file, d) => {
    type Override = { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] };
    const withOverrides = (panelsOf(d) as unknown as (Panel & { fieldConfig?: { overrides?: Override[] } })[])
      .filter((p) => (p.fieldConfig?.overrides ?? []).length > 0);
    expect(withOverrides.length).toBeGreaterThanOrEqual(6);
    const problems: string[] = [];
    for (const p of withOverrides) {
      // A series name as Grafana draws it: the legend with each {{label}} filled in by some value; the value column
      // of a table query in a panel of several queries is `Value #<refId>`.
      const names = (p.targets ?? []).map((t) =>
        t.format === 'table' && (p.targets ?? []).length > 1 ? `Value #${t.refId}` : (t.legendFormat ?? '').replace(/\{\{\s*\w+\s*\}\}/g, 'x'),
      );
      const refIds = (p.targets ?? []).map((t) => t.refId);
      for (const o of p.fieldConfig?.overrides ?? []) {
        const { id, options } = o.matcher;
        const ok = id === 'byName' ? names.includes(options) : id === 'byFrameRefID' ? refIds.includes(options) : id === 'byRegexp' ? names.some((n) => new RegExp(options).test(n)) : false;
        if (!ok) problems.push(`${p.title}: override ${id} "${options}" matches none of ${JSON.stringify(id === 'byFrameRefID' ? refIds : names)}`);
        for (const prop of o.properties) {
          if (prop.id === 'custom.fillBelowTo' && !names.includes(String(prop.value))) problems.push(`${p.title}: fillBelowTo "${String(prop.value)}" is no series of the panel`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every recording rule a query uses is defined in the shipped rules', () => {
    const recorded = new Set(shippedRules().records.map((r) => r.record));
    const used = new Set(panelQueries(db).flatMap((q) => q.expr.match(/agentdrift:[a-z0-9_:]+/g) ?? []));
    expect(used.size).toBeGreaterThan(0);
    for (const u of used) expect(recorded.has(u), `${u} is not a recording rule`).toBe(true);
  });

  it.each(DASHBOARDS)('%s: every query is valid PromQL once its variables are filled in, with every window (promtool check rules)', (_file, d) => {
    expect(panelQueries(d).length).toBeGreaterThan(30);
    const [track, window] = substitutedVariables(d);
    expect([track?.name, window?.name]).toEqual(['track', 'window']);
    if (!window) throw new Error('no window variable');
    const queries = expandedQueries(d, { track: ['claude-code'], window: customValues(window) });
    expect(new Set(queries.map((q) => q.vars.window).filter(Boolean))).toEqual(new Set(['1d', '7d', '30d']));
    const rules = {
      groups: [
        {
          name: 'dashboard-queries',
          rules: queries.map((q, i) => ({ record: `dashboard_query_${i}`, expr: q.promql })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-dashq-'));
    try {
      writeFileSync(join(dir, 'q.yml'), stringify(rules));
      const ok = run('promtool', ['check', 'rules', join(dir, 'q.yml')]);
      expect(ok.status, ok.out).toBe(0);
      // ...and the check does reject a broken query.
      rules.groups[0]?.rules.push({ record: 'broken', expr: 'sum by (track) (agentdrift_pass_rate{track="x"}' });
      writeFileSync(join(dir, 'q.yml'), stringify(rules));
      expect(run('promtool', ['check', 'rules', join(dir, 'q.yml')]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expandVariables refuses to leave a variable unfilled', () => {
    expect(expandVariables('x{track="$track"}[$__range]', { track: 't' })).toBe('x{track="t"}[1h]');
    expect(() => expandVariables('x{job="$job"}', {})).toThrow(/\$job/);
  });
});

describe('grafana provisioning', () => {
  const compose = parse(readRepo('docker-compose.yml')) as { services: Record<string, { volumes?: string[] }> };
  const grafanaMounts = Object.fromEntries((compose.services.grafana?.volumes ?? []).map((v) => v.split(':')).map(([from, to]) => [from, to]));

  it('loads the dashboards from where docker-compose.yml mounts grafana/dashboards', () => {
    const p = parse(readRepo('grafana/provisioning/dashboards/agentdrift.yml')) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    expect(p.apiVersion).toBe(1);
    expect(p.providers).toHaveLength(1);
    expect(p.providers[0]?.type).toBe('file');
    expect(grafanaMounts['./grafana/dashboards']).toBe(p.providers[0]?.options.path);
    expect(grafanaMounts['./grafana/provisioning']).toBe('/etc/grafana/provisioning');
  });

  it('provides a Prometheus data source pointing at the compose service', () => {
    const d = parse(readRepo('grafana/provisioning/datasources/prometheus.yml')) as {
      apiVersion: number;
      datasources: { type: string; url: string; isDefault: boolean }[];
    };
    expect(d.apiVersion).toBe(1);
    expect(d.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    expect(Object.keys(compose.services)).toContain('prometheus');
  });
});
