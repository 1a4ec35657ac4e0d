/**
 * The scheduler with real runs: the real Docker Engine, fixture task images, the real Claude Code CLI scripted by a
 * fake Anthropic API on 127.0.0.1 (host networking), grading in fresh containers. The daemon process itself (SIGTERM,
 * restart, the CLI's trigger and cancel) is in test/cli/daemon.test.ts.
 */
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED, LABEL_TRACK } from '../../src/executor/runtime.ts';
import { Scheduler } from '../../src/core/scheduler/scheduler.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages } from '../helpers/images.ts';
import { fixingAgent } from './agent-script.ts';
import { series } from './fakes.ts';

const API_KEY = 'sk-ant-test-secret-scheduler-0123456789';
const TRACK = 'sched-e2e';
const docker = new Docker();
const runtime = new DockerRuntime();

let images: FixtureImages;
let datasetPath: string;
let harnessPath: string;
let fake: FakeAnthropic;
let t: TestContext | null = null;
let scheduler: Scheduler | null = null;

beforeAll(async () => {
  images = await ensureFixtureImages();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-sched-'), images.tasks));
  fake = await startFakeAnthropic(fixingAgent(images.tasks, 200));
}, 900_000);

afterEach(async () => {
  await scheduler?.stop(5000);
  scheduler = null;
  t?.cleanup();
  t = null;
});

afterAll(async () => {
  await fake?.close();
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: TRACK });
});

function context(opts: { cron: string; tasks: number; dailyUsd?: number }): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: fake.url,
      datasetPath,
      harnessPath,
      ids: images.tasks.slice(0, opts.tasks).map((x) => x.instanceId),
      docker: { gradingTimeoutSeconds: 120 },
      track: {
        name: TRACK,
        model: 'claude-sonnet-4-5',
        limits: { timeoutSeconds: 120, maxTurns: 10, maxBudgetUsd: 5 },
        schedule: { cron: opts.cron, timezone: 'UTC' },
        ...(opts.dailyUsd ? { budget: { dailyUsd: opts.dailyUsd } } : {}),
      },
    }),
    { ANTHROPIC_API_KEY: API_KEY },
  );
}

