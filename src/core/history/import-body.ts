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
import type { AppContext } from '../app-context.ts';
import type { ImportedRun, ImportResult } from '../../store/store.ts';
import { ImportError, type ParseOptions } from './format.ts';
import { importHistoryText, type ImportSummary } from './import.ts';

/** Bodies larger than this are parsed in a worker (about 0.1 s of parsing on the event loop below it). */
export const OFFLOAD_BYTES = 1024 * 1024;
/** Attempts per stored chunk (a chunk holds at least one whole run): about 5 ms of SQLite inserts on an idle core. */
export const CHUNK_ATTEMPTS = 200;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function importHistoryBody(ctx: AppContext, track: string, body: Uint8Array, opts: ParseOptions): Promise<ImportSummary> {
  ctx.track(track);
  if (body.byteLength <= OFFLOAD_BYTES) return importHistoryText(ctx, track, Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), opts);
  const out = await ctx.cpu().parse({ body, opts, chunkAttempts: CHUNK_ATTEMPTS });
  if (!out.ok) throw Object.assign(new ImportError('', out.problems), { message: out.message });
  const result: ImportResult = { runsStored: 0, attemptsStored: 0, runsSkipped: 0 };
  const decoder = new TextDecoder();
  let from = 0;
  for (const end of out.ends) {
    const runs = JSON.parse(decoder.decode(out.bytes.subarray(from, end))) as ImportedRun[];
    from = end;
    const r = ctx.store.importRuns(track, runs);
    result.runsStored += r.runsStored;
    result.attemptsStored += r.attemptsStored;
    result.runsSkipped += r.runsSkipped;
    await yieldToLoop();
  }
  ctx.refresh(track);
  ctx.log.info({ track, file: opts.fileName, ...result }, 'history imported');
  return { kind: out.kind, notes: out.notes, ...result };
}
