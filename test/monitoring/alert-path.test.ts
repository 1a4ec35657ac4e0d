/**
 * The alert path with real servers, on loopback: a stand-in for agentdrift serving a fixed exposition of the metrics
 * contract, a real Prometheus (Debian's) scraping it every second with derived copies of the shipped rules (only
 * `for:` shortened), a real Alertmanager with the shipped routing (only the receivers' host and the grouping timings
 * changed) and a webhook written here. This checks the shipped files together; the daemon-backed end-to-end test
 * (e2e.test.ts) checks the same path with agentdrift itself. Every dashboard query runs for every value of `$track`
 * and `$window`. The stand-in reports the Docker Engine up, so this file needs no Docker Engine.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOverview } from '../../grafana/src/dashboard.ts';
import { ALERT_NAMES } from '../../monitoring/config.ts';
import { panelQueries } from '../../grafana/src/queries.ts';
import {
  alertmanagerAlerts,
  deriveRules,
  prometheusAlerts,
  query,
  SHIPPED,
  sleep,
  startAlertmanager,
  startExpositionServer,
  startPrometheus,
  startWebhook,
  waitFor,
  type ExpositionServer,
  type Running,
  type Webhook,
} from '../helpers/prometheus.ts';
import { expandedQueries, failingQueries, variableValues } from './dashboard-queries.ts';

const TRACK = 'claude-code';

/** Every series of the metrics contract for one track, with the regression figures given. */
function exposition(f: { cusum: number; h: number; significant7d: 0 | 1; usageSignificant: 0 | 1; attempts: number }): string {
  const t = `track="${TRACK}"`;
  const lines: string[] = [
    'agentdrift_build_info{version="0.1.0"} 1',
    `agentdrift_track_info{${t},agent="claude-code",agent_version="2.1.330",model="claude-sonnet-4-5",suite="abcdef012345"} 1`,
    `agentdrift_baseline_pass_rate{${t}} 0.55`,
    `agentdrift_baseline_ready{${t}} 1`,
    `agentdrift_cusum_statistic{${t}} ${f.cusum}`,
    `agentdrift_cusum_threshold{${t}} ${f.h}`,
    `agentdrift_last_run_timestamp_seconds{${t}} ${Math.floor(Date.now() / 1000) - 3600}`,
    `agentdrift_last_success_timestamp_seconds{${t}} ${Math.floor(Date.now() / 1000) - 3600}`,
    `agentdrift_next_run_timestamp_seconds{${t}} ${Math.floor(Date.now() / 1000) + 82800}`,
    `agentdrift_schedule_period_seconds{${t}} 86400`,
    `agentdrift_run_in_progress{${t}} 0`,
    `agentdrift_run_progress_ratio{${t}} 0`,
    `agentdrift_budget_exhausted{${t}} 0`,
    `agentdrift_scheduler_missed_runs_total{${t}} 0`,
    'agentdrift_docker_up 1',
    `agentdrift_cost_usd_total{${t}} ${f.attempts * 1.2}`,
    'process_start_time_seconds 1700000000',
  ];
  for (const [w, n] of [['1d', 50], ['7d', 350], ['30d', 1500]] as const) {
    const l = `${t},window="${w}"`;
    lines.push(
      `agentdrift_pass_rate{${l}} 0.5`,
      `agentdrift_pass_rate_lower{${l}} 0.45`,
      `agentdrift_pass_rate_upper{${l}} 0.55`,
      `agentdrift_window_attempts{${l}} ${n}`,
      `agentdrift_window_passes{${l}} ${n / 2}`,
      `agentdrift_infra_error_ratio{${l}} 0.02`,
      `agentdrift_mean_cost_usd{${l}} 1.2`,
      `agentdrift_mean_turns{${l}} 40`,
      `agentdrift_mean_tool_calls{${l}} 55`,
      `agentdrift_regression_p_value{${l}} 0.001`,
      `agentdrift_regression_p_value_adjusted{${l}} 0.003`,
      `agentdrift_regression_significant{${l}} ${w === '7d' ? f.significant7d : 0}`,
      `agentdrift_minimum_detectable_drop{${l}} 0.08`,
      `agentdrift_agent_duration_seconds{${l},quantile="0.5"} 300`,
      `agentdrift_agent_duration_seconds{${l},quantile="0.9"} 900`,
    );
    for (const type of ['input', 'output', 'cache_read', 'cache_creation']) lines.push(`agentdrift_mean_tokens{${l},type="${type}"} 1000`);
    for (const metric of ['cost', 'input_tokens', 'output_tokens', 'duration', 'turns', 'tool_calls']) {
      lines.push(`agentdrift_usage_ratio{${l},metric="${metric}"} 1.05`);
      lines.push(`agentdrift_usage_regression_significant{${l},metric="${metric}"} ${w === '30d' && metric === 'cost' ? f.usageSignificant : 0}`);
    }
  }
  for (const outcome of ['resolved', 'unresolved', 'agent_error', 'timeout', 'infra_error']) lines.push(`agentdrift_attempts_total{${t},outcome="${outcome}"} ${f.attempts / 5}`);
  for (const type of ['input', 'output', 'cache_read', 'cache_creation']) lines.push(`agentdrift_tokens_total{${t},type="${type}"} ${f.attempts * 1000}`);
  for (const state of ['completed', 'failed', 'cancelled', 'interrupted', 'skipped', 'budget_exhausted']) lines.push(`agentdrift_runs_total{${t},state="${state}"} 3`);
  return `${lines.join('\n')}\n`;
}

