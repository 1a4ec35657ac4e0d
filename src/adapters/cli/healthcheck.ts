/**
 * `agentdrift healthcheck`: whether the daemon of a configuration answers GET /healthz. It reads the configuration
 * the way every command does (--config, $AGENTDRIFT_CONFIG, ./agentdrift.yaml, the embedded defaults, and the
 * AGENTDRIFT_DEFAULT_HOST / AGENTDRIFT_DEFAULT_PORT defaults), so the container image's HEALTHCHECK follows the
 * configured port and host instead of assuming 9477. It runs every 30 s in the container, so bin/agentdrift.js loads
 * only this module for it (healthcheckMain), not the whole CLI: about 0.7 s instead of 3 s on a busy 2-core machine.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig, type Config } from '../../config/index.ts';

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

/** The `healthcheck` command, for the full CLI (main.ts) and the lean entry below. */
export function healthcheckCommand(): Command {
  return new Command('healthcheck')
    .description('exit 0 when the daemon of this config answers GET /healthz at server.host:server.port (a wildcard host on the loopback), else say why and exit 1 (the container image\'s HEALTHCHECK)')
    .option('--url <url>', 'the daemon (default: server.host and server.port of the config)')
    .option('--timeout <seconds>', 'give up waiting for the answer after this long', '4')
    .action(async (o: { url?: string; timeout: string }, cmd: Command) => {
      const timeout = Number(o.timeout);
      // Exit 1, not 2, on every failure: a container engine reads any other code than 0 and 1 as reserved.
      if (!(timeout > 0 && timeout <= 300)) {
        console.error(`agentdrift: --timeout: got ${JSON.stringify(o.timeout)}; expected seconds between 0 and 300`);
        process.exitCode = 1;
        return;
      }
      const r = await healthcheck({ configPath: cmd.optsWithGlobals<{ config?: string }>().config, url: o.url, timeoutMs: timeout * 1000 });
      if (r.ok) console.log(r.message);
      else console.error(`agentdrift: ${r.message}`);
      process.exitCode = r.ok ? 0 : 1;
    });
}

/** `agentdrift [--config FILE] healthcheck [...]` without the rest of the CLI (bin/agentdrift.js). */
export async function healthcheckMain(argv: string[]): Promise<number> {
  const program = new Command('agentdrift').option('-c, --config <file>', 'configuration file').exitOverride();
  program.addCommand(healthcheckCommand().copyInheritedSettings(program));
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    console.error(`agentdrift: unhealthy: ${(e as Error).message}`);
    return 1;
  }
}
