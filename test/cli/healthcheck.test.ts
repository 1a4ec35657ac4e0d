/**
 * `agentdrift healthcheck` (issue 10 item 12), the container image's HEALTHCHECK: it reads the configuration as every
 * command does and GETs /healthz where the daemon of that configuration listens, so a daemon on another port than
 * 9477 is healthy. Real processes: a daemon, and the healthcheck command as the Dockerfile runs it (its HEALTHCHECK
 * line and ENV lines are read from the Dockerfile itself, with the image's default config's lines).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/prometheus.ts';
import { readRepo } from '../monitoring/tools.ts';
import { runCli, startDaemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';
import { spawn } from 'node:child_process';

/** A port free now (not 9477: the point is a port other than the default). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port === 9477 ? freePort() : port;
}

/** The Dockerfile's runtime stage: its ENV assignments, its HEALTHCHECK command (exec form) and its default config. */
function dockerfile(): { env: Record<string, string>; healthcheck: string[]; config: string } {
  const text = readRepo('Dockerfile').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.search(/^FROM\s+node:20-bookworm-slim/m));
  const env: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV\s+(.+)$/gm)) for (const kv of (m[1] as string).matchAll(/([A-Z_]+)=(\S+)/g)) env[kv[1] as string] = kv[2] as string;
  const hc = /^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/m.exec(runtime);
  if (!hc) throw new Error('the Dockerfile has no HEALTHCHECK ... CMD [...] (exec form)');
  const printf = /printf '%s\\n'((?:\s+'[^']*')+)\s*>\s*\/etc\/agentdrift\/agentdrift\.yaml/.exec(runtime);
  if (!printf) throw new Error('the Dockerfile writes no default config with printf');
  const config = [...(printf[1] as string).matchAll(/'([^']*)'/g)].map((x) => x[1]).join('\n');
  return { env, healthcheck: JSON.parse(hc[1] as string) as string[], config };
}

/** The IPv4 addresses with a socket listening on `port` (Linux: /proc/net/tcp, state 0A), e.g. ['0.0.0.0']. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
    .map((f) => {
      const hex = (f[1] as string).split(':')[0] as string;
      // Little-endian bytes of the address.
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

/** Runs the Dockerfile's HEALTHCHECK command from the repository (the image's WORKDIR /app holds the same bin/). */
function runHealthcheck(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd === 'node' ? process.execPath : (cmd as string), args, { cwd: REPO, env: { ...process.env, AGENTDRIFT_FROM_SOURCE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('agentdrift healthcheck', { timeout: 120_000 }, () => {
  it('is healthy (0) for a daemon on a non-default port read from --config, unhealthy (1) once it stopped', async () => {
    const dir = tempDir();
    const port = await freePort();
    const file = path.join(dir, 'agentdrift.yaml');
    writeFileSync(file, `server:\n  port: ${port}\ndataDir: data\ntracks:\n  - name: fixture\n`);
    const d = await startDaemon(['--config', file], { cwd: dir });
    try {
      const ok = await runCli(['--config', file, 'healthcheck'], { cwd: dir });
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe(`healthy: http://127.0.0.1:${port}/healthz answered {"status":"ok"}\n`);
      // The same through AGENTDRIFT_CONFIG, as in the container.
      const viaEnv = await runCli(['healthcheck'], { env: { AGENTDRIFT_CONFIG: file } });
      expect(viaEnv.code, viaEnv.stderr).toBe(0);
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await d.exited).toBe(0);
    const down = await runCli(['--config', file, 'healthcheck'], { cwd: dir });
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(new RegExp(`^agentdrift: unhealthy: http://127\\.0\\.0\\.1:${port}/healthz: .*ECONNREFUSED`));
  });

  it('exits 1 with one line on a bad config, a port 0 config and a bad --timeout (never 2, which a container engine reserves)', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: http\n');
    const zero = path.join(dir, 'zero.yaml');
    writeFileSync(zero, 'server:\n  port: 0\n');
    for (const [args, why] of [
      [['--config', bad, 'healthcheck'], /^agentdrift: unhealthy: .*bad\.yaml is invalid/],
      [['--config', zero, 'healthcheck'], /^agentdrift: unhealthy: server\.port is 0/],
      [['--config', zero, 'healthcheck', '--timeout', 'soon'], /^agentdrift: --timeout: got "soon"/],
      [['healthcheck', '--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const r = await runCli([...args], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toContain('    at ');
    }
  });

  it('is a command of the full CLI too (the lean entry in bin/ loads only its module)', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}healthcheck \[options\] +exit 0 when the daemon of this config answers/m);
    const own = await runCli(['--config', 'x.yaml', 'healthcheck', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('--timeout <seconds>');
  });

  it('the Dockerfile\'s HEALTHCHECK follows the configured port, and its ENV makes a mounted file without server.host listen on 0.0.0.0', async () => {
    const image = dockerfile();
    expect(image.healthcheck).toEqual(expect.arrayContaining(['bin/agentdrift.js', 'healthcheck']));
    expect(image.env.AGENTDRIFT_DEFAULT_HOST).toBe('0.0.0.0');
    const dir = tempDir();
    const port = await freePort();
    // A user's mounted file, as the compose file suggests: tracks and a port, no server.host.
    const mounted = path.join(dir, 'agentdrift.yaml');
    writeFileSync(mounted, `server:\n  port: ${port}\ndataDir: ${path.join(dir, 'data')}\ntracks:\n  - name: fixture\n`);
    const env = { ...image.env, AGENTDRIFT_CONFIG: mounted };
    const d = await startDaemon([], { cwd: dir, env });
    try {
      // Bound to the wildcard address (the kernel's table of listening sockets), not only to the loopback.
      expect(listeners(port)).toEqual(['0.0.0.0']);
      const r = await runHealthcheck(image.healthcheck, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`http://127.0.0.1:${port}/healthz`);
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await d.exited).toBe(0);
    expect((await runHealthcheck(image.healthcheck, env)).code).toBe(1);
    // The image's own default config sets neither host nor port, so the ENV defaults apply to it too.
    expect(image.config).toContain('dataDir: /data');
    expect(image.config).not.toMatch(/^\s*(host|port):/m);
  });
});
