/**
 * {@link Archives} on a Docker Engine: files in and out of a container as tar archives through the engine's archive
 * API (never through paths shared with the host), each transfer under the transfer deadline.
 */
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InfraError, type Archives, type ContainerHandle, type FileContent, type InfraReason } from '../runtime.ts';
import { checkInside, fileBytes } from '../refs.ts';
import type { DockerEngine } from './engine.ts';
import { engineMessage, formatMs, statusOf, toInfraError, withDeadline } from './errors.ts';
import type { DockerWorkloads } from './workloads.ts';

/** The name of an archive entry for `path` under `dir` (which must hold it), without a leading slash. */
export function relativeEntryName(dir: string, path: string): string {
  checkInside(dir, path);
  const base = dir.replace(/^\/+/, '').replace(/\/+$/, '');
  return base ? `${base}/${path}` : path;
}

export type TarHeader = Parameters<tar.Pack['entry']>[0];

/** An entry of an archive being written: bytes, or a file streamed from disk (its size must be known). */
export type PackEntry = { header: TarHeader; content: Buffer } | { header: TarHeader & { size: number }; source: () => Readable };

/**
 * Writes `entries` into `pack` while `upload` (already started: it is the pack's reader) sends it to the engine.
 * tar-stream confirms an entry only once its bytes have been read, so the upload must be reading before the first
 * entry is awaited (awaiting entries first deadlocks past the stream's buffer, about 16 KiB). Every wait also ends
 * when the upload does, so an upload that fails or stalls can never leave a write waiting forever.
 */
export async function writeArchive(pack: tar.Pack, upload: Promise<unknown>, entries: Iterable<PackEntry>): Promise<void> {
  const uploadEnded = upload.then(
    () => {
      throw new Error('the engine ended the upload before the archive was complete');
    },
    (e: unknown) => {
      throw e;
    },
  );
  uploadEnded.catch(() => undefined);
  const orUploadEnd = <T>(p: Promise<T>): Promise<T> => Promise.race([p, uploadEnded]);
  try {
    for (const entry of entries) {
      if ('content' in entry) {
        await orUploadEnd(new Promise<void>((resolve, reject) => pack.entry(entry.header, entry.content, (err) => (err ? reject(err) : resolve()))));
        continue;
      }
      let finish!: () => void;
      let fail!: (e: Error) => void;
      const done = new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
      done.catch(() => undefined);
      const sink = pack.entry(entry.header, (err) => (err ? fail(err) : finish()));
      const source = entry.source();
      try {
        for await (const chunk of source) {
          if (!sink.write(chunk as Buffer)) await orUploadEnd(new Promise<void>((r) => sink.once('drain', () => r())));
        }
        (sink as unknown as { end(): void }).end();
      } catch (e) {
        source.destroy();
        sink.destroy(e as Error);
        throw e;
      }
      await orUploadEnd(done);
    }
    pack.finalize();
    await upload;
  } catch (e) {
    pack.destroy();
    await upload.catch(() => undefined);
    throw e;
  }
}

/** tar-stream 3 packs are streamx streams; dockerode pipes them like Node streams. */
function asNodeStream(pack: tar.Pack): NodeJS.ReadableStream {
  return pack as unknown as NodeJS.ReadableStream;
}

/**
 * The regular files of a tar stream whose names `select` maps to a key (null: skipped), read within `ms`; past it
 * the stream is destroyed and the read fails with InfraError('copy_failed').
 */
