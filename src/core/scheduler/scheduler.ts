/**
 * The daemon's scheduler: one timer per track on its cron expression and time zone, at most one run of a track at a
 * time, tracks independent of each other. This class wires its parts and runs their start and stop in order:
 *
 * - slots.ts: each track's timer for its next slot, and the one record of slots that did not run (missed while the
 *   daemon was down, agentdrift_scheduler_missed_runs_total, or passed over by a timer that fired late).
 * - takeover.ts: at start, runs left `running` by a daemon that died become `interrupted`, leftover containers and
 *   images no suite uses go; tracks another agentdrift process runs are left alone.
 * - health.ts: the periodic check of the engine (agentdrift_docker_up) and of its disk.
 * - store-watch.ts: at each check, whether another process changed the store (then every figure is recomputed).
 * - run-control.ts: the runs going on; a slot's run or its `skipped` record, trigger, cancel, shutdown, tracks run
 *   elsewhere.
 *
 * On start, with `schedule.catchUp` the most recent slot missed while the daemon was down runs now; an unfinished run
 * resumes now either way (executeRun resumes the track's unfinished run). Every change of the next slot, of a run's
 * state or progress, and every check refresh the operational series at once.
 *
 * Time comes from an injectable {@link Clock}, so tests drive days of schedule in milliseconds.
 */
import type { Logger } from 'pino';
import type { ContainerRuntime } from '../../executor/runtime.ts';
import type { RunRow } from '../../domain/types.ts';
import type { Figures, FiguresRefresh, LiveSource } from '../figures/figures.ts';
import { LEASE_TTL_MS } from '../runner/lease.ts';
import { executeRun, type RunDeps } from '../runner/run.ts';
import { realClock, type Clock } from './clock.ts';
import { CheckTimer, EngineHealth, type DockerDiskSink } from './health.ts';
import { LiveRuns, type ExecuteRun, type RunControl, type StartedRun } from './run-control.ts';
import { SlotTimers } from './slots.ts';
import { refreshOnStoreChange } from './store-watch.ts';
import { interruptStaleRuns, removeLeftoverContainers, removeUnusedImagesAtStart, tracksHeldElsewhere } from './takeover.ts';

export { realClock, type Clock } from './clock.ts';
export { RunBusyError, RunElsewhereError, RunEndedError, SchedulerStoppingError } from './errors.ts';
export type { DockerDiskSink } from './health.ts';
export type { ExecuteRun, RunControl, StartedRun } from './run-control.ts';

/** What the scheduler needs: what a run needs, and the figures whose live part (next slot, run going on) it feeds. */
export interface SchedulerDeps extends RunDeps {
  figures: FiguresRefresh & Pick<Figures, 'attachLive' | 'schedule' | 'refreshOps'>;
}

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

export class Scheduler implements LiveSource, RunControl {
  private readonly deps: SchedulerDeps;
  private readonly runtime: ContainerRuntime;
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly log: Logger;
  private readonly slots: SlotTimers;
  private readonly runs: LiveRuns;
  private readonly engine: EngineHealth;
  private readonly checks: CheckTimer;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(opts: SchedulerOptions) {
    const deps = opts.deps;
    this.deps = deps;
    this.runtime = opts.runtime;
    this.clock = opts.clock ?? realClock;
    this.graceMs = opts.graceMs ?? deps.config.server.shutdownGraceSeconds * 1000;
    this.log = deps.log.child({ room: 'scheduler' });
    const { runtime, clock, log } = this;
    const running = () => this.state === 'running';
    this.runs = new LiveRuns({
      deps,
      runtime,
      clock,
      log,
      execute: opts.execute ?? executeRun,
      graceMs: this.graceMs,
      elsewhereRetryMs: opts.elsewhereRetryMs ?? LEASE_TTL_MS / 2,
      running,
    });
    this.slots = new SlotTimers({ deps, clock, log, running, onSlot: (track, slot) => this.runs.slotCame(track, slot) });
    this.engine = new EngineHealth({ deps, runtime, disk: opts.disk, clock, log, diskIntervalMs: opts.diskIntervalMs ?? 60_000 });
    this.checks = new CheckTimer(clock, opts.checkIntervalMs ?? 15_000, running, () => this.check());
  }

