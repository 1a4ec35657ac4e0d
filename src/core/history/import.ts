/**
 * `agentdrift import` and `agentdrift export`: the I/O around the pure formats in format.ts.
 */
import { readFileSync } from 'node:fs';
import type { AppContext } from '../app-context.ts';
import type { ImportResult } from '../../store/store.ts';
import { ImportError, parseHistory, toHistoryDocument, type ParseOptions } from './format.ts';

/**
 * The largest body POST /api/tracks/:track/import takes. Its peak memory is about ten times the body (the bytes, the
 * parsed JSON, the validated runs, the rows being stored; about 600 MB for a 50 MB file, measured), so the limit
 * bounds the daemon's memory; `agentdrift import` reads a file of any size.
 */
export const IMPORT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ImportSummary extends ImportResult {
  kind: 'agentdrift' | 'margin';
  notes: string[];
}

export function importHistoryText(ctx: AppContext, track: string, text: string, opts: ParseOptions): ImportSummary {
  ctx.track(track);
  const parsed = parseHistory(text, opts);
  const result = ctx.store.importRuns(track, parsed.runs);
  ctx.refresh(track);
  ctx.log.info({ track, file: opts.fileName, ...result }, 'history imported');
  return { kind: parsed.kind, notes: parsed.notes, ...result };
}

export function importHistoryFile(ctx: AppContext, track: string, file: string, at?: string): ImportSummary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ImportError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return importHistoryText(ctx, track, text, { fileName: file, at });
}

export function exportHistory(ctx: AppContext, track: string): unknown {
  ctx.track(track);
  return toHistoryDocument(track, ctx.store.iterateRunsWithAttempts(track), new Date(), (why) => ctx.log.warn({ track }, why));
}
