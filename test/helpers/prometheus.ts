/**
 * Real Prometheus and Alertmanager (Debian's `prometheus` and `prometheus-alertmanager`) for tests, on loopback only.
 *
 * The shipped files (prometheus/prometheus.yml, prometheus/rules/agentdrift.rules.yml, prometheus/alertmanager.yml) are
 * never edited: tests run DERIVED copies, written to a temporary directory, that differ only in what a test needs to be
 * fast (1 s scrape and evaluation, shorter `for:`, 1 s grouping) and where things are (the target, the Alertmanager,
 * a webhook receiver started by the test). Everything else (expressions, labels, annotations, routes, inhibitions)
 * is exactly what users install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const SHIPPED = {
  prometheusConfig: join(REPO, 'prometheus/prometheus.yml'),
  rules: join(REPO, 'prometheus/rules/agentdrift.rules.yml'),
  alertmanagerConfig: join(REPO, 'prometheus/alertmanager.yml'),
} as const;

export const PROMETHEUS_BIN = 'prometheus';
export const ALERTMANAGER_BIN = 'prometheus-alertmanager';

// ---- small utilities ------------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value other than undefined/false, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

// ---- derived configuration ------------------------------------------------------------------------------------------

/**
 * The shipped rules with every alert's `for:` replaced (e.g. '2s'), and optionally `keep_firing_for:`. Throws when the
 * shipped file has no `for:` at all, so a test never believes it shortened something it did not.
 */
export function deriveRules(shipped: string, opts: { forDuration: string; keepFiringFor?: string }): string {
  let count = 0;
  let out = shipped.replace(/^(\s+)for: *\S+/gm, (_m, indent: string) => {
    count++;
    return `${indent}for: ${opts.forDuration}`;
  });
  if (count === 0) throw new Error('deriveRules: no `for:` found in the shipped rules');
  if (opts.keepFiringFor !== undefined) out = out.replace(/^(\s+)keep_firing_for: *\S+/gm, `$1keep_firing_for: ${opts.keepFiringFor}`);
  return out;
}

/**
 * The shipped Prometheus config, with 1 s scrape and evaluation, the given rule file, the given Alertmanager, and the
 * `agentdrift` job scraping `target` (host:port). Other scrape jobs of the example are dropped.
 */
export function derivePrometheusConfig(
  shipped: string,
  opts: { target: string; ruleFile: string; alertmanager?: string; interval?: string },
): string {
  const cfg = parse(shipped) as {
    global?: Record<string, unknown>;
    rule_files?: string[];
    alerting?: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const interval = opts.interval ?? '1s';
  cfg.global = { ...cfg.global, scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval };
  cfg.rule_files = [opts.ruleFile];
  if (opts.alertmanager) cfg.alerting = { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] };
  else delete cfg.alerting;
  const job = cfg.scrape_configs.find((j) => j.job_name === 'agentdrift');
  if (!job) throw new Error('derivePrometheusConfig: the shipped config has no `agentdrift` job');
  job.static_configs = [{ targets: [opts.target] }];
  cfg.scrape_configs = [job];
  return stringify(cfg);
}

/**
 * The shipped Alertmanager config with every webhook receiver's URL moved to `webhookBase` (keeping its path, so the
 * path still says which receiver got a notification) and 1 s grouping. Throws if a receiver is not a webhook.
 */
export function deriveAlertmanagerConfig(shipped: string, opts: { webhookBase: string; groupWait?: string; groupInterval?: string }): string {
  const cfg = parse(shipped) as {
    route: Record<string, unknown>;
    receivers: { name: string; webhook_configs?: { url: string }[]; [k: string]: unknown }[];
  };
  for (const r of cfg.receivers) {
    if (!r.webhook_configs?.length) throw new Error(`deriveAlertmanagerConfig: receiver ${r.name} has no webhook to redirect`);
    for (const w of r.webhook_configs) {
      const u = new URL(w.url);
      w.url = new URL(u.pathname + u.search, opts.webhookBase).href;
    }
  }
  cfg.route.group_wait = opts.groupWait ?? '1s';
  cfg.route.group_interval = opts.groupInterval ?? '1s';
  return stringify(cfg);
}

// ---- processes ------------------------------------------------------------------------------------------------------

