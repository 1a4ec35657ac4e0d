/**
 * The runner's own logic on the in-memory runtime (no engine): executeRun end to end with the real store, config,
 * dataset, harness files, agent invocation, transcript parsing, patch handling and grading code, while the
 * container commands are answered by test/helpers/memory-runner.ts with what the real CLI, git and the fixture
 * harness print. Outcomes, retries, resume, cancel, the daily budget, the disk check, the image policy and phase
 * timings are decided here. The real engine, CLI and grading stay under test in ./run.test.ts and the other files.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeCode } from '../../src/agent/index.ts';
import { readTranscript } from '../../src/agent/transcript.ts';
import { MISSING_CREDENTIALS } from '../../src/agent/credentials.ts';
import { selfStopping, toolVolumeName, type AttemptTimings } from '../../src/core/runner/attempt.ts';
import { revokeTrackLease, TrackBusyError } from '../../src/core/runner/lease.ts';
import { executeRun, RunFailedError, RunStop, type RunProgress } from '../../src/core/runner/run.ts';
import { TOOL_VOLUME_MARKER } from '../../src/executor/index.ts';
import { KEEP_ALIVE, LABEL_MANAGED, LABEL_ROLE, LABEL_TRACK, ROLE_VOLUME_FILL } from '../../src/executor/runtime.ts';
import type { AttemptInput } from '../../src/domain/types.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { fixtureConfig, fixtureTasksWithoutImages, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { capturedTranscript, fixingAgent, memoryWorld, roleOf, type AgentScript, type MemoryWorld, type MemoryWorldOptions } from '../helpers/memory-runner.ts';

const API_KEY = 'sk-ant-test-secret-memory-0123456789';
const API_URL = 'http://127.0.0.1:9/';
const TRACK = 'fxm';
/** total_cost_usd of the captured fix transcript. */
const FIX_COST = 0.02889;

let tasks: FixtureTask[];
let noImage: FixtureTask;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;

beforeAll(async () => {
  tasks = await fixtureTasksWithoutImages();
  const base = tasks[0]!;
  const id = `${base.instanceId}-noimage`;
  noImage = {
    ...base,
    instanceId: id,
    image: `${base.imageRepository}:agentdrift-no-such-image`,
    row: { ...base.row, instance_id: id, dockerhub_tag: 'agentdrift-no-such-image' },
  };
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-run-memory-'), [...tasks, noImage]));
  // One malformed row, as in ./run.test.ts: the run goes on with the good ones.
  appendFileSync(datasetPath, JSON.stringify({ ...base.row, instance_id: 'instance_broken__row-1', fail_to_pass: 'not a list' }) + '\n');
});

afterEach(() => {
  t?.cleanup();
  t = null;
});

const byName = (name: string) => tasks.find((x) => x.name === name)!;
const key = (a: { taskId: string; sampleIndex: number }) => `${a.taskId}#${a.sampleIndex}`;

interface ContextOptions {
  ids: string[];
  timeoutSeconds?: number;
  concurrency?: number;
  retries?: number;
  samples?: number;
  docker?: Record<string, unknown>;
  track?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
}

function context(o: ContextOptions): TestContext {
  const config = fixtureConfig({
    apiUrl: API_URL,
    datasetPath,
    harnessPath,
    ids: o.ids,
    docker: { infraRetries: o.retries ?? 1, gradingTimeoutSeconds: 120, ...o.docker },
    track: {
      name: TRACK,
      model: 'claude-sonnet-4-5',
      limits: { timeoutSeconds: o.timeoutSeconds ?? 120, maxTurns: 10, maxBudgetUsd: 5 },
      concurrency: o.concurrency ?? 2,
      samplesPerTask: o.samples ?? 1,
      ...o.track,
    },
  });
  return makeContext(o.dataDir ? { ...config, dataDir: o.dataDir } : config, o.env ?? { ANTHROPIC_API_KEY: API_KEY });
}

function world(o: Partial<MemoryWorldOptions> = {}): MemoryWorld {
  return memoryWorld({ tasks: [...tasks, ...(o.tasks ?? [])], ...o });
}

const logLines = (tc: TestContext) =>
  tc.logs
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string });

