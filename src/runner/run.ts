/**
 * One run of a track: every (task, sample) of its plan attempted with the track's concurrency, each attempt stored
 * as soon as it ends. A run found `running` or `interrupted` (a crash, a restart, a SIGTERM) is resumed: only the
 * attempts it has not stored yet are made, so nothing is lost or doubled.
 *
 * `oracle` runs apply the gold patches to validate tasks and infrastructure; they are not part of the track's history
 * (they would count as the agent's passes) and return their per-task results instead.
 */
import type { Logger } from 'pino';
import type { Credentials } from '../agent/index.ts';
import { claudeCode } from '../agent/index.ts';
import type { AppContext } from '../app/context.ts';
import type { Task } from '../dataset/index.ts';
import { LABEL_MANAGED, LABEL_TRACK, type ContainerRuntime } from '../executor/runtime.ts';
import type { AttemptInput, RunState } from '../model/types.ts';
import { AttemptAborted, runAttempt, type AttemptTimings } from './attempt.ts';
import { resolveSuite, type Suite } from './suite.ts';

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
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
  /** Called with each attempt's phase timings (benchmarks). */
  onTimings?: (taskId: string, t: AttemptTimings) => void;
}

export interface RunSummary {
  runId: number | null;
  state: RunState;
  resumed: boolean;
  attempted: number;
  skippedAsDone: number;
  outcomes: Record<AttemptInput['outcome'], number>;
  /** For oracle runs: each task's outcome and reason. */
  oracle?: { taskId: string; outcome: AttemptInput['outcome']; reason: string | null }[];
}

export function credentialsFrom(ctx: AppContext): Credentials | null {
  if (ctx.secrets.anthropicApiKey) return { apiKey: ctx.secrets.anthropicApiKey };
  if (ctx.secrets.claudeOauthToken) return { oauthToken: ctx.secrets.claudeOauthToken };
  return null;
}

/** Runs `worker` over `items` with at most `limit` at once; stops taking new items once `signal` aborts. */
async function pool<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++] as T;
      await worker(item);
    }
  });
  await Promise.all(lanes);
}

export async function executeRun(ctx: AppContext, runtime: ContainerRuntime, trackName: string, opts: RunOptions): Promise<RunSummary> {
  const track = ctx.track(trackName);
  const log: Logger = ctx.log.child({ track: trackName });
  const credentials = credentialsFrom(ctx);
  if (!opts.oracle && !credentials) {
    throw new RunError('no credentials for the agent: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in the environment');
  }
  await runtime.ping();

  const suite: Suite = await resolveSuite(ctx.store, track, { dataDir: ctx.config.dataDir, log });
  for (const r of suite.rejected) log.warn({ index: r.index, task: r.instanceId, reason: r.reason }, 'dataset row rejected');
  const byId = new Map(suite.tasks.map((t) => [t.instanceId, t]));

  // Resume the track's unfinished run when there is one (never for an oracle run, which is not stored).
  const unfinished = opts.oracle ? null : ctx.store.latestRun(trackName, ['running', 'interrupted']);
  let runId: number | null = null;
  let taskIds: string[];
  let samples = track.samplesPerTask;
  let resumed = false;
  if (unfinished) {
    const plan = ctx.store.runPlan(unfinished.id);
    if (!plan) throw new RunError(`run ${unfinished.id} of ${trackName} is unfinished but has no plan to resume`);
    runId = unfinished.id;
    taskIds = plan.taskIds;
    samples = plan.samples;
    resumed = true;
    ctx.store.updateRun(runId, { state: 'running' });
    log.info({ run: runId }, 'resuming an unfinished run');
  } else {
    taskIds = opts.taskIds?.length ? opts.taskIds : suite.tasks.map((t) => t.instanceId);
    const unknown = taskIds.filter((id) => !byId.has(id));
    if (unknown.length) throw new RunError(`task id(s) not in the suite of ${trackName}: ${unknown.join(', ')}`);
  }
  const missing = taskIds.filter((id) => !byId.has(id));
  if (missing.length) throw new RunError(`run ${runId} names task(s) no longer in the dataset: ${missing.join(', ')}`);

  if (!opts.oracle && runId === null) {
    runId = ctx.store.createRun(
      { track: trackName, state: 'running', trigger: opts.trigger, reason: null, startedAt: new Date().toISOString(), endedAt: null, agentVersion: null, modelId: null, suiteHash: suite.hash },
      { taskIds, samples },
    );
    ctx.refresh(trackName);
  }
  // Containers of this track left by a crash would hold resources and confuse the engine's view: remove them.
  const removed = await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: trackName });
  if (removed) log.info({ removed }, 'removed containers left by an earlier run');

  const done = runId === null ? new Set<string>() : ctx.store.attemptKeys(runId);
  const work: { task: Task; sample: number }[] = [];
  for (const id of taskIds) for (let s = 0; s < samples; s++) if (!done.has(`${id}#${s}`)) work.push({ task: byId.get(id) as Task, sample: s });

  const outcomes: RunSummary['outcomes'] = { resolved: 0, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 };
  const oracle: NonNullable<RunSummary['oracle']> = [];
  const progress: RunProgress = { runId, done: 0, total: work.length, resolved: 0, counted: 0, startedAtMs: Date.now() };
  opts.onProgress?.({ ...progress });
  let reported = false;

  await pool(work, track.concurrency, opts.signal, async ({ task, sample }) => {
    let result;
    try {
      result = await runAttempt(
        { runtime, agent: claudeCode, config: ctx.config, credentials, log },
        { track, runId: runId ?? 0, task, sample, harness: suite.harness, oracle: opts.oracle ?? false, signal: opts.signal },
      );
    } catch (e) {
      if (e instanceof AttemptAborted) return;
      throw e;
    }
    const a = result.attempt;
    if (runId !== null) {
      ctx.store.insertAttempt(runId, a);
      if (!reported && (result.agentVersion || result.modelId)) {
        ctx.store.updateRun(runId, { agentVersion: result.agentVersion ?? undefined, modelId: result.modelId ?? undefined });
        reported = true;
      }
    } else {
      oracle.push({ taskId: a.taskId, outcome: a.outcome, reason: a.reason });
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

  const state: RunState = opts.signal?.aborted ? 'interrupted' : 'completed';
  if (runId !== null) {
    ctx.store.updateRun(runId, { state, endedAt: state === 'completed' ? new Date().toISOString() : null, reason: state === 'interrupted' ? 'stopped before every attempt ended; resumes on the next run' : null });
    ctx.refresh(trackName);
  }
  log.info({ run: runId, state, ...outcomes }, 'run finished');
  return { runId, state, resumed, attempted: progress.done, skippedAsDone: done.size, outcomes, ...(opts.oracle ? { oracle } : {}) };
}
