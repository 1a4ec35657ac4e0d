/**
 * The runs the daemon has going, at most one per track, and their control:
 *
 * - A slot starts a run, or is stored as a `skipped` run with the reason when the track's run is still going.
 * - Trigger a run now (refused while one goes on); cancel a run (its containers killed and removed, finished attempts
 *   kept, never resumed; one that will not stop within the grace period is cancelled anyway, its lease revoked);
 *   stop everything for a shutdown (runs end `interrupted` and resume on the next start).
 * - A track another agentdrift process runs: its slots are skipped with that reason, and once that process lets go,
 *   the run it left unfinished resumes here.
 * - A run that fails before it is stored is stored `failed` with the reason: a scheduled day is never lost silently.
 */
import type { Logger } from 'pino';
import { trackNamed } from '../../config/index.ts';
import type { RunRow } from '../../domain/types.ts';
import type { ContainerRuntime } from '../../executor/runtime.ts';
import type { FiguresRefresh } from '../deps.ts';
import type { Figures } from '../figures/figures.ts';
import { otherLiveHolder, revokeTrackLease, TrackBusyError } from '../runner/lease.ts';
import { RunFailedError, RunStop, type RunDeps, type RunOptions, type RunSummary } from '../runner/run.ts';
import { within, type Clock } from './clock.ts';
import { RunBusyError, RunElsewhereError, RunEndedError, SchedulerStoppingError } from './errors.ts';
import { removeRunContainers } from './takeover.ts';

/** What runs need: what a run itself needs, and the figures to refresh as they start, go on and end. */
export interface RunControlDeps extends RunDeps {
  figures: FiguresRefresh & Pick<Figures, 'refreshOps'>;
}

export type ExecuteRun = (deps: RunDeps, runtime: ContainerRuntime, track: string, opts: RunOptions) => Promise<RunSummary>;

export interface StartedRun {
  /** The stored run (null when it failed before it could be stored, which cannot happen: a failure is stored). */
  runId: number;
  resumed: boolean;
}

/** What the HTTP API needs of the scheduler. */
export interface RunControl {
  trigger(track: string, trigger?: string): Promise<StartedRun>;
  cancel(runId: number, reason?: string): Promise<RunRow>;
  isLive(runId: number): boolean;
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

export interface LiveRunsOptions {
  deps: RunControlDeps;
  runtime: ContainerRuntime;
  clock: Clock;
  log: Logger;
  execute: ExecuteRun;
  /** How long a cancel or a shutdown waits for a run to stop. */
  graceMs: number;
  /** How often a track run by another process at start is checked again, to resume its run once it is free. */
  elsewhereRetryMs: number;
  /** Whether the scheduler runs: only then do runs start. */
  running(): boolean;
}

export class LiveRuns implements RunControl {
  private readonly deps: RunControlDeps;
  private readonly runtime: ContainerRuntime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly execute: ExecuteRun;
  private readonly graceMs: number;
  private readonly elsewhereRetryMs: number;
  private readonly running: () => boolean;
  private readonly active = new Map<string, ActiveRun>();
  private readonly elsewhereTimers = new Map<string, unknown>();

  constructor(opts: LiveRunsOptions) {
    this.deps = opts.deps;
    this.runtime = opts.runtime;
    this.clock = opts.clock;
    this.log = opts.log;
    this.execute = opts.execute;
    this.graceMs = opts.graceMs;
    this.elsewhereRetryMs = opts.elsewhereRetryMs;
    this.running = opts.running;
  }

  liveRun(track: string): { id: number | null } | null {
    const a = this.active.get(track);
    return a ? { id: a.runId } : null;
  }

  isLive(runId: number): boolean {
    return [...this.active.values()].some((a) => a.runId === runId);
  }

  activeRun(track: string): { runId: number | null; trigger: string; done: Promise<void> } | null {
    const a = this.active.get(track);
    return a ? { runId: a.runId, trigger: a.trigger, done: a.done } : null;
  }

