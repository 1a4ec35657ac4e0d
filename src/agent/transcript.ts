/**
 * Stores an agent's transcript (its stream-json stdout) gzip-compressed under a directory, secrets redacted first;
 * and beside it the attempt's candidate patch (`<name>.patch.gz`), up to MAX_STORED_PATCH_BYTES.
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

/** A file name stem from an attempt key: letters, digits, `.`, `_`, `-` kept; anything else becomes `_`. */
function safeStem(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (safe === '') throw new Error('transcript name is empty');
  return safe;
}

export function transcriptFileName(name: string): string {
  return `${safeStem(name)}.jsonl.gz`;
}

/** The candidate patch's file beside the transcript of the same name. */
export function patchFileName(name: string): string {
  return `${safeStem(name)}.patch.gz`;
}

/**
 * The largest candidate patch kept (uncompressed bytes): 16 MiB, far above real fixes (SWE-Bench-Pro's gold patches
 * are KBs; the real-size fixture's is a few hundred KB), so that an agent that turns a generated file of hundreds of
 * MB into text cannot fill the data directory. A larger patch is graded all the same, only not kept.
 */
export const MAX_STORED_PATCH_BYTES = 16 * 1024 * 1024;

/** Writes `bytes` gzip-compressed to `<dir>/<file>`, atomically (temporary file + rename), readable by the owner only. */
async function writeGzip(dir: string, file: string, bytes: Buffer): Promise<{ path: string; bytes: number }> {
  const gz = await gzipAsync(bytes);
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, gz, { mode: 0o600 });
  await rename(tmp, path);
  return { path, bytes: gz.length };
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
  const written = await writeGzip(dir, transcriptFileName(name), raw);
  return { ...written, rawBytes: raw.length };
}

/**
 * Stores a candidate patch (already redacted: the runner's patch is) byte for byte as `<dir>/<name>.patch.gz`; null,
 * writing nothing, when it is larger than MAX_STORED_PATCH_BYTES.
 */
export async function storePatch(dir: string, name: string, patch: string): Promise<{ path: string; bytes: number } | null> {
  const raw = Buffer.from(patch, 'utf8');
  if (raw.length > MAX_STORED_PATCH_BYTES) return null;
  return writeGzip(dir, patchFileName(name), raw);
}

/** A stored patch's bytes, uncompressed. */
export async function readStoredPatch(path: string): Promise<Buffer> {
  return gunzipAsync(await readFile(path));
}

/** Reads a stored transcript back as text. */
export async function readTranscript(path: string): Promise<string> {
  return (await gunzipAsync(await readFile(path))).toString('utf8');
}
