/**
 * The daemon's pool of worker threads (piscina) for CPU-heavy work that must not run on its event loop: recomputing a
 * track's figures (a CUSUM threshold simulation takes 0.5-8 s, a scan of a few hundred thousand stored attempts
 * about a second) and parsing and validating a large import (seconds for 50 MB). While a task runs, /healthz,
 * /metrics and the API keep answering; the results are those of the same functions run in-thread.
 *
 * The worker code is src/worker.ts, an entry point beside main.ts (it wires the rooms a task needs, as main.ts does
 * for the process). Under tsx (tests, bench, AGENTDRIFT_FROM_SOURCE=1) this module is pool.ts and the threads start
 * at src/worker-entry.mjs, which registers tsx in the thread and loads worker.ts (module hooks of the main thread do not
 * reach workers); compiled (dist/, `npm start`, the image) it is pool.js and the threads load dist/worker.js.
 * This room knows nothing of the tasks: it imports nothing of agentdrift's.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';

/** Idle threads end after this long (their memory goes back with them); a burst of tasks reuses them. */
const IDLE_TIMEOUT_MS = 30_000;

function workerEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? '../worker-entry.mjs' : '../worker.js', import.meta.url).href;
}

export class CpuPool {
  private readonly pool: Piscina;

  constructor(opts: { maxThreads?: number } = {}) {
    this.pool = new Piscina({
      filename: workerEntry(),
      minThreads: 0,
      // Two, so an import's parse and a refresh's simulation do not wait for each other; more would only take cores
      // from the main thread on a small machine.
      maxThreads: opts.maxThreads ?? Math.max(1, Math.min(2, availableParallelism())),
      idleTimeout: IDLE_TIMEOUT_MS,
      // Threads that wait on Atomics between tasks would keep the process alive; these end when idle.
      atomics: 'disabled',
      // Below the main thread's priority (Linux nice +10 for these threads): on a busy machine the event loop gets a
      // core first, the background work the rest.
      niceIncrement: 10,
    });
  }

  /**
   * Runs the worker task of that name (an export of src/worker.ts) on `task`. The rooms that own each kind of task
   * declare its input and output types (SnapshotTask in core/figures, ParseTask in core/history), and worker.ts
   * implements them against those types. Buffers in `transferList` are moved to the thread, unusable here afterwards.
   */
  run<T>(name: string, task: unknown, transferList: ArrayBuffer[] = []): Promise<T> {
    return this.pool.run(task, { name, transferList }) as Promise<T>;
  }

  /** Ends the threads; tasks still queued or running are rejected. */
  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}
