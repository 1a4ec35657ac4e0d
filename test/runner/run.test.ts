/**
 * Runs of a track end to end, nothing mocked: the real Docker Engine, fixture task images in the SWE-Bench-Pro layout,
 * the real Claude Code CLI inside the task container, scripted by a fake Anthropic Messages API on 127.0.0.1 (the
 * containers use host networking), and grading in a fresh container. The runner's own logic (outcomes, retries,
 * resume, cancel, budget, disk, images, timings) is tested without an engine in ./run-memory.test.ts.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { runCli } from '../helpers/cli.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { bash, hang, overloaded, reply, startFakeAnthropic, type FakeAnthropic, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, FIXTURE_IMAGE_REPOSITORY, fixtureConfig, writeFixtureDataset, type FixtureImages, type FixtureTask } from '../helpers/images.ts';

const API_KEY = 'sk-ant-test-secret-0123456789';
const docker = new Docker();
const runtime = new DockerRuntime();

let images: FixtureImages;
let dir: string;
let datasetPath: string;
let harnessPath: string;
let noImage: FixtureTask;
let t: TestContext | null = null;
let fake: FakeAnthropic | null = null;

beforeAll(async () => {
  images = await ensureFixtureImages();
  dir = tempDir('agentdrift-run-');
  const base = images.tasks[0]!;
  const id = `${base.instanceId}-noimage`;
  noImage = { ...base, instanceId: id, row: { ...base.row, instance_id: id, dockerhub_tag: 'agentdrift-no-such-image' } };
  ({ datasetPath, harnessPath } = await writeFixtureDataset(dir, [...images.tasks, noImage]));
  // One malformed row: the run goes on with the good ones, and `agentdrift tasks` names it.
  appendFileSync(datasetPath, JSON.stringify({ ...base.row, instance_id: 'instance_broken__row-1', fail_to_pass: 'not a list' }) + '\n');
}, 900_000);

afterEach(async () => {
  t?.cleanup();
  t = null;
  await fake?.close();
  fake = null;
});

afterAll(async () => {
  // Only this file's containers: other test files use the same engine at the same time.
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', 'agentdrift.track': 'fx' });
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

function context(opts: { ids: string[]; timeoutSeconds?: number; concurrency?: number; retries?: number }): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: fake!.url,
      datasetPath,
      harnessPath,
      ids: opts.ids,
      docker: { infraRetries: opts.retries ?? 1, gradingTimeoutSeconds: 120 },
      track: { name: 'fx', model: 'claude-sonnet-4-5', limits: { timeoutSeconds: opts.timeoutSeconds ?? 120, maxTurns: 10, maxBudgetUsd: 5 }, concurrency: opts.concurrency ?? 2 },
    }),
    { ANTHROPIC_API_KEY: API_KEY },
  );
}

async function managedContainers(): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, 'agentdrift.track=fx'] } })).length;
}

describe('a run of a track', { timeout: 300_000 }, () => {
  it('resolves a task the scripted agent fixes, with tokens, turns, tool calls and cost from the stream', async () => {
    fake = await startFakeAnthropic(scripted(applyGold));
    t = context({ ids: [byName('calc-median').instanceId] });
    const r = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 1, outcomes: { resolved: 1 } });
    const run = t.ctx.store.runs.get(r.runId!)!;
    expect(run).toMatchObject({ state: 'completed', agentVersion: expect.stringMatching(/^2\./), modelId: expect.any(String) });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({ outcome: 'resolved', turns: 2, toolCalls: 1, inputTokens: 3000, outputTokens: 210, cacheReadTokens: 1500, cacheCreationTokens: 1500 });
    expect(a!.costUsd).toBeGreaterThan(0);
    expect(a!.patchBytes).toBeGreaterThan(0);
    expect(a!.agentDurationMs).toBeGreaterThan(0);
    expect(a!.gradingDurationMs).toBeGreaterThan(0);
    // The prompt the agent got is the official one.
    const task = byName('calc-median');
    const prompt = JSON.stringify(fake.mainRequests()[0]!.body!.messages![0]!.content);
    expect(prompt).toContain('Requirements:');
    expect(prompt).toContain('New interfaces introduced:');
    expect(prompt).toContain(JSON.stringify(task.requirements.slice(0, 40)).slice(1, -1));
    // The key reached the API and nothing else: not the transcript, the log or the store.
    expect(fake.mainRequests()[0]!.headers['x-api-key']).toBe(API_KEY);
    const { readTranscript } = await import('../../src/agent/index.ts');
    const transcript = await readTranscript(a!.transcriptPath!);
    expect(transcript).not.toContain(API_KEY);
    // The agent's duration is the CLI's own (the result event's duration_ms), not the exec's wall time around it.
    const resultEvent = transcript.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type?: string; duration_ms?: number; duration_api_ms?: number }).find((e) => e.type === 'result');
    expect(resultEvent?.duration_ms).toBeGreaterThan(0);
    expect(a!.agentDurationMs).toBe(resultEvent!.duration_ms);
    // Its API share is stored too, and shown with the run's attempts.
    expect(resultEvent?.duration_api_ms).toBeGreaterThan(0);
    expect(a!.agentApiDurationMs).toBe(Math.round(resultEvent!.duration_api_ms!));
    expect(t.logs.join('')).not.toContain(API_KEY);
    expect(JSON.stringify(t.ctx.store.db.prepare('SELECT * FROM attempts').all())).not.toContain(API_KEY);
    expect(await managedContainers()).toBe(0);
  });

  it('grades a wrong fix unresolved even when the agent rewrote the official tests to pass', async () => {
    const task = byName('calc-median');
    const fakeTests = [
      'import unittest',
      'class TestMean(unittest.TestCase):',
      '    def test_simple(self): pass',
      '    def test_empty_raises(self): pass',
      'class TestMedian(unittest.TestCase):',
      '    def test_even_length(self): pass',
      '    def test_even_length_unsorted(self): pass',
      '    def test_odd_length(self): pass',
      '    def test_empty_raises(self): pass',
      '',
    ].join('\n');
    fake = await startFakeAnthropic(scripted(() => `cd /app && printf '%s' '${fakeTests}' > tests/test_stats.py && git status --short`));
    t = context({ ids: [task.instanceId] });
    const r = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    expect(r.outcomes).toMatchObject({ unresolved: 1, resolved: 0 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a!.patchBytes).toBeGreaterThan(0);
    expect(a!.reason).toMatch(/test_even_length/);
  });

  it('records agent_error when the API answers 529, timeout when it never answers, and removes the containers', async () => {
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    fake = await startFakeAnthropic([overloaded(Infinity)]);
    t = context({ ids: [median.instanceId] });
    const r1 = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    expect(r1.outcomes).toMatchObject({ agent_error: 1 });
    expect(t.ctx.store.attempts.ofRun(r1.runId!)[0]!.reason).toMatch(/529|overloaded/i);
    t.cleanup();
    await fake.close();

    fake = await startFakeAnthropic([hang()]);
    t = context({ ids: [clamp.instanceId], timeoutSeconds: 6 });
    const started = Date.now();
    const r2 = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    expect(r2.outcomes).toMatchObject({ timeout: 1 });
    expect(Date.now() - started).toBeLessThan(60_000);
    const timedOut = t.ctx.store.attempts.ofRun(r2.runId!)[0]!;
    expect(timedOut.reason).toContain('container killed');
    // No result event: the duration is the measured wall time, at least the 6 s limit.
    expect(timedOut.agentDurationMs).toBeGreaterThanOrEqual(6000);
    expect(await managedContainers()).toBe(0);
  });

  it('records infra_error for an image the engine does not have', async () => {
    // The configured retries of it (two retry lines, then infra_error) are the runner's: run-memory.test.ts.
    fake = await startFakeAnthropic(scripted(applyGold));
    t = context({ ids: [noImage.instanceId], retries: 0 });
    const r = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    expect(r.outcomes).toMatchObject({ infra_error: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a!.reason).toContain('image_missing');
    expect(fake.mainRequests()).toHaveLength(0);
  });

  it('agentdrift run --oracle exits 3 and names the task whose oracle fails, with the line to exclude it', async () => {
    fake = await startFakeAnthropic([]);
    const { cfg } = writeCliConfig(fake.url, [images.tasks[0]!.instanceId, noImage.instanceId], 1);
    const r = await runCli(['--config', cfg, 'run', '--track', 'fx', '--oracle'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(`oracle failed: ${noImage.instanceId}: infra_error`);
    expect(r.stdout).not.toContain(`oracle failed: ${images.tasks[0]!.instanceId}:`);
    expect(r.stdout).toContain(`tracks[].suite.exclude: [${noImage.instanceId}]`);
    // The summary shows where the time went, phase by phase (the CLI passes onTimings).
    expect(r.stdout).toMatch(/^phases, mean of 2 attempt\(s\): image \d+\.\d s, harness \d+\.\d s, .*grading setup \d+\.\d s, tests \d+\.\d s, grading teardown \d+\.\d s$/m);
    expect(fake.requests).toHaveLength(0);
  });

  it('an agent that changed nothing is unresolved with the reason empty patch', async () => {
    fake = await startFakeAnthropic(Array.from({ length: 10 }, () => reply('Nothing to change.', { input_tokens: 1000, output_tokens: 10 })));
    t = context({ ids: [byName('calc-median').instanceId] });
    const r = await executeRun(t.ctx, runtime, 'fx', { trigger: 'test' });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({ outcome: 'unresolved', patchBytes: 0 });
    expect(a!.reason).toMatch(/^empty patch: the candidate changes nothing; /);
  });

  it('grades with the configured network mode', async () => {
    // That each oracle run has its own folder of grading logs is the runner's: run-memory.test.ts.
    fake = await startFakeAnthropic([]);
    const median = byName('calc-median');
    t = makeContext(
      fixtureConfig({ apiUrl: fake.url, datasetPath, harnessPath, ids: [median.instanceId], docker: { infraRetries: 0, gradingTimeoutSeconds: 120, gradingNetworkMode: 'host' }, track: { name: 'fx' } }),
      { ANTHROPIC_API_KEY: API_KEY },
    );
    // The real runtime does the work; the wrapper only notes what each container was created with.
    const specs: { role?: string; networkMode?: string }[] = [];
    const noting = Object.create(runtime) as DockerRuntime;
    noting.createContainer = (spec) => {
      specs.push({ role: spec.labels?.['agentdrift.role'], networkMode: spec.networkMode });
      return runtime.createContainer(spec);
    };
    const first = await executeRun(t.ctx, noting, 'fx', { trigger: 'oracle', oracle: true });
    const [a] = [first.oracle![0]!];
    expect(a.outcome).toBe('resolved');
    expect(a.gradingLogPath).toMatch(/\/grading\/fx\/oracle-\d{4}-\d{2}-\d{2}T[\d-]+Z\//);
    expect(existsSync(a.gradingLogPath!)).toBe(true);
    expect(specs.filter((s) => s.role === 'grading').map((s) => s.networkMode)).toEqual(['host']);
  });

  it('--oracle resolves every fixture task without touching the history', async () => {
    fake = await startFakeAnthropic([]);
    t = context({ ids: images.tasks.map((x) => x.instanceId) });
    const r = await executeRun(t.ctx, runtime, 'fx', { trigger: 'oracle', oracle: true });
    expect(r.oracle).toHaveLength(images.tasks.length);
    expect(r.oracle!.filter((x) => x.outcome !== 'resolved')).toEqual([]);
    expect(t.ctx.store.runs.list('fx', { limit: 5, offset: 0 }).total).toBe(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('names a malformed dataset row in agentdrift tasks, and lists the good ones', async () => {
    const cfg = path.join(dir, 'tasks.yaml');
    writeFileSync(cfg, `dataDir: data-tasks\ndocker:\n  imageRepository: ${FIXTURE_IMAGE_REPOSITORY}\n`);
    const r = await runCli(['--config', cfg, 'tasks', '--dataset', datasetPath]);
    expect(r.code).toBe(0);
    for (const x of images.tasks) expect(r.stdout).toContain(x.instanceId);
    expect(r.stdout).toContain('instance_broken__row-1');
    expect(r.stdout).toMatch(/fail_to_pass/);
    const json = await runCli(['--config', cfg, 'tasks', '--dataset', datasetPath, '--json']);
    const doc = JSON.parse(json.stdout) as { tasks: { id: string; failToPass: number }[]; rejected: { reason: string }[] };
    expect(doc.tasks.find((x) => x.id === byName('calc-median').instanceId)?.failToPass).toBe(2);
    expect(doc.rejected).toHaveLength(1);
  });
});

/** A config file for `agentdrift run` in a child process: track fx on the given fixture tasks. */
function writeCliConfig(apiUrl: string, ids: string[], samples: number): { cfg: string; cfgDir: string } {
  const cfgDir = tempDir('agentdrift-cli-run-');
  const cfg = path.join(cfgDir, 'agentdrift.yaml');
  const config = fixtureConfig({ apiUrl, datasetPath, harnessPath, ids, track: { name: 'fx', samplesPerTask: samples }, top: { dataDir: 'data', logLevel: 'info' } });
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  return { cfg, cfgDir };
}
