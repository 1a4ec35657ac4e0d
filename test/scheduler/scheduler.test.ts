/**
 * The scheduler with an injected clock, the in-memory container runtime and stand-in runs: days of schedule in
 * milliseconds. What a run does inside is the runner's business (tested with the real engine in e2e.test.ts); here:
 * when runs start, what is recorded when they cannot, which containers go, and what /metrics says meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { hostname } from 'node:os';
import { TrackBusyError } from '../../src/core/runner/lease.ts';
import type { MemoryRuntime } from '../../src/executor/memory.ts';
import { attemptLabels, type ContainerHandle } from '../../src/executor/runtime.ts';
import { RunBusyError, RunElsewhereError, RunEndedError, Scheduler } from '../../src/core/scheduler/scheduler.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { FakeClock, fakeRuns, flush, memoryRuntime, removalsAsked, RUN_IMAGE, series, type FakeRuns } from './fakes.ts';

const at = (iso: string) => Date.parse(iso);
const secs = (iso: string) => at(iso) / 1000;

let t: TestContext | null = null;
let scheduler: Scheduler | null = null;

afterEach(async () => {
  await scheduler?.stop(0);
  scheduler = null;
  t?.cleanup();
  t = null;
});

interface Setup {
  t: TestContext;
  clock: FakeClock;
  runs: FakeRuns;
  rt: MemoryRuntime;
  /** The labels of each removeLeftovers call the runtime got (the containers the scheduler asked to go). */
  removed(): Record<string, string>[];
  scheduler: Scheduler;
  metrics(): Promise<string>;
}

function setup(tracks: Record<string, unknown>[], startIso: string, opts: { before?: (t: TestContext) => void; graceMs?: number; checkIntervalMs?: number } = {}): Setup {
  t = makeContext({ tracks });
  opts.before?.(t);
  const clock = new FakeClock(at(startIso));
  const runs = fakeRuns(clock);
  const rt = memoryRuntime(clock);
  const removed = removalsAsked(rt);
  const { checkIntervalMs = 3_600_000, graceMs = 5_000 } = opts;
  scheduler = new Scheduler({ deps: t.ctx, disk: t.ctx.exporter, runtime: rt, clock, execute: runs.execute, checkIntervalMs, graceMs });
  const ctx = t.ctx;
  return { t, clock, runs, rt, removed, scheduler, metrics: () => ctx.exporter.render() };
}

