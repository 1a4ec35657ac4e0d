/**
 * `agentdrift healthcheck`: whether the daemon of a configuration answers GET /healthz. It reads the configuration
 * the way every command does (--config, $AGENTDRIFT_CONFIG, ./agentdrift.yaml, the embedded defaults, and the
 * AGENTDRIFT_DEFAULT_HOST / AGENTDRIFT_DEFAULT_PORT defaults), so the container image's HEALTHCHECK follows the
 * configured port and host instead of assuming 9477.
 */
import { loadConfig, type Config } from '../config/index.ts';

export interface HealthcheckOptions {
  /** --config, when given. */
  configPath?: string | undefined;
  /** --url: the daemon's base URL, instead of the config's address. */
  url?: string | undefined;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface HealthcheckResult {
  ok: boolean;
  /** What was checked and what came back: printed by the command (stdout when healthy, stderr otherwise). */
  message: string;
}

/** The daemon's address from the config: its listen address, with a wildcard host replaced by the loopback. */
export function daemonUrl(config: Config): string {
  const { host, port } = config.server;
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export async function healthcheck(opts: HealthcheckOptions): Promise<HealthcheckResult> {
  let base: string;
  try {
    base = opts.url ?? daemonUrl(loadConfig({ path: opts.configPath, ...(opts.env ? { env: opts.env } : {}) }).config);
  } catch (e) {
    return { ok: false, message: `unhealthy: ${(e as Error).message}` };
  }
  let url: URL;
  try {
    url = new URL('/healthz', base);
  } catch {
    return { ok: false, message: `unhealthy: --url: got ${JSON.stringify(base)}; expected a URL such as http://127.0.0.1:9477` };
  }
  if (url.port === '0') return { ok: false, message: `unhealthy: server.port is 0 (a port chosen at start), so there is no known address to check; give --url` };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, message: `unhealthy: ${url.href} answered HTTP ${res.status}: ${text.slice(0, 200)}` };
    return { ok: true, message: `healthy: ${url.href} answered ${text.slice(0, 200)}` };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why = err.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs / 1000} s` : (err.cause?.message ?? err.message);
    return { ok: false, message: `unhealthy: ${url.href}: ${why}` };
  }
}
