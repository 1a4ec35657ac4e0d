import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';

const HISTORY = path.join(import.meta.dirname, '../fixtures/windows/history-30d.json');
const TOKEN = 'cli-token-0123456789abcdef';

/** Holds `port` on 127.0.0.1 for the test; if something else holds it already, it is busy all the same. */
async function holdPort(port: number): Promise<{ close: () => Promise<void> }> {
  const srv = createServer();
  const ok = await new Promise<boolean>((resolve, reject) => {
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
    srv.listen(port, '127.0.0.1', () => resolve(true));
  });
  return { close: () => (ok ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve()) };
}

function configFile(extra = ''): { dir: string; file: string } {
  const dir = tempDir();
  const file = path.join(dir, 'agentdrift.yaml');
  writeFileSync(file, `server:\n  port: 0\ndataDir: data\nlogLevel: info\ntracks:\n  - name: fixture\n${extra}`);
  return { dir, file };
}

// Each test here spawns up to five `agentdrift` processes (node + tsx, about 1 s each on an idle machine).
describe('agentdrift command line', { timeout: 120_000 }, () => {
  it('starts on the embedded defaults, serves the metrics contract, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    // A test never needs the default port free (a real daemon may be running there): this one holds 9477 itself,
    // and AGENTDRIFT_DEFAULT_PORT=0 (a default like the embedded ones, applied where no file sets server.port) picks a
    // free port for the daemon on the embedded defaults.
    const held = await holdPort(9477);
    try {
      // With the port busy, the embedded defaults fail on exactly 127.0.0.1:9477: that is their address.
      const busy = await runCli(['daemon'], { cwd: dir, env: { AGENTDRIFT_API_TOKEN: TOKEN, AGENTDRIFT_DEFAULT_PORT: '' } });
      expect(busy.code).not.toBe(0);
      expect(busy.stderr).toContain('127.0.0.1:9477');
      // No credentials in its environment (set but empty, which the loader ignores).
      const d = await startDaemon([], { cwd: dir, env: { AGENTDRIFT_API_TOKEN: TOKEN, AGENTDRIFT_DEFAULT_PORT: '0', ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: '' } });
      try {
        expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(d.url).not.toMatch(/:9477$/);
        const metrics = await (await fetch(`${d.url}/metrics`)).text();
        expect(metrics).toContain('agentdrift_track_info{track="claude-code",agent="claude-code"');
        expect(metrics).toContain('agentdrift_attempts_total{track="claude-code",outcome="resolved"} 0');
        // It starts, but says at once that agent runs would fail, and what to set (issue 10 item 9).
        expect(metrics.split('\n')).toContain('agentdrift_agent_credentials_present{track="claude-code"} 0');
        const ready = await fetch(`${d.url}/readyz`);
        expect(ready.status).toBe(200);
        const body = (await ready.json()) as { credentials: boolean; missing: string[] };
        expect(body.credentials).toBe(false);
        expect(body.missing.some((m) => m.startsWith('credentials: no credentials for the agent: set ANTHROPIC_API_KEY'))).toBe(true);
        const warning = d
          .logs()
          .split('\n')
          .find((l) => l.includes('no credentials for the agent'));
        expect(warning, d.logs()).toBeDefined();
        expect(JSON.parse(warning as string)).toMatchObject({ level: 40, tracks: ['claude-code'], hints: ['ANTHROPIC_API_KEY is set but empty', 'CLAUDE_CODE_OAUTH_TOKEN is set but empty'] });
      } finally {
        d.child.kill('SIGTERM');
      }
      expect(await d.exited).toBe(0);
      expect(d.logs()).toContain('"msg":"stopped"');
      expect(d.logs()).not.toContain(TOKEN);
    } finally {
      await held.close();
    }
  });

  it('names the credentials it found at start, never their value, and exports agentdrift_agent_credentials_present 1', async () => {
    const { dir, file } = configFile();
    const key = 'sk-ant-cli-secret-0123456789abcdef';
    const d = await startDaemon(['--config', file], { cwd: dir, env: { ANTHROPIC_API_KEY: key, CLAUDE_CODE_OAUTH_TOKEN: '' } });
    try {
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics.split('\n')).toContain('agentdrift_agent_credentials_present{track="fixture"} 1');
      expect(((await (await fetch(`${d.url}/readyz`)).json()) as { missing: string[] }).missing.filter((m) => m.startsWith('credentials'))).toEqual([]);
      const found = d
        .logs()
        .split('\n')
        .find((l) => l.includes('agent credentials found'));
      expect(JSON.parse(found as string)).toMatchObject({ level: 30, credentials: 'ANTHROPIC_API_KEY' });
      expect(d.logs()).not.toContain('no credentials for the agent');
      expect(d.logs() + metrics).not.toContain(key);
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await d.exited).toBe(0);
  });

  it('exits cleanly (0) when SIGTERM arrives with a request in flight', async () => {
    const { dir, file } = configFile();
    const d = await startDaemon(['--config', file], { cwd: dir });
    const pending = fetch(`${d.url}/api/tracks`).catch((e: Error) => e);
    d.child.kill('SIGTERM');
    // The exit code is what matters (a SIGTERM during start-up once crashed the daemon on its closed store).
    expect(await d.exited, d.logs()).toBe(0);
    expect(d.logs()).toContain('"msg":"stopped"');
    // The request was answered in full, refused while closing, or cut: it never gets a half-written body. (undici may
    // leave a request to a vanished server unsettled, so it is not awaited without a bound.)
    const r = await Promise.race([pending, new Promise<null>((res) => setTimeout(() => res(null), 2000))]);
    if (r && !(r instanceof Error)) expect([200, 503]).toContain(r.status);
  });

  it('imports, prints /metrics once, and exports the same history', async () => {
    const { dir, file } = configFile();
    const imp = await runCli(['--config', file, 'import', '--track', 'fixture', HISTORY]);
    expect(imp.stderr).toBe('');
    expect(imp.stdout).toContain('imported 30 run(s), 1200 attempt(s) into fixture');
    const m = await runCli(['--config', file, 'metrics']);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/agentdrift_window_attempts\{track="fixture",window="30d"\} \d+/);
    const out = path.join(dir, 'out.json');
    const exp = await runCli(['--config', file, 'export', '--track', 'fixture', '--output', out]);
    expect(exp.code).toBe(0);
    const again = await runCli(['--config', file, 'import', '--track', 'fixture', out]);
    expect(again.stdout).toContain('imported 0 run(s), 0 attempt(s)');
    expect(again.stdout).toContain('30 run(s) already stored, skipped');
  });

  it('stops at start with exit code 2 and a message naming the bad key', async () => {
    const { dir, file } = configFile('    concurrency: lots\n');
    const r = await runCli(['--config', file, 'daemon'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tracks[0].concurrency: got "lots"');
  });

  it('names the record of a bad import file and exits 2', async () => {
    const { dir, file } = configFile();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'agentdrift-history/1', runs: [{ startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T01:00:00Z', attempts: [{ taskId: 'x', outcome: 'meh' }] }] }));
    const r = await runCli(['--config', file, 'import', '--track', 'fixture', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('runs[0].attempts[0].outcome: got "meh"');
    const m = await runCli(['--config', file, 'metrics']);
    expect(m.stdout).toContain('agentdrift_attempts_total{track="fixture",outcome="unresolved"} 0');
  });

  it('sets and lists baselines from the command line, and names a bad argument', async () => {
    const { file } = configFile();
    await runCli(['--config', file, 'import', '--track', 'fixture', HISTORY]);
    const set = await runCli(['--config', file, 'baseline', 'set', '--track', 'fixture', '--p0', '0.5', '--reason', 'peer-compatible', '--by', 'bob']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ kind: 'fixed', p0: 0.5, createdBy: 'bob', reason: 'peer-compatible' });
    const list = await runCli(['--config', file, 'baseline', 'list', '--track', 'fixture']);
    expect(JSON.parse(list.stdout).map((b: { createdBy: string }) => b.createdBy)).toEqual(['bob', 'auto']);
    const bad = await runCli(['--config', file, 'baseline', 'set', '--track', 'fixture', '--p0', 'half']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--p0: got "half"');
    const none = await runCli(['--config', file, 'baseline', 'set', '--track', 'fixture']);
    expect(none.stderr).toContain('give --p0 X, or --from ISO --to ISO');
  });
});
