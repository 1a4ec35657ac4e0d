/**
 * One run of a track: every (task, sample) of its plan attempted with the track's concurrency, each attempt stored
 * as soon as it ends. A run found `running` or `interrupted` (a crash, a restart, a SIGTERM) is resumed: only the
 * attempts it has not stored yet are made, so nothing is lost or doubled.
 *
 * Stopping: aborting `signal` kills the running attempts' containers and ends the run `interrupted` (it resumes
 * later), or `cancelled` when the abort reason is a {@link RunStop} saying so (a cancelled run is never resumed).
 * The budget guard: with `budget.dailyUsd`, no attempt starts once the track's spend of the day (in its time zone)
 * has reached it; the attempts going on finish and are kept, and the run ends `budget_exhausted`.
 *
 * `oracle` runs apply the gold patches to validate tasks and infrastructure; they are not part of the track's history
 * (they would count as the agent's passes) and return their per-task results instead.
 */
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Credentials } from '../../agent/index.ts';
import { claudeCode } from '../../agent/index.ts';
import type { CoreDeps } from '../deps.ts';
import { agentCredentials, MISSING_CREDENTIALS } from '../../agent/credentials.ts';
import { trackNamed, type Secrets } from '../../config/index.ts';
import type { Task } from '../../dataset/index.ts';
import { LABEL_MANAGED, LABEL_ROLE, LABEL_TRACK, ROLE_VOLUME_FILL, VOLUME_FILL_GRACE_MS, type ContainerRuntime } from '../../executor/runtime.ts';
import type { AttemptInput, EndedRunState, RunState } from '../../domain/types.ts';
import { startOfDay } from '../../cron/cron.ts';
import { AttemptAborted, runAttempt, type AttemptTimings } from './attempt.ts';
import { datasetDownloadReporter, type FetchProgress } from './fetch-progress.ts';
import { diskNeed, diskShortfall, ImageUses, removeTaskImage, removeUnusedImages, taskImageRefs } from './images.ts';
import { acquireTrackLease, type TrackLease } from './lease.ts';
import { resolveSuite, type Suite } from './suite.ts';

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** The reason to pass to AbortController.abort() to say how the stopped run ends. */
export class RunStop {
  constructor(
    readonly state: 'cancelled' | 'interrupted',
    readonly reason: string,
  ) {}
}

