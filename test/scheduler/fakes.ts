/**
 * What the scheduler's unit tests run on: the in-memory container runtime (src/executor/memory.ts) with its faults
 * (`up = false`, `failNext`), a clock whose timers fire when the test moves time, and a run function that stores runs
 * like executeRun, holds a container on the runtime like an attempt, and ends when the test says (or when aborted).
 * The end-to-end tests use the real engine and executeRun.
 */
import { vi } from 'vitest';
import { MemoryRuntime } from '../../src/executor/memory.ts';
import { attemptLabels, type ContainerHandle, type ContainerRuntime } from '../../src/executor/runtime.ts';
import type { EndedRunState } from '../../src/domain/types.ts';
import type { RunDeps, RunOptions, RunSummary } from '../../src/core/runner/run.ts';
import { acquireTrackLease } from '../../src/core/runner/lease.ts';
import { RunStop } from '../../src/core/runner/run.ts';
import type { Clock, ExecuteRun } from '../../src/core/scheduler/scheduler.ts';

/** The image the stand-in runs' containers are created from. */
export const RUN_IMAGE = 'agentdrift-test/scheduler-run:latest';

/** The in-memory runtime of the scheduler's tests: containers created at the clock's time, the runs' image present. */
export function memoryRuntime(clock: Clock): MemoryRuntime {
  return new MemoryRuntime({ now: () => clock.now() }).addImage(RUN_IMAGE);
}

/** The labels of every removeLeftovers call the runtime gets from now on (the containers the scheduler asks to go). */
export function removalsAsked(runtime: MemoryRuntime): () => Record<string, string>[] {
  const spy = vi.spyOn(runtime, 'removeLeftovers');
  return () => spy.mock.calls.map(([labels]) => ({ ...labels }));
}

export class FakeClock implements Clock {
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private ids = 0;

  constructor(public t: number) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  pending(): number {
    return this.timers.length;
  }

  /** Moves time to `ms`, firing every timer due on the way in order (and letting promises settle after each). */
  async advanceTo(ms: number): Promise<void> {
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= ms).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = Math.max(this.t, ms);
    await flush();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }
}

/** Lets pending promise callbacks (and a few rounds of the I/O they start) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface FakeRun {
  track: string;
  trigger: string;
  runId: number;
  resumed: boolean;
  signal: AbortSignal;
  /** Ends the run in this state (default completed). */
  finish(state?: EndedRunState): void;
}

export interface FakeRuns {
  execute: ExecuteRun;
  calls: FakeRun[];
  /** When set, the next call throws this before storing a run. */
  failNext: Error | null;
  /** When true, runs ignore the abort signal (a run that will not stop). */
  stubborn: boolean;
}

/**
 * Runs that store themselves like executeRun (holding the track's lease, resuming the track's unfinished run), hold one
 * running container (an attempt's, labelled so) on the runtime they are given, and end when told. A run that ends
 * removes its container; a stubborn one keeps it until it is told to end.
 */
export function fakeRuns(clock: Clock): FakeRuns {
  const state: FakeRuns = { calls: [], failNext: null, stubborn: false, execute: null as unknown as ExecuteRun };
  state.execute = async (ctx: RunDeps, runtime: ContainerRuntime, track: string, opts: RunOptions): Promise<RunSummary> => {
    await Promise.resolve();
    if (state.failNext) {
      const e = state.failNext;
      state.failNext = null;
      throw e;
    }
    const lease = acquireTrackLease(ctx.store, track, opts.holder ?? 'agentdrift run');
    try {
      return await run(ctx, runtime, track, opts);
    } finally {
      lease.release();
    }
  };
  const run = async (ctx: RunDeps, runtime: ContainerRuntime, track: string, opts: RunOptions): Promise<RunSummary> => {
    const unfinished = ctx.store.runs.latest(track, ['running', 'interrupted']);
    const runId =
      unfinished?.id ??
      ctx.store.runs.create(
        { track, state: 'running', trigger: opts.trigger, reason: null, startedAt: new Date(clock.now()).toISOString(), endedAt: null, agentVersion: null, modelId: null, suiteHash: null },
        { taskIds: ['task-a', 'task-b'], samples: 1 },
      );
    if (unfinished) ctx.store.runs.update(runId, { state: 'running' });
    opts.onStart?.(runId, Boolean(unfinished));
    let finish!: (s: EndedRunState) => void;
    const told = new Promise<EndedRunState>((r) => (finish = r));
    const signal = opts.signal as AbortSignal;
    state.calls.push({ track, trigger: opts.trigger, runId, resumed: Boolean(unfinished), signal, finish: (s = 'completed') => finish(s) });
    const aborted = new Promise<RunStop>((r) => {
      if (!state.stubborn) signal.addEventListener('abort', () => r(signal.reason instanceof RunStop ? signal.reason : new RunStop('interrupted', 'aborted')));
    });
    const container: ContainerHandle = await runtime.createContainer({ image: RUN_IMAGE, labels: attemptLabels({ track, run: runId, attempt: 'task-a#0' }) });
    await runtime.start(container);
    const end = await Promise.race([told, aborted]);
    await runtime.remove(container, { force: true });
    const [endState, reason] = end instanceof RunStop ? [end.state, end.reason] : [end, end === 'completed' ? null : `ended ${end}`];
    ctx.store.runs.finish(runId, endState, reason, clock.now());
    ctx.figures.refresh(track);
    return { runId, state: endState, resumed: Boolean(unfinished), attempted: 0, skippedAsDone: 0, outcomes: { resolved: 0, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 } };
  };
  return state;
}

/** The value of one series in an exposition, or undefined when absent. */
export function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort();
    if (JSON.stringify(got) === JSON.stringify(want)) return Number(m[3]);
  }
  return undefined;
}