describe('test copies of the shipped files', () => {
  it('the derived rules differ from the shipped ones only in their for: durations', () => {
    const shipped = readFileSync(SHIPPED.rules, 'utf8').split('\n');
    const derived = deriveRules(shipped.join('\n'), { forDuration: '2s' }).split('\n');
    expect(derived.length).toBe(shipped.length);
    const changed = derived.map((l, i) => [shipped[i], l] as const).filter(([a, b]) => a !== b);
    // Every alert's own `for:` line (5m for most, 15m for the disk alert), and nothing else.
    const forLines = shipped.filter((l) => /^\s+for: \S+$/.test(l));
    // One per alert (every alert has a for:).
    expect(forLines.length).toBe(ALERT_NAMES.length);
    expect(changed.length).toBe(forLines.length);
    for (const [a, b] of changed) {
      expect(a).toMatch(/^\s+for: (5|15)m$/);
      expect(b).toMatch(/^\s+for: 2s$/);
    }
  });
});

describe('alert path: stand-in exposition -> Prometheus -> Alertmanager -> webhook', () => {
  let target: ExpositionServer;
  let hook: Webhook;
  let am: Running;
  let prom: Running;

  beforeAll(async () => {
    target = await startExpositionServer(exposition({ cusum: 2.1, h: 4.2, significant7d: 0, usageSignificant: 0, attempts: 1500 }));
    hook = await startWebhook();
    am = await startAlertmanager({ webhookBase: hook.url });
    prom = await startPrometheus({ target: target.target, alertmanager: `127.0.0.1:${am.port}`, forDuration: '2s' });
  });
  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await hook?.close();
    await target?.close();
  });

  it('scrapes the stand-in as job agentdrift and evaluates the recording rules', async () => {
    const up = await waitFor('the target to be up', async () => {
      const r = await query(prom.url, 'up{job="agentdrift"}');
      return r[0]?.value === 1 ? r : undefined;
    });
    expect(up).toHaveLength(1);
    const ratio = await waitFor('agentdrift:cusum:ratio', async () => (await query(prom.url, 'agentdrift:cusum:ratio'))[0]);
    expect(ratio.value).toBeCloseTo(0.5, 10);
    expect(ratio.metric.track).toBe(TRACK);
  });

  it('every dashboard query returns data from the contract, for every window', async () => {
    const db = buildOverview();
    const values = await variableValues(prom.url, db);
    expect(values).toEqual({ track: [TRACK], window: ['1d', '7d', '30d'] });
    const queries = expandedQueries(db, values);
    expect(new Set(queries.map((q) => `${q.panel}/${q.refId}`)).size).toBe(panelQueries(db).length);
    for (const window of values.window ?? []) expect(queries.some((q) => q.vars.window === window), window).toBe(true);
    // Up to 10 s each: the increase(...[1d]) of the counters needs two scrapes.
    expect(await failingQueries(prom.url, queries, 10_000)).toEqual([]);
  });

  it('a noisy but not significant exposition pages nobody', async () => {
    // Long enough for a page: scrape 1 s + evaluation 1 s + for 2 s + group_wait 1 s, with margin.
    await sleep(8000);
    expect(await prometheusAlerts(prom.url)).toEqual([]);
    expect(hook.notifications).toEqual([]);
  });

  it('a CUSUM above its threshold pages; a significant 7d window and a costlier 30d open tickets', async () => {
    const t0 = Date.now();
    target.set(exposition({ cusum: 5.3, h: 4.2, significant7d: 1, usageSignificant: 1, attempts: 1500 }));
    const page = await waitFor('AgentDriftPassRateRegression at the pager', () =>
      hook.firing().find((f) => f.labels.alertname === 'AgentDriftPassRateRegression'), 30_000);
    console.log(`exposition change to page: ${Date.now() - t0} ms`);
    expect(page.path).toBe('/agentdrift/pager');
    expect(page.labels).toMatchObject({ severity: 'critical', track: TRACK, job: 'agentdrift' });
    expect(page.annotations.runbook_url).toBe('docs/runbooks.md#agentdriftpassrateregression');
    expect(page.annotations.description).toContain('is 5.30, above its threshold 4.20');
    const tickets = await waitFor('two tickets', () => {
      const t = hook.firing().filter((f) => f.path === '/agentdrift/ticket');
      return t.length >= 2 ? t : undefined;
    }, 30_000);
    expect(tickets.map((t) => `${t.labels.alertname}/${t.labels.window}`).sort()).toEqual(['AgentDriftPassRateDrop/7d', 'AgentDriftUsageRegression/30d']);
  });

  it('stopping the target pages AgentDriftDown and inhibits the regression alerts, which keep firing', async () => {
    await target.close();
    const down = await waitFor('AgentDriftDown at the pager', () => hook.firing().find((f) => f.labels.alertname === 'AgentDriftDown'), 30_000);
    expect(down.path).toBe('/agentdrift/pager');
    const inhibited = await waitFor('the regression alerts to be inhibited', async () => {
      const alerts = await alertmanagerAlerts(am.url);
      const regression = alerts.filter((a) => /PassRateRegression|PassRateDrop|UsageRegression/.test(a.labels.alertname ?? ''));
      return regression.length === 3 && regression.every((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0) ? regression : undefined;
    }, 20_000);
    expect(inhibited).toHaveLength(3);
    // Prometheus still holds them firing (keep_firing_for), so no "resolved" reached anyone.
    const firing = (await prometheusAlerts(prom.url)).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    expect(firing).toEqual(expect.arrayContaining(['AgentDriftPassRateRegression', 'AgentDriftPassRateDrop', 'AgentDriftUsageRegression', 'AgentDriftDown']));
    expect(hook.notifications.filter((n) => n.body.status === 'resolved')).toEqual([]);
  });
});
