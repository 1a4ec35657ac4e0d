/**
 * Loading the dataset: a local JSONL file, a local parquet file, or the parquet file of a pinned revision of the
 * dataset hub, downloaded once into `<dataDir>/datasets/<revision>/<path>` and reused from there without network.
 * Pure helpers (URL and cache path, JSONL splitting, rows to tasks) are exported for tests and for the CLI.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { downloadFile, type DownloadProgress, type HttpOptions } from './http.ts';
import { excerpt } from './lists.ts';
import { COLUMNS, NON_EMPTY_COLUMNS, parseRow, PRESENT_COLUMNS } from './row.ts';
import { DEFAULT_TEST_SPLIT_PATH } from './sources.ts';
import { DatasetLoadError, DatasetRowError, type DatasetSource, type RejectedRow, type Task } from './types.ts';

export interface LoadedDataset {
  tasks: Task[];
  rejected: RejectedRow[];
  /** The file the rows were read from (the cache file for a hub dataset). */
  path: string;
  /** sha256 (hex) of that file. */
  sha256: string;
  /**
   * What identifies this dataset in a suite hash: a hub commit as pinned, `<branch or tag>@sha256:<hex>` for a hub
   * revision that can move (the file read is part of the suite), or `sha256:<hex>` of a local file.
   */
  revision: string;
  /** For a hub dataset: whether this call downloaded the file (false: it came from the cache). */
  downloaded: boolean;
}

export interface LoadOptions extends HttpOptions {
  onProgress?: (p: DownloadProgress) => void;
}

/** One raw row before parsing: its position, and either the decoded object or why it could not be decoded. */
export type RawRow = { index: number; value: unknown } | { index: number; error: string };

const PARQUET_MAGIC = 'PAR1';

/** Load every row of the configured dataset and parse each strictly; bad rows are listed, not fatal. */
export async function loadDataset(
  source: DatasetSource,
  dataDir: string,
  options: LoadOptions = {},
): Promise<LoadedDataset> {
  if (source.kind === 'file') {
    const file = path.resolve(source.path);
    const { rows, sha256 } = await readRowsFromFile(file);
    return { ...rowsToTasks(rows), path: file, sha256, revision: `sha256:${sha256}`, downloaded: false };
  }
  const { path: file, sha256, downloaded } = await ensureHubFile(source, dataDir, options);
  const rows = await readParquetRows(file);
  // A branch such as "main" can move: the same name with other rows (after the cache is cleared) is another suite.
  const revision = /^[0-9a-f]{40}$/.test(source.revision) ? source.revision : `${source.revision}@sha256:${sha256}`;
  return { ...rowsToTasks(rows), path: file, sha256, revision, downloaded };
}

/** `<baseUrl>/datasets/<name>/resolve/<revision>/<path>`, each part checked and encoded. */
export function hubFileUrl(source: Extract<DatasetSource, { kind: 'hub' }>): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(source.name)) {
    throw new DatasetLoadError(`dataset name ${excerpt(source.name)} is not of the form owner/name`);
  }
  const base = checkedBaseUrl(source.baseUrl, 'dataset hub base URL');
  checkRevision(source.revision);
  const filePath = splitFilePath(source);
  return `${base}/datasets/${source.name}/resolve/${encodeURIComponent(source.revision)}/${filePath
    .map(encodeURIComponent)
    .join('/')}`;
}

/** Where a hub dataset file is cached: `<dataDir>/datasets/<revision>/<path>`. */
export function hubCachePath(source: Extract<DatasetSource, { kind: 'hub' }>, dataDir: string): string {
  checkRevision(source.revision);
  return path.join(path.resolve(dataDir), 'datasets', encodeURIComponent(source.revision), ...splitFilePath(source));
}

/**
 * The hub file in the cache, downloading it when absent. A cached file is checked against the configured sha256;
 * one that no longer matches is downloaded again (and must then match). Without a configured sha256 the hash of the
 * first download is recorded beside the file (`<file>.sha256`) and reported by later loads.
 */
export async function ensureHubFile(
  source: Extract<DatasetSource, { kind: 'hub' }>,
  dataDir: string,
  options: LoadOptions = {},
): Promise<{ path: string; sha256: string; downloaded: boolean }> {
  const expected = source.sha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new DatasetLoadError(`configured dataset sha256 ${excerpt(source.sha256 ?? '')} is not 64 hex digits`);
  }
  const url = hubFileUrl(source);
  const file = hubCachePath(source, dataDir);
  const sidecar = `${file}.sha256`;
  if (await exists(file)) {
    const actual = await sha256OfFile(file);
    if (expected === undefined || expected === actual) {
      const recorded = await readFile(sidecar, 'utf8').catch(() => '');
      if (recorded.trim() !== actual) await writeFile(sidecar, `${actual}\n`);
      return { path: file, sha256: actual, downloaded: false };
    }
  }
  const result = await downloadFile(url, file, { ...options, ...(expected !== undefined ? { expectedSha256: expected } : {}) });
  await writeFile(sidecar, `${result.sha256}\n`);
  return { path: file, sha256: result.sha256, downloaded: true };
}

