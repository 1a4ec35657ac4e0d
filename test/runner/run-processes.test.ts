/**
 * Two `agentdrift run` processes on one track, and a run killed mid-way (SIGKILL) that a second process resumes: real
 * processes, the real Docker Engine, fixture task images, the real Claude Code CLI scripted by the fake Anthropic API
 * on 127.0.0.1. Apart from ./run.test.ts (of which it was part) so that the two files run side by side; its own track
 * name keeps each file's containers its own.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';
import { bash, hang, reply, startFakeAnthropic, type FakeAnthropic, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages, type FixtureTask } from '../helpers/images.ts';

const API_KEY = 'sk-ant-test-secret-0123456789';
const TRACK = 'fxp';
const docker = new Docker();
const runtime = new DockerRuntime();

let images: FixtureImages;
let datasetPath: string;
let harnessPath: string;
let fake: FakeAnthropic | null = null;

beforeAll(async () => {
  images = await ensureFixtureImages();
  const dir = tempDir('agentdrift-run-processes-');
  const base = images.tasks[0]!;
  const id = `${base.instanceId}-noimage`;
  const noImage = { ...base, instanceId: id, row: { ...base.row, instance_id: id, dockerhub_tag: 'agentdrift-no-such-image' } };
  ({ datasetPath, harnessPath } = await writeFixtureDataset(dir, [...images.tasks, noImage]));
  appendFileSync(datasetPath, JSON.stringify({ ...base.row, instance_id: 'instance_broken__row-1', fail_to_pass: 'not a list' }) + '\n');
}, 900_000);

afterEach(async () => {
  await fake?.close();
  fake = null;
});

afterAll(async () => {
  // Only this file's containers: other test files use the same engine at the same time.
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', 'agentdrift.track': TRACK });
});

const byName = (name: string) => images.tasks.find((x) => x.name === name)!;

function taskOf(req: RecordedRequest): FixtureTask {
  const first = JSON.stringify(req.body?.messages?.[0]?.content ?? '');
  const task = images.tasks.find((x) => first.includes(JSON.stringify(x.problemStatement.slice(0, 60)).slice(1, -1)));
  if (!task) throw new Error('the fake API got a prompt of no fixture task');
  return task;
}

/** Whether the conversation already holds a tool result (the CLI may append system notes after it). */
function afterToolResult(req: RecordedRequest): boolean {
  return (req.body?.messages ?? []).some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'tool_result'));
}

/** An agent that runs one Bash command chosen per task, then says it is done. */
function scripted(command: (task: FixtureTask) => string): ((req: RecordedRequest) => StaticTurn)[] {
  const turn = (req: RecordedRequest): StaticTurn =>
    afterToolResult(req)
      ? reply('Done.', { input_tokens: 2000, output_tokens: 10, cache_read_input_tokens: 1500 })
      : reply([bash(command(taskOf(req)), 'Apply the change')], { input_tokens: 1000, output_tokens: 200, cache_creation_input_tokens: 1500 });
  return Array.from({ length: 200 }, () => turn);
}

const applyGold = (task: FixtureTask) => `cd /app && git apply <<'AGENTDRIFT_PATCH'\n${task.goldPatch}\nAGENTDRIFT_PATCH`;

async function managedContainers(): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `agentdrift.track=${TRACK}`] } })).length;
}

/** A config file for `agentdrift run` in a child process: the track on the given fixture tasks. */
function writeCliConfig(apiUrl: string, ids: string[], samples: number): { cfg: string; cfgDir: string } {
  const cfgDir = tempDir('agentdrift-cli-run-');
  const cfg = path.join(cfgDir, 'agentdrift.yaml');
  const config = fixtureConfig({
    apiUrl,
    datasetPath,
    harnessPath,
    ids,
    track: { name: TRACK, samplesPerTask: samples },
    top: { dataDir: 'data', logLevel: 'info' },
  });
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  return { cfg, cfgDir };
}

