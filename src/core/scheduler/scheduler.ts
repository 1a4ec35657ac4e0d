/**
 * The daemon's scheduler: one timer per track on its cron expression and time zone, at most one run of a track at a
 * time, tracks independent of each other.
 *
 * - A slot that comes while the track's run is still going is stored as a `skipped` run with the reason.
 * - On start: runs stored as `running` (the daemon died during them) become `interrupted`; slots missed while the
 *   daemon was down are recorded (agentdrift_scheduler_missed_runs_total) and, with `schedule.catchUp`, the most
 *   recent one runs now; an unfinished run resumes now either way (executeRun resumes the track's unfinished run).
 * - A timer that fires late while the daemon runs (host suspended, event loop blocked) runs its own slot late and
 *   records the slots it passed over as missed, the same record as the start-up's.
 * - Control: trigger a run now (refused while one goes on), cancel a run (its containers killed and removed, finished
 *   attempts kept, never resumed), stop everything for a shutdown (runs end `interrupted` and resume on the next start).
 * - Every change of the next slot, of a run's state or progress, and a periodic check of the Docker Engine refresh
 *   the operational series at once.
 *
 * Time comes from an injectable {@link Clock}, so tests drive days of schedule in milliseconds.
 */
import type { Logger } from 'pino';
import { trackNamed } from '../../config/index.ts';
import type { Figures, FiguresRefresh, LiveSource } from '../figures/figures.ts';
import { LABEL_MANAGED, LABEL_RUN, LABEL_TRACK, type ContainerRuntime } from '../../executor/runtime.ts';
import type { RunRow } from '../../domain/types.ts';
import type { LeaseRow } from '../../domain/records.ts';
import { LEASE_TTL_MS, otherLiveHolder, revokeTrackLease, TrackBusyError } from '../runner/lease.ts';
import { executeRun, RunFailedError, RunStop, type RunDeps, type RunOptions, type RunSummary } from '../runner/run.ts';
import { dockerDiskFigures, removeUnusedImages, type DockerDiskFigures } from '../runner/images.ts';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers accept at most 2^31 - 1 ms; a longer wait wakes early and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS)),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the scheduler needs: what a run needs, and the figures whose live part (next slot, run going on) it feeds. */
export interface SchedulerDeps extends RunDeps {
  figures: FiguresRefresh & Pick<Figures, 'attachLive' | 'schedule' | 'refreshOps'>;
}

/** Where the engine's disk figures go (the metrics exporter). */
export interface DockerDiskSink {
  applyDockerDisk(d: DockerDiskFigures | null): void;
}

export type ExecuteRun = (deps: RunDeps, runtime: ContainerRuntime, track: string, opts: RunOptions) => Promise<RunSummary>;

export interface SchedulerOptions {
  deps: SchedulerDeps;
  runtime: ContainerRuntime;
  /** Where the disk figures measured at each check go (the metrics exporter). */
  disk: DockerDiskSink;
  clock?: Clock;
  /** What runs a track (default executeRun; tests pass a stand-in). */
  execute?: ExecuteRun;
  /** How often the Docker Engine is checked (and the day's budget re-read). Default 15 s. */
  checkIntervalMs?: number;
  /** How often, at most, the engine's disk (images, data root free space) is measured at a check. Default 60 s. */
  diskIntervalMs?: number;
  /** How long a cancel or a shutdown waits for a run to stop (default server.shutdownGraceSeconds). */
  graceMs?: number;
  /** How often a track run by another process at start is checked again, to resume its run once it is free (30 s). */
  elsewhereRetryMs?: number;
}

/** A run could not start because one of the track is going on. */
export class RunBusyError extends Error {
  constructor(
    readonly track: string,
    readonly runId: number | null,
  ) {
    super(`a run of track "${track}" is going on${runId === null ? ' (being set up)' : ` (run ${runId})`}; cancel it or wait for it to end`);
    this.name = 'RunBusyError';
  }
}