/** Read a local file's rows: parquet when it starts with the parquet magic bytes, JSONL otherwise. */
export async function readRowsFromFile(file: string): Promise<{ rows: RawRow[]; sha256: string }> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new DatasetLoadError(`cannot read dataset file ${file}: ${(e as Error).message}`);
  }
  const sha256 = await sha256OfFile(file);
  if (head.toString('latin1') === PARQUET_MAGIC) return { rows: await readParquetRows(file), sha256 };
  const text = await readFile(file, 'utf8');
  return { rows: splitJsonl(text), sha256 };
}

/** Every row of a parquet file as an object; the file must have every required column. */
export async function readParquetRows(file: string): Promise<RawRow[]> {
  let objects: Record<string, unknown>[];
  try {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const names = new Set(parquetSchema(metadata).children.map((c) => c.element.name));
    const missing = [...NON_EMPTY_COLUMNS, ...PRESENT_COLUMNS].filter((c) => !names.has(c));
    if (missing.length > 0) {
      throw new DatasetLoadError(`parquet file ${file} lacks the column(s) ${missing.join(', ')}`);
    }
    const wanted = COLUMNS.filter((c) => names.has(c));
    objects = (await parquetReadObjects({ file: buffer, metadata, columns: [...wanted], compressors })) as Record<
      string,
      unknown
    >[];
  } catch (e) {
    if (e instanceof DatasetLoadError) throw e;
    throw new DatasetLoadError(`cannot read parquet file ${file}: ${(e as Error).message}`);
  }
  return objects.map((value, index) => ({ index, value }));
}

/** Split JSONL text into rows; index = line number - 1. Blank lines are skipped; a bad line is a row error. */
export function splitJsonl(text: string): RawRow[] {
  const rows: RawRow[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    try {
      rows.push({ index, value: JSON.parse(trimmed) });
    } catch (e) {
      rows.push({ index, error: `line ${index + 1} is not JSON: ${(e as Error).message}` });
    }
  });
  return rows;
}

/**
 * Parse every raw row into a task. A row that fails is listed in `rejected` with its position, its instance id when
 * one could be read, and the reason; a second row with an id already seen is rejected too.
 */
export function rowsToTasks(rows: readonly RawRow[]): { tasks: Task[]; rejected: RejectedRow[] } {
  const tasks: Task[] = [];
  const rejected: RejectedRow[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    if ('error' in row) {
      rejected.push({ index: row.index, reason: row.error });
      continue;
    }
    try {
      const task = parseRow(row.value);
      const first = seen.get(task.instanceId);
      if (first !== undefined) {
        throw new DatasetRowError(task.instanceId, 'instance_id', `duplicate of the row at index ${first}`);
      }
      seen.set(task.instanceId, row.index);
      tasks.push(task);
    } catch (e) {
      if (!(e instanceof DatasetRowError)) throw e;
      const entry: RejectedRow = { index: row.index, reason: e.message };
      const id = e.instanceId ?? rawInstanceId(row.value);
      if (id !== undefined) entry.instanceId = id;
      rejected.push(entry);
    }
  }
  return { tasks, rejected };
}

function rawInstanceId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const id = (value as Record<string, unknown>)['instance_id'];
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : undefined;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function splitFilePath(source: Extract<DatasetSource, { kind: 'hub' }>): string[] {
  const p = source.path ?? DEFAULT_TEST_SPLIT_PATH;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
    throw new DatasetLoadError(`dataset file path ${excerpt(p)} must be a relative path such as ${DEFAULT_TEST_SPLIT_PATH}`);
  }
  return parts;
}

function checkRevision(revision: string): void {
  if (revision.trim() === '' || revision === '.' || revision === '..' || /[\s\\]/.test(revision) || revision.includes('..')) {
    throw new DatasetLoadError(`dataset revision ${excerpt(revision)} is not a revision such as a commit hash or "main"`);
  }
}

/** A base URL without a trailing slash; http(s) only. */
export function checkedBaseUrl(baseUrl: string, what: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new DatasetLoadError(`${what} ${excerpt(baseUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DatasetLoadError(`${what} ${excerpt(baseUrl)} must be an http or https URL`);
  }
  return baseUrl.replace(/\/+$/, '');
}