/** `agentdrift run --track <TRACK>` in a child process, its output collected; resolves once `ready(output)` holds. */
async function spawnRun(cfg: string, ready: (out: string) => boolean, what: string) {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../helpers/cli.ts');
  const child = spawn(process.execPath, [BIN, '--config', cfg, 'run', '--track', TRACK], {
    env: { ...process.env, AGENTDRIFT_FROM_SOURCE: '1', ANTHROPIC_API_KEY: API_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not in time:\n${out}`)), 240_000);
    const check = setInterval(() => {
      if (ready(out)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
  });
  return { child, closed, output: () => out };
}

describe('two agentdrift processes on one track', { timeout: 300_000 }, () => {
  it('refuses a second `agentdrift run` (exit 75, naming the first) and leaves the first run and its containers alone', async () => {
    fake = await startFakeAnthropic([hang()]);
    const { cfg, cfgDir } = writeCliConfig(fake.url, [byName('calc-median').instanceId], 1);
    const first = await spawnRun(cfg, () => fake!.mainRequests().length > 0, "the first run's agent call");
    try {
      const running = await docker.listContainers({ filters: { label: [`${LABEL_MANAGED}=true`, `agentdrift.track=${TRACK}`] } });
      expect(running).toHaveLength(1);

      const second = await runCli(['--config', cfg, 'run', '--track', TRACK], { env: { ANTHROPIC_API_KEY: API_KEY } });
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toContain(`agentdrift: track "${TRACK}" is being run by another agentdrift process (agentdrift run, pid ${first.child.pid} on `);
      // The first one's container is still there and running; its run is untouched and there is no other.
      const after = await docker.listContainers({ filters: { label: [`${LABEL_MANAGED}=true`, `agentdrift.track=${TRACK}`] } });
      expect(after.map((c) => c.Id)).toEqual(running.map((c) => c.Id));
      const { Store } = await import('../../src/store/store.ts');
      const store = new Store(path.join(cfgDir, 'data', 'agentdrift.sqlite'));
      try {
        expect(store.runs.list(TRACK, { limit: 5, offset: 0 }).runs.map((r) => r.state)).toEqual(['running']);
      } finally {
        store.close();
      }
    } finally {
      first.child.kill('SIGTERM');
      await first.closed;
    }
    expect(await managedContainers()).toBe(0);
  });
});

describe('a run killed mid-way', { timeout: 600_000 }, () => {
  it('finishes only the missing attempts when started again: nothing lost or doubled', async () => {
    fake = await startFakeAnthropic(scripted(applyGold));
    const ids = images.tasks.map((x) => x.instanceId);
    const { cfg, cfgDir } = writeCliConfig(fake.url, ids, 2);
    const total = ids.length * 2;
    // First run: killed (SIGKILL, no chance to clean up, its track lease left behind) once two attempts are stored.
    const first = await spawnRun(cfg, (out) => (out.match(/"msg":"attempt finished"/g) ?? []).length >= 2, 'two attempts');
    first.child.kill('SIGKILL');
    await first.closed;

    const second = await runCli(['--config', cfg, 'run', '--track', TRACK], { env: { ANTHROPIC_API_KEY: API_KEY }, timeoutMs: 400_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/run 1 completed \(resumed\)/);
    expect(second.stdout).toMatch(/already done/);

    const { Store } = await import('../../src/store/store.ts');
    const store = new Store(path.join(cfgDir, 'data', 'agentdrift.sqlite'));
    try {
      expect(store.runs.list(TRACK, { limit: 5, offset: 0 }).total).toBe(1);
      const attempts = store.attempts.ofRun(1);
      expect(attempts).toHaveLength(total);
      expect(new Set(attempts.map((a) => `${a.taskId}#${a.sampleIndex}`)).size).toBe(total);
      expect(attempts.filter((a) => a.outcome !== 'resolved').map((a) => `${a.taskId}#${a.sampleIndex}: ${a.outcome} ${a.reason}`)).toEqual([]);
      expect(store.runs.get(1)!.state).toBe('completed');
    } finally {
      store.close();
    }
    expect(await managedContainers()).toBe(0);
  });
});