describe('executeRun on the memory runtime: outcomes', () => {
  it('resolves a task the agent fixes: usage from the CLI stream, version and model on the run, the official invocation, containers gone', async () => {
    const w = world();
    const task = byName('calc-median');
    t = context({ ids: [task.instanceId] });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({
      state: 'completed',
      resumed: false,
      attempted: 1,
      skippedAsDone: 0,
      outcomes: { resolved: 1, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 },
    });
    expect(t.ctx.store.runs.get(r.runId!)).toMatchObject({
      state: 'completed',
      agentVersion: '2.1.330',
      modelId: 'claude-sonnet-4-5',
      trigger: 'test',
      reason: null,
    });
    const [a, ...more] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(more).toEqual([]);
    // The captured transcript's result event: 5 turns, 4 tool calls, its tokens, cost and durations.
    expect(a).toMatchObject({
      taskId: task.instanceId,
      sampleIndex: 0,
      outcome: 'resolved',
      turns: 5,
      toolCalls: 4,
      inputTokens: 7000,
      outputTokens: 192,
      cacheReadTokens: 4200,
      cacheCreationTokens: 1000,
      costUsd: FIX_COST,
      agentDurationMs: 771,
      agentApiDurationMs: 208,
      patchBytes: Buffer.byteLength(task.goldPatch),
    });
    expect(a!.gradingDurationMs).toBeGreaterThanOrEqual(0);
    expect(a!.reason).toMatch(/\S/);
    expect(await readTranscript(a!.transcriptPath!)).toBe(capturedTranscript('fix-success'));
    const log = gunzipSync(readFileSync(a!.gradingLogPath!)).toString('utf8');
    expect(log).toMatch(/^# outcome: resolved \(/);
    expect(log).toContain(`test_even_length (tests.test_stats.TestMedian.test_even_length) ... ok`);

    // The official invocation: the prompt, the limits, the credentials and the gateway, in /app.
    const [call] = w.agentCalls;
    expect(call!.argv.slice(0, 2)).toEqual(['/opt/agentdrift/bin/claude', '-p']);
    expect(call!.argv.slice(3)).toEqual([
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      '--model',
      'claude-sonnet-4-5',
      '--max-turns',
      '10',
      '--max-budget-usd',
      '5',
      '--no-session-persistence',
    ]);
    expect(call!.prompt).toContain('Requirements:');
    expect(call!.prompt).toContain('New interfaces introduced:');
    expect(call!.env).toMatchObject({
      ANTHROPIC_API_KEY: API_KEY,
      ANTHROPIC_BASE_URL: API_URL,
      CLAUDE_CODE_MAX_RETRIES: '0',
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
    });
    expect(call!.workingDir).toBe('/app');
    // The agent container: the task image, PID 1 stopping itself after the limit, the tool volume read-only, limits.
    const volume = toolVolumeName(claudeCode);
    expect(call!.spec).toMatchObject({
      image: task.image,
      entrypoint: selfStopping(120 + 300),
      workingDir: '/app',
      networkMode: 'host',
      cpus: 1,
      memoryBytes: 1024 * 1024 * 1024,
      mounts: [{ volume, target: '/opt/agentdrift/bin', readOnly: true }],
      labels: {
        [LABEL_MANAGED]: 'true',
        [LABEL_TRACK]: TRACK,
        'agentdrift.run': String(r.runId),
        'agentdrift.attempt': `${task.instanceId}#0`,
        [LABEL_ROLE]: 'agent',
      },
    });
    // The tool volume: the installed CLI, executable, filled for this version.
    expect(w.runtime.toolVolumeCalls.map((c) => [c.name, c.options.contentKey, c.options.helperImage])).toEqual([[volume, claudeCode.version(), task.image]]);
    const filled = w.runtime.volumes.get(volume)!;
    expect(filled.files.get('claude')?.mode).toBe(0o755);
    expect(JSON.parse(filled.files.get(TOOL_VOLUME_MARKER)!.content.toString()).key).toBe(claudeCode.version());
    // The patch is taken against the task's base commit in /app, and graded in a fresh container without network.
    expect(w.patchCalls.map((p) => p.argv.slice(3))).toEqual([['agentdrift-patch', task.baseCommit, '/app']]);
    const [g] = w.gradingCalls;
    expect(g!.patch).toBe(task.goldPatch);
    expect(g!.spec).toMatchObject({
      image: task.image,
      entrypoint: KEEP_ALIVE,
      networkMode: 'none',
      labels: { [LABEL_ROLE]: 'grading', 'agentdrift.attempt': `${task.instanceId}#0` },
    });
    // The key reached the CLI and nothing else: not the transcript, the log or the store.
    expect(readFileSync(a!.transcriptPath!).length).toBeGreaterThan(0);
    expect(t.logs.join('')).not.toContain(API_KEY);
    expect(JSON.stringify(t.ctx.store.attempts.ofRun(r.runId!))).not.toContain(API_KEY);
    expect(w.runtime.containers.size).toBe(0);
  });

  it('grades a patch that is not the fix unresolved, naming the failing tests, and no change at all unresolved as an empty patch', async () => {
    const task = byName('calc-median');
    const wrong = task.goldPatch.replace(/^\+(.*)$/m, '+$1  # not quite');
    const w = world({ agent: () => ({ stdout: capturedTranscript('fix-success'), patch: wrong }) });
    t = context({ ids: [task.instanceId] });
    const r1 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r1.outcomes).toMatchObject({ unresolved: 1, resolved: 0 });
    const [a] = t.ctx.store.attempts.ofRun(r1.runId!);
    expect(a).toMatchObject({ outcome: 'unresolved', patchBytes: Buffer.byteLength(wrong) });
    expect(a!.reason).toMatch(/test_even_length/);

    w.setAgent(() => ({ stdout: capturedTranscript('fix-success') }));
    const r2 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const [b] = t.ctx.store.attempts.ofRun(r2.runId!);
    expect(b).toMatchObject({ outcome: 'unresolved', patchBytes: 0 });
    expect(b!.reason).toMatch(/^empty patch: the candidate changes nothing; /);
    expect(w.gradingCalls.map((g) => g.patch)).toEqual([wrong, '']);
  });

  it("records agent_error from the CLI's own account (API 529, max turns), not graded, with its usage kept", async () => {
    const w = world({ agent: (c) => ({ stdout: capturedTranscript(c.index === 0 ? 'api-529' : 'max-turns'), exitCode: 1 }) });
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    t = context({ ids: [median.instanceId, clamp.instanceId], concurrency: 1 });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', outcomes: { agent_error: 2 } });
    const [a, b] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({
      taskId: clamp.instanceId,
      outcome: 'agent_error',
      turns: 1,
      costUsd: 0,
      agentDurationMs: 728,
      gradingDurationMs: null,
      gradingLogPath: null,
    });
    expect(a!.reason).toBe(
      'api_error: HTTP 529: API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment. ' +
        'If it persists, check your inference gateway (127.0.0.1:8080).',
    );
    expect(b).toMatchObject({
      taskId: median.instanceId,
      outcome: 'agent_error',
      turns: 3,
      toolCalls: 2,
      inputTokens: 200,
      outputTokens: 40,
      reason: 'error_max_turns: Reached maximum number of turns (2)',
    });
    expect(b!.costUsd).toBeCloseTo(0.0012);
    expect(w.gradingCalls).toHaveLength(0);
    expect(w.runtime.containers.size).toBe(0);
  });

  it('records timeout when the agent runs past its limit: container killed, the wall time kept, no patch taken, not graded', async () => {
    const w = world({ agent: () => ({ stdout: capturedTranscript('killed-no-result'), hang: true }) });
    const clamp = byName('calc-clamp');
    t = context({ ids: [clamp.instanceId], timeoutSeconds: 1 });
    const started = Date.now();
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.outcomes).toMatchObject({ timeout: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({ outcome: 'timeout', reason: 'agent ran past 1 s; container killed', patchBytes: null, gradingLogPath: null });
    // No result event: the duration is the measured wall time, the 1 s limit (the memory runtime measures it with
    // Date.now, whose millisecond can lag the timer's by one).
    expect(a!.agentDurationMs).toBeGreaterThanOrEqual(999);
    expect(await readTranscript(a!.transcriptPath!)).toBe(capturedTranscript('killed-no-result'));
    expect(w.patchCalls).toHaveLength(0);
    expect(w.gradingCalls).toHaveLength(0);
    expect(w.runtime.containers.size).toBe(0);
  });

  it('records infra_error for an image that does not exist, after the configured retries, without asking the agent', async () => {
    const w = world();
    t = context({ ids: [noImage.instanceId], retries: 2 });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r.outcomes).toMatchObject({ infra_error: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a!.reason).toMatch(/^image_missing: image agentdrift-fixture-tasks:agentdrift-no-such-image is not present locally and pulling is disabled$/);
    const retries = logLines(t).filter((l) => l.msg === 'infrastructure failed; retrying');
    expect(retries.map((l) => [l.retry, l.reason])).toEqual([
      [1, 'image_missing'],
      [2, 'image_missing'],
    ]);
    expect(w.agentCalls).toHaveLength(0);
  });

  it('retries an attempt whose infrastructure failed and resolves it: a container create that fails, a CLI that does not start', async () => {
    const task = byName('calc-clamp');
    const w = world();
    w.runtime.failNext('createContainer', 'create_failed');
    t = context({ ids: [task.instanceId], retries: 1 });
    const r1 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r1.outcomes).toMatchObject({ resolved: 1 });
    expect(
      logLines(t)
        .filter((l) => l.msg === 'infrastructure failed; retrying')
        .map((l) => l.reason),
    ).toEqual(['create_failed']);

    // The CLI exits 127 without a line of output once: not the agent's error, the attempt is made again.
    const notStarting: AgentScript = (c) =>
      c.index === 1 ? { stdout: '', stderr: 'exec: "/opt/agentdrift/bin/claude": permission denied\n', exitCode: 126 } : fixingAgent(c);
    w.setAgent(notStarting);
    const r2 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r2.outcomes).toMatchObject({ resolved: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r2.runId!);
    // The retry's transcript is a file of its own.
    expect(a!.transcriptPath).toMatch(new RegExp(`/transcripts/${TRACK}/${r2.runId}/${task.instanceId}-0-retry1\\.jsonl\\.gz$`));
    const retried = logLines(t)
      .filter((l) => l.msg === 'infrastructure failed; retrying')
      .at(-1)!;
    expect(retried).toMatchObject({
      reason: 'exec_failed',
      err: 'claude-code did not start (exit 126): exec: "/opt/agentdrift/bin/claude": permission denied',
    });
    expect(w.agentCalls.map((c) => c.attempt)).toEqual([`${task.instanceId}#0`, `${task.instanceId}#0`, `${task.instanceId}#0`]);
  });

  it("records infra_error when the patch cannot be taken, with the agent's usage, and when grading meets an engine gone away", async () => {
    const task = byName('calc-median');
    const w = world({
      agent: () => ({ stdout: capturedTranscript('fix-success'), patch: task.goldPatch, patchFails: 'fatal: unable to read tree (deadbeef)\n' }),
    });
    t = context({ ids: [task.instanceId], retries: 0 });
    const progress: RunProgress[] = [];
    const r1 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', onProgress: (p) => progress.push(p) });
    const [a] = t.ctx.store.attempts.ofRun(r1.runId!);
    expect(a).toMatchObject({
      outcome: 'infra_error',
      reason: 'patch extraction failed (exit 128): fatal: unable to read tree (deadbeef)',
      turns: 5,
      costUsd: FIX_COST,
    });
    expect(w.gradingCalls).toHaveLength(0);
    // An infrastructure failure does not count for the pass rate.
    expect(progress.at(-1)).toMatchObject({ done: 1, total: 1, resolved: 0, counted: 0, last: { taskId: task.instanceId, sample: 0, outcome: 'infra_error' } });

    // The engine stops answering once the agent is done: the grading container cannot be made.
    w.setAgent((c) => {
      w.runtime.failNext('createContainer', 'engine_down', 'creating a container: connect ENOENT /var/run/docker.sock');
      return fixingAgent(c);
    });
    // The agent's container is already made when its CLI runs, so the failure meets grading's create.
    const r2 = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const [b] = t.ctx.store.attempts.ofRun(r2.runId!);
    expect(b).toMatchObject({ outcome: 'infra_error', reason: 'creating a container: connect ENOENT /var/run/docker.sock' });
    expect(w.runtime.containers.size).toBe(0);
  });

  it("runs the plan with the track's concurrency: at most that many attempts at once, each stored once, progress after each", async () => {
    // Each CLI waits (up to half a second) for another to be under way, then a little more: a pool that runs one at
    // a time shows as 1, one that runs more than two at once as more than 2.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const w: MemoryWorld = world({
      agent: async (c) => {
        for (let i = 0; i < 50 && w.live.now < 2; i++) await sleep(10);
        await sleep(50);
        return fixingAgent(c);
      },
    });
    t = context({ ids: tasks.map((x) => x.instanceId), samples: 2, concurrency: 2 });
    const progress: RunProgress[] = [];
    let startedWith: [number, boolean] | null = null;
    const r = await executeRun(t.ctx, w.runtime, TRACK, {
      trigger: 'test',
      onProgress: (p) => progress.push(p),
      onStart: (id, resumed) => (startedWith = [id, resumed]),
    });
    expect(r).toMatchObject({ state: 'completed', attempted: 6, outcomes: { resolved: 6 } });
    expect(startedWith).toEqual([r.runId, false]);
    expect(w.live.max).toBe(2);
    const attempts = t.ctx.store.attempts.ofRun(r.runId!);
    expect(attempts.map(key).sort()).toEqual(tasks.flatMap((x) => [`${x.instanceId}#0`, `${x.instanceId}#1`]).sort());
    expect(progress.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(progress.at(-1)).toMatchObject({ runId: r.runId, total: 6, resolved: 6, counted: 6 });
    expect(t.ctx.store.runs.plan(r.runId!)).toEqual({ taskIds: tasks.map((x) => x.instanceId), samples: 2 });
  });
});

