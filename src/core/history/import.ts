/**
 * `agentdrift import` and `agentdrift export`: the I/O around the pure formats in format.ts.
 */
import { readFileSync } from 'node:fs';
import { trackNamed } from '../../config/index.ts';
import type { CoreDeps } from '../deps.ts';
import type { ImportResult } from '../../domain/records.ts';
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

export function importHistoryText(deps: CoreDeps, track: string, text: string, opts: ParseOptions): ImportSummary {
  trackNamed(deps.config, track);
  const parsed = parseHistory(text, opts);
  const result = deps.store.imports.save(track, parsed.runs);
  deps.figures.refresh(track);
  deps.log.info({ track, file: opts.fileName, ...result }, 'history imported');
  return { kind: parsed.kind, notes: parsed.notes, ...result };
}

export function importHistoryFile(deps: CoreDeps, track: string, file: string, at?: string): ImportSummary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ImportError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return importHistoryText(deps, track, text, { fileName: file, at });
}

export function exportHistory(deps: CoreDeps, track: string): unknown {
  trackNamed(deps.config, track);
  return toHistoryDocument(track, deps.store.runs.iterateWithAttempts(track), new Date(), (why) => deps.log.warn({ track }, why));
}
