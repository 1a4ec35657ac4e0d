/**
 * scripts/lib/apt.sh, which scripts/test-all.sh installs its Debian packages with (issue 10 item 9): with another
 * process holding the package lists lock or the dpkg frontend lock, apt_update and apt_get wait for it instead of
 * failing at once, as plain apt-get does. The real apt-get, on a private state directory (APT_CONFIG moves the locks
 * there and lists no sources), so the machine's own apt is never touched; the lock is held with fcntl, as apt holds it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/context.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

/** A private apt state: its own lists and dpkg directories (where the locks live) and no package sources. */
function privateApt(): { env: NodeJS.ProcessEnv; listsLock: string; dpkgLock: string } {
  const dir = tempDir('agentdrift-apt-');
  for (const d of ['lists/partial', 'dpkg', 'cache/archives/partial', 'etc/sources.list.d', 'etc/preferences.d']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'dpkg/status'), '');
  writeFileSync(path.join(dir, 'etc/sources.list'), '');
  const conf = path.join(dir, 'apt.conf');
  writeFileSync(
    conf,
    [
      `Dir::State::Lists "${dir}/lists";`,
      `Dir::State::status "${dir}/dpkg/status";`,
      `Dir::Cache "${dir}/cache";`,
      `Dir::Etc::sourcelist "${dir}/etc/sources.list";`,
      `Dir::Etc::sourceparts "${dir}/etc/sources.list.d";`,
      `Dir::Etc::preferencesparts "${dir}/etc/preferences.d";`,
      '',
    ].join('\n'),
  );
  return { env: { APT_CONFIG: conf }, listsLock: path.join(dir, 'lists/lock'), dpkgLock: path.join(dir, 'dpkg/lock-frontend') };
}

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) if (h.exitCode === null) h.kill('SIGKILL');
});

/** Holds an fcntl write lock on `file` (as apt does) until released; resolves once it is held. */
async function holdLock(file: string): Promise<{ release: () => void; released: Promise<number> }> {
  const script = 'import fcntl, sys\nf = open(sys.argv[1], "a+")\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint("held", flush=True)\nsys.stdin.read()\n';
  const child = spawn('python3', ['-c', script, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  holders.push(child);
  const released = new Promise<number>((r) => child.on('exit', () => r(Date.now())));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return { release: () => child.stdin!.end(), released };
}

/** Runs a bash snippet with scripts/lib/apt.sh sourced; `onLine` sees each line of its output as it comes. */
function withAptLib(snippet: string, env: NodeJS.ProcessEnv, onLine: (line: string) => void = () => undefined): Promise<{ code: number | null; out: string; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `. scripts/lib/apt.sh\n${snippet}`], { cwd: REPO, env: { ...process.env, APT_LOCK_WAIT_SECONDS: '50', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      for (const l of d.toString().split('\n')) if (l) onLine(l);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, endedAt: Date.now() }));
  });
}

describe('scripts/lib/apt.sh', { timeout: 60_000 }, () => {
  it('plain apt-get fails at once on a held lock (what the helpers fix)', async () => {
    const apt = privateApt();
    const lists = await holdLock(apt.listsLock);
    const r = spawnSync('apt-get', ['update', '-qq'], { env: { ...process.env, ...apt.env }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Could not get lock');
    lists.release();
  });

  it('apt_update waits for the package lists lock and succeeds once it is released', async () => {
    const apt = privateApt();
    const lists = await holdLock(apt.listsLock);
    // The holder lets go only once apt_update has said it waits: so the update ends after the release.
    const r = await withAptLib('apt_update -qq', apt.env, (line) => line.includes('holds the package lists lock') && lists.release());
    expect(r.out).toContain('[apt] another process holds the package lists lock; waiting');
    expect(r.code, r.out).toBe(0);
    expect(r.endedAt).toBeGreaterThanOrEqual(await lists.released);
  });

  it('apt_get waits for the dpkg frontend lock (DPkg::Lock::Timeout) and succeeds once it is released', async () => {
    const apt = privateApt();
    const dpkg = await holdLock(apt.dpkgLock);
    // apt says "Waiting for cache lock" while it waits; the holder lets go then.
    const r = await withAptLib('apt_get install -y', apt.env, (line) => line.startsWith('Waiting for cache lock') && dpkg.release());
    expect(r.out).toContain('Waiting for cache lock: Could not get lock');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('0 newly installed');
    expect(r.endedAt).toBeGreaterThanOrEqual(await dpkg.released);
  });

  it('apt_update still fails on an error that is not a lock, with apt\'s message', async () => {
    const apt = privateApt();
    writeFileSync((apt.env.APT_CONFIG as string).replace(/apt\.conf$/, 'etc/sources.list'), 'deb this is not a source line\n');
    const r = await withAptLib('apt_update -qq', apt.env);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toContain('waiting');
    expect(r.out).toMatch(/^E: /m);
  });
});