describe('executeRun on the memory runtime: resume, cancel, budget', () => {
  function unfinishedRun(tc: TestContext, state: 'interrupted' | 'running', taskIds: string[], samples: number): number {
    tc.ctx.store.tracks.ensure({ name: TRACK, agent: 'claude-code', model: 'claude-sonnet-4-5' });
    return tc.ctx.store.runs.create(
      {
        track: TRACK,
        state,
        trigger: 'cli',
        reason: 'killed',
        startedAt: new Date().toISOString(),
        endedAt: null,
        agentVersion: null,
        modelId: null,
        suiteHash: null,
      },
      { taskIds, samples },
    );
  }

  function storedAttempt(taskId: string, sampleIndex: number, outcome: AttemptInput['outcome'] = 'resolved'): AttemptInput {
    const now = new Date().toISOString();
    return {
      taskId,
      sampleIndex,
      outcome,
      reason: 'stored before the restart',
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 0.01,
      turns: 1,
      toolCalls: 0,
      agentDurationMs: 1,
      gradingDurationMs: 1,
      patchBytes: 1,
      transcriptPath: null,
      gradingLogPath: null,
      startedAt: now,
      endedAt: now,
    };
  }

  it('resumes an interrupted run: only the attempts it has not stored are made, nothing doubled', async () => {
    const w = world();
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    t = context({ ids: tasks.map((x) => x.instanceId), samples: 3 });
    // Its plan (two tasks, two samples) wins over the track's suite and samples.
    const runId = unfinishedRun(t, 'interrupted', [median.instanceId, clamp.instanceId], 2);
    t.ctx.store.attempts.insert(runId, storedAttempt(median.instanceId, 0));
    t.ctx.store.attempts.insert(runId, storedAttempt(clamp.instanceId, 1, 'agent_error'));
    let startedWith: [number, boolean] | null = null;
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'scheduler', onStart: (id, resumed) => (startedWith = [id, resumed]) });
    expect(r).toMatchObject({ runId, resumed: true, state: 'completed', attempted: 2, skippedAsDone: 2, outcomes: { resolved: 2 } });
    expect(startedWith).toEqual([runId, true]);
    expect(w.agentCalls.map((c) => c.attempt).sort()).toEqual([`${clamp.instanceId}#0`, `${median.instanceId}#1`]);
    const attempts = t.ctx.store.attempts.ofRun(runId);
    expect(attempts.map(key).sort()).toEqual([`${clamp.instanceId}#0`, `${clamp.instanceId}#1`, `${median.instanceId}#0`, `${median.instanceId}#1`]);
    // The stored ones are untouched.
    expect(
      attempts
        .filter((a) => a.reason === 'stored before the restart')
        .map(key)
        .sort(),
    ).toEqual([`${clamp.instanceId}#1`, `${median.instanceId}#0`]);
    expect(t.ctx.store.runs.get(runId)).toMatchObject({ state: 'completed', reason: null, agentVersion: '2.1.330' });
    expect(t.logs.join('')).toContain('resuming an unfinished run');
    expect(t.ctx.store.runs.list(TRACK, { limit: 5, offset: 0 }).total).toBe(1);
  });

  it('refuses a task selection that the unfinished run it would resume does not have, and resumes with the same one', async () => {
    const w = world();
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    t = context({ ids: [median.instanceId, clamp.instanceId] });
    const { ctx } = t;
    const runId = unfinishedRun(t, 'interrupted', [median.instanceId], 1);
    const e = await executeRun(ctx, w.runtime, TRACK, { trigger: 'cli', taskIds: [clamp.instanceId] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).name).toBe('RunError');
    expect((e as Error).message).toContain(`run ${runId} of ${TRACK} is unfinished (interrupted)`);
    expect((e as Error).message).toContain('the task selection (--tasks) does not apply');
    // Nothing was touched: the run is still waiting to be resumed, no attempt was made.
    expect(ctx.store.runs.get(runId)!.state).toBe('interrupted');
    expect(ctx.store.attempts.ofRun(runId)).toHaveLength(0);
    expect(w.agentCalls).toHaveLength(0);
    expect(w.runtime.containers.size).toBe(0);

    // The same selection as the unfinished run's plan (the interrupted command, given again) resumes it.
    const r = await executeRun(ctx, w.runtime, TRACK, { trigger: 'cli', taskIds: [median.instanceId] });
    expect(r).toMatchObject({ runId, resumed: true, state: 'completed', attempted: 1, outcomes: { resolved: 1 } });
  });

  it('marks failed an unfinished run that can never be resumed (its plan names a task gone from the dataset); the next run starts afresh', async () => {
    const w = world();
    const median = byName('calc-median');
    t = context({ ids: [median.instanceId] });
    const runId = unfinishedRun(t, 'running', [median.instanceId, 'instance_gone__task-1'], 1);
    const e = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'scheduler' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunFailedError);
    expect((e as RunFailedError).runId).toBe(runId);
    expect((e as Error).message).toBe(
      `run ${runId} failed: run ${runId} of ${TRACK} names task(s) no longer in the dataset: instance_gone__task-1; it is marked failed`,
    );
    expect(t.ctx.store.runs.get(runId)).toMatchObject({
      state: 'failed',
      reason: 'could not resume: names task(s) no longer in the dataset: instance_gone__task-1',
    });
    expect(w.agentCalls).toHaveLength(0);

    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'scheduler' });
    expect(r).toMatchObject({ resumed: false, state: 'completed', attempted: 1 });
    expect(r.runId).not.toBe(runId);
  });

  it('a cancel keeps the finished attempts, drops the one under way, starts no other, and ends the run cancelled', async () => {
    const abort = new AbortController();
    const w = world({
      agent: (c) => {
        if (c.index < 1) return fixingAgent(c);
        // The second attempt's agent is under way when the run is cancelled.
        setTimeout(() => abort.abort(new RunStop('cancelled', 'cancelled by the test')), 10);
        return { stdout: capturedTranscript('killed-mid-run'), hang: true };
      },
    });
    t = context({ ids: tasks.map((x) => x.instanceId), concurrency: 1 });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', signal: abort.signal });
    expect(r).toMatchObject({ state: 'cancelled', attempted: 1, outcomes: { resolved: 1 } });
    const [kept, ...none] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(none).toEqual([]);
    expect(key(kept!)).toBe(w.agentCalls[0]!.attempt);
    expect(w.agentCalls).toHaveLength(2);
    expect(w.gradingCalls).toHaveLength(1);
    expect(t.ctx.store.runs.get(r.runId!)).toMatchObject({ state: 'cancelled', reason: 'cancelled by the test' });
    expect(w.runtime.containers.size).toBe(0);
  });

  it('a stop that is no cancel ends the run interrupted; the next run resumes it and makes only the rest', async () => {
    const abort = new AbortController();
    const w = world({
      agent: (c) => {
        if (c.index !== 1) return fixingAgent(c);
        setTimeout(() => abort.abort(), 10);
        return { stdout: capturedTranscript('killed-mid-run'), hang: true };
      },
    });
    t = context({ ids: tasks.map((x) => x.instanceId), concurrency: 1 });
    const first = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', signal: abort.signal });
    expect(first).toMatchObject({ state: 'interrupted', attempted: 1 });
    expect(t.ctx.store.runs.get(first.runId!)).toMatchObject({ state: 'interrupted', reason: 'stopped before every attempt ended; resumes on the next run' });
    const second = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(second).toMatchObject({ runId: first.runId, resumed: true, state: 'completed', attempted: 2, skippedAsDone: 1 });
    // The dropped attempt is made again, the stored one is not.
    expect(w.agentCalls.map((c) => c.attempt)).toEqual([
      w.agentCalls[0]!.attempt,
      w.agentCalls[1]!.attempt,
      w.agentCalls[1]!.attempt,
      w.agentCalls[3]!.attempt,
    ]);
    expect(t.ctx.store.attempts.ofRun(first.runId!).map(key).sort()).toEqual(tasks.map((x) => `${x.instanceId}#0`).sort());
  });

  it('a run whose track lease is taken back stops, and stores nothing over what was decided for it', async () => {
    let ctxRef: TestContext | null = null;
    const w = world({
      agent: (c) => {
        revokeTrackLease(ctxRef!.ctx.store, TRACK);
        return { stdout: capturedTranscript('killed-mid-run'), hang: true, patch: c.task.goldPatch };
      },
    });
    t = ctxRef = context({ ids: [byName('calc-median').instanceId] });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'interrupted', attempted: 0 });
    // The run is not ours any more: its row is left as it was, and no attempt is stored.
    expect(t.ctx.store.runs.get(r.runId!)).toMatchObject({ state: 'running', endedAt: null });
    expect(t.ctx.store.attempts.ofRun(r.runId!)).toEqual([]);
    expect(logLines(t).some((l) => l.msg === 'stopped: the track lease was lost to another process, which owns the run now')).toBe(true);
  });

  it('is refused before anything is touched while another live process holds the track', async () => {
    const w = world();
    t = context({ ids: [byName('calc-median').instanceId] });
    t.ctx.store.tracks.ensure({ name: TRACK, agent: 'claude-code', model: 'claude-sonnet-4-5' });
    const other = { id: 'the-daemon', pid: process.ppid, host: hostname(), purpose: 'the daemon' };
    expect(t.ctx.store.leases.acquire(TRACK, other, Date.now(), () => true)).toEqual({ acquired: true });
    await expect(executeRun(t.ctx, w.runtime, TRACK, { trigger: 'cli' })).rejects.toBeInstanceOf(TrackBusyError);
    expect(t.ctx.store.runs.list(TRACK, { limit: 5, offset: 0 }).total).toBe(0);
    expect(w.agentCalls).toHaveLength(0);
    expect(t.ctx.store.leases.current(TRACK)?.id).toBe('the-daemon');
  });

  it('without agent credentials a run is refused, while an oracle run (no agent) goes on', async () => {
    const w = world();
    t = context({ ids: [byName('calc-median').instanceId], env: {} });
    await expect(executeRun(t.ctx, w.runtime, TRACK, { trigger: 'cli' })).rejects.toThrow(MISSING_CREDENTIALS);
    expect(t.ctx.store.runs.list(TRACK, { limit: 5, offset: 0 }).total).toBe(0);
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'oracle', oracle: true });
    expect(r.oracle?.map((o) => o.outcome)).toEqual(['resolved']);
  });

  it("stops starting attempts once the day's spend reaches the daily budget, keeps those made, and ends budget_exhausted", async () => {
    const w = world();
    // Two fixes cost 0.05778 USD: the third attempt does not start.
    t = context({ ids: tasks.map((x) => x.instanceId), concurrency: 1, track: { budget: { dailyUsd: 0.05 } } });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'scheduler' });
    expect(r).toMatchObject({ state: 'budget_exhausted', attempted: 2, outcomes: { resolved: 2 } });
    expect(t.ctx.store.runs.get(r.runId!)).toMatchObject({
      state: 'budget_exhausted',
      reason: "the day's spend reached the daily budget (0.06 of 0.05 USD); no further attempt started",
    });
    expect(w.agentCalls).toHaveLength(2);
    expect(t.ctx.store.attempts.ofRun(r.runId!)).toHaveLength(2);
    expect(logLines(t).find((l) => l.msg === 'daily budget reached: no further attempt starts')).toMatchObject({ spentUsd: 2 * FIX_COST, limitUsd: 0.05 });

    // The next day (the guard's clock) the spend of today no longer counts: a new run makes every attempt.
    const tomorrow = () => Date.now() + 86_400_000;
    const next = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'scheduler', now: tomorrow });
    expect(next).toMatchObject({ state: 'completed', attempted: 3 });
  });

  it('passes the per-attempt budget to the CLI when it is the smaller one', async () => {
    const w = world();
    t = context({ ids: [byName('calc-median').instanceId], track: { budget: { perAttemptUsd: 0.75 } } });
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const argv = w.agentCalls[0]!.argv;
    expect(argv[argv.indexOf('--max-budget-usd') + 1]).toBe('0.75');
  });
});

