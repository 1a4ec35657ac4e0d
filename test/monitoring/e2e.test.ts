/**
 * End to end, real servers on loopback (issue 6 "Done when"): the agentdrift daemon with imported history, a real
 * Prometheus (Debian's) scraping it every second with the shipped rules (derived copy: only `for:` shortened), a real
 * Alertmanager with the shipped routing (derived copy: receivers pointed at the webhook below, 1 s grouping), and a
 * webhook receiver written here.
 *
 *  1. Two tracks: `steady` imported (CLI) with a no-drop history. Nothing pages, nothing opens a ticket.
 *  2. `drop` gets a history with a real 20-point drop (and 1.6x usage) through the API: AgentDriftPassRateRegression
 *     reaches the pager, the 7d drop and the usage rise reach the ticket receiver; `steady` stays quiet.
 *  3. Every PromQL expression of the dashboard returns data from this Prometheus, for every value of every template
 *     variable it uses: each track `$track` offers (as Prometheus lists them) and each `$window` (1d, 7d, 30d).
 *  4. Stopping agentdrift pages AgentDriftDown, and Alertmanager inhibits the regression alerts, which keep firing.
 *
 * Needs a running Docker Engine at /var/run/docker.sock (the daemon's default `docker.socketPath`). The daemon pings
 * it every 15 s and exports agentdrift_docker_up; without an engine that is 0, AgentDriftDockerDown pages in test 1
 * and inhibits the regression alerts, so tests 1, 2 and 4 fail. The first test checks that the engine answers before
 * anything else, so a missing engine fails with that message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOverview } from '../../grafana/src/dashboard.ts';
import { panelQueries } from '../../grafana/src/queries.ts';
import { runCli, startDaemon, type Daemon } from '../helpers/cli.ts';
import { generateRuns, historyDocument } from '../helpers/history.ts';
import {
  alertmanagerAlerts,
  freePort,
  prometheusAlerts,
  query,
  sleep,
  startAlertmanager,
  startPrometheus,
  startWebhook,
  waitFor,
  type Running,
  type Webhook,
} from '../helpers/prometheus.ts';
import { expandedQueries, failingQueries, variableValues } from './dashboard-queries.ts';

const TOKEN = 'e2e-token-0123456789abcdef';
const DAY = 86_400_000;

/**
 * The two imported histories: 24 daily runs of 50 tasks (Beta-distributed pass probabilities, mean 0.55) ending
 * yesterday; the first 14 days become the baseline. `drop` loses 20 points on every task, and uses 1.6x the cost and
 * tokens, over its last 7 days.
 */
function histories(): { steady: string; drop: string } {
  const start = new Date(Date.now() - 25 * DAY).toISOString();
  return {
    steady: historyDocument(generateRuns({ seed: 21, days: 24, start })),
    drop: historyDocument(generateRuns({ seed: 22, days: 24, start, dropFromDay: 17, drop: 0.2, usageFactor: 1.6 })),
  };
}

/**
 * Contract metrics the daemon does not export yet (issue 5: scheduling and operations). Dashboard queries that read
 * only these cannot return data. When the daemon starts exporting them, the test below fails: shrink this list.
 */
const NOT_YET_EXPORTED: string[] = [];
const CONTRACT = [
  'agentdrift_build_info', 'agentdrift_track_info', 'agentdrift_pass_rate', 'agentdrift_pass_rate_lower', 'agentdrift_pass_rate_upper',
  'agentdrift_window_attempts', 'agentdrift_window_passes', 'agentdrift_infra_error_ratio', 'agentdrift_attempts_total',
  'agentdrift_tokens_total', 'agentdrift_cost_usd_total', 'agentdrift_agent_duration_seconds', 'agentdrift_mean_cost_usd',
  'agentdrift_mean_tokens', 'agentdrift_mean_turns', 'agentdrift_mean_tool_calls', 'agentdrift_last_run_timestamp_seconds',
  'agentdrift_last_success_timestamp_seconds', 'agentdrift_next_run_timestamp_seconds', 'agentdrift_run_in_progress',
  'agentdrift_baseline_pass_rate', 'agentdrift_baseline_ready', 'agentdrift_regression_p_value', 'agentdrift_regression_p_value_adjusted',
  'agentdrift_regression_significant', 'agentdrift_minimum_detectable_drop', 'agentdrift_cusum_statistic', 'agentdrift_cusum_threshold',
  'agentdrift_usage_ratio', 'agentdrift_usage_regression_significant', ...NOT_YET_EXPORTED,
];

