/**
 * The worker side of the CPU pool (workers/pool.ts), an entry point like main.ts: each export is one kind of task, run in a worker thread so the daemon's
 * event loop keeps answering /healthz, /metrics and the API while it runs. Each calls the same code the main thread
 * would (computeSnapshot, trackThreshold, parseHistory), so the results are the same, only computed elsewhere.
 *
 * Loaded by piscina as `worker.ts` under tsx (tests, `npm run bench`, AGENTDRIFT_FROM_SOURCE=1) and as
 * `worker.js` from dist/ (`npm start`, the image); pool.ts picks which.
 */
import { ImportError, parseHistory } from './core/history/format.ts';
import type { SnapshotOutcome, SnapshotTask, ThresholdTask } from './core/figures/figures.ts';
import type { ParseOutcome, ParseTask } from './core/history/import-body.ts';
import { computeSnapshot } from './core/figures/snapshot.ts';
import { StoredThresholdCache } from './core/figures/evaluate.ts';
import { trackThreshold, type ThresholdResult } from './stats/index.ts';
import { Store } from './store/store.ts';
import { move, transferableSymbol, valueSymbol } from 'piscina';

/** One connection per store file, kept while this thread lives (the pool ends idle threads). */
const stores = new Map<string, Store>();

function storeAt(file: string): Store {
  let s = stores.get(file);
  if (!s?.isOpen) {
    s = new Store(file);
    stores.set(file, s);
  }
  return s;
}

/**
 * The figures of some tracks, as Figures.refresh computes them in-thread, including any CUSUM threshold to simulate (cached
 * in the store, through this connection, like the main thread's cache would). One track failing does not take the
 * others with it.
 */
export function snapshots(task: SnapshotTask): SnapshotOutcome[] {
  const store = storeAt(task.file);
  const thresholds = new StoredThresholdCache(store);
  return task.tracks.map((t) => {
    try {
      return { track: t.name, snapshot: computeSnapshot(store, t, { statistics: task.statistics, thresholds }) };
    } catch (e) {
      return { track: t.name, error: e instanceof Error ? e.message : String(e) };
    }
  });
}

/** One CUSUM threshold, as trackThreshold computes it in-thread (same seed, same h). */
export function threshold(task: ThresholdTask): ThresholdResult {
  return trackThreshold(task.baseline, task.options);
}

/**
 * parseHistory (format.ts: parse and validate) of a large file, off the event loop. An ImportError comes back as a
 * value (an Error crossing threads loses its class and its list of problems). The runs come back as JSON in one
 * transferred buffer, not as objects: a structured clone of 200k attempts would cost the main thread about a second
 * to read, a chunk's JSON.parse a few milliseconds, spread between the chunks it stores.
 */
export function parse(task: ParseTask): ParseOutcome | object {
  const text = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength).toString('utf8');
  let parsed;
  try {
    parsed = parseHistory(text, task.opts);
  } catch (e) {
    if (e instanceof ImportError) return { ok: false, message: e.message, problems: e.problems };
    throw e;
  }
  const parts: Uint8Array[] = [];
  const ends: number[] = [];
  let total = 0;
  let attempts = 0;
  for (let i = 0; i < parsed.runs.length; ) {
    const from = i;
    let n = 0;
    do n += parsed.runs[i++]!.attempts.length;
    while (i < parsed.runs.length && n + parsed.runs[i]!.attempts.length <= task.chunkAttempts);
    const part = Buffer.from(JSON.stringify(parsed.runs.slice(from, i)), 'utf8');
    parts.push(part);
    total += part.length;
    ends.push(total);
    attempts += n;
  }
  // A buffer of its own (Buffer.concat may hand out a slice of a shared pool, which must not be transferred).
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const outcome: ParseOutcome = { ok: true, kind: parsed.kind, notes: parsed.notes, runs: parsed.runs.length, attempts, bytes, ends };
  // Moved, not copied, back to the main thread.
  return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: outcome });
}
