/**
 * The API's import of a request body, without holding up the event loop: a body over OFFLOAD_BYTES is parsed and
 * validated in a worker thread (parseHistory, through workers/pool.ts), then stored on the main thread in chunks of
 * whole runs of up to CHUNK_ATTEMPTS attempts (or one larger run), one SQLite transaction each, with the event loop free between chunks.
 * A smaller body takes importHistoryText's path as it is.
 *
 * Everything is validated before anything is stored, so a rejected file still stores nothing. Each run is stored
 * whole or not at all; should the disk fail half-way, the runs stored so far stay, and posting the file again stores
 * the rest (runs already stored are skipped).
 */
import { trackNamed } from '../../config/index.ts';
import type { CpuPool } from '../../workers/pool.ts';
import type { CoreDeps } from '../deps.ts';
import type { ImportedRun, ImportResult } from '../../domain/records.ts';
import { ImportError, type ParseOptions } from './format.ts';
import { importHistoryText, type ImportSummary } from './import.ts';

/** Bodies larger than this are parsed in a worker (about 0.1 s of parsing on the event loop below it). */
export const OFFLOAD_BYTES = 1024 * 1024;
/** Attempts per stored chunk (a chunk holds at least one whole run): about 5 ms of SQLite inserts on an idle core. */
export const CHUNK_ATTEMPTS = 200;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The worker task that parses and validates a large history file (run by src/worker.ts). */
export interface ParseTask {
  /** The file's bytes (UTF-8), transferred to the thread. */
  body: Uint8Array;
  opts: ParseOptions;
  /** Runs are cut into chunks of whole runs of about this many attempts, for the main thread to store one by one. */
  chunkAttempts: number;
}

export type ParseOutcome =
  | {
      ok: true;
      kind: 'agentdrift' | 'margin';
      notes: string[];
      runs: number;
      attempts: number;
      /** The runs as JSON arrays, one per chunk, UTF-8 back to back in `bytes`; chunk i is bytes[ends[i-1], ends[i]). */
      bytes: Uint8Array;
      ends: number[];
    }
  | { ok: false; message: string; problems: string[] };

/** Parses a history file in a worker; `body` is transferred (unusable here afterwards) when it owns its buffer. */
export function parseInWorker(pool: CpuPool, task: ParseTask): Promise<ParseOutcome> {
  const b = task.body;
  const owns = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
  return pool.run<ParseOutcome>('parse', task, owns ? [b.buffer as ArrayBuffer] : []);
}

/** An import of a large body also needs the worker threads. */
export interface ImportBodyDeps extends CoreDeps {
  cpu(): CpuPool;
}

export async function importHistoryBody(deps: ImportBodyDeps, track: string, body: Uint8Array, opts: ParseOptions): Promise<ImportSummary> {
  trackNamed(deps.config, track);
  if (body.byteLength <= OFFLOAD_BYTES) return importHistoryText(deps, track, Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), opts);
  const out = await parseInWorker(deps.cpu(), { body, opts, chunkAttempts: CHUNK_ATTEMPTS });
  if (!out.ok) throw Object.assign(new ImportError('', out.problems), { message: out.message });
  const result: ImportResult = { runsStored: 0, attemptsStored: 0, runsSkipped: 0 };
  const decoder = new TextDecoder();
  let from = 0;
  for (const end of out.ends) {
    const runs = JSON.parse(decoder.decode(out.bytes.subarray(from, end))) as ImportedRun[];
    from = end;
    const r = deps.store.imports.save(track, runs);
    result.runsStored += r.runsStored;
    result.attemptsStored += r.attemptsStored;
    result.runsSkipped += r.runsSkipped;
    await yieldToLoop();
  }
  deps.figures.refresh(track);
  deps.log.info({ track, file: opts.fileName, ...result }, 'history imported');
  return { kind: out.kind, notes: out.notes, ...result };
}