  // --- LiveSource ---------------------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  nextRunMs(track: string): number | null {
    return this.slots.nextRunMs(track);
  }

  liveRun(track: string): { id: number | null } | null {
    return this.runs.liveRun(track);
  }

  dockerUp(): boolean | null {
    return this.engine.dockerUp();
  }

  isLive(runId: number): boolean {
    return this.runs.isLive(runId);
  }

  /** The run going on for the track, if any (for tests and the API). */
  activeRun(track: string): { runId: number | null; trigger: string; done: Promise<void> } | null {
    return this.runs.activeRun(track);
  }

  // --- lifecycle ----------------------------------------------------------------------------------------------

  /** Whether stop() began while start() was waiting; start() must then leave the (maybe closed) store alone. */
  private stoppedMeanwhile(): boolean {
    return this.state !== 'running';
  }

  /**
   * Takes over the tracks: marks runs left `running` by a dead daemon interrupted, removes their leftover
   * containers, records missed slots, arms every track's timer and starts the catch-up or resumed runs.
   */
  async start(): Promise<void> {
    // A shutdown that came before the start (a signal right after listening) leaves nothing to start.
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.state !== 'new') throw new Error('the scheduler was started already');
    this.state = 'running';
    const { deps, log } = this;
    deps.figures.attachLive(this);
    // A track another live process (an `agentdrift run`) is running now is its business; the scheduler's own runs
    // of it wait for the lease (a slot then is skipped).
    const elsewhere = tracksHeldElsewhere(deps);
    interruptStaleRuns(deps, log, elsewhere);
    await this.check();
    // A shutdown may come while start() waits on the engine; past that point the store may be closed.
    if (this.stoppedMeanwhile()) return;
    await removeLeftoverContainers(deps, this.runtime, log, elsewhere);
    if (this.stoppedMeanwhile()) return;
    if (this.engine.dockerUp()) await removeUnusedImagesAtStart(deps, this.runtime, log);
    if (this.stoppedMeanwhile()) return;
    this.checks.start();
    for (const t of deps.config.tracks) {
      const now = this.clock.now();
      let startNow: string | null = this.slots.recordDowntime(t, now) && t.schedule.catchUp ? 'catch-up' : null;
      const unfinished = deps.store.runs.latest(t.name, ['running', 'interrupted']);
      if (unfinished && !startNow && !elsewhere.has(t.name)) startNow = 'resume';
      this.slots.arm(t.name);
      if (startNow && this.state === 'running') {
        log.info({ track: t.name, why: startNow, run: unfinished?.id }, startNow === 'resume' ? 'resuming the unfinished run' : 'catching up the missed run');
        this.runs.launch(t.name, startNow);
      }
      if (elsewhere.has(t.name)) this.runs.watchElsewhere(t.name);
    }
    deps.figures.refreshOps();
    log.info({ next: this.slots.nextSlots() }, 'scheduler started');
  }

  /**
   * Shutdown: no new runs or slots; running runs are aborted (their containers killed) and end `interrupted`.
   * Waits at most the grace period; a run that has not stopped by then is marked interrupted here and its
   * containers are removed.
   */
  async stop(graceMs = this.graceMs): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.slots.clear();
    this.checks.stop();
    await this.runs.stop(graceMs);
    this.state = 'stopped';
    this.deps.figures.refreshOps();
  }

  // --- control ------------------------------------------------------------------------------------------------

  /** Starts a run of the track now; resolves once it is stored (created or resumed) or has failed to start. */
  trigger(track: string, trigger = 'manual'): Promise<StartedRun> {
    return this.runs.trigger(track, trigger);
  }

  /** Cancels a run (see LiveRuns.cancel): never resumed, finished attempts kept; resolves with the run as stored. */
  cancel(runId: number, reason = 'cancelled through the API'): Promise<RunRow> {
    return this.runs.cancel(runId, reason);
  }

  // --- the periodic check -------------------------------------------------------------------------------------

  /** The engine (ping, disk), then the store: changed by another process, or only the day's figures to re-read. */
  private async check(): Promise<void> {
    await this.engine.check();
    if (!this.deps.store.isOpen) return;
    refreshOnStoreChange(this.deps, this.log);
  }
}