describe('end to end: agentdrift -> Prometheus -> Alertmanager -> webhook', () => {
  let dir: string;
  let config: string;
  let daemon: Daemon | undefined;
  let daemonUrl: string;
  let hook: Webhook;
  let am: Running;
  let prom: Running;
  let drop: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentdrift-e2e-'));
    const port = await freePort();
    config = join(dir, 'agentdrift.yaml');
    // The schedule never fires during the test (1 January) and nothing is caught up: only imported history counts.
    const schedule = "    schedule: { cron: '0 3 1 1 *', timezone: UTC, catchUp: false }";
    writeFileSync(
      config,
      [`server: { host: 127.0.0.1, port: ${port} }`, `dataDir: ${join(dir, 'data')}`, 'logLevel: info', 'tracks:', '  - name: steady', schedule, '  - name: drop', schedule, ''].join('\n'),
    );
    const h = histories();
    drop = h.drop;
    writeFileSync(join(dir, 'steady.json'), h.steady);
    const imported = await runCli(['--config', config, 'import', '--track', 'steady', join(dir, 'steady.json')], { timeoutMs: 60_000 });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('imported 24 run(s), 1200 attempt(s) into steady');

    // A (never used) agent key: without one the daemon rightly raises AgentDriftNoAgentCredentials.
    daemon = await startDaemon(['--config', config], { env: { AGENTDRIFT_API_TOKEN: TOKEN, ANTHROPIC_API_KEY: 'sk-ant-test-e2e-0123456789' } });
    daemonUrl = daemon.url.replace('0.0.0.0', '127.0.0.1');
    hook = await startWebhook();
    am = await startAlertmanager({ webhookBase: hook.url });
    prom = await startPrometheus({ target: `127.0.0.1:${port}`, alertmanager: `127.0.0.1:${am.port}`, forDuration: '2s' });
  }, 120_000);

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await prom?.stop();
    await am?.stop();
    await hook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a no-drop history pages nobody and opens no ticket', async () => {
    // The precondition stated in the header: agentdrift reaches its Docker Engine (else AgentDriftDockerDown pages).
    await waitFor('agentdrift_docker_up == 1: this test needs a running Docker Engine at /var/run/docker.sock', async () =>
      (await query(prom.url, 'agentdrift_docker_up == 1')).length === 1, 30_000);
    // The baseline is ready and the CUSUM, evaluated by the recording rule, is below its threshold.
    await waitFor('the steady track\'s baseline in Prometheus', async () => (await query(prom.url, 'agentdrift_baseline_ready{track="steady"} == 1')).length === 1);
    const ratio = await waitFor('agentdrift:cusum:ratio of the steady track', async () => (await query(prom.url, 'agentdrift:cusum:ratio{track="steady"}'))[0]);
    expect(ratio.value).toBeGreaterThanOrEqual(0);
    expect(ratio.value).toBeLessThan(1);
    // Scrape 1 s + evaluation 1 s + for 2 s + group_wait 1 s is ~5 s; wait longer.
    await sleep(8000);
    expect((await prometheusAlerts(prom.url)).map((a) => a.labels.alertname)).toEqual([]);
    expect(hook.notifications).toEqual([]);
  });

  it('a history with a real drop pages AgentDriftPassRateRegression, and tickets the 7d drop and the usage rise', async () => {
    const r = await fetch(`${daemonUrl}/api/tracks/drop/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: drop,
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const t0 = Date.now();
    const page = await waitFor('AgentDriftPassRateRegression at the pager', () =>
      hook.firing().find((f) => f.labels.alertname === 'AgentDriftPassRateRegression'), 60_000);
    console.log(`import to page: ${Date.now() - t0} ms`);
    expect(page.path).toBe('/agentdrift/pager');
    expect(page.labels).toMatchObject({ track: 'drop', severity: 'critical', job: 'agentdrift' });
    expect(page.annotations.runbook_url).toBe('docs/runbooks.md#agentdriftpassrateregression');
    expect(page.annotations.description).toMatch(/The risk-adjusted CUSUM of track drop is [\d.]+, above its threshold [\d.]+/);

    const tickets = await waitFor('the 7d drop and a usage regression at the ticket receiver', () => {
      const t = hook.firing().filter((f) => f.path === '/agentdrift/ticket');
      const drop7d = t.some((f) => f.labels.alertname === 'AgentDriftPassRateDrop' && f.labels.window === '7d');
      const usage = t.some((f) => f.labels.alertname === 'AgentDriftUsageRegression');
      return drop7d && usage ? t : undefined;
    }, 30_000);
    expect(tickets.every((f) => f.labels.track === 'drop' && f.labels.severity === 'warning')).toBe(true);
    // Nothing about the steady track, ever; the 1d window never alerts on its own.
    expect(hook.firing().filter((f) => f.labels.track === 'steady')).toEqual([]);
    expect(hook.firing().filter((f) => f.labels.window === '1d')).toEqual([]);
  });

  it('every PromQL expression of the dashboard returns data, for every track and every window', async () => {
    const exposed = new Set((await query(prom.url, 'count by (__name__) ({job="agentdrift", __name__=~"agentdrift_.*"})')).map((s) => s.metric.__name__));
    // What the daemon does not export yet is exactly the list above (update it as the daemon grows).
    expect(CONTRACT.filter((m) => !exposed.has(m))).toEqual(NOT_YET_EXPORTED);
    const db = buildOverview();
    // The values Grafana offers: $track from its label_values() query against this Prometheus, $window from its list.
    const values = await variableValues(prom.url, db);
    expect(values).toEqual({ track: ['drop', 'steady'], window: ['1d', '7d', '30d'] });
    const queries = expandedQueries(db, values).filter((q) => {
      const names = q.expr.match(/agentdrift_[a-z0-9_]+/g) ?? [];
      return !(names.length > 0 && names.every((n) => NOT_YET_EXPORTED.includes(n)));
    });
    // Each query of the dashboard is run, and with every combination of the variables it uses.
    expect(new Set(queries.map((q) => `${q.panel}/${q.refId}`)).size).toBe(panelQueries(db).length);
    for (const window of values.window ?? []) {
      for (const track of values.track ?? []) expect(queries.some((q) => q.vars.window === window && q.vars.track === track), `${track} ${window}`).toBe(true);
    }
    expect(queries.length).toBeGreaterThan(100);
    expect(await failingQueries(prom.url, queries)).toEqual([]);
  });

  it('stopping agentdrift pages AgentDriftDown and inhibits the regression alerts', async () => {
    const d = daemon as Daemon;
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const down = await waitFor('AgentDriftDown at the pager', () => hook.firing().find((f) => f.labels.alertname === 'AgentDriftDown'), 30_000);
    expect(down.path).toBe('/agentdrift/pager');
    const regression = await waitFor('the regression alerts to be inhibited by AgentDriftDown', async () => {
      const alerts = await alertmanagerAlerts(am.url);
      const down = alerts.find((a) => a.labels.alertname === 'AgentDriftDown');
      const reg = alerts.filter((a) => /^AgentDrift(PassRateRegression|PassRateDrop|UsageRegression)$/.test(a.labels.alertname ?? ''));
      return down && reg.length >= 3 && reg.every((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.includes(down.fingerprint)) ? reg : undefined;
    }, 20_000);
    expect(new Set(regression.map((a) => a.labels.alertname))).toEqual(new Set(['AgentDriftPassRateRegression', 'AgentDriftPassRateDrop', 'AgentDriftUsageRegression']));
    // The regression alerts keep firing in Prometheus (keep_firing_for), so no "resolved" went out for them.
    const firing = (await prometheusAlerts(prom.url)).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    expect(firing).toContain('AgentDriftPassRateRegression');
    expect(hook.notifications.filter((n) => n.body.status === 'resolved')).toEqual([]);
  });
});
