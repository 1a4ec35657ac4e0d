/**
 * `agentdrift import` and `agentdrift export`: the I/O around the pure formats in format.ts.
 */
import { readFileSync } from 'node:fs';
import type { AppContext } from '../app/context.ts';
import type { ImportResult } from '../store/store.ts';
import { ImportError, parseHistory, toHistoryDocument } from './format.ts';

export interface ImportSummary extends ImportResult {
  kind: 'agentdrift' | 'margin';
  notes: string[];
}

export function importHistoryText(ctx: AppContext, track: string, text: string, opts: { fileName: string; at?: string | undefined }): ImportSummary {
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
  return toHistoryDocument(track, ctx.store.iterateRunsWithAttempts(track));
}
