/**
 * Stores an agent's transcript (its stream-json stdout) gzip-compressed under a directory, secrets redacted first.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { makeRedactor } from './redact.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface StoredTranscript {
  /** Absolute or dir-relative path of the `.jsonl.gz` file, as `join(dir, ...)` gives it. */
  path: string;
  /** Size of the compressed file. */
  bytes: number;
  /** Size of the redacted, uncompressed text. */
  rawBytes: number;
}

/** A file name from an attempt key: letters, digits, `.`, `_`, `-` kept; anything else becomes `_`. */
export function transcriptFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (safe === '') throw new Error('transcript name is empty');
  return `${safe}.jsonl.gz`;
}

/**
 * Writes `content` (the CLI's stdout, or its lines) to `<dir>/<name>.jsonl.gz`, redacting every secret first.
 * The write is atomic (temporary file + rename), so a crash never leaves half a transcript.
 */
export async function storeTranscript(
  dir: string,
  name: string,
  content: string | readonly string[],
  secrets: readonly string[],
): Promise<StoredTranscript> {
  const text = typeof content === 'string' ? content : content.map((l) => (l.endsWith('\n') ? l : `${l}\n`)).join('');
  const redacted = makeRedactor(secrets)(text);
  const raw = Buffer.from(redacted, 'utf8');
  const gz = await gzipAsync(raw);
  await mkdir(dir, { recursive: true });
  const path = join(dir, transcriptFileName(name));
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, gz, { mode: 0o600 });
  await rename(tmp, path);
  return { path, bytes: gz.length, rawBytes: raw.length };
}

/** Reads a stored transcript back as text. */
export async function readTranscript(path: string): Promise<string> {
  return (await gunzipAsync(await readFile(path))).toString('utf8');
}