  /** A slot came: run the track, or record the slot skipped when its run is still going. */
  slotCame(track: string, slot: number): void {
    const { store } = this.deps;
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

  /** Starts a run of the track now; resolves once it is stored (created or resumed) or has failed to start. */
  trigger(track: string, trigger = 'manual'): Promise<StartedRun> {
    trackNamed(this.deps.config, track);
    if (!this.running()) return Promise.reject(new SchedulerStoppingError());
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
      const settled = await within(this.clock, a.done, this.graceMs);
      if (!settled) {
        // A cancel is final, whatever the engine or the run does: the run is cancelled now, the track free to run
        // again (the stuck run loses its lease, so should it wake up it stores nothing over this), and its containers
        // are force-removed, waiting for that no longer than another grace period.
        this.log.warn({ run: runId }, 'the run did not stop within the grace period: cancelling it anyway and removing its containers');
        store.runs.finish(runId, 'cancelled', reason);
        if (this.active.get(a.track) === a) this.active.delete(a.track);
        revokeTrackLease(store, a.track);
        this.deps.figures.refreshOps();
        if (!(await within(this.clock, removeRunContainers(this.runtime, this.log, a.track, runId), this.graceMs))) {
          this.log.warn({ run: runId }, 'the engine did not remove the run\'s containers within the grace period; a later run removes them as leftovers');
        }
      } else {
        await removeRunContainers(this.runtime, this.log, a.track, runId);
        store.runs.finish(runId, 'cancelled', reason);
      }
    } else if (run.state === 'running' || run.state === 'interrupted') {
      const holder = otherLiveHolder(store, run.track);
      if (holder && run.state === 'running') throw new RunElsewhereError(run, new TrackBusyError(run.track, holder));
      store.runs.finish(runId, 'cancelled', reason);
      await removeRunContainers(this.runtime, this.log, run.track, runId);
      this.log.info({ track: run.track, run: runId }, 'cancelled the unfinished run: it will not be resumed');
    } else {
      throw new RunEndedError(run);
    }
    this.deps.figures.refresh(run.track);
    return store.runs.get(runId) as RunRow;
  }

  /**
   * Shutdown: running runs are aborted (their containers killed) and end `interrupted`. Waits at most the grace
   * period; a run that has not stopped by then is marked interrupted here and its containers are removed.
   */
  async stop(graceMs: number): Promise<void> {
    for (const h of this.elsewhereTimers.values()) this.clock.clearTimeout(h);
    this.elsewhereTimers.clear();
    const runs = [...this.active.values()];
    for (const a of runs) {
      this.log.info({ track: a.track, run: a.runId }, 'stopping the run: running attempts are killed, finished ones are kept; it resumes on the next start');
      a.controller.abort(new RunStop('interrupted', 'the daemon stopped during the run; resumes when it starts again'));
    }
    const settled = await within(this.clock, Promise.all(runs.map((a) => a.done)), graceMs);
    if (!settled) {
      this.log.warn({ graceMs }, 'runs did not stop within the grace period: removing their containers');
      for (const a of runs) {
        if (!this.active.has(a.track)) continue;
        await removeRunContainers(this.runtime, this.log, a.track, a.runId);
        if (a.runId !== null && this.deps.store.isOpen) {
          this.deps.store.runs.finish(a.runId, 'interrupted', 'the daemon stopped during the run; resumes when it starts again');
        }
      }
    }
  }

  /**
   * A track another process was running when the daemon started: once that process lets go (it ended, or died and
   * its lease ran out), a run it left unfinished resumes here, as it would have at start.
   */
  watchElsewhere(track: string): void {
    this.elsewhereTimers.set(
      track,
      this.clock.setTimeout(() => {
        this.elsewhereTimers.delete(track);
        if (!this.running() || this.active.has(track)) return;
        if (otherLiveHolder(this.deps.store, track)) return this.watchElsewhere(track);
        const unfinished = this.deps.store.runs.latest(track, ['running', 'interrupted']);
        if (!unfinished) return;
        this.log.info({ track, run: unfinished.id }, 'the other process let go of the track: resuming its unfinished run');
        this.launch(track, 'resume');
      }, this.elsewhereRetryMs),
    );
  }

  /**
   * Starts a run of the track. When another process runs the track (TrackBusyError), the slot is recorded as
   * skipped with that reason (`recordBusy`, the scheduler's own slots) or only refused (a trigger: the caller is told).
   */
  launch(track: string, trigger: string, opts: { recordBusy: boolean } = { recordBusy: true }): ActiveRun {
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
            const reason = message.slice(0, 1000);
            a.runId = deps.store.runs.recordEnded({ track, state: 'skipped', trigger, reason, startedAt: new Date(startedAt).toISOString() }, this.clock.now());
            deps.figures.refresh(track);
          }
          this.log.warn({ track, run: a.runId, trigger, err: message }, 'run not started: another agentdrift process is running the track');
        } else if (a.runId === null && deps.store.isOpen) {
          // It failed before it was stored (engine down, dataset unavailable, no credentials): store the failure, so a
          // scheduled day is never lost without a trace.
          const reason = `could not start: ${message}`.slice(0, 1000);
          a.runId = deps.store.runs.recordEnded({ track, state: 'failed', trigger, reason, startedAt: new Date(startedAt).toISOString() }, this.clock.now());
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