describe("executeRun on the memory runtime: the engine's disk and images", () => {
  const GB = 1e9;

  it('ends the run failed with the shortfall as its reason before any attempt, container or pull, when the images to pull would not fit', async () => {
    const w = world({ images: 'offered', space: { freeBytes: 50 * GB, totalBytes: 200 * GB, method: 'statfs' } });
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    w.addTaskImage(clamp, 3 * GB);
    t = context({ ids: [median.instanceId, clamp.instanceId], docker: { pull: true, imageSizeGb: 100, minFreeGb: 0 } });
    const e = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunFailedError);
    const run = t.ctx.store.runs.get((e as RunFailedError).runId)!;
    expect(run.state).toBe('failed');
    expect(run.reason).toBe(
      'failed: not enough disk space for the run: the Docker data root /var/lib/docker has 50.0 GB free, the run needs 100.0 GB ' +
        '(1 image(s) to pull of 1 missing, about 100.0 GB each (docker.imageSizeGb), plus docker.minFreeGb 0 GB); ' +
        "free space on the engine's disk, or set docker.images: remove-after-use",
    );
    expect(t.ctx.store.attempts.ofRun(run.id)).toEqual([]);
    expect(w.runtime.containers.size).toBe(0);
    expect(w.runtime.hasImage(median.image)).toBe(false);
  });

  it('estimates a missing image by the mean of the present ones, needs concurrency of them under remove-after-use, counts docker.minFreeGb', async () => {
    const w = world({ images: 'offered', space: { freeBytes: 11 * GB, totalBytes: 200 * GB, method: 'statfs' } });
    const [median, clamp, slug] = [byName('calc-median'), byName('calc-clamp'), byName('textkit-slug')];
    w.addTaskImage(median, 4 * GB);
    const ids = [median.instanceId, clamp.instanceId, slug.instanceId];
    // keep: both missing images (4 GB each, the mean of the present one) and 5 GB free: 13 GB.
    t = context({ ids, concurrency: 1, docker: { pull: true, minFreeGb: 5 } });
    await expect(executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true })).rejects.toThrow(
      "the run needs 13.0 GB (2 image(s) to pull of 2 missing, about 4.0 GB each (the mean of the suite's present images), plus docker.minFreeGb 5 GB)",
    );
    t.cleanup();
    // remove-after-use with concurrency 1: one image at a time, 9 GB: it fits, and every image is gone afterwards.
    t = context({ ids, concurrency: 1, docker: { pull: true, minFreeGb: 5, images: 'remove-after-use' } });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true });
    expect(r.oracle?.map((o) => o.outcome)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(tasks.some((x) => w.runtime.hasImage(x.image))).toBe(false);
    t.cleanup();
    // docker.minFreeGb alone counts even when every image is present.
    for (const x of [median, clamp, slug]) w.addTaskImage(x, 4 * GB);
    t = context({ ids, docker: { minFreeGb: 12 } });
    await expect(executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true })).rejects.toThrow(
      /run needs 12\.0 GB \(0 image\(s\) to pull of 0 missing.*plus docker\.minFreeGb 12 GB\)/,
    );
  });

  it("skips the disk check, saying so, when the engine's free space cannot be measured", async () => {
    const w = world();
    t = context({ ids: [byName('calc-median').instanceId], docker: { minFreeGb: 100_000 } });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true });
    expect(r.oracle?.map((o) => o.outcome)).toEqual(['resolved']);
    expect(logLines(t).some((l) => l.msg === 'the free space of the Docker data root cannot be measured here: the disk check is skipped')).toBe(true);
  });

  it("docker.images: remove-after-use removes a task image once the run's last attempt that uses it has ended, not before", async () => {
    const w = world({ images: 'offered' });
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    const removals: { ref: string; graded: string[] }[] = [];
    const removeImage = w.runtime.removeImage.bind(w.runtime);
    w.runtime.removeImage = (ref) => {
      removals.push({ ref, graded: w.gradingCalls.map((g) => g.attempt) });
      return removeImage(ref);
    };
    // Two samples of each task, two at once: median's two attempts run side by side, then clamp's.
    t = context({ ids: [median.instanceId, clamp.instanceId], samples: 2, concurrency: 2, docker: { pull: true, images: 'remove-after-use' } });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r.outcomes).toMatchObject({ resolved: 4 });
    // Each image once, after both of its attempts were graded: the first did not remove it under the second.
    expect(removals.map((x) => x.ref).sort()).toEqual([clamp.image, median.image].sort());
    for (const [x, image] of [
      [clamp, clamp.image],
      [median, median.image],
    ] as const) {
      const removal = removals.find((y) => y.ref === image)!;
      expect(removal.graded.filter((a) => a.startsWith(`${x.instanceId}#`)).sort()).toEqual([`${x.instanceId}#0`, `${x.instanceId}#1`]);
    }
    expect(w.runtime.hasImage(median.image) || w.runtime.hasImage(clamp.image)).toBe(false);
    // They were pulled by this run, and are no longer recorded as pulled once removed.
    expect(t.ctx.store.images.pulled()).toEqual([]);
    expect(
      logLines(t)
        .filter((l) => l.msg === 'removed the task image after use (docker.images: remove-after-use)')
        .map((l) => l.image)
        .sort(),
    ).toEqual([clamp.image, median.image].sort());
  });

  it('removes images agentdrift pulled that no configured suite uses any more; its pulls in use and images it did not pull stay', async () => {
    const w = world({ images: 'offered' });
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    const foreign = 'agentdrift-test-foreign:x';
    w.runtime.addImage(foreign);
    const dataDir = tempDir('agentdrift-run-memory-data-');
    t = context({ ids: [median.instanceId], dataDir, docker: { pull: true } });
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true });
    expect(t.ctx.store.images.pulled().map((p) => p.ref)).toEqual([median.image]);
    expect(w.runtime.hasImage(median.image)).toBe(true);
    t.cleanup();

    // The suite now uses clamp only: after its run, median's image (pulled by agentdrift, used by no suite) goes.
    t = context({ ids: [clamp.instanceId], dataDir, docker: { pull: true } });
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true });
    expect(w.runtime.hasImage(median.image)).toBe(false);
    expect(w.runtime.hasImage(clamp.image)).toBe(true);
    expect(t.ctx.store.images.pulled().map((p) => p.ref)).toEqual([clamp.image]);
    expect(w.runtime.hasImage(foreign)).toBe(true);
    expect(logLines(t).find((l) => l.msg === 'removed images agentdrift pulled that no configured suite uses any more')).toMatchObject({
      images: [median.image],
    });
  });

  it('removes the containers a crashed run of the track left, and tool-volume fills past their grace age, before the first attempt', async () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const w = world({ now: () => now });
    const median = byName('calc-median');
    const spec = (labels: Record<string, string>) => ({ image: median.image, labels: { [LABEL_MANAGED]: 'true', ...labels } });
    const leftover = await w.runtime.createContainer(spec({ [LABEL_TRACK]: TRACK, [LABEL_ROLE]: 'agent' }));
    const otherTrack = await w.runtime.createContainer(spec({ [LABEL_TRACK]: 'another-track', [LABEL_ROLE]: 'agent' }));
    const oldFill = await w.runtime.createContainer(spec({ [LABEL_ROLE]: ROLE_VOLUME_FILL }));
    now += 90_000;
    const youngFill = await w.runtime.createContainer(spec({ [LABEL_ROLE]: ROLE_VOLUME_FILL }));
    now += 40_000;
    t = context({ ids: [median.instanceId] });
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect([...w.runtime.containers.keys()].sort()).toEqual([otherTrack.id, youngFill.id].sort());
    expect(w.runtime.container(leftover) ?? w.runtime.container(oldFill)).toBeUndefined();
    const lines = logLines(t);
    expect(lines.find((l) => l.msg === 'removed containers left by an earlier run')).toMatchObject({ removed: 1 });
    expect(lines.find((l) => l.msg === 'removed tool-volume fill containers left by a crashed process')).toMatchObject({ removed: 1 });
  });
});

