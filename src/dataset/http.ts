/**
 * The room's only network code: download a file with progress and sha256, fetch a small text file, and retry
 * transient failures. Files land atomically (written to `.part`, renamed when complete and verified).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { retryWhile } from '../domain/retry.ts';
import { ChecksumMismatchError, DownloadError } from './types.ts';

export interface DownloadProgress {
  url: string;
  receivedBytes: number;
  /** From Content-Length; null when the server does not say. */
  totalBytes: number | null;
}

export interface HttpOptions {
  /** Attempts after the first one for network errors, 408, 429 and 5xx answers (default 2). */
  retries?: number;
  /** Milliseconds without any byte received before the transfer is abandoned (default 60 000). */
  idleTimeoutMs?: number;
  /** Base delay between attempts, doubled each time (default 500 ms). */
  retryDelayMs?: number;
}

export interface DownloadOptions extends HttpOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Lower-case hex sha256 the file must have; a mismatch deletes the download and throws ChecksumMismatchError. */
  expectedSha256?: string;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
}

/** Download `url` to `dest`, streaming, hashing and reporting progress as bytes arrive. */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  await mkdir(path.dirname(dest), { recursive: true });
  // Unique per call: two loads of the same file at once must not write into one another's partial file.
  const part = `${dest}.${process.pid}.${randomUUID().slice(0, 8)}.part`;
  try {
    const { bytes, sha256 } = await withRetries(options, async () => {
      const response = await request(url, options);
      // Content-Length counts encoded bytes; with a content encoding the decoded size is unknown in advance.
      const encoded = (response.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
      const lengthHeader = response.headers.get('content-length');
      const total = !encoded && lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
      const hash = createHash('sha256');
      const out = createWriteStream(part);
      let received = 0;
      try {
        for await (const chunk of readWithIdleTimeout(response, url, options.idleTimeoutMs ?? 60_000)) {
          hash.update(chunk);
          received += chunk.byteLength;
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          options.onProgress?.({ url, receivedBytes: received, totalBytes: total });
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      } catch (e) {
        out.destroy();
        throw e;
      }
      if (total !== null && received !== total) {
        throw new DownloadError(url, null, `download of ${url} ended after ${received} of ${total} bytes`);
      }
      return { bytes: received, sha256: hash.digest('hex') };
    });
    if (options.expectedSha256 !== undefined && options.expectedSha256.toLowerCase() !== sha256) {
      throw new ChecksumMismatchError(url, options.expectedSha256.toLowerCase(), sha256);
    }
    await rename(part, dest);
    return { path: dest, bytes, sha256 };
  } finally {
    await rm(part, { force: true });
  }
}

/** Fetch a small text file; null when the server answers 404 (the file does not exist at that revision). */
export async function fetchText(url: string, options: HttpOptions = {}): Promise<string | null> {
  return withRetries(options, async () => {
    const response = await request(url, options, true);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    const chunks: Uint8Array[] = [];
    for await (const chunk of readWithIdleTimeout(response, url, options.idleTimeoutMs ?? 60_000)) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  });
}

async function request(url: string, options: HttpOptions, allow404 = false): Promise<Response> {
  let response: Response;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.idleTimeoutMs ?? 60_000);
  try {
    response = await fetch(url, { redirect: 'follow', signal: controller.signal });
  } catch (e) {
    throw new DownloadError(url, null, `cannot fetch ${url}: ${causeOf(e)}`);
  } finally {
    clearTimeout(timer);
  }
  if (response.ok || (allow404 && response.status === 404)) return response;
  await response.body?.cancel().catch(() => undefined);
  throw new DownloadError(url, response.status, `fetching ${url} answered HTTP ${response.status} ${response.statusText}`.trim());
}

async function* readWithIdleTimeout(response: Response, url: string, idleMs: number): AsyncGenerator<Uint8Array> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DownloadError(url, null, `download of ${url} stalled: no data for ${idleMs} ms`)),
          idleMs,
        );
      });
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await Promise.race([reader.read(), idle]);
      } catch (e) {
        if (e instanceof DownloadError) throw e;
        throw new DownloadError(url, null, `download of ${url} failed: ${causeOf(e)}`);
      } finally {
        clearTimeout(timer);
      }
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function isTransient(e: unknown): boolean {
  if (!(e instanceof DownloadError)) return false;
  // status null: no answer, a broken or stalled transfer.
  return e.status === null || e.status === 408 || e.status === 429 || e.status >= 500;
}

/**
 * Runs `attempt`, retrying it up to `retries` more times (p-retry) while it fails transiently, waiting `base * 2 ** i`
 * ms after failure i (0-based). Any other failure is thrown at once, as it was thrown; after the last retry the last
 * failure is thrown.
 */
async function withRetries<T>(options: HttpOptions, attempt: () => Promise<T>): Promise<T> {
  const retries = Math.max(0, options.retries ?? 2);
  const base = options.retryDelayMs ?? 500;
  return retryWhile(() => attempt(), retries, isTransient, (_error, n) => new Promise((resolve) => setTimeout(resolve, base * 2 ** (n - 1))));
}

function causeOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return `${e.message} (${cause.message})`;
    return e.message;
  }
  return String(e);
}