/** The run cannot be cancelled: it has ended already. */
export class RunEndedError extends Error {
  constructor(readonly run: RunRow) {
    super(`run ${run.id} has already ended (${run.state})`);
    this.name = 'RunEndedError';
  }
}

/** The run is going on in another agentdrift process (an `agentdrift run`): it can only be stopped there. */
export class RunElsewhereError extends Error {
  constructor(
    readonly run: RunRow,
    readonly busy: TrackBusyError,
  ) {
    super(`run ${run.id} is not this daemon's: ${busy.message}`);
    this.name = 'RunElsewhereError';
  }
}

/** The scheduler is stopping (shutdown): no new work. */
export class SchedulerStoppingError extends Error {
  constructor() {
    super('the daemon is shutting down: no new runs');
    this.name = 'SchedulerStoppingError';
  }
}

export interface StartedRun {
  /** The stored run (null when it failed before it could be stored, which cannot happen: a failure is stored). */
  runId: number;
  resumed: boolean;
}

interface ActiveRun {
  track: string;
  trigger: string;
  runId: number | null;
  resumed: boolean;
  controller: AbortController;
  started: Promise<StartedRun>;
  done: Promise<void>;
}

/** What the HTTP API needs of the scheduler. */
export interface RunControl {
  trigger(track: string, trigger?: string): Promise<StartedRun>;
  cancel(runId: number, reason?: string): Promise<RunRow>;
  isLive(runId: number): boolean;
}

export class Scheduler implements LiveSource, RunControl {
  private readonly deps: SchedulerDeps;
  private readonly disk: DockerDiskSink;
  private readonly runtime: ContainerRuntime;
  private readonly clock: Clock;
  private readonly execute: ExecuteRun;
  private readonly checkIntervalMs: number;
  private readonly diskIntervalMs: number;
  private lastDiskMs = -Infinity;
  private readonly graceMs: number;
  private readonly elsewhereRetryMs: number;
  private readonly log: Logger;
  private readonly active = new Map<string, ActiveRun>();
  private readonly timers = new Map<string, unknown>();
  private readonly elsewhereTimers = new Map<string, unknown>();
  private readonly next = new Map<string, number | null>();
  private checkTimer: unknown = null;
  private docker: boolean | null = null;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(opts: SchedulerOptions) {
    this.deps = opts.deps;
    this.disk = opts.disk;
    this.runtime = opts.runtime;
    this.clock = opts.clock ?? realClock;
    this.execute = opts.execute ?? executeRun;
    this.checkIntervalMs = opts.checkIntervalMs ?? 15_000;
    this.diskIntervalMs = opts.diskIntervalMs ?? 60_000;
    this.graceMs = opts.graceMs ?? opts.deps.config.server.shutdownGraceSeconds * 1000;
    this.elsewhereRetryMs = opts.elsewhereRetryMs ?? LEASE_TTL_MS / 2;
    this.log = opts.deps.log.child({ room: 'scheduler' });
  }