const managed = async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_TRACK}=${TRACK}`] } })).length;

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('scheduled runs with the real engine', { timeout: 240_000 }, () => {
  it('a schedule firing every second runs the track again and again, never two runs at once', async () => {
    t = context({ cron: '* * * * * *', tasks: 1 });
    const ctx = t.ctx;
    scheduler = new Scheduler({ deps: ctx, disk: ctx.exporter, runtime });
    await scheduler.start();
    const completed = () => ctx.store.runs.list(TRACK, { limit: 100, offset: 0 }).runs.filter((r) => r.state === 'completed');
    await until('three completed runs', () => completed().length >= 3, 150_000);
    await scheduler.stop(20_000);
    scheduler = null;

    const all = ctx.store.runs.list(TRACK, { limit: 100, offset: 0 }).runs.reverse();
    const real = all.filter((r) => r.state !== 'skipped');
    const skipped = all.filter((r) => r.state === 'skipped');
    // A run (an agent container, then a grading container) takes longer than the 1 s period: the slots that come
    // meanwhile are skipped, with the reason.
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    for (const s of skipped) expect(s.reason).toMatch(/previous run \(\d+, scheduler\) was still going/);
    // Each run starts after the one before it ended (only the last may have been stopped before its end).
    for (let i = 1; i < real.length; i++) {
      const prev = real[i - 1]!;
      expect(prev.endedAt, `run ${prev.id} has no end`).not.toBeNull();
      expect(Date.parse(real[i]!.startedAt), `run ${real[i]!.id} started before run ${prev.id} ended`).toBeGreaterThanOrEqual(Date.parse(prev.endedAt!));
    }
    for (const r of completed()) {
      expect(r.trigger).toBe('scheduler');
      expect(ctx.store.attempts.ofRun(r.id).map((a) => a.outcome)).toEqual(['resolved']);
    }
    const m = await ctx.exporter.render();
    expect(series(m, 'agentdrift_runs_total', { track: TRACK, state: 'completed' })).toBe(completed().length);
    expect(series(m, 'agentdrift_runs_total', { track: TRACK, state: 'skipped' })).toBe(skipped.length);
    expect(series(m, 'agentdrift_last_success_timestamp_seconds', { track: TRACK })).toBe(Date.parse(completed()[0]!.endedAt!) / 1000);
    expect(await managed()).toBe(0);
  });

  it('a scheduler stopped across a due slot catches it up once when it starts again', async () => {
    t = context({ cron: '*/5 * * * * *', tasks: 1 });
    const ctx = t.ctx;
    // Start just after a slot, stop at once: the next slot comes while nothing runs.
    await until('the start of a 5 s period', () => Date.now() % 5000 < 1500 && Date.now() % 5000 > 100, 6000);
    const first = new Scheduler({ deps: ctx, disk: ctx.exporter, runtime });
    await first.start();
    await first.stop();
    expect(ctx.store.runs.list(TRACK, { limit: 10, offset: 0 }).total).toBe(0);
    const missedSlot = Math.ceil(Date.now() / 5000) * 5000;
    await until('the slot to pass', () => Date.now() > missedSlot + 200, 6000);

    scheduler = new Scheduler({ deps: ctx, disk: ctx.exporter, runtime });
    await scheduler.start();
    expect(ctx.figures.ops(TRACK).runInProgress).toBe(true);
    const catchUp = await until('the catch-up run to be stored', () => ctx.store.runs.latest(TRACK, ['running']), 30_000);
    expect(catchUp).toMatchObject({ trigger: 'catch-up' });
    expect(ctx.figures.ops(TRACK)).toMatchObject({ missedRuns: 1, runInProgress: true });
    expect(series(await ctx.exporter.render(), 'agentdrift_scheduler_missed_runs_total', { track: TRACK })).toBe(1);
    await until('the catch-up run to end', () => ctx.store.runs.get(catchUp!.id)!.state === 'completed', 120_000);
    await scheduler.stop();
    scheduler = null;
    // Once: the other runs are the ordinary slots' (scheduler) or slots skipped while it ran.
    const runs = ctx.store.runs.list(TRACK, { limit: 100, offset: 0 }).runs;
    expect(runs.filter((r) => r.trigger === 'catch-up')).toHaveLength(1);
    expect(ctx.store.attempts.ofRun(catchUp!.id).map((a) => a.outcome)).toEqual(['resolved']);
  });

  it('the daily budget stops a run from starting attempts once the day\'s spend reaches it', async () => {
    t = context({ cron: '0 0 1 1 *', tasks: 3, dailyUsd: 0.000001 });
    const ctx = t.ctx;
    scheduler = new Scheduler({ deps: ctx, disk: ctx.exporter, runtime });
    await scheduler.start();
    const { runId } = await scheduler.trigger(TRACK);
    await until('the run to end', () => ctx.store.runs.get(runId)!.state !== 'running', 120_000);
    const run = ctx.store.runs.get(runId)!;
    expect(run.state).toBe('budget_exhausted');
    expect(run.reason).toMatch(/daily budget/);
    // The first attempt spent more than the limit; the other two never started.
    const attempts = ctx.store.attempts.ofRun(runId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.costUsd).toBeGreaterThan(0);
    const m = await ctx.exporter.render();
    expect(series(m, 'agentdrift_budget_exhausted', { track: TRACK })).toBe(1);
    expect(series(m, 'agentdrift_runs_total', { track: TRACK, state: 'budget_exhausted' })).toBe(1);
    expect(series(m, 'agentdrift_run_progress_ratio', { track: TRACK })).toBeCloseTo(1 / 3);

    // A run started on a spent day starts no attempt at all.
    const again = await scheduler.trigger(TRACK);
    await until('the second run to end', () => ctx.store.runs.get(again.runId)!.state !== 'running', 60_000);
    expect(ctx.store.runs.get(again.runId)!.state).toBe('budget_exhausted');
    expect(ctx.store.attempts.ofRun(again.runId)).toHaveLength(0);
    expect(await managed()).toBe(0);
  });
});
