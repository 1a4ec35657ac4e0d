/**
 * The daemon's pool of worker threads (piscina) for CPU-heavy work that must not run on its event loop: recomputing a
 * track's figures (a CUSUM threshold simulation takes 0.5-8 s, a scan of a few hundred thousand stored attempts
 * about a second) and parsing and validating a large import (seconds for 50 MB). While a task runs, /healthz,
 * /metrics and the API keep answering; the results are those of the same functions run in-thread.
 *
 * The worker code is cpu-worker.ts next to this file. Under tsx (tests, bench, AGENTDRIFT_FROM_SOURCE=1) this module
 * is pool.ts and the threads start at tsx-entry.mjs, which registers tsx in the thread and loads cpu-worker.ts
 * (module hooks of the main thread do not reach workers); compiled (dist/, `npm start`, the image) it is pool.js
 * and the threads load cpu-worker.js.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ThresholdResult } from '../stats/index.ts';
import type { ParseOutcome, ParseTask, SnapshotOutcome, SnapshotTask, ThresholdTask } from '../worker.ts';

/** Idle threads end after this long (their memory goes back with them); a burst of tasks reuses them. */
const IDLE_TIMEOUT_MS = 30_000;

function workerEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './tsx-entry.mjs' : '../worker.js', import.meta.url).href;
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

  snapshots(task: SnapshotTask): Promise<SnapshotOutcome[]> {
    return this.pool.run(task, { name: 'snapshots' }) as Promise<SnapshotOutcome[]>;
  }

  threshold(task: ThresholdTask): Promise<ThresholdResult> {
    return this.pool.run(task, { name: 'threshold' }) as Promise<ThresholdResult>;
  }

  /** Parses a history file in a worker; `body` is transferred (unusable here afterwards) when it owns its buffer. */
  parse(task: ParseTask): Promise<ParseOutcome> {
    const b = task.body;
    const owns = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
    return this.pool.run(task, { name: 'parse', transferList: owns ? [b.buffer as ArrayBuffer] : [] }) as Promise<ParseOutcome>;
  }

  /** Ends the threads; tasks still queued or running are rejected. */
  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}
