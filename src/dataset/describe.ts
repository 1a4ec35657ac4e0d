/**
 * What `agentdrift tasks` shows: one row per task (id, repository, language, image, test counts) and the rejected
 * rows with their reasons, as a plain-text table or as JSON. Pure functions.
 */
import { imageReference } from './image.ts';
import type { Language, RejectedRow, Task } from './types.ts';

export interface TaskDescription {
  id: string;
  repository: string;
  language: Language;
  image: string;
  failToPass: number;
  passToPass: number;
}

export function describeTasks(tasks: readonly Task[], imageRepository: string): TaskDescription[] {
  return tasks.map((t) => ({
    id: t.instanceId,
    repository: t.repo,
    language: t.language,
    image: imageReference(t.imageTag, imageRepository),
    failToPass: t.failToPass.length,
    passToPass: t.passToPass.length,
  }));
}

/** A fixed-width table, then a line per rejected row ("rejected row 3 (id): reason"), then a count line. */
export function formatTaskTable(rows: readonly TaskDescription[], rejected: readonly RejectedRow[] = []): string {
  const header = ['ID', 'REPOSITORY', 'LANGUAGE', 'IMAGE', 'F2P', 'P2P'];
  const body = rows.map((r) => [r.id, r.repository, r.language, r.image, String(r.failToPass), String(r.passToPass)]);
  const numeric = [false, false, false, false, true, true];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...body.map(line)];
  for (const r of rejected) {
    out.push(`rejected row ${r.index}${r.instanceId !== undefined ? ` (${r.instanceId})` : ''}: ${r.reason}`);
  }
  out.push(`${rows.length} task${rows.length === 1 ? '' : 's'}, ${rejected.length} rejected row${rejected.length === 1 ? '' : 's'}`);
  return out.join('\n') + '\n';
}

/** `{"tasks": [...], "rejected": [...]}`, pretty-printed, for `--json`. */
export function formatTaskJson(rows: readonly TaskDescription[], rejected: readonly RejectedRow[] = []): string {
  return JSON.stringify({ tasks: rows, rejected }, null, 2) + '\n';
}