export function readTarFiles(
  stream: NodeJS.ReadableStream,
  select: (name: string, index: number) => string | null,
  ms: number,
  what: string,
): Promise<Record<string, Buffer>> {
  const source = stream as Readable;
  return new Promise<Record<string, Buffer>>((resolve, reject) => {
    const extract = tar.extract();
    const files: Record<string, Buffer> = {};
    let index = 0;
    const timer = setTimeout(() => {
      const e = new InfraError('copy_failed', `${what}: the archive did not arrive within ${formatMs(ms)}`);
      source.destroy();
      extract.destroy();
      reject(e);
    }, ms);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    extract.on('entry', (header, body, next) => {
      const key = header.type === 'file' ? select(header.name.replace(/^\.\//, ''), index) : null;
      index++;
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => {
        if (key !== null) chunks.push(c as Buffer);
      });
      body.on('end', () => {
        if (key !== null) files[key] = Buffer.concat(chunks);
        next();
      });
      body.resume();
    });
    extract.on('finish', () => settle(() => resolve(files)));
    extract.on('error', (e) => settle(() => reject(e)));
    let ended = false;
    source.on('end', () => (ended = true));
    source.on('error', (e) => settle(() => reject(e)));
    // A stream closed before its end (a dropped connection) never ends the extractor: fail instead of waiting.
    source.on('close', () => {
      if (!ended) settle(() => reject(new Error('the archive stream closed before its end')));
    });
    source.pipe(extract as unknown as NodeJS.WritableStream);
  });
}

export class DockerArchives implements Archives {
  constructor(
    private readonly engine: DockerEngine,
    private readonly workloads: DockerWorkloads,
  ) {}

  async putFiles(container: ContainerHandle, dir: string, files: Record<string, FileContent>): Promise<void> {
    const mtime = new Date();
    const entries = Object.entries(files).map(([path, f]): PackEntry => {
      const { content, mode } = fileBytes(f);
      return { header: { name: relativeEntryName(dir, path), mode, mtime, uid: 0, gid: 0, type: 'file' }, content };
    });
    const what = `copying ${entries.length} file(s) into ${container.id.slice(0, 12)}:${dir}`;
    await this.upload(container, '/', entries, 'copy_failed', what);
  }

  /** Sends an archive of `entries` to `path` in the container within the transfer deadline. */
  async upload(container: ContainerHandle, path: string, entries: Iterable<PackEntry>, reason: InfraReason, what: string): Promise<void> {
    const pack = tar.pack();
    // The upload starts first: it is what reads the pack (see writeArchive).
    const upload = withDeadline(this.engine.transferMs, reason, what, (abortSignal) =>
      this.engine.docker.getContainer(container.id).putArchive(asNodeStream(pack), { path, abortSignal }),
    );
    try {
      await writeArchive(pack, upload, entries);
    } catch (e) {
      throw toInfraError(e, reason, what);
    }
  }

  /** Opens the archive of `path` in the container; null when it does not exist. */
  private async archiveOf(container: ContainerHandle, path: string): Promise<NodeJS.ReadableStream | null> {
    const what = `copying ${path} out of ${container.id.slice(0, 12)}`;
    try {
      return await this.engine.call('copy_failed', what, (abortSignal) => this.engine.docker.getContainer(container.id).getArchive({ path, abortSignal }));
    } catch (e) {
      if (statusOf(e) === 404 && (/could not find the file|no such file/i.test(engineMessage(e)) || (await this.workloads.exists(container)))) return null;
      throw toInfraError(e, 'copy_failed', what);
    }
  }

  async getFile(container: ContainerHandle, path: string): Promise<Buffer | null> {
    const stream = await this.archiveOf(container, path);
    if (!stream) return null;
    try {
      const files = await readTarFiles(stream, (_name, index) => (index === 0 ? 'file' : null), this.engine.transferMs, `reading the archive of ${path}`);
      return files.file ?? null;
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `reading the archive of ${path}`);
    }
  }

  async getFiles(container: ContainerHandle, dir: string, names?: readonly string[]): Promise<Record<string, Buffer>> {
    const path = dir.replace(/\/+$/, '') || '/';
    const stream = await this.archiveOf(container, path);
    if (!stream) return {};
    const wanted = names ? new Set(names) : null;
    try {
      return await readTarFiles(
        stream,
        (name) => {
          // Entries are named after the directory itself: "<basename>/<relative path>".
          const slash = name.indexOf('/');
          const rel = slash < 0 ? '' : name.slice(slash + 1);
          return rel !== '' && (!wanted || wanted.has(rel)) ? rel : null;
        },
        this.engine.transferMs,
        `reading the archive of ${path}`,
      );
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `reading the archive of ${path}`);
    }
  }
}