export interface Running {
  url: string;
  port: number;
  pid: number;
  dir: string;
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function startProcess(bin: string, args: string[], dir: string, port: number, readyPath: string): Promise<Running> {
  const child: ChildProcess = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const url = `http://127.0.0.1:${port}`;
  const running: Running = {
    url,
    port,
    pid: child.pid as number,
    dir,
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => !exited && child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return (async () => {
    try {
      await waitFor(`${bin} to be ready at ${url}${readyPath}`, async () => {
        if (exited) throw new Error(`${bin} exited: ${out.slice(-2000)}`);
        const r = await fetch(url + readyPath).catch(() => undefined);
        return r?.ok === true;
      }, 30_000, 100);
    } catch (e) {
      await running.stop();
      throw new Error(`${(e as Error).message}\n--- ${bin} output ---\n${out.slice(-4000)}`);
    }
    return running;
  })();
}

export interface StartPrometheusOptions {
  /** host:port of the agentdrift (or stand-in) to scrape as job `agentdrift`. */
  target: string;
  /** host:port of an Alertmanager, if alerts should be sent. */
  alertmanager?: string;
  /** `for:` of every alert in the derived rules (default 2s). */
  forDuration?: string;
  keepFiringFor?: string;
  /**
   * Load the rules only once the target has been scraped (default true). Prometheus applies discovered targets at most
   * every 5 s, while rule evaluation starts at once: with a 2 s `for:`, `absent(up{job="agentdrift"})` would fire
   * AgentDriftDown before the first scrape. Tests that want that startup behaviour pass false.
   */
  rulesAfterFirstScrape?: boolean;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-prom-'));
  const rules = join(dir, 'agentdrift.rules.yml');
  const derivedRules = deriveRules(readFileSync(SHIPPED.rules, 'utf8'), { forDuration: opts.forDuration ?? '2s', keepFiringFor: opts.keepFiringFor });
  const deferRules = opts.rulesAfterFirstScrape ?? true;
  writeFileSync(rules, deferRules ? 'groups: []\n' : derivedRules);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    derivePrometheusConfig(readFileSync(SHIPPED.prometheusConfig, 'utf8'), { target: opts.target, ruleFile: rules, alertmanager: opts.alertmanager }),
  );
  const port = await freePort();
  const prom = await startProcess(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--rules.alert.resend-delay=1s',
      '--log.level=warn',
    ],
    dir,
    port,
    '/-/ready',
  );
  if (deferRules) {
    try {
      await waitFor(`a first scrape of ${opts.target}`, async () => (await query(prom.url, 'up{job="agentdrift"} == 1')).length > 0, 30_000, 200);
      writeFileSync(rules, derivedRules);
      process.kill(prom.pid, 'SIGHUP'); // reloads the configuration and the rule files
      await waitFor('the rules to be loaded', async () => {
        const r = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
        return r.data.groups.length > 0;
      }, 30_000, 100);
    } catch (e) {
      const out = prom.output();
      await prom.stop();
      throw new Error(`${(e as Error).message}\n--- prometheus output ---\n${out.slice(-4000)}`);
    }
  }
  return prom;
}

export async function startAlertmanager(opts: { webhookBase: string }): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-am-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, deriveAlertmanagerConfig(readFileSync(SHIPPED.alertmanagerConfig, 'utf8'), { webhookBase: opts.webhookBase }));
  const port = await freePort();
  return startProcess(
    ALERTMANAGER_BIN,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    dir,
    port,
    '/-/ready',
  );
}

// ---- querying ---------------------------------------------------------------------------------------------------------

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** Instant query (`/api/v1/query`); throws on a PromQL error. Scalars come back as one sample without labels. */
export async function query(promUrl: string, expr: string): Promise<Sample[]> {
  const r = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await r.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${expr}: ${body.error ?? r.status}`);
  const { resultType, result } = body.data;
  if (resultType === 'vector') {
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }
  if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
  throw new Error(`query ${expr}: unexpected result type ${resultType}`);
}

/** Range query over the last `seconds` (`/api/v1/query_range`); returns the number of series with at least one point. */
export async function queryRangeSeries(promUrl: string, expr: string, seconds = 60, step = 1): Promise<number> {
  const end = Date.now() / 1000;
  const params = new URLSearchParams({ query: expr, start: String(end - seconds), end: String(end), step: String(step) });
  const r = await fetch(`${promUrl}/api/v1/query_range?${params}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: { values: unknown[] }[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`query_range ${expr}: ${body.error ?? r.status}`);
  return body.data.result.filter((s) => s.values.length > 0).length;
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

/** Alerts Prometheus currently holds (`/api/v1/alerts`). */
export async function prometheusAlerts(promUrl: string): Promise<PromAlert[]> {
  const r = await fetch(`${promUrl}/api/v1/alerts`);
  const body = (await r.json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
  receivers: { name: string }[];
  fingerprint: string;
}

/** Alerts Alertmanager holds (`/api/v2/alerts`), inhibited ones included. */
export async function alertmanagerAlerts(amUrl: string): Promise<AmAlert[]> {
  const r = await fetch(`${amUrl}/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true`);
  if (!r.ok) throw new Error(`GET /api/v2/alerts: ${r.status}`);
  return (await r.json()) as AmAlert[];
}

/** Posts alerts to Alertmanager as Prometheus would (`/api/v2/alerts`). */
export async function postAlerts(amUrl: string, alerts: { labels: Record<string, string>; annotations?: Record<string, string> }[]): Promise<void> {
  const startsAt = new Date().toISOString();
  const r = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ labels: a.labels, annotations: a.annotations ?? {}, startsAt }))),
  });
  if (!r.ok) throw new Error(`POST /api/v2/alerts: ${r.status} ${await r.text()}`);
}

// ---- webhook receiver -----------------------------------------------------------------------------------------------

export interface Notification {
  /** Path the notification was posted to: which receiver sent it. */
  path: string;
  at: number;
  body: {
    receiver: string;
    status: 'firing' | 'resolved';
    groupLabels: Record<string, string>;
    alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }[];
  };
}

export interface Webhook {
  url: string;
  notifications: Notification[];
  /** Firing alerts received so far, as receiver path + alert labels. */
  firing(): { path: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const notifications: Notification[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      try {
        notifications.push({ path: req.url ?? '', at: Date.now(), body: JSON.parse(data) as Notification['body'] });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    notifications,
    firing: () =>
      notifications.flatMap((n) => n.body.alerts.filter((a) => a.status === 'firing').map((a) => ({ path: n.path, labels: a.labels, annotations: a.annotations }))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A tiny HTTP server serving a mutable Prometheus text exposition on /metrics (a stand-in for agentdrift). */
export interface ExpositionServer {
  target: string;
  set(text: string): void;
  close(): Promise<void>;
}

export async function startExpositionServer(initial = ''): Promise<ExpositionServer> {
  let text = initial;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    set: (t) => (text = t),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
