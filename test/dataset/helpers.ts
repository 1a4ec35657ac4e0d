/** Fixtures of the dataset tests: paths, temporary directories, and parquet files written from the JSONL rows. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { COLUMNS } from '../../src/dataset/row.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/dataset');
export const TASKS_JSONL = path.join(FIXTURES, 'tasks.jsonl');
export const HARNESS_CLONE = path.join(FIXTURES, 'harness');

export const GO_ID = 'instance_acme__widgets-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567';
export const PY_ID = 'instance_Acme__PyTools-aabbccddeeff00112233445566778899aabbccdd-v0123456789abcdef0123456789abcdef01234567';
export const JS_ID = 'instance_acme__forum-1234567890abcdef1234567890abcdef12345678-vnan';
export const TS_ID = 'instance_element-hq__element-web-00000000000000000000000000000000000000aa-vnan';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-dataset-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The fixture rows that are JSON objects (the last line of tasks.jsonl is deliberately not JSON). */
export function fixtureObjects(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(TASKS_JSONL, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // the malformed line
    }
  }
  return out;
}

/** Write rows as a parquet file with the dataset's 16 nullable string columns (minus any in `omit`). */
export function writeParquet(
  file: string,
  rows: readonly Record<string, unknown>[],
  options: { codec?: 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED'; omit?: readonly string[]; rowGroupSize?: number } = {},
): void {
  const columns = COLUMNS.filter((c) => !(options.omit ?? []).includes(c));
  parquetWriteFile({
    filename: file,
    columnData: columns.map((name) => ({
      name,
      type: 'STRING' as const,
      nullable: true,
      data: rows.map((r) => {
        const v = r[name];
        return typeof v === 'string' ? v : null;
      }),
    })),
    codec: options.codec ?? 'SNAPPY',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
    ...(options.rowGroupSize !== undefined ? { rowGroupSize: options.rowGroupSize } : {}),
  });
}