/** A run that failed after it was created or resumed: it is stored as `failed` with the cause as its reason. */
export class RunFailedError extends Error {
  constructor(
    readonly runId: number,
    cause: unknown,
  ) {
    super(`run ${runId} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RunFailedError';
  }
}

export interface RunProgress {
  runId: number | null;
  done: number;
  total: number;
  resolved: number;
  /** Attempts that count for the pass rate (infra errors excluded). */
  counted: number;
  startedAtMs: number;
  last?: { taskId: string; sample: number; outcome: AttemptInput['outcome'] };
}

export interface RunOptions {
  trigger: string;
  /** Only these tasks of the suite (ids must belong to it). */
  taskIds?: string[] | undefined;
  oracle?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** Progress of the dataset download and of image pulls, throttled (both are logged at info as well). */
  onFetch?: (p: FetchProgress) => void;
  /** Called once the run is stored (created, or resumed), before any attempt starts. */
  onStart?: (runId: number, resumed: boolean) => void;
  /** The clock of the budget guard (default: Date.now). */
  now?: () => number;
  /** Called with each attempt's phase timings (benchmarks). */
  onTimings?: (taskId: string, t: AttemptTimings) => void;
  /** Who runs the track, as another process trying to run it is told (default "agentdrift run"). */
  holder?: string;
}

export interface RunSummary {
  runId: number | null;
  state: RunState;
  resumed: boolean;
  attempted: number;
  skippedAsDone: number;
  outcomes: Record<AttemptInput['outcome'], number>;
  /** For oracle runs: each task's outcome and reason. */
  oracle?: { taskId: string; outcome: AttemptInput['outcome']; reason: string | null; gradingLogPath: string | null }[];
}

/**
 * Runs `worker` over `items` in order with at most `limit` at once (p-limit); stops taking new items once `signal`
 * aborts or `canStart` says no (checked, in that order, right before each item would start). When a worker (or
 * canStart) throws, no new item starts, the others finish, and the first error is thrown.
 */
async function pool<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, canStart: () => boolean, worker: (item: T) => Promise<void>): Promise<void> {
  if (!(limit >= 1)) return;
  const limited = pLimit(limit);
  let stopped = false;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    items.map((item) =>
      limited(async () => {
        if (stopped || failure) return;
        try {
          if (signal?.aborted || !canStart()) {
            stopped = true;
            return;
          }
          await worker(item);
        } catch (e) {
          failure ??= { error: e };
        }
      }),
    ),
  );
  if (failure) throw failure.error;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((id) => y.has(id));
}

/** Whether the track's spend of the day (in its time zone) has reached its daily budget. */
/** What a run needs on top of the core's common dependencies: the agent's credentials, from the environment. */
export interface RunDeps extends CoreDeps {
  secrets: Secrets;
}

export function dailyBudgetReached(deps: Pick<CoreDeps, 'config' | 'store'>, trackName: string, nowMs: number): { reached: boolean; spentUsd: number; limitUsd: number | null } {
  const track = trackNamed(deps.config, trackName);
  const day = startOfDay(nowMs, track.schedule.timezone);
  const spentUsd = deps.store.attempts.spentBetween(trackName, day, Number.MAX_SAFE_INTEGER);
  const limitUsd = track.budget.dailyUsd ?? null;
  return { reached: limitUsd !== null && spentUsd >= limitUsd, spentUsd, limitUsd };
}

/**
 * Runs the track once (see the module comment). Throws {@link TrackBusyError} before touching anything when another
 * process runs the track now; the track's lease is held until the run ends.
 */
export async function executeRun(deps: RunDeps, runtime: ContainerRuntime, trackName: string, opts: RunOptions): Promise<RunSummary> {
  trackNamed(deps.config, trackName);
  const log: Logger = deps.log.child({ track: trackName });
  // One rule with the start-up warning, /readyz and agentdrift_agent_credentials_present.
  const credentials = agentCredentials(deps.secrets);
  if (!opts.oracle && !credentials) {
    throw new RunError(MISSING_CREDENTIALS);
  }
  const lease = acquireTrackLease(deps.store, trackName, opts.holder ?? 'agentdrift run', { log });
  try {
    // Losing the lease (this process stalled past its time to live and another took the track) stops the run too.
    const signal = opts.signal ? AbortSignal.any([opts.signal, lease.lost]) : lease.lost;
    return await leasedRun(deps, runtime, trackName, { ...opts, signal }, credentials, lease, log);
  } finally {
    // Images this store's pulls left that no configured suite uses any more (docker.removeUnusedImages).
    if (!lease.lost.aborted && deps.store.isOpen) {
      await removeUnusedImages(deps.store, runtime, deps.config, log).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'could not remove unused images'));
    }
    lease.release();
  }
}

async function leasedRun(
  deps: RunDeps,
  runtime: ContainerRuntime,
  trackName: string,
  opts: RunOptions,
  credentials: Credentials | null,
  lease: TrackLease,
  log: Logger,
): Promise<RunSummary> {
  const track = trackNamed(deps.config, trackName);
  await runtime.ping();

  // The run is stored (or the unfinished one resumed) as soon as nothing about it can be refused any more, before
  // the suite is resolved (a dataset download can take minutes): a trigger hears its run id at once, and the run
  // reports its own progress from then on. A task selection (--tasks) needs the suite to be checked, so such a run
  // is stored once it is.
  const selection = opts.taskIds?.length ? opts.taskIds : null;
  // Resume the track's unfinished run when there is one (never for an oracle run, which is not stored).
  const unfinished = opts.oracle ? null : deps.store.runs.latest(trackName, ['running', 'interrupted']);
  const unfinishedPlan = unfinished ? deps.store.runs.plan(unfinished.id) : null;
  let runId: number | null = null;
  let resumed = false;
  const storeNewRun = (suiteHash: string | null, plan?: { taskIds: string[]; samples: number }): number => {
    const id = deps.store.runs.create({ track: trackName, state: 'running', trigger: opts.trigger, reason: null, startedAt: new Date().toISOString(), endedAt: null, agentVersion: null, modelId: null, suiteHash }, plan);
    deps.figures.refresh(trackName);
    return id;
  };
  if (unfinished) {
    if (unfinishedPlan && selection && !sameSet(selection, unfinishedPlan.taskIds)) {
      // Resuming would run the plan of that run, not the tasks asked for: say so rather than ignore the selection.
      // The same selection again (the command that was interrupted, run once more) resumes as usual.
      throw new RunError(
        `run ${unfinished.id} of ${trackName} is unfinished (${unfinished.state}) and would be resumed with its own ${unfinishedPlan.taskIds.length} task(s), ` +
          `so the task selection (--tasks) does not apply; run without --tasks to finish run ${unfinished.id} first, or cancel it through the daemon (agentdrift cancel ${unfinished.id})`,
      );
    }
    runId = unfinished.id;
    resumed = true;
    if (unfinishedPlan) {
      deps.store.runs.update(runId, { state: 'running', reason: null });
      deps.figures.refresh(trackName);
      log.info({ run: runId }, 'resuming an unfinished run');
    }
  } else if (!opts.oracle && !selection) {
    runId = storeNewRun(null);
  }
  if (runId !== null && (!resumed || unfinishedPlan)) opts.onStart?.(runId, resumed);

  let suite: Suite;
  let taskIds: string[];
  let samples = track.samplesPerTask;
  try {
    const download = datasetDownloadReporter({ log, onFetch: opts.onFetch });
    suite = await resolveSuite(deps.store, track, { dataDir: deps.config.dataDir, log, onProgress: download.onProgress });
    download.finish();
  } catch (e) {
    if (runId === null || resumed) throw e;
    // A run stored before its suite: the suite's failure is the run's.
    deps.store.runs.finish(runId, 'failed', `failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000));
    deps.figures.refresh(trackName);
    throw new RunFailedError(runId, e);
  }
  for (const r of suite.rejected) log.warn({ index: r.index, task: r.instanceId, reason: r.reason }, 'dataset row rejected');
  // The suite's images, so that an image pulled for it is never taken for unused (and for the disk series).
  deps.store.images.setOfTrack(trackName, taskImageRefs(suite.tasks, deps.config.docker.imageRepository));
  const byId = new Map(suite.tasks.map((t) => [t.instanceId, t]));

  if (unfinished) {
    const gone = unfinishedPlan ? unfinishedPlan.taskIds.filter((id) => !byId.has(id)) : [];
    if (!unfinishedPlan || gone.length) {
      // It can never be resumed: end it, so the next run starts afresh instead of failing the same way forever.
      const why = unfinishedPlan ? `names task(s) no longer in the dataset: ${gone.join(', ')}` : 'has no plan to resume';
      deps.store.runs.finish(unfinished.id, 'failed', `could not resume: ${why}`);
      deps.figures.refresh(trackName);
      throw new RunFailedError(unfinished.id, new RunError(`run ${unfinished.id} of ${trackName} ${why}; it is marked failed`));
    }
    taskIds = unfinishedPlan.taskIds;
    samples = unfinishedPlan.samples;
  } else {
    taskIds = selection ?? suite.tasks.map((t) => t.instanceId);
    const unknown = taskIds.filter((id) => !byId.has(id));
    if (unknown.length) throw new RunError(`task id(s) not in the suite of ${trackName}: ${unknown.join(', ')}`);
    if (runId !== null) {
      deps.store.runs.setPlan(runId, { taskIds, samples }, suite.hash);
    } else if (!opts.oracle) {
      runId = storeNewRun(suite.hash, { taskIds, samples });
      opts.onStart?.(runId, resumed);
    }
  }
  try {
    return await attemptAll(deps, runtime, trackName, opts, { runId, taskIds, samples, resumed, suite, byId, credentials, lease, log });
  } catch (e) {
    // Without the lease the run is another process's now: what it stores is not ours to overwrite.
    if (runId === null || lease.lost.aborted) throw e;
    const reason = `failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000);
    log.error({ run: runId, err: e instanceof Error ? e.message : String(e) }, 'run failed');
    try {
      deps.store.runs.finish(runId, 'failed', reason);
      deps.figures.refresh(trackName);
    } catch (inner) {
      log.error({ run: runId, err: (inner as Error).message }, 'could not mark the run failed');
    }
    throw new RunFailedError(runId, e);
  }
}

interface Prepared {
  runId: number | null;
  taskIds: string[];
  samples: number;
  resumed: boolean;
  suite: Suite;
  byId: Map<string, Task>;
  credentials: Credentials | null;
  lease: TrackLease;
  log: Logger;
}

async function attemptAll(deps: RunDeps, runtime: ContainerRuntime, trackName: string, opts: RunOptions, p: Prepared): Promise<RunSummary> {
  const { runId, taskIds, samples, resumed, suite, byId, credentials, lease, log } = p;
  const track = trackNamed(deps.config, trackName);
  const now = opts.now ?? Date.now;
  // Containers of this track left by a crash would hold resources and confuse the engine's view: remove them.
  const removed = await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: trackName });
  if (removed) log.info({ removed }, 'removed containers left by an earlier run');
  // Tool-volume fills belong to no track (one volume serves every track): a fill container past the grace age is
  // left by a crashed process, and would keep its volume in use so that it could never be refilled.
  const fills = await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_ROLE]: ROLE_VOLUME_FILL }, { olderThanMs: VOLUME_FILL_GRACE_MS });
  if (fills) log.info({ removed: fills }, 'removed tool-volume fill containers left by a crashed process');

  const done = runId === null ? new Set<string>() : deps.store.attempts.keys(runId);
  const work: { task: Task; sample: number }[] = [];
  for (const id of taskIds) for (let s = 0; s < samples; s++) if (!done.has(`${id}#${s}`)) work.push({ task: byId.get(id) as Task, sample: s });

  // Before any attempt: the images still to pull must fit on the engine's disk (the run fails at once otherwise).
  const imageOf = (task: Task) => taskImageRefs([task], deps.config.docker.imageRepository)[0] as string;
  if (work.length) await checkDisk(deps, runtime, track.concurrency, work.map((w) => imageOf(w.task)), log);
  const uses = new ImageUses(work.map((w) => imageOf(w.task)));

  const outcomes: RunSummary['outcomes'] = { resolved: 0, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 };
  const oracle: NonNullable<RunSummary['oracle']> = [];
  const progress: RunProgress = { runId, done: 0, total: work.length, resolved: 0, counted: 0, startedAtMs: Date.now() };
  opts.onProgress?.({ ...progress });
  let reported = false;
  let budgetStop: string | null = null;
  const canStart = () => {
    if (budgetStop !== null) return false;
    if (opts.oracle || track.budget.dailyUsd === undefined) return true;
    const b = dailyBudgetReached(deps, trackName, now());
    if (!b.reached) return true;
    budgetStop = `the day's spend reached the daily budget (${b.spentUsd.toFixed(2)} of ${(b.limitUsd as number).toFixed(2)} USD); no further attempt started`;
    log.warn({ run: runId, spentUsd: b.spentUsd, limitUsd: b.limitUsd }, 'daily budget reached: no further attempt starts');
    return false;
  };

  // An oracle run has no run id: its grading logs go to a folder of its own, named by when it started.
  const logFolder = runId === null ? `oracle-${new Date(progress.startedAtMs).toISOString().replace(/[:.]/g, '-')}` : String(runId);
  await pool(work, track.concurrency, opts.signal, canStart, async ({ task, sample }) => {
    let result;
    try {
      result = await runAttempt(
        { runtime, agent: claudeCode, config: deps.config, credentials, log, onFetch: opts.onFetch, onImagePulled: (ref) => deps.store.images.recordPulled(ref) },
        { track, runId: runId ?? 0, task, sample, harness: suite.harness, oracle: opts.oracle ?? false, signal: opts.signal, logFolder },
      );
    } catch (e) {
      if (e instanceof AttemptAborted) return;
      throw e;
    }
    // remove-after-use: the image goes once no other attempt of the run needs it.
    const ref = imageOf(task);
    if (uses.done(ref) && deps.config.docker.images === 'remove-after-use') await removeTaskImage(runtime, deps.store, ref, log);
    const a = result.attempt;
    if (runId !== null) {
      deps.store.attempts.insert(runId, a);
      if (!reported && (result.agentVersion || result.modelId)) {
        deps.store.runs.update(runId, { agentVersion: result.agentVersion ?? undefined, modelId: result.modelId ?? undefined });
        reported = true;
      }
    } else {
      oracle.push({ taskId: a.taskId, outcome: a.outcome, reason: a.reason, gradingLogPath: a.gradingLogPath });
    }
    opts.onTimings?.(a.taskId, result.timings);
    outcomes[a.outcome]++;
    progress.done++;
    if (a.outcome === 'resolved') progress.resolved++;
    if (a.outcome !== 'infra_error') progress.counted++;
    progress.last = { taskId: a.taskId, sample: a.sampleIndex, outcome: a.outcome };
    log.info({ run: runId, task: a.taskId, sample: a.sampleIndex, outcome: a.outcome, reason: a.reason }, 'attempt finished');
    opts.onProgress?.({ ...progress });
  });

  let state: EndedRunState = 'completed';
  let reason: string | null = null;
  if (lease.lost.aborted) {
    // Another process owns the run now: what it stores is not ours to overwrite.
    log.error({ run: runId }, 'stopped: the track lease was lost to another process, which owns the run now');
    state = 'interrupted';
  } else if (opts.signal?.aborted) {
    const stop = opts.signal.reason instanceof RunStop ? opts.signal.reason : new RunStop('interrupted', 'stopped before every attempt ended; resumes on the next run');
    state = stop.state;
    reason = stop.reason;
  } else if (budgetStop !== null && progress.done < work.length) {
    state = 'budget_exhausted';
    reason = budgetStop;
  }
  if (runId !== null && !lease.lost.aborted) {
    deps.store.runs.finish(runId, state, reason);
    deps.figures.refresh(trackName);
  }
  log.info({ run: runId, state, ...outcomes }, 'run finished');
  return { runId, state, resumed, attempted: progress.done, skippedAsDone: done.size, outcomes, ...(opts.oracle ? { oracle } : {}) };
}

/**
 * Throws a RunError naming the shortfall when the images the run still has to pull (plus docker.minFreeGb) would
 * not fit in the free space of the engine's data root. Not measured (no way to see the data root): logged, no check.
 */
async function checkDisk(deps: RunDeps, runtime: ContainerRuntime, concurrency: number, refs: readonly string[], log: Logger): Promise<void> {
  let usage;
  try {
    usage = await runtime.diskUsage({ helperImages: [...new Set(refs)] });
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not read the engine\'s disk use: the disk check is skipped');
    return;
  }
  const need = diskNeed(usage, refs, deps.config.docker, concurrency);
  if (need.freeBytes === null) {
    log.warn({ dataRoot: usage.dataRoot }, 'the free space of the Docker data root cannot be measured here: the disk check is skipped');
    return;
  }
  log.info({ freeBytes: need.freeBytes, requiredBytes: need.requiredBytes, missing: need.missing.length, present: need.present.length }, 'disk check');
  const short = diskShortfall(need, usage, deps.config.docker);
  if (short) throw new RunError(short);
}
