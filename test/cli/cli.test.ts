import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';

const HISTORY = path.join(import.meta.dirname, '../fixtures/windows/history-30d.json');
const TOKEN = 'cli-token-0123456789abcdef';

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
    const d = await startDaemon([], { cwd: dir, env: { AGENTDRIFT_API_TOKEN: TOKEN } });
    try {
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:9477$/);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toContain('agentdrift_track_info{track="claude-code",agent="claude-code"');
      expect(metrics).toContain('agentdrift_attempts_total{track="claude-code",outcome="resolved"} 0');
      expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await d.exited).toBe(0);
    expect(d.logs()).toContain('"msg":"stopped"');
    expect(d.logs()).not.toContain(TOKEN);
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
