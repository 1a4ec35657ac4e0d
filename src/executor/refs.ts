/**
 * Pure helpers both runtimes (Docker, in memory) apply the same way, so that they cannot drift apart: image
 * references, environment variable names, and the content key and completion marker of a tool volume.
 */
import { createHash } from 'node:crypto';
import type { FileContent, ToolFile } from './runtime.ts';

/** Name of the file marking a tool volume as completely filled, at the volume root. */
export const TOOL_VOLUME_MARKER = '.agentdrift-volume.json';

/** `name` and `host:port/name` get the tag `latest`; a reference with a tag or a digest is kept as it is. */
export function normalizeRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Throws a TypeError naming the first environment variable whose name the engine would refuse. */
export function checkEnvNames(env: Record<string, string> | undefined): void {
  for (const k of Object.keys(env ?? {})) {
    if (!ENV_NAME.test(k)) throw new TypeError(`invalid environment variable name: ${JSON.stringify(k)}`);
  }
}

/**
 * The default content key of a tool volume: a hash of the file names, modes and contents (for `sourcePath` files,
 * their size and modification time).
 */
export function hashToolFiles(files: Record<string, ToolFile>, stats: Map<string, { size: number; mtimeMs: number }>): string {
  const h = createHash('sha256');
  for (const [path, f] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${path}\0${f.mode ?? 0o644}\0`);
    if ('content' in f) h.update(f.content);
    else {
      const s = stats.get(f.sourcePath);
      h.update(`${f.sourcePath}\0${s?.size}\0${s?.mtimeMs}`);
    }
    h.update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

/** A file to put into a container as bytes and a mode (default 0o644). */
export function fileBytes(f: FileContent): { content: Buffer; mode: number } {
  if (typeof f === 'string' || Buffer.isBuffer(f)) return { content: Buffer.from(f), mode: 0o644 };
  return { content: Buffer.from(f.content), mode: f.mode ?? 0o644 };
}

/** Throws unless `path` is relative and stays inside `dir` (no leading '/', no '..'). */
export function checkInside(dir: string, path: string): void {
  if (path.startsWith('/') || path.split('/').includes('..')) {
    throw new TypeError(`file path must be relative and stay inside ${dir}: ${JSON.stringify(path)}`);
  }
}
