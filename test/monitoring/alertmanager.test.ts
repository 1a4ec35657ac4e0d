/**
 * The shipped Alertmanager config: amtool's checks, the route of every alert the rules define, and a real Alertmanager
 * (Debian's prometheus-alertmanager, loopback only) fed alerts through its API to show each inhibition muting exactly
 * what it should, and the right receiver getting the rest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertmanagerAlerts,
  deriveAlertmanagerConfig,
  postAlerts,
  sleep,
  startAlertmanager,
  startWebhook,
  waitFor,
  type Running,
  type Webhook,
} from '../helpers/prometheus.ts';
import { readRepo, run, shippedRules } from './tools.ts';

const CONFIG = 'prometheus/alertmanager.yml';
const RECEIVER = { critical: 'pager', warning: 'ticket' } as const;

describe('amtool', () => {
  it('check-config accepts the shipped config', () => {
    const r = run('amtool', ['check-config', CONFIG]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
    expect(r.out).toContain('3 inhibit rules');
  });

  it('check-config rejects a route to an unknown receiver (the check is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-amcfg-'));
    try {
      writeFileSync(join(dir, 'am.yml'), readRepo(CONFIG).replace('receiver: pager', 'receiver: pagr'));
      expect(run('amtool', ['check-config', join(dir, 'am.yml')]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const alerts = shippedRules().alerts;
  it.each(alerts.map((a) => [a.alert, a.labels?.severity as 'critical' | 'warning'] as const))(
    'routes %s (%s) to its receiver',
    (name, severity) => {
      const expected = RECEIVER[severity];
      const r = run('amtool', ['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${expected}`, `alertname=${name}`, `severity=${severity}`, 'track=claude-code', 'job=agentdrift']);
      expect(r.status, r.out).toBe(0);
      expect(r.out.trim().split('\n')[0]).toBe(expected);
    },
  );

  it('routes an alert without a known severity to ticket, and a wrong expectation fails', () => {
    expect(run('amtool', ['config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=ticket', 'alertname=Other']).status).toBe(0);
    expect(run('amtool', ['config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=ticket', 'alertname=AgentDriftDown', 'severity=critical']).status).not.toBe(0);
  });

  it('groups by alert name and track', () => {
    const cfg = parse(readRepo(CONFIG)) as { route: { group_by: string[] } };
    expect(cfg.route.group_by).toEqual(['alertname', 'track']);
  });

  it('the derived test config differs from the shipped one only in receiver URLs and grouping timings', () => {
    const shipped = parse(readRepo(CONFIG)) as Record<string, unknown> & { route: Record<string, unknown>; receivers: { webhook_configs: { url: string }[] }[] };
    const derived = parse(deriveAlertmanagerConfig(readRepo(CONFIG), { webhookBase: 'http://127.0.0.1:1/' })) as typeof shipped;
    expect(derived.receivers.flatMap((r) => r.webhook_configs.map((w) => w.url))).toEqual(['http://127.0.0.1:1/agentdrift/pager', 'http://127.0.0.1:1/agentdrift/ticket']);
    for (const r of [shipped, derived]) {
      for (const rc of r.receivers) for (const w of rc.webhook_configs) w.url = 'X';
      delete r.route.group_wait;
      delete r.route.group_interval;
    }
    expect(derived).toEqual(shipped);
  });
});

describe('a real Alertmanager with the shipped config', () => {
  let am: Running;
  let hook: Webhook;

  beforeAll(async () => {
    hook = await startWebhook();
    am = await startAlertmanager({ webhookBase: hook.url });
  });
  afterAll(async () => {
    await am?.stop();
    await hook?.close();
  });

  const a = (alertname: string, severity: string, labels: Record<string, string>) => ({ labels: { alertname, severity, ...labels } });

  it('inhibits regression alerts while agentdrift, its Docker Engine or the track\'s infra is in trouble, and nothing else', async () => {
    // Each scenario has its own `job`, so they cannot interfere.
    const sources = [
      // A: agentdrift not scraped (the absent() form: `job` only).
      a('AgentDriftDown', 'critical', { job: 'a' }),
      // B: Docker down on instance b1.
      a('AgentDriftDockerDown', 'critical', { job: 'b', instance: 'b1' }),
      // C: infra errors on track x.
      a('AgentDriftInfraErrors', 'warning', { job: 'c', instance: 'c1', track: 'x', window: '1d' }),
    ];
    const targets = [
      a('AgentDriftPassRateRegression', 'critical', { job: 'a', instance: 'a1', track: 'x' }),
      a('AgentDriftPassRateDrop', 'warning', { job: 'a', instance: 'a1', track: 'x', window: '7d' }),
      a('AgentDriftUsageRegression', 'warning', { job: 'a', instance: 'a1', track: 'x', window: '30d', metric: 'cost' }),
      a('AgentDriftRunMissed', 'warning', { job: 'a', instance: 'a1', track: 'x' }),
      a('AgentDriftDockerDown', 'critical', { job: 'a', instance: 'a1' }),
      a('AgentDriftPassRateRegression', 'critical', { job: 'b', instance: 'b1', track: 'x' }),
      a('AgentDriftInfraErrors', 'warning', { job: 'b', instance: 'b1', track: 'x', window: '1d' }),
      a('AgentDriftRunMissed', 'warning', { job: 'b', instance: 'b1', track: 'x' }),
      a('AgentDriftPassRateRegression', 'critical', { job: 'b', instance: 'b2', track: 'x' }),
      a('AgentDriftPassRateDrop', 'warning', { job: 'c', instance: 'c1', track: 'x', window: '30d' }),
      a('AgentDriftUsageRegression', 'warning', { job: 'c', instance: 'c1', track: 'x', window: '7d', metric: 'turns' }),
      a('AgentDriftPassRateDrop', 'warning', { job: 'c', instance: 'c1', track: 'y', window: '30d' }),
      a('AgentDriftRunMissed', 'warning', { job: 'c', instance: 'c1', track: 'x' }),
    ];
    await postAlerts(am.url, sources);
    await waitFor('the source alerts to be active', async () => (await alertmanagerAlerts(am.url)).filter((x) => x.status.state === 'active').length === 3);
    await postAlerts(am.url, targets);

    const key = (l: Record<string, string>) => `${l.job}/${l.instance ?? '-'}/${l.track ?? '-'}/${l.alertname}`;
    const muted = new Set([
      'a/a1/x/AgentDriftPassRateRegression',
      'a/a1/x/AgentDriftPassRateDrop',
      'a/a1/x/AgentDriftUsageRegression',
      'a/a1/x/AgentDriftRunMissed',
      'b/b1/x/AgentDriftPassRateRegression',
      'b/b1/x/AgentDriftInfraErrors',
      'b/b1/x/AgentDriftRunMissed',
      'c/c1/x/AgentDriftPassRateDrop',
      'c/c1/x/AgentDriftUsageRegression',
    ]);
    const all = await waitFor('all alerts to be processed', async () => {
      const got = await alertmanagerAlerts(am.url);
      return got.length === sources.length + targets.length && got.every((x) => x.status.state !== 'unprocessed') ? got : undefined;
    });
    const state = Object.fromEntries(all.map((x) => [key(x.labels), x.status.inhibitedBy.length > 0 ? 'inhibited' : x.status.state]));
    const expected = Object.fromEntries([...sources, ...targets].map((x) => [key(x.labels), muted.has(key(x.labels)) ? 'inhibited' : 'active']));
    expect(state).toEqual(expected);

    // The active ones reach their receivers (critical: pager, warning: ticket); the muted ones never do.
    const active = [...sources, ...targets].filter((x) => !muted.has(key(x.labels)));
    await waitFor('every active alert to be notified', () => active.every((x) => hook.firing().some((f) => key(f.labels) === key(x.labels))), 20_000);
    await sleep(2500); // a few more group intervals: anything muted would have been sent by now
    for (const f of hook.firing()) {
      expect(muted.has(key(f.labels)), `${key(f.labels)} was notified while inhibited`).toBe(false);
      expect(f.path).toBe(`/agentdrift/${RECEIVER[f.labels.severity as 'critical' | 'warning']}`);
    }
    // Grouped by alertname and track: DockerDown of jobs a and b (no track) share one group.
    const dockerDown = hook.notifications.filter((n) => n.body.groupLabels.alertname === 'AgentDriftDockerDown');
    expect(dockerDown.length).toBeGreaterThan(0);
    expect(dockerDown.every((n) => Object.keys(n.body.groupLabels).sort().join() === 'alertname')).toBe(true);
  });
});
