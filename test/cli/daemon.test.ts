/**
 * `agentdrift daemon` as a process, with the real engine and the real Claude Code CLI scripted by a fake API:
 * SIGTERM mid-run then restart completes the run with no attempt lost or doubled; `agentdrift trigger`,
 * `agentdrift status` (--follow) and `agentdrift cancel` against it (a cancel kills the attempt going on within the
 * grace period and keeps the finished ones); a second SIGTERM exits at once.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED, LABEL_RUN, LABEL_TRACK } from '../../src/executor/runtime.ts';
import { Store } from '../../src/store/store.ts';
import { runCli, startDaemon, type Daemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';
import { hang, startFakeAnthropic, type FakeAnthropic, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages } from '../helpers/images.ts';
import { fixingAgent } from '../scheduler/agent-script.ts';
import { series } from '../scheduler/fakes.ts';

const API_KEY = 'sk-ant-test-secret-daemon-0123456789';
const TOKEN = 'daemon-token-0123456789abcdef';
const TRACK = 'daemon-e2e';
const GRACE_SECONDS = 10;
const docker = new Docker();

let images: FixtureImages;
let fake: FakeAnthropic;
let hangFromNow = false;
let dir: string;
let cfg: string;
const daemons: Daemon[] = [];

beforeAll(async () => {
  images = await ensureFixtureImages();
  dir = tempDir('agentdrift-daemon-');
  const { datasetPath, harnessPath } = await writeFixtureDataset(dir, images.tasks);
  // The fixing agent, until the test says every later request hangs (an attempt that would never end by itself).
  const fixing = fixingAgent(images.tasks, 200);
  fake = await startFakeAnthropic(fixing.map((turn) => (req: RecordedRequest): StaticTurn => (hangFromNow ? hang() : turn(req))));
  cfg = path.join(dir, 'agentdrift.yaml');
  const config = fixtureConfig({
    apiUrl: fake.url,
    datasetPath,
    harnessPath,
    ids: images.tasks.map((x) => x.instanceId),
    track: { name: TRACK, model: 'claude-sonnet-4-5', samplesPerTask: 2, schedule: { cron: '0 0 1 1 *', timezone: 'UTC' }, limits: { maxTurns: 10, timeoutSeconds: 120 } },
    top: { server: { port: 0, shutdownGraceSeconds: GRACE_SECONDS }, dataDir: 'data', logLevel: 'info' },
  });
  writeFileSync(cfg, JSON.stringify(config, null, 2));
}, 900_000);

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
  await fake?.close();
  await new DockerRuntime().removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: TRACK });
});

const env = { ANTHROPIC_API_KEY: API_KEY, AGENTDRIFT_API_TOKEN: TOKEN };

async function daemon(): Promise<Daemon> {
  const d = await startDaemon(['--config', cfg], { cwd: dir, env });
  daemons.push(d);
  return d;
}

interface RunStatus {
  id: number;
  state: string;
  live: boolean;
  progress: { done: number; total: number; resolved: number };
}

async function runStatus(d: Daemon, id: number): Promise<RunStatus> {
  return (await (await fetch(`${d.url}/api/runs/${id}`)).json()) as RunStatus;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const containers = async (labels: string[]) => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_TRACK}=${TRACK}`, ...labels] } })).length;

function readStore<T>(fn: (s: Store) => T): T {
  const s = Store.open(path.join(dir, 'data'));
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

describe('the daemon', { timeout: 300_000 }, () => {
  it('SIGTERM mid-run interrupts it within the grace period; the next start completes it, nothing lost or doubled', async () => {
    const first = await daemon();
    const trig = await runCli(['--config', cfg, 'trigger', '--track', TRACK, '--url', first.url], { env });
    expect(trig.stderr).toBe('');
    expect(trig.code).toBe(0);
    // The trigger answers as soon as the run is stored, before its suite (and so its plan of 6) is resolved.
    expect(trig.stdout).toMatch(/^run 1 of daemon-e2e running \(0\/(6|\?) attempts stored\)/);
    const before = await until('two attempts stored', async () => {
      const s = await runStatus(first, 1);
      return s.progress.done >= 2 && s;
    }, 120_000);
    expect(before).toMatchObject({ state: 'running', live: true, progress: { total: 6 } });
    // The same through the CLI, which needs no token to read a run.
    const status = await runCli(['--config', cfg, 'status', '1', '--url', first.url], { env: { AGENTDRIFT_API_TOKEN: '' } });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const [head = '', ...attemptLines] = status.stdout.trimEnd().split('\n');
    const shown = /^run 1 of daemon-e2e running \(live\): (\d)\/6 attempts, pass so far (\d)\/(\d) \(\d+%\), cost \d+\.\d\d USD$/.exec(head);
    expect(shown, status.stdout).not.toBeNull();
    expect(Number(shown![1])).toBeGreaterThanOrEqual(2);
    expect(Number(shown![2])).toBe(Number(shown![3]));
    // Under it, each stored attempt with its phase times (the real engine's and CLI's).
    expect(attemptLines.length, status.stdout).toBeGreaterThanOrEqual(Number(shown![1]));
    for (const l of attemptLines) expect(l).toMatch(/^ {2}#\d+ \S+#\d resolved, \d+\.\d s: image \d+\.\d, harness \d+\.\d, container start \d+\.\d, agent \d+\.\d, extraction \d+\.\d, .*, grading teardown \d+\.\d$/);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    expect(series(metrics, 'agentdrift_run_in_progress', { track: TRACK })).toBe(1);
    expect(series(metrics, 'agentdrift_run_progress_ratio', { track: TRACK })).toBeGreaterThan(0);
    expect(series(metrics, 'agentdrift_docker_up')).toBe(1);

    const stopAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // The run stopped within the grace period (the daemon says so when it has to give up waiting).
    expect(first.logs()).not.toContain('did not stop within the grace period');
    expect(Date.now() - stopAt).toBeLessThan(GRACE_SECONDS * 1000 + 5000);
    const kept = readStore((s) => ({ run: s.runs.get(1)!, attempts: s.attempts.ofRun(1).map((a) => a.id) }));
    expect(kept.run.state).toBe('interrupted');
    expect(kept.attempts.length).toBeGreaterThanOrEqual(2);
    expect(await containers([])).toBe(0);

    const second = await daemon();
    // Followed from the CLI until it ends: the interrupted run is not over, it resumes and completes.
    const following = runCli(['--config', cfg, 'status', '1', '--follow', '--interval', '0.2', '--url', second.url], { env, timeoutMs: 150_000 });
    const done = await until('the resumed run to complete', async () => {
      const s = await runStatus(second, 1);
      return s.state === 'completed' && s;
    }, 120_000);
    expect(done.progress).toEqual({ done: 6, total: 6, resolved: 6, ratio: 1 });
    const followed = await following;
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    // The run's line at each change, and each attempt's line once (as it is stored).
    const all = followed.stdout.trim().split('\n');
    expect(all.filter((l) => l.startsWith('  #'))).toHaveLength(6);
    const lines = all.filter((l) => !l.startsWith('  #'));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(0, -1).every((l) => /^run 1 of daemon-e2e (interrupted|running \(live\)): [0-5]\/6 attempts/.test(l)), followed.stdout).toBe(true);
    expect(lines.at(-1)).toMatch(/^run 1 of daemon-e2e completed: 6\/6 attempts, pass so far 6\/6 \(100%\), cost \d+\.\d\d USD$/);
    const after = readStore((s) => ({ runs: s.runs.list(TRACK, { limit: 10, offset: 0 }).total, attempts: s.attempts.ofRun(1) }));
    expect(after.runs).toBe(1);
    expect(new Set(after.attempts.map((a) => `${a.taskId}#${a.sampleIndex}`)).size).toBe(6);
    expect(after.attempts.map((a) => a.id).slice(0, kept.attempts.length)).toEqual(kept.attempts);
    const m = await (await fetch(`${second.url}/metrics`)).text();
    expect(series(m, 'agentdrift_runs_total', { track: TRACK, state: 'interrupted' })).toBe(1);
    expect(series(m, 'agentdrift_runs_total', { track: TRACK, state: 'completed' })).toBe(1);
    expect(series(m, 'agentdrift_run_in_progress', { track: TRACK })).toBe(0);
    expect(second.logs()).toContain('resuming the unfinished run');
  });

  it('agentdrift cancel stops a run within the grace period, keeps its finished attempts, and it is never resumed', async () => {
    const d = daemons.at(-1)!;
    const trig = await runCli(['--config', cfg, 'trigger', '--track', TRACK, '--url', d.url], { env });
    expect(trig.stdout).toMatch(/^run 2 of daemon-e2e running/);
    await until('an attempt of run 2', async () => (await runStatus(d, 2)).progress.done >= 1, 60_000);
    // From now on the agent's requests are never answered: the attempt going on would never end by itself.
    hangFromNow = true;
    await until('an agent container of run 2', async () => (await containers([`${LABEL_RUN}=2`, 'agentdrift.role=agent'])) > 0, 60_000);
    const busy = await runCli(['--config', cfg, 'trigger', '--track', TRACK, '--url', d.url], { env });
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain('HTTP 409');
    expect(busy.stderr).toContain('a run of track "daemon-e2e" is going on (run 2)');

    const started = Date.now();
    const cancel = await runCli(['--config', cfg, 'cancel', '2', '--url', d.url], { env });
    expect(cancel.stderr).toBe('');
    expect(cancel.stdout).toMatch(/^run 2 of daemon-e2e cancelled; [1-9]\d* finished attempt\(s\) kept/);
    // The command's own start costs a few seconds; the daemon says when a run outlives the grace period.
    expect(Date.now() - started).toBeLessThan(GRACE_SECONDS * 1000 + 5000);
    expect(d.logs()).not.toContain('did not stop within the grace period');
    expect(d.logs()).toContain('"msg":"cancelling the run"');
    expect(await containers([`${LABEL_RUN}=2`])).toBe(0);
    const status = await runStatus(d, 2);
    expect(status).toMatchObject({ state: 'cancelled', live: false });
    expect(status.progress.done).toBeGreaterThanOrEqual(1);
    const again = await runCli(['--config', cfg, 'cancel', '2', '--url', d.url], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('run 2 has already ended (cancelled)');
    // Following an ended run prints it once, saying how it ended.
    const ended = await runCli(['--config', cfg, 'status', '2', '--follow', '--url', d.url], { env });
    expect(ended.code).toBe(0);
    expect(ended.stdout).toMatch(/^run 2 of daemon-e2e cancelled: [1-9]\/6 attempts, pass so far .*, cost \d+\.\d\d USD \(cancelled through the API\)\n( {2}#\d+ .*\n)+$/);
    const unknown = await runCli(['--config', cfg, 'status', '99', '--url', d.url], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('HTTP 404');
    expect(unknown.stderr).toContain('no run with id 99');

    // The next run is a new one, not run 2 resumed.
    const next = await runCli(['--config', cfg, 'trigger', '--track', TRACK, '--url', d.url], { env });
    expect(next.stdout).toMatch(/^run 3 of daemon-e2e running \(0\/(6|\?) attempts stored\)/);
  });

  it('a second SIGTERM exits at once, and nothing secret reached the logs', async () => {
    const d = daemons.at(-1)!;
    await until('an agent container of run 3', async () => (await containers([`${LABEL_RUN}=3`, 'agentdrift.role=agent'])) > 0, 60_000);
    // A request still arriving (its body half sent) holds the first shutdown open: the daemon waits for requests in
    // flight. It carries the token: one without it is refused before its body is read, and holds nothing open.
    const { port } = new URL(d.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /api/tracks/${TRACK}/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"format":`);
    try {
      await new Promise((r) => setTimeout(r, 200));
      d.child.kill('SIGTERM');
      await until('the shutdown to begin', async () => d.logs().includes('shutting down'), 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(d.child.exitCode).toBeNull();
      const stopAt = Date.now();
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(130);
      expect(Date.now() - stopAt).toBeLessThan(2000);
    } finally {
      socket.destroy();
    }
    for (const x of daemons) {
      expect(x.logs()).not.toContain(API_KEY);
      expect(x.logs()).not.toContain(TOKEN);
    }
  });

  it('the CLI names what is wrong: no token, no daemon, a bad run id', async () => {
    const noToken = await runCli(['--config', cfg, 'trigger', '--track', TRACK], { env: { AGENTDRIFT_API_TOKEN: '' } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no API token');
    const noDaemon = await runCli(['--config', cfg, 'cancel', '7', '--url', 'http://127.0.0.1:9'], { env });
    expect(noDaemon.code).toBe(2);
    expect(noDaemon.stderr).toContain('no daemon answers at http://127.0.0.1:9');
    const bad = await runCli(['--config', cfg, 'cancel', 'seven'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('run id: got "seven"');
    const badStatus = await runCli(['--config', cfg, 'status', '0'], { env });
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain('run id: got "0"');
    const badInterval = await runCli(['--config', cfg, 'status', '1', '--follow', '--interval', 'soon'], { env });
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toContain('--interval: got "soon"');
    const noDaemonStatus = await runCli(['--config', cfg, 'status', '1', '--url', 'http://127.0.0.1:9'], { env });
    expect(noDaemonStatus.code).toBe(2);
    expect(noDaemonStatus.stderr).toContain('no daemon answers at http://127.0.0.1:9');
  });
});