describe('executeRun on the memory runtime: oracle runs and phase timings', () => {
  it('an oracle run grades the gold patches without the agent or the history, a missing image as infra_error', async () => {
    const w = world();
    t = context({ ids: [...tasks.map((x) => x.instanceId), noImage.instanceId], retries: 0, concurrency: 1 });
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'oracle', oracle: true });
    expect(r.runId).toBeNull();
    // One at a time, in the suite's order (by id).
    const expected = [...tasks.map((x) => [x.instanceId, 'resolved']), [noImage.instanceId, 'infra_error']].sort(([a], [b]) => (a! < b! ? -1 : 1));
    expect(r.oracle?.map((o) => [o.taskId, o.outcome])).toEqual(expected);
    expect(r.oracle?.find((o) => o.taskId === noImage.instanceId)?.reason).toMatch(/^image_missing: /);
    expect(w.gradingCalls.map((g) => g.patch)).toEqual(tasks.map((x) => x.goldPatch));
    expect(w.agentCalls).toHaveLength(0);
    expect(w.runtime.toolVolumeCalls).toHaveLength(0);
    expect(t.ctx.store.runs.list(TRACK, { limit: 5, offset: 0 }).total).toBe(0);
  });

  it('gives each oracle run its own folder of grading logs, and grades with the configured network mode', async () => {
    const w = world();
    const median = byName('calc-median');
    t = context({ ids: [median.instanceId], docker: { gradingNetworkMode: 'host' } });
    const first = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'oracle', oracle: true });
    await new Promise((r) => setTimeout(r, 5));
    const second = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'oracle', oracle: true });
    const [a, b] = [first.oracle![0]!, second.oracle![0]!];
    expect(a.outcome).toBe('resolved');
    expect(a.gradingLogPath).toMatch(new RegExp(`/grading/${TRACK}/oracle-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z/`));
    expect(b.gradingLogPath).not.toBe(a.gradingLogPath);
    expect(existsSync(a.gradingLogPath!) && existsSync(b.gradingLogPath!)).toBe(true);
    expect(w.gradingCalls.map((g) => [roleOf(g.spec), g.spec.networkMode])).toEqual([
      ['grading', 'host'],
      ['grading', 'host'],
    ]);
  });

  it("reports each attempt's phase timings, the tests' own time from the grading script's markers", async () => {
    const w = world({
      agent: (c) => ({ ...fixingAgent(c), delayMs: 40 }) as ReturnType<AgentScript>,
      grader: (g) => ({ testsMs: g.task.name === 'calc-median' ? 4321 : 1234 }),
    });
    const [median, clamp] = [byName('calc-median'), byName('calc-clamp')];
    t = context({ ids: [median.instanceId, clamp.instanceId] });
    const timings = new Map<string, AttemptTimings>();
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', onTimings: (id, x) => timings.set(id, x) });
    expect([...timings.keys()].sort()).toEqual([clamp.instanceId, median.instanceId].sort());
    expect(timings.get(median.instanceId)!.testsMs).toBe(4321);
    expect(timings.get(clamp.instanceId)!.testsMs).toBe(1234);
    for (const x of timings.values()) {
      for (const v of Object.values(x)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      // The CLI took its 40 ms; grading's setup holds the script's reset-to-tests span (50 ms) and the parser's (20 ms).
      expect(x.agentMs).toBeGreaterThanOrEqual(39);
      expect(x.gradeSetupMs).toBeGreaterThanOrEqual(70);
    }

    const oracle = new Map<string, AttemptTimings>();
    await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'oracle', oracle: true, onTimings: (id, x) => oracle.set(id, x) });
    // No agent in an oracle run.
    expect([...oracle.values()].map((x) => [x.agentSetupMs, x.agentMs, x.agentTeardownMs])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});