/** The log lines with this message, parsed. */
function logged(t: TestContext, msg: string): Record<string, unknown>[] {
  return t.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

/** A running container of an attempt of the track's run, as a run (of this daemon, a dead one or another process) leaves it. */
function attemptContainer(rt: MemoryRuntime, track: string, run: number): Promise<ContainerHandle> {
  return rt.createContainer({ image: RUN_IMAGE, labels: attemptLabels({ track, run, attempt: 'task-a#0' }) }).then(async (c) => {
    await rt.start(c);
    return c;
  });
}

describe('the scheduler', () => {
  it('runs a track at each slot, publishes the next slot at once, and records a slot that comes during a run as skipped', async () => {
    const s = setup([{ name: 'daily', schedule: { cron: '0 3 * * *', timezone: 'UTC' } }], '2026-01-01T00:00:00Z');
    await s.scheduler.start();
    let m = await s.metrics();
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'daily' })).toBe(secs('2026-01-01T03:00:00Z'));
    expect(series(m, 'agentdrift_schedule_period_seconds', { track: 'daily' })).toBe(86_400);
    expect(series(m, 'agentdrift_run_in_progress', { track: 'daily' })).toBe(0);
    expect(s.runs.calls).toHaveLength(0);

    await s.clock.advanceTo(at('2026-01-01T03:00:00Z'));
    expect(s.runs.calls.map((c) => c.trigger)).toEqual(['scheduler']);
    m = await s.metrics();
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'daily' })).toBe(secs('2026-01-02T03:00:00Z'));
    expect(series(m, 'agentdrift_run_in_progress', { track: 'daily' })).toBe(1);
    expect(series(m, 'agentdrift_run_progress_ratio', { track: 'daily' })).toBe(0);

    // The run is still going a day later: that slot is skipped, not started beside it.
    await s.clock.advanceTo(at('2026-01-02T03:00:00Z'));
    expect(s.runs.calls).toHaveLength(1);
    const skipped = s.t.ctx.store.runs.latest('daily', ['skipped'])!;
    expect(skipped).toMatchObject({ trigger: 'scheduler', startedAt: '2026-01-02T03:00:00.000Z', endedAt: null });
    expect(skipped.reason).toContain(`previous run (${s.runs.calls[0]!.runId}, scheduler) was still going`);
    m = await s.metrics();
    expect(series(m, 'agentdrift_runs_total', { track: 'daily', state: 'skipped' })).toBe(1);
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'daily' })).toBe(secs('2026-01-03T03:00:00Z'));

    s.runs.calls[0]!.finish();
    await flush();
    m = await s.metrics();
    expect(series(m, 'agentdrift_runs_total', { track: 'daily', state: 'completed' })).toBe(1);
    expect(series(m, 'agentdrift_run_in_progress', { track: 'daily' })).toBe(0);

    // The next slot runs again.
    await s.clock.advanceTo(at('2026-01-03T03:00:00Z'));
    expect(s.runs.calls).toHaveLength(2);
  });

  it('keeps tracks independent: each its own time zone, one busy does not hold the other', async () => {
    const s = setup(
      [
        { name: 'paris', schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' } },
        { name: 'tokyo', schedule: { cron: '0 3 * * *', timezone: 'Asia/Tokyo' } },
      ],
      '2026-01-01T00:00:00Z',
    );
    await s.scheduler.start();
    const m = await s.metrics();
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'paris' })).toBe(secs('2026-01-01T02:00:00Z'));
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'tokyo' })).toBe(secs('2026-01-01T18:00:00Z'));
    await s.clock.advanceTo(at('2026-01-01T18:00:00Z'));
    expect(s.runs.calls.map((c) => c.track)).toEqual(['paris', 'tokyo']);
    s.runs.calls[1]!.finish();
    await s.clock.advanceTo(at('2026-01-02T18:00:00Z'));
    // Paris' run still goes (its second slot skipped); Tokyo ran again.
    expect(s.runs.calls.map((c) => c.track)).toEqual(['paris', 'tokyo', 'tokyo']);
    expect(s.t.ctx.store.runs.latest('paris', ['skipped'])).not.toBeNull();
    expect(s.t.ctx.store.runs.latest('tokyo', ['skipped'])).toBeNull();
  });

  it('catches up only the most recent slot missed while it was down, and records every miss', async () => {
    const s = setup([{ name: 'daily', schedule: { cron: '0 3 * * *', timezone: 'UTC' } }], '2026-01-04T10:00:00Z', {
      before: (t) => t.ctx.store.schedule.setCoveredUntil('daily', at('2026-01-01T03:00:00Z')),
    });
    await s.scheduler.start();
    expect(s.runs.calls.map((c) => c.trigger)).toEqual(['catch-up']);
    const m = await s.metrics();
    expect(series(m, 'agentdrift_scheduler_missed_runs_total', { track: 'daily' })).toBe(3);
    const ops = s.t.ctx.figures.ops('daily');
    expect(ops.missedRuns).toBe(3);
    expect(s.t.ctx.store.schedule.lastMissed('daily')).toMatchObject({ count: 3, fromMs: at('2026-01-02T03:00:00Z'), toMs: at('2026-01-04T03:00:00Z') });
    expect(s.t.ctx.store.schedule.lastMissed('daily')!.reason).toBe(
      '3 scheduled run(s) from 2026-01-02T03:00:00.000Z to 2026-01-04T03:00:00.000Z missed while the daemon was down; ' +
        'the most recent one runs now (schedule.catchUp)',
    );
    expect(logged(s.t, 'scheduled runs missed while the daemon was down')).toMatchObject([
      { level: 40, room: 'scheduler', track: 'daily', missed: 3, from: '2026-01-02T03:00:00.000Z', to: '2026-01-04T03:00:00.000Z', catchUp: true },
    ]);
    // Started again soon after: nothing more was missed, nothing runs.
    s.runs.calls[0]!.finish();
    await s.scheduler.stop(0);
    const again = new Scheduler({ deps: s.t.ctx, disk: s.t.ctx.exporter, runtime: s.rt, clock: s.clock, execute: s.runs.execute });
    scheduler = again;
    await s.clock.advance(3_600_000);
    await again.start();
    expect(s.runs.calls).toHaveLength(1);
    expect(s.t.ctx.figures.ops('daily').missedRuns).toBe(3);
  });

  it('records the slots a late timer passed over (host suspended, event loop blocked) as missed, runs its own slot, re-arms after now', async () => {
    const s = setup([{ name: 'hourly', schedule: { cron: '0 * * * *', timezone: 'UTC' } }], '2026-01-01T12:00:30Z');
    await s.scheduler.start();
    // On time: nothing missed.
    await s.clock.advanceTo(at('2026-01-01T13:00:00Z'));
    expect(s.runs.calls).toHaveLength(1);
    s.runs.calls[0]!.finish();
    await flush();
    expect(s.t.ctx.figures.ops('hourly').missedRuns).toBe(0);

    // The host sleeps from before 14:00 to 16:30: the 14:00 timer fires at 16:30, past the 15:00 and 16:00 slots.
    s.clock.t = at('2026-01-01T16:30:00Z');
    await s.clock.advance(0);
    expect(s.runs.calls.map((c) => c.trigger)).toEqual(['scheduler', 'scheduler']);
    const missed = s.t.ctx.store.schedule.lastMissed('hourly')!;
    expect(missed).toMatchObject({ count: 2, fromMs: at('2026-01-01T15:00:00Z'), toMs: at('2026-01-01T16:00:00Z'), at: at('2026-01-01T16:30:00Z') });
    expect(missed.reason).toContain('the timer of the slot at 2026-01-01T14:00:00.000Z fired 9000 s late');
    expect(missed.reason).toBe(
      '2 scheduled run(s) from 2026-01-01T15:00:00.000Z to 2026-01-01T16:00:00.000Z passed over: ' +
        'the timer of the slot at 2026-01-01T14:00:00.000Z fired 9000 s late (host suspended or event loop blocked); that slot ran late, these did not run',
    );
    expect(logged(s.t, 'scheduled runs passed over while the timer was late')).toMatchObject([
      {
        level: 40, room: 'scheduler', track: 'hourly', missed: 2, from: '2026-01-01T15:00:00.000Z', to: '2026-01-01T16:00:00.000Z',
        slot: '2026-01-01T14:00:00.000Z', lateMs: 9_000_000,
      },
    ]);
    let m = await s.metrics();
    expect(series(m, 'agentdrift_scheduler_missed_runs_total', { track: 'hourly' })).toBe(2);
    expect(series(m, 'agentdrift_next_run_timestamp_seconds', { track: 'hourly' })).toBe(secs('2026-01-01T17:00:00Z'));
    expect(s.t.logs.join('')).toContain('scheduled runs passed over while the timer was late');

    // Late again while that run still goes: the timer's slot is skipped, the one it passed over missed.
    s.clock.t = at('2026-01-01T18:00:05Z');
    await s.clock.advance(0);
    expect(s.runs.calls).toHaveLength(2);
    expect(s.t.ctx.store.runs.latest('hourly', ['skipped'])).toMatchObject({ startedAt: '2026-01-01T17:00:00.000Z' });
    expect(s.t.ctx.store.schedule.lastMissed('hourly')).toMatchObject({ count: 1, fromMs: at('2026-01-01T18:00:00Z'), toMs: at('2026-01-01T18:00:00Z') });
    m = await s.metrics();
    expect(series(m, 'agentdrift_scheduler_missed_runs_total', { track: 'hourly' })).toBe(3);

    // A restart now finds nothing more missed: the passed-over slots are covered.
    s.runs.calls[1]!.finish();
    await flush();
    await s.scheduler.stop(0);
    const again = new Scheduler({ deps: s.t.ctx, disk: s.t.ctx.exporter, runtime: s.rt, clock: s.clock, execute: s.runs.execute });
    scheduler = again;
    await again.start();
    expect(s.runs.calls).toHaveLength(2);
    expect(s.t.ctx.figures.ops('hourly').missedRuns).toBe(3);
  });

  it('records a miss without running it when schedule.catchUp is false', async () => {
    const s = setup([{ name: 'daily', schedule: { cron: '0 3 * * *', timezone: 'UTC', catchUp: false } }], '2026-01-02T10:00:00Z', {
      before: (t) => t.ctx.store.schedule.setCoveredUntil('daily', at('2026-01-01T03:00:00Z')),
    });
    await s.scheduler.start();
    expect(s.runs.calls).toHaveLength(0);
    expect(series(await s.metrics(), 'agentdrift_scheduler_missed_runs_total', { track: 'daily' })).toBe(1);
    expect(s.t.ctx.store.schedule.lastMissed('daily')).toMatchObject({
      count: 1,
      at: at('2026-01-02T10:00:00Z'),
      reason:
        '1 scheduled run(s) from 2026-01-02T03:00:00.000Z to 2026-01-02T03:00:00.000Z missed while the daemon was down; ' +
        'not caught up (schedule.catchUp is false)',
    });
    expect(logged(s.t, 'scheduled runs missed while the daemon was down')).toMatchObject([{ track: 'daily', missed: 1, catchUp: false }]);
  });

  it('resumes at start a run the daemon was stopped during, even with no slot missed', async () => {
    let stale = 0;
    const s = setup([{ name: 'daily', schedule: { cron: '0 3 * * *', timezone: 'UTC' } }], '2026-01-01T03:30:00Z', {
      before: (t) => {
        t.ctx.store.schedule.setCoveredUntil('daily', at('2026-01-01T03:00:00Z'));
        stale = t.ctx.store.runs.create(
          { track: 'daily', state: 'running', trigger: 'scheduler', reason: null, startedAt: '2026-01-01T03:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null },
          { taskIds: ['task-a'], samples: 1 },
        );
      },
    });
    // The dead daemon's attempt container, and one of a track this daemon does not run (another daemon's).
    const left = await attemptContainer(s.rt, 'daily', stale);
    const foreign = await attemptContainer(s.rt, 'not-configured-here', 1);
    await s.scheduler.start();
    // Left `running` by a daemon that died: counted interrupted, its containers removed, then resumed.
    expect(s.removed()).toContainEqual({ 'agentdrift.managed': 'true', 'agentdrift.track': 'daily' });
    expect(s.rt.container(left)).toBeUndefined();
    expect(s.rt.container(foreign)?.status).toBe('running');
    expect(s.runs.calls).toMatchObject([{ runId: stale, resumed: true, trigger: 'resume' }]);
    const m = await s.metrics();
    expect(series(m, 'agentdrift_runs_total', { track: 'daily', state: 'interrupted' })).toBe(1);
    expect(series(m, 'agentdrift_scheduler_missed_runs_total', { track: 'daily' })).toBe(0);
  });

  it('starts a run on demand, refuses a second while it goes on, and cancels it', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z');
    await s.scheduler.start();
    const started = await s.scheduler.trigger('daily');
    expect(s.runs.calls).toMatchObject([{ trigger: 'manual', runId: started.runId }]);
    expect(s.scheduler.isLive(started.runId)).toBe(true);
    await expect(s.scheduler.trigger('daily')).rejects.toBeInstanceOf(RunBusyError);
    const cancelled = await s.scheduler.cancel(started.runId);
    expect(cancelled).toMatchObject({ state: 'cancelled', reason: 'cancelled through the API' });
    expect(s.removed()).toContainEqual({ 'agentdrift.managed': 'true', 'agentdrift.track': 'daily', 'agentdrift.run': String(started.runId) });
    expect(s.rt.list({ 'agentdrift.run': String(started.runId) })).toEqual([]);
    await expect(s.scheduler.cancel(started.runId)).rejects.toBeInstanceOf(RunEndedError);
    // A cancelled run is never resumed: the next run is a new one.
    const next = await s.scheduler.trigger('daily');
    expect(next.runId).not.toBe(started.runId);
    expect(next.resumed).toBe(false);
    expect(series(await s.metrics(), 'agentdrift_runs_total', { track: 'daily', state: 'cancelled' })).toBe(1);
  });

  it('cancels an interrupted run that waits to resume, so it never resumes', async () => {
    let waiting = 0;
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', {
      before: (t) => {
        waiting = t.ctx.store.runs.create(
          { track: 'daily', state: 'interrupted', trigger: 'scheduler', reason: null, startedAt: '2026-01-01T03:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null },
          { taskIds: ['task-a'], samples: 1 },
        );
      },
    });
    await s.scheduler.start();
    // It resumed at start: stop that (interrupted again), then cancel it while nothing runs.
    await s.scheduler.stop(1000);
    const fresh = new Scheduler({ deps: s.t.ctx, disk: s.t.ctx.exporter, runtime: s.rt, clock: s.clock, execute: s.runs.execute });
    scheduler = fresh;
    expect(s.t.ctx.store.runs.get(waiting)!.state).toBe('interrupted');
    expect(await fresh.cancel(waiting)).toMatchObject({ state: 'cancelled' });
    await fresh.start();
    expect(s.runs.calls).toHaveLength(1);
  });

  it('leaves alone a track another agentdrift process runs, skips its slots, and resumes its run once that process lets go', async () => {
    let theirs = 0;
    // `agentdrift run` in another process (this test's parent: a live pid on this host) holds the track.
    const other = { id: 'agentdrift-run-elsewhere', pid: process.ppid, host: hostname(), purpose: 'agentdrift run' };
    const s = setup([{ name: 'daily', schedule: { cron: '0 3 * * *', timezone: 'UTC' } }, { name: 'other' }], '2026-01-01T02:59:50Z', {
      before: (t) => {
        theirs = t.ctx.store.runs.create(
          { track: 'daily', state: 'running', trigger: 'cli', reason: null, startedAt: '2026-01-01T02:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null },
          { taskIds: ['task-a'], samples: 1 },
        );
        expect(t.ctx.store.leases.acquire('daily', other, Date.now(), () => true)).toEqual({ acquired: true });
      },
    });
    const daily = () => s.runs.calls.filter((c) => c.track === 'daily');
    // The other process's attempt container, and a leftover of the other track (no run of it goes on).
    const theirContainer = await attemptContainer(s.rt, 'daily', theirs);
    const leftover = await attemptContainer(s.rt, 'other', theirs + 100);
    await s.scheduler.start();
    // Its run is not taken for one a dead daemon left, its containers are not leftovers, nothing resumes it here.
    expect(s.t.ctx.store.runs.get(theirs)).toMatchObject({ state: 'running', endedAt: null });
    expect(s.removed()).toEqual([{ 'agentdrift.managed': 'true', 'agentdrift.track': 'other' }]);
    expect(s.rt.container(theirContainer)?.status).toBe('running');
    expect(s.rt.container(leftover)).toBeUndefined();
    expect(daily()).toHaveLength(0);

    // On demand: refused with the holder named, and nothing recorded.
    const refused = await s.scheduler.trigger('daily').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TrackBusyError);
    expect((refused as Error).message).toContain(`(agentdrift run, pid ${process.ppid} on ${hostname()}`);
    expect(s.t.ctx.store.runs.list('daily', { limit: 10, offset: 0 }).total).toBe(1);
    await expect(s.scheduler.cancel(theirs)).rejects.toBeInstanceOf(RunElsewhereError);
    expect(s.t.ctx.store.runs.get(theirs)!.state).toBe('running');

    // A slot while it goes on is skipped, with the reason.
    await s.clock.advanceTo(at('2026-01-01T03:00:00Z'));
    const skipped = s.t.ctx.store.runs.latest('daily', ['skipped'])!;
    expect(skipped).toMatchObject({ trigger: 'scheduler' });
    expect(skipped.reason).toMatch(/^track "daily" is being run by another agentdrift process \(agentdrift run, pid/);
    expect(series(await s.metrics(), 'agentdrift_runs_total', { track: 'daily', state: 'skipped' })).toBe(1);
    expect(daily()).toHaveLength(0);

    // The other process dies without ending its run (its lease goes with it): the run resumes here.
    await s.clock.advance(60_000);
    expect(daily()).toHaveLength(0);
    s.t.ctx.store.leases.release('daily', other.id);
    await s.clock.advance(30_000);
    expect(daily()).toMatchObject([{ runId: theirs, resumed: true, trigger: 'resume' }]);
  });

  it('stores a run that could not start as failed, with the reason', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z');
    await s.scheduler.start();
    s.runs.failNext = new Error('the Docker Engine does not answer');
    const r = await s.scheduler.trigger('daily');
    const run = s.t.ctx.store.runs.get(r.runId)!;
    expect(run).toMatchObject({ state: 'failed', trigger: 'manual', reason: 'could not start: the Docker Engine does not answer' });
    expect(run.endedAt).not.toBeNull();
    expect(series(await s.metrics(), 'agentdrift_runs_total', { track: 'daily', state: 'failed' })).toBe(1);
    expect(s.scheduler.activeRun('daily')).toBeNull();
  });

  it('checks the Docker Engine on its interval, not per scrape', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', { checkIntervalMs: 15_000 });
    await s.scheduler.start();
    expect(series(await s.metrics(), 'agentdrift_docker_up')).toBe(1);
    s.rt.up = false;
    expect(series(await s.metrics(), 'agentdrift_docker_up')).toBe(1);
    await s.clock.advance(15_000);
    expect(series(await s.metrics(), 'agentdrift_docker_up')).toBe(0);
    s.rt.up = true;
    await s.clock.advance(15_000);
    expect(series(await s.metrics(), 'agentdrift_docker_up')).toBe(1);
  });

  it('starts all the same when the engine fails to remove the leftovers: logged, the container left for a later start', async () => {
    let stale = 0;
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', {
      before: (t) => {
        stale = t.ctx.store.runs.create(
          {
            track: 'daily', state: 'running', trigger: 'scheduler', reason: null, startedAt: '2026-01-01T03:00:00Z', endedAt: null,
            agentVersion: null, modelId: null, suiteHash: null,
          },
          { taskIds: ['task-a'], samples: 1 },
        );
      },
    });
    const left = await attemptContainer(s.rt, 'daily', stale);
    s.rt.failNext('removeLeftovers', 'remove_failed', 'injected: the engine could not remove the container');
    await s.scheduler.start();
    expect(s.t.logs.filter((l) => l.includes('could not remove leftover containers') && l.includes('injected: the engine could not remove'))).toHaveLength(1);
    expect(s.rt.container(left)?.status).toBe('running');
    expect(s.runs.calls).toMatchObject([{ runId: stale, resumed: true, trigger: 'resume' }]);
    expect(series(await s.metrics(), 'agentdrift_docker_up')).toBe(1);
  });

  it('a cancel past its grace period is final even when the engine cannot remove the run\'s containers', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', { graceMs: 3000 });
    await s.scheduler.start();
    s.runs.stubborn = true;
    const stuck = await s.scheduler.trigger('daily');
    await flush();
    s.rt.failNext('removeLeftovers', 'remove_failed', 'injected: removal refused');
    const cancelling = s.scheduler.cancel(stuck.runId);
    await s.clock.advance(3000);
    expect(await cancelling).toMatchObject({ id: stuck.runId, state: 'cancelled' });
    expect(s.t.logs.filter((l) => l.includes('could not remove the run\'s containers') && l.includes('injected: removal refused'))).toHaveLength(1);
    // Its container stays (a later run's leftover removal takes it); the track is free all the same.
    expect(s.rt.list({ 'agentdrift.run': String(stuck.runId) })).toHaveLength(1);
    expect(s.scheduler.isLive(stuck.runId)).toBe(false);
    s.runs.stubborn = false;
    const next = await s.scheduler.trigger('daily');
    expect(next.runId).not.toBe(stuck.runId);
  });

  it('recomputes the figures on its next check when another process changed the store, and not for its own writes', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', { checkIntervalMs: 15_000 });
    await s.scheduler.start();
    const resolved = async () => series(await s.metrics(), 'agentdrift_attempts_total', { track: 'daily', outcome: 'resolved' });
    expect(await resolved()).toBe(0);
    const computed = () => s.t.logs.filter((l) => l.includes('figures recomputed')).length;
    await s.clock.advance(15_000);
    const before = computed();
    // An `agentdrift run` (another process, another connection to the same file) stores a run with an attempt.
    const other = new Store(s.t.ctx.store.file);
    try {
      const runId = other.runs.create({ track: 'daily', state: 'running', trigger: 'cli', reason: null, startedAt: '2026-01-01T04:00:00Z', endedAt: null, agentVersion: null, modelId: null, suiteHash: null });
      other.attempts.insert(runId, {
        taskId: 'task-a', sampleIndex: 0, outcome: 'resolved', reason: null, inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd: 0.25,
        turns: 3, toolCalls: 2, agentDurationMs: 1000, gradingDurationMs: 500, patchBytes: 10, transcriptPath: null, gradingLogPath: null,
        startedAt: '2026-01-01T04:00:00Z', endedAt: '2026-01-01T04:10:00Z',
      });
      other.runs.finish(runId, 'completed', null, at('2026-01-01T04:30:00Z'));
    } finally {
      other.close();
    }
    expect(await resolved()).toBe(0);
    await s.clock.advance(15_000);
    expect(await resolved()).toBe(1);
    expect(series(await s.metrics(), 'agentdrift_runs_total', { track: 'daily', state: 'completed' })).toBe(1);
    expect(computed()).toBe(before + 1);
    // Nothing changed since (the daemon's own reads and writes do not count): no recomputation.
    await s.clock.advance(30_000);
    expect(computed()).toBe(before + 1);
  });

  it('says when the day\'s budget is spent, by the track\'s time zone, and stops saying it the next day', async () => {
    const s = setup([{ name: 'tokyo', schedule: { cron: '0 3 * * *', timezone: 'Asia/Tokyo' }, budget: { dailyUsd: 1 } }], '2026-01-01T10:00:00Z');
    const run = s.t.ctx.store.runs.create(
      { track: 'tokyo', state: 'completed', trigger: 'manual', reason: null, startedAt: '2026-01-01T09:00:00Z', endedAt: '2026-01-01T09:30:00Z', agentVersion: null, modelId: null, suiteHash: null },
      { taskIds: ['a', 'b'], samples: 1 },
    );
    const attempt = (taskId: string, endedAt: string, costUsd: number) =>
      s.t.ctx.store.attempts.insert(run, {
        taskId, sampleIndex: 0, outcome: 'resolved', reason: null, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd,
        turns: 1, toolCalls: 0, agentDurationMs: 1, gradingDurationMs: 1, patchBytes: 1, transcriptPath: null, gradingLogPath: null, startedAt: endedAt, endedAt,
      });
    attempt('a', '2025-12-31T14:30:00Z', 5); // 23:30 the day before in Tokyo
    attempt('b', '2026-01-01T09:00:00Z', 1.25); // 18:00 on Jan 1st in Tokyo
    await s.scheduler.start();
    expect(s.t.ctx.figures.ops('tokyo')).toMatchObject({ costTodayUsd: 1.25, budgetExhausted: true, dayStartMs: at('2025-12-31T15:00:00Z') });
    expect(series(await s.metrics(), 'agentdrift_budget_exhausted', { track: 'tokyo' })).toBe(1);
    // Midnight in Tokyo is 15:00 UTC: the next check after it clears the flag.
    await s.clock.advanceTo(at('2026-01-01T16:00:00Z'));
    expect(series(await s.metrics(), 'agentdrift_budget_exhausted', { track: 'tokyo' })).toBe(0);
    expect(series(await s.metrics(), 'agentdrift_cost_today_usd', { track: 'tokyo' })).toBe(0);
  });

  it('starts nothing when a shutdown came first (a signal right after the server began listening)', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', {
      before: (t) => t.ctx.store.schedule.setCoveredUntil('daily', at('2025-12-30T00:00:00Z')),
    });
    await s.scheduler.stop();
    await s.scheduler.start();
    expect(s.runs.calls).toHaveLength(0);
    expect(s.clock.pending()).toBe(0);
  });

  it('a cancel is final: a run that will not stop is cancelled after the grace period and its track can run again', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', { graceMs: 3000 });
    await s.scheduler.start();
    s.runs.stubborn = true;
    const stuck = await s.scheduler.trigger('daily');
    await flush();
    const ofStuck = { 'agentdrift.track': 'daily', 'agentdrift.run': String(stuck.runId) };
    expect(s.rt.list(ofStuck).map((c) => c.status)).toEqual(['running']);
    const cancelling = s.scheduler.cancel(stuck.runId, 'cancelled by the test');
    await s.clock.advance(3000);
    const after = await cancelling;
    expect(after).toMatchObject({ id: stuck.runId, state: 'cancelled', reason: 'cancelled by the test' });
    expect(after.endedAt).not.toBeNull();
    expect(s.removed()).toContainEqual({ 'agentdrift.managed': 'true', 'agentdrift.track': 'daily', 'agentdrift.run': String(stuck.runId) });
    // The run ignored the abort and still holds its container: the cancel removed it.
    expect(s.rt.list(ofStuck)).toEqual([]);
    expect(s.scheduler.isLive(stuck.runId)).toBe(false);
    // The track is free: a new run starts (the stuck one's lease was taken back), and the stuck run, should it
    // wake up, changes nothing of the cancelled one nor lets go of the new one.
    s.runs.stubborn = false;
    const next = await s.scheduler.trigger('daily');
    expect(next.runId).not.toBe(stuck.runId);
    s.runs.calls.find((c) => c.runId === stuck.runId)!.finish('completed');
    await flush();
    expect(s.t.ctx.store.runs.get(stuck.runId)).toMatchObject({ state: 'cancelled' });
    expect(s.scheduler.isLive(next.runId)).toBe(true);
    await expect(s.scheduler.trigger('daily')).rejects.toThrow(/is going on/);
    s.runs.calls.find((c) => c.runId === next.runId)!.finish('completed');
    await flush();
  });

  it('on shutdown aborts the run (interrupted, resumed next start); one that will not stop is marked after the grace period', async () => {
    const s = setup([{ name: 'daily' }], '2026-01-01T05:00:00Z', { graceMs: 3000 });
    await s.scheduler.start();
    const r = await s.scheduler.trigger('daily');
    await s.scheduler.stop();
    expect(s.t.ctx.store.runs.get(r.runId)).toMatchObject({ state: 'interrupted', endedAt: null });
    await expect(s.scheduler.trigger('daily')).rejects.toThrow(/shutting down/);
    expect(s.clock.pending()).toBe(0);

    const again = new Scheduler({ deps: s.t.ctx, disk: s.t.ctx.exporter, runtime: s.rt, clock: s.clock, execute: s.runs.execute, graceMs: 3000 });
    scheduler = again;
    await again.start();
    expect(s.runs.calls[1]).toMatchObject({ runId: r.runId, resumed: true });
    s.runs.stubborn = true;
    s.runs.calls[1]!.finish('completed');
    await flush();
    const stubborn = await again.trigger('daily');
    await flush();
    const ofStubborn = { 'agentdrift.track': 'daily', 'agentdrift.run': String(stubborn.runId) };
    expect(s.rt.list(ofStubborn)).toHaveLength(1);
    const stopping = again.stop();
    await s.clock.advance(3000);
    await stopping;
    expect(s.t.ctx.store.runs.get(stubborn.runId)).toMatchObject({ state: 'interrupted' });
    // The interrupted run has no end yet: the last run's end is still the completed one's.
    const m = await s.metrics();
    expect(series(m, 'agentdrift_last_run_timestamp_seconds', { track: 'daily' })).toBe(Date.parse(s.t.ctx.store.runs.get(r.runId)!.endedAt!) / 1000);
    expect(series(m, 'agentdrift_runs_total', { track: 'daily', state: 'interrupted' })).toBe(2);
    expect(s.removed()).toContainEqual({ 'agentdrift.managed': 'true', 'agentdrift.track': 'daily', 'agentdrift.run': String(stubborn.runId) });
    expect(s.rt.list(ofStubborn)).toEqual([]);
  });
});