  // --- LiveSource ---------------------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  nextRunMs(track: string): number | null {
    return this.next.get(track) ?? null;
  }

  liveRun(track: string): { id: number | null } | null {
    const a = this.active.get(track);
    return a ? { id: a.runId } : null;
  }

  dockerUp(): boolean | null {
    return this.docker;
  }

  isLive(runId: number): boolean {
    return [...this.active.values()].some((a) => a.runId === runId);
  }

  /** The run going on for the track, if any (for tests and the API). */
  activeRun(track: string): { runId: number | null; trigger: string; done: Promise<void> } | null {
    const a = this.active.get(track);
    return a ? { runId: a.runId, trigger: a.trigger, done: a.done } : null;
  }

  // --- lifecycle ----------------------------------------------------------------------------------------------

  /**
   * Takes over the tracks: marks runs left `running` by a dead daemon interrupted, removes their leftover
   * containers, records missed slots, arms every track's timer and starts the catch-up or resumed runs.
   */
  /** Whether stop() began while start() was waiting; start() must then leave the (maybe closed) store alone. */
  private stoppedMeanwhile(): boolean {
    return this.state !== 'running';
  }

  async start(): Promise<void> {
    // A shutdown that came before the start (a signal right after listening) leaves nothing to start.
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.state !== 'new') throw new Error('the scheduler was started already');
    this.state = 'running';
    const { deps } = this;
    deps.figures.attachLive(this);
    // A track that another live process (an `agentdrift run`) is running now is its business: its run is not stale,
    // its containers are not leftovers; the scheduler's own runs of it wait for the lease (a slot then is skipped).
    const elsewhere = new Map<string, LeaseRow>();
    for (const t of deps.config.tracks) {
      const holder = otherLiveHolder(deps.store, t.name);
      if (holder) elsewhere.set(t.name, holder);
    }
    for (const t of deps.config.tracks) {
      const holder = elsewhere.get(t.name);
      if (holder) {
        this.log.warn({ track: t.name, holder }, 'another agentdrift process is running this track; its run is left alone');
        continue;
      }
      const stale = deps.store.runs.latest(t.name, ['running']);
      if (stale) {
        deps.store.runs.finish(stale.id, 'interrupted', 'the daemon stopped during the run (crash or kill); resumes now');
        this.log.warn({ track: t.name, run: stale.id }, 'a run was left running by a daemon that stopped; it resumes now');
      }
    }
    await this.checkDocker();
    // A shutdown may come while start() waits on the engine; past that point the store may be closed.
    if (this.stoppedMeanwhile()) return;
    // Containers of these tracks are leftovers now: no run of them goes on. Other tracks' containers (another
    // daemon on the same engine) are not ours to touch.
    for (const t of deps.config.tracks) {
      if (elsewhere.has(t.name)) continue;
      try {
        const n = await this.runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: t.name });
        if (n) this.log.info({ track: t.name, removed: n }, 'removed containers left by an earlier daemon');
      } catch (e) {
        this.log.warn({ track: t.name, err: (e as Error).message }, 'could not remove leftover containers');
      }
    }
    if (this.stoppedMeanwhile()) return;
    // Images agentdrift pulled that no configured suite uses any more (the config changed while it was down).
    try {
      if (this.docker) await removeUnusedImages(deps.store, this.runtime, deps.config, this.log);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not remove unused images');
    }
    if (this.stoppedMeanwhile()) return;
    this.scheduleCheck();
    for (const t of deps.config.tracks) {
      const now = this.clock.now();
      const schedule = deps.figures.schedule(t.name);
      const covered = deps.store.schedule.coveredUntil(t.name);
      let startNow: string | null = null;
      if (covered !== null) {
        const missed = schedule.slotsBetween(covered, now);
        if (missed.count > 0) {
          const iso = (ms: number | null) => new Date(ms as number).toISOString();
          const what = `${missed.capped ? 'at least ' : ''}${missed.count} scheduled run(s) from ${iso(missed.first)} to ${iso(missed.last)} missed while the daemon was down`;
          const reason = `${what}; ${t.schedule.catchUp ? 'the most recent one runs now (schedule.catchUp)' : 'not caught up (schedule.catchUp is false)'}`;
          deps.store.schedule.recordMissed(t.name, { count: missed.count, fromMs: missed.first as number, toMs: missed.last as number, at: now, reason });
          this.log.warn({ track: t.name, missed: missed.count, from: iso(missed.first), to: iso(missed.last), catchUp: t.schedule.catchUp }, 'scheduled runs missed while the daemon was down');
          if (t.schedule.catchUp) startNow = 'catch-up';
        }
      }
      const unfinished = deps.store.runs.latest(t.name, ['running', 'interrupted']);
      if (unfinished && !startNow && !elsewhere.has(t.name)) startNow = 'resume';
      deps.store.schedule.setCoveredUntil(t.name, now);
      this.arm(t.name);
      if (startNow && this.state === 'running') {
        this.log.info({ track: t.name, why: startNow, run: unfinished?.id }, startNow === 'resume' ? 'resuming the unfinished run' : 'catching up the missed run');
        this.launch(t.name, startNow);
      }
      if (elsewhere.has(t.name)) this.watchElsewhere(t.name);
    }
    deps.figures.refreshOps();
    this.log.info({ next: Object.fromEntries([...this.next].map(([k, v]) => [k, v === null ? null : new Date(v).toISOString()])) }, 'scheduler started');
  }

  /**
   * Shutdown: no new runs or slots; running runs are aborted (their containers killed) and end `interrupted`.
   * Waits at most the grace period; a run that has not stopped by then is marked interrupted here and its
   * containers are removed.
   */
  async stop(graceMs = this.graceMs): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    for (const h of [...this.timers.values(), ...this.elsewhereTimers.values()]) this.clock.clearTimeout(h);
    this.timers.clear();
    this.elsewhereTimers.clear();
    if (this.checkTimer !== null) this.clock.clearTimeout(this.checkTimer);
    this.checkTimer = null;
    const runs = [...this.active.values()];
    for (const a of runs) {
      this.log.info({ track: a.track, run: a.runId }, 'stopping the run: running attempts are killed, finished ones are kept; it resumes on the next start');
      a.controller.abort(new RunStop('interrupted', 'the daemon stopped during the run; resumes when it starts again'));
    }
    const settled = await this.within(Promise.all(runs.map((a) => a.done)), graceMs);
    if (!settled) {
      this.log.warn({ graceMs }, 'runs did not stop within the grace period: removing their containers');
      for (const a of runs) {
        if (!this.active.has(a.track)) continue;
        await this.removeContainers(a.track, a.runId);
        if (a.runId !== null && this.deps.store.isOpen) this.deps.store.runs.finish(a.runId, 'interrupted', 'the daemon stopped during the run; resumes when it starts again');
      }
    }
    this.state = 'stopped';
    this.deps.figures.refreshOps();
  }

  // --- control ------------------------------------------------------------------------------------------------

  /** Starts a run of the track now; resolves once it is stored (created or resumed) or has failed to start. */
  trigger(track: string, trigger = 'manual'): Promise<StartedRun> {
    trackNamed(this.deps.config, track);
    if (this.state !== 'running') return Promise.reject(new SchedulerStoppingError());
    const a = this.active.get(track);
    if (a) return Promise.reject(new RunBusyError(track, a.runId));
    return this.launch(track, trigger, { recordBusy: false }).started;
  }

  /**
   * Cancels a run: a live one is aborted (containers killed within the grace period), and any run not ended yet
   * (interrupted, or left running by a dead daemon) is marked cancelled so it is never resumed. Finished attempts
   * stay. Resolves with the run as stored.
   */
  async cancel(runId: number, reason = 'cancelled through the API'): Promise<RunRow> {
    const { store } = this.deps;
    const run = store.runs.get(runId);
    if (!run) throw new Error(`no run with id ${runId}`);
    const a = [...this.active.values()].find((x) => x.runId === runId);
    if (a) {
      this.log.info({ track: a.track, run: runId }, 'cancelling the run');
      a.controller.abort(new RunStop('cancelled', reason));
      const settled = await this.within(a.done, this.graceMs);
      if (!settled) {
        // A cancel is final, whatever the engine or the run does: the run is cancelled now, the track free to run
        // again (the stuck run loses its lease, so should it wake up it stores nothing over this), and its containers
        // are force-removed, waiting for that no longer than another grace period.
        this.log.warn({ run: runId }, 'the run did not stop within the grace period: cancelling it anyway and removing its containers');
        store.runs.finish(runId, 'cancelled', reason);
        if (this.active.get(a.track) === a) this.active.delete(a.track);
        revokeTrackLease(store, a.track);
        this.deps.figures.refreshOps();
        if (!(await this.within(this.removeContainers(a.track, runId), this.graceMs))) {
          this.log.warn({ run: runId }, 'the engine did not remove the run\'s containers within the grace period; a later run removes them as leftovers');
        }
      } else {
        await this.removeContainers(a.track, runId);
        store.runs.finish(runId, 'cancelled', reason);
      }
    } else if (run.state === 'running' || run.state === 'interrupted') {
      const holder = otherLiveHolder(store, run.track);
      if (holder && run.state === 'running') throw new RunElsewhereError(run, new TrackBusyError(run.track, holder));
      store.runs.finish(runId, 'cancelled', reason);
      await this.removeContainers(run.track, runId);
      this.log.info({ track: run.track, run: runId }, 'cancelled the unfinished run: it will not be resumed');
    } else {
      throw new RunEndedError(run);
    }
    this.deps.figures.refresh(run.track);
    return store.runs.get(runId) as RunRow;
  }

  // --- internals ----------------------------------------------------------------------------------------------

  private async within(p: Promise<unknown>, ms: number): Promise<boolean> {
    let handle: unknown = null;
    const timeout = new Promise<false>((r) => (handle = this.clock.setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([p.then(() => true as const), timeout]);
    } finally {
      this.clock.clearTimeout(handle);
    }
  }

  private async removeContainers(track: string, runId: number | null): Promise<void> {
    const labels: Record<string, string> = { [LABEL_MANAGED]: 'true', [LABEL_TRACK]: track };
    if (runId !== null) labels[LABEL_RUN] = String(runId);
    try {
      const n = await this.runtime.removeLeftovers(labels);
      if (n) this.log.info({ track, run: runId, removed: n }, 'removed the run\'s containers');
    } catch (e) {
      this.log.warn({ track, run: runId, err: (e as Error).message }, 'could not remove the run\'s containers');
    }
  }

  private scheduleCheck(): void {
    if (this.state !== 'running') return;
    this.checkTimer = this.clock.setTimeout(() => {
      void this.checkDocker().finally(() => this.scheduleCheck());
    }, this.checkIntervalMs);
  }

  /**
   * Pings the engine (agentdrift_docker_up) and re-reads the day's figures (the budget flag falls at midnight). When
   * another process changed the store meanwhile (an import, a baseline set, an `agentdrift run` storing attempts from
   * the command line), every track's figures are recomputed, so /metrics never waits for the daemon's next run.
   */
  private async checkDocker(): Promise<void> {
    let up: boolean;
    try {
      await this.runtime.ping();
      up = true;
    } catch {
      up = false;
    }
    if (up !== this.docker) {
      if (up) this.log.info('the Docker Engine answers');
      else this.log.error('the Docker Engine does not answer');
    }
    this.docker = up;
    if (!this.deps.store.isOpen) return;
    await this.checkDisk(up);
    if (!this.deps.store.isOpen) return;
    try {
      if (this.deps.store.changedByOthers()) {
        this.log.info('the store was changed by another agentdrift process: recomputing the figures');
        this.deps.figures.refresh();
      } else {
        this.deps.figures.refreshOps();
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'could not recompute the figures');
    }
  }

  /**
   * Measures the engine's disk (agentdrift_docker_* disk series) when the last measure is older than the disk
   * interval; an engine that does not answer leaves the series out.
   */
  private async checkDisk(up: boolean): Promise<void> {
    if (!up) {
      this.disk.applyDockerDisk(null);
      this.lastDiskMs = -Infinity;
      return;
    }
    const now = this.clock.now();
    if (now - this.lastDiskMs < this.diskIntervalMs) return;
    this.lastDiskMs = now;
    const { store, config } = this.deps;
    try {
      // The suites' own images serve to measure the data root when the daemon cannot see it (runs in a container).
      const helperImages = [...new Set(config.tracks.flatMap((t) => store.images.ofTrack(t.name) ?? []))];
      const usage = await this.runtime.diskUsage({ helperImages });
      if (!store.isOpen) return;
      this.disk.applyDockerDisk(dockerDiskFigures(usage, store, config));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not measure the Docker Engine\'s disk');
      this.disk.applyDockerDisk(null);
    }
  }

  /**
   * A track another process was running when the daemon started: once that process lets go (it ended, or died and
   * its lease ran out), a run it left unfinished resumes here, as it would have at start.
   */
  private watchElsewhere(track: string): void {
    this.elsewhereTimers.set(
      track,
      this.clock.setTimeout(() => {
        this.elsewhereTimers.delete(track);
        if (this.state !== 'running' || this.active.has(track)) return;
        if (otherLiveHolder(this.deps.store, track)) return this.watchElsewhere(track);
        const unfinished = this.deps.store.runs.latest(track, ['running', 'interrupted']);
        if (!unfinished) return;
        this.log.info({ track, run: unfinished.id }, 'the other process let go of the track: resuming its unfinished run');
        this.launch(track, 'resume');
      }, this.elsewhereRetryMs),
    );
  }

  /** Sets the track's timer for its next slot and publishes it. */
  private arm(track: string): void {
    const old = this.timers.get(track);
    if (old !== undefined) this.clock.clearTimeout(old);
    this.timers.delete(track);
    if (this.state !== 'running') return;
    const now = this.clock.now();
    const next = this.deps.figures.schedule(track).nextAfter(now);
    this.next.set(track, next);
    if (next !== null) this.wait(track, next);
    this.deps.figures.refreshOps();
  }

  private wait(track: string, slot: number): void {
    const delay = Math.max(0, slot - this.clock.now());
    this.timers.set(
      track,
      this.clock.setTimeout(() => {
        if (this.state !== 'running') return;
        // A long wait is cut into timer-sized pieces; a timer may also fire a little early.
        const now = this.clock.now();
        if (now < slot) return this.wait(track, slot);
        try {
          this.fire(track, slot);
        } catch (e) {
          this.log.error({ track, err: (e as Error).message }, 'could not handle a scheduled slot');
        }
        try {
          this.recordPassedOver(track, slot, now);
        } catch (e) {
          this.log.error({ track, err: (e as Error).message }, 'could not record the slots passed over');
        }
        this.arm(track);
      }, Math.min(delay, MAX_TIMER_MS)),
    );
  }

  /**
   * A timer that fired late (the host was suspended, the event loop blocked) has passed over the slots after its own
   * up to now: they are recorded missed, as the start-up records the slots missed while the daemon was down. The
   * timer's own slot has run (or been skipped); the next one armed is the first after now.
   */
  private recordPassedOver(track: string, slot: number, now: number): void {
    const missed = this.deps.figures.schedule(track).slotsBetween(slot, now);
    if (missed.count === 0) return;
    const iso = (ms: number | null) => new Date(ms as number).toISOString();
    const lateS = Math.round((now - slot) / 1000);
    const reason = `${missed.capped ? 'at least ' : ''}${missed.count} scheduled run(s) from ${iso(missed.first)} to ${iso(missed.last)} passed over: the timer of the slot at ${iso(slot)} fired ${lateS} s late (host suspended or event loop blocked); that slot ran late, these did not run`;
    this.deps.store.schedule.recordMissed(track, { count: missed.count, fromMs: missed.first as number, toMs: missed.last as number, at: now, reason });
    this.deps.store.schedule.setCoveredUntil(track, now);
    this.log.warn({ track, missed: missed.count, from: iso(missed.first), to: iso(missed.last), slot: iso(slot), lateMs: now - slot }, 'scheduled runs passed over while the timer was late');
  }

  /** A slot came: run the track, or record the slot skipped when its run is still going. */
  private fire(track: string, slot: number): void {
    const { store } = this.deps;
    store.schedule.setCoveredUntil(track, slot);
    const a = this.active.get(track);
    if (a) {
      const reason = `the previous run${a.runId === null ? '' : ` (${a.runId}, ${a.trigger})`} was still going at this scheduled time`;
      const id = store.runs.recordEnded({ track, state: 'skipped', trigger: 'scheduler', reason, startedAt: new Date(slot).toISOString() }, this.clock.now());
      this.log.warn({ track, run: id, going: a.runId, slot: new Date(slot).toISOString() }, 'scheduled run skipped: the previous run is still going');
      this.deps.figures.refreshOps();
      return;
    }
    this.log.info({ track, slot: new Date(slot).toISOString() }, 'scheduled run starts');
    this.launch(track, 'scheduler');
  }

  /**
   * Starts a run of the track. When another process runs the track (TrackBusyError), the slot is recorded as
   * skipped with that reason (`recordBusy`, the scheduler's own slots) or only refused (a trigger: the caller is told).
   */
  private launch(track: string, trigger: string, opts: { recordBusy: boolean } = { recordBusy: true }): ActiveRun {
    const { deps } = this;
    const controller = new AbortController();
    let resolveStarted!: (s: StartedRun) => void;
    let rejectStarted!: (e: unknown) => void;
    const started = new Promise<StartedRun>((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    // A trigger awaits `started`; the scheduler's own launches do not, so a failure there must not be unhandled.
    started.catch(() => undefined);
    const startedAt = this.clock.now();
    let busy: TrackBusyError | null = null;
    const a: ActiveRun = { track, trigger, runId: null, resumed: false, controller, started, done: Promise.resolve() };
    this.active.set(track, a);
    deps.figures.refreshOps();
    a.done = (async () => {
      try {
        const r = await this.execute(deps, this.runtime, track, {
          trigger,
          holder: 'the daemon',
          signal: controller.signal,
          now: () => this.clock.now(),
          onStart: (runId, resumed) => {
            a.runId = runId;
            a.resumed = resumed;
            resolveStarted({ runId, resumed });
            if (deps.store.isOpen) deps.figures.refreshOps();
          },
          onProgress: () => {
            if (deps.store.isOpen) deps.figures.refreshOps();
          },
        });
        this.log.info({ track, run: r.runId, state: r.state, attempted: r.attempted, resumed: r.resumed }, 'run ended');
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof RunFailedError) a.runId ??= e.runId;
        if (e instanceof TrackBusyError) {
          busy = e;
          if (opts.recordBusy && deps.store.isOpen) {
            a.runId = deps.store.runs.recordEnded({ track, state: 'skipped', trigger, reason: message.slice(0, 1000), startedAt: new Date(startedAt).toISOString() }, this.clock.now());
            deps.figures.refresh(track);
          }
          this.log.warn({ track, run: a.runId, trigger, err: message }, 'run not started: another agentdrift process is running the track');
        } else if (a.runId === null && deps.store.isOpen) {
          // It failed before it was stored (engine down, dataset unavailable, no credentials): store the failure, so a
          // scheduled day is never lost without a trace.
          a.runId = deps.store.runs.recordEnded({ track, state: 'failed', trigger, reason: `could not start: ${message}`.slice(0, 1000), startedAt: new Date(startedAt).toISOString() }, this.clock.now());
          deps.figures.refresh(track);
        }
        if (!busy) this.log.error({ track, run: a.runId, err: message }, 'run failed');
      } finally {
        // A cancel past its grace period has let go of this run already; the track may be running another one.
        if (this.active.get(track) === a) this.active.delete(track);
        if (busy && !opts.recordBusy) rejectStarted(busy);
        else if (a.runId !== null) resolveStarted({ runId: a.runId, resumed: a.resumed });
        else rejectStarted(new Error(`the run of ${track} ended before it was stored`));
        if (deps.store.isOpen) deps.figures.refreshOps();
      }
    })().catch((e: unknown) => this.log.error({ track, err: (e as Error).message }, 'run bookkeeping failed'));
    return a;
  }
}
