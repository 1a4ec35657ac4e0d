/**
 * {@link ContainerRuntime} on a Docker Engine through dockerode (API 1.41 and later).
 */
import { createReadStream } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import tar from 'tar-stream';
import {
  InfraError,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_VOLUME,
  ROLE_VOLUME_FILL,
  VOLUME_FILL_GRACE_MS,
  type ContainerHandle,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type DiskUsage,
  type DiskUsageOptions,
  type EngineImage,
  type EnsureImageOptions,
  type EnsureImageResult,
  type EnsureToolVolumeOptions,
  type ExecOptions,
  type ExecResult,
  type FileContent,
  type InfraReason,
  type PullProgress,
  type ToolFile,
} from './runtime.ts';
import { checkEnvNames, checkInside, fileBytes, hashToolFiles, normalizeRef } from './refs.ts';

export interface DockerRuntimeOptions {
  /** Path of the engine's unix socket; default: dockerode's own default (DOCKER_HOST or /var/run/docker.sock). */
  socketPath?: string;
  /** An existing client (takes precedence over socketPath). */
  docker?: Docker;
  /** How long `ping` waits for an answer; default 5 s. */
  pingTimeoutMs?: number;
  /** Age from which another process's volume-fill container counts as a leftover; default VOLUME_FILL_GRACE_MS. */
  volumeFillGraceMs?: number;
  /** How diskUsage measures free space: 'auto' (statfs when the data root is visible here, else a helper container) or 'helper' only. */
  spaceMethod?: 'auto' | 'helper';
  /**
   * Deadline of one engine call (inspect, create, start, exec create/inspect, kill, remove, list, volume calls);
   * default {@link DEFAULT_CALL_TIMEOUT_MS}. A call past it fails with an InfraError of the call's reason.
   */
  callTimeoutMs?: number;
  /**
   * Deadline of one archive transfer in or out of a container, and the longest an image pull may go without a
   * progress event; default {@link DEFAULT_TRANSFER_TIMEOUT_MS}.
   */
  transferTimeoutMs?: number;
  /** Deadline of an exec that sets no `timeoutMs` of its own; default {@link DEFAULT_EXEC_TIMEOUT_MS}. */
  execTimeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 120_000;
export const DEFAULT_TRANSFER_TIMEOUT_MS = 900_000;
export const DEFAULT_EXEC_TIMEOUT_MS = 4 * 3600_000;

/** Name of the file marking a tool volume as completely filled, at the volume root. */
export const TOOL_VOLUME_MARKER = '.agentdrift-volume.json';

const ENGINE_DOWN_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

interface EngineErrorShape {
  statusCode?: number;
  code?: string;
  message?: string;
  json?: { message?: string } | null;
}

function engineMessage(e: unknown): string {
  const err = e as EngineErrorShape;
  const fromJson = err?.json && typeof err.json === 'object' ? err.json.message : undefined;
  return String(fromJson ?? err?.message ?? e);
}

function statusOf(e: unknown): number | undefined {
  const s = (e as EngineErrorShape)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** True when the error says the engine could not be reached at all. */
export function isEngineDown(e: unknown): boolean {
  const err = e as EngineErrorShape;
  if (typeof err?.code === 'string' && ENGINE_DOWN_CODES.has(err.code)) return true;
  return /connect (ECONNREFUSED|ENOENT|EACCES)|socket hang up/.test(String(err?.message ?? ''));
}

/** Wraps an engine error into an InfraError: engine down wins over the phase's own reason. */
export function toInfraError(e: unknown, reason: InfraReason, what: string): InfraError {
  if (e instanceof InfraError) return e;
  if (isEngineDown(e)) return new InfraError('engine_down', `${what}: Docker Engine not reachable (${engineMessage(e)})`, { cause: e });
  return new InfraError(reason, `${what}: ${engineMessage(e)}`, { cause: e });
}

/**
 * Runs one engine call under a deadline: past `ms` the request is aborted and the call fails with
 * InfraError(`reason`) saying what did not answer. The timer is a normal (ref'd) one on purpose: a call the engine
 * never answers must end in an error, never in a process that runs out of work with the call unsettled.
 */
export async function withDeadline<T>(ms: number, reason: InfraReason, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new InfraError(reason, `${what}: no answer from the Docker Engine within ${formatMs(ms)}`);
      abort.abort(e);
      reject(e);
    }, ms);
  });
  const pending = call(abort.signal);
  // The aborted request rejects after the deadline has already failed the call: that late rejection is expected.
  pending.catch(() => undefined);
  try {
    return await Promise.race([pending, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function toEnvList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined;
  checkEnvNames(env);
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function relativeEntryName(dir: string, path: string): string {
  checkInside(dir, path);
  const base = dir.replace(/^\/+/, '').replace(/\/+$/, '');
  return base ? `${base}/${path}` : path;
}

/** Incremental decoder of Docker's multiplexed stream (8-byte headers: type, 0, 0, 0, big-endian length). */
export class DockerStreamDemuxer {
  private buffer = Buffer.alloc(0);
  constructor(
    private readonly onStdout: (b: Buffer) => void,
    private readonly onStderr: (b: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    while (this.buffer.length >= 8) {
      const type = this.buffer.readUInt8(0);
      const length = this.buffer.readUInt32BE(4);
      if (this.buffer.length < 8 + length) return;
      const payload = this.buffer.subarray(8, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      if (type === 2) this.onStderr(payload);
      else this.onStdout(payload);
    }
  }
}


type TarHeader = Parameters<tar.Pack['entry']>[0];

/** An entry of an archive being written: bytes, or a file streamed from disk (its size must be known). */
type PackEntry = { header: TarHeader; content: Buffer } | { header: TarHeader & { size: number }; source: () => Readable };

/**
 * Writes `entries` into `pack` while `upload` (already started: it is the pack's reader) sends it to the engine.
 * tar-stream confirms an entry only once its bytes have been read, so the upload must be reading before the first
 * entry is awaited (awaiting entries first deadlocks past the stream's buffer, about 16 KiB). Every wait also ends
 * when the upload does, so an upload that fails or stalls can never leave a write waiting forever.
 */
async function writeArchive(pack: tar.Pack, upload: Promise<unknown>, entries: Iterable<PackEntry>): Promise<void> {
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
function readTarFiles(stream: NodeJS.ReadableStream, select: (name: string, index: number) => string | null, ms: number, what: string): Promise<Record<string, Buffer>> {
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

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  private readonly pingTimeoutMs: number;
  private readonly volumeFillGraceMs: number;
  private readonly spaceMethod: 'auto' | 'helper';
  /** The image of this process's own container (undefined: not looked up yet; null: not in a container of this engine). */
  private ownImageId: string | null | undefined;
  private readonly callMs: number;
  private readonly transferMs: number;
  private readonly execMs: number;
  private readonly volumeFills = new Map<string, Promise<void>>();
  /**
   * Content key and creation time of each tool volume this process has filled or verified: a later call only
   * inspects the volume (a volume removed and re-created behind our back has another creation time).
   */
  private readonly volumesKnown = new Map<string, { key: string; createdAt: string }>();

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 5000;
    this.volumeFillGraceMs = options.volumeFillGraceMs ?? VOLUME_FILL_GRACE_MS;
    this.spaceMethod = options.spaceMethod ?? 'auto';
    this.callMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.transferMs = options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;
    this.execMs = options.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  }

  /** One engine call under the call deadline (see {@link withDeadline}). */
  private call<T>(reason: InfraReason, what: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.callMs, reason, what, fn);
  }

  async ping(): Promise<void> {
    try {
      await withDeadline(this.pingTimeoutMs, 'engine_down', 'ping', (abortSignal) => (this.docker.ping as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal }));
    } catch (e) {
      throw new InfraError('engine_down', `Docker Engine not reachable: ${engineMessage(e)}`, { cause: e });
    }
  }

  /** True when the image is present locally. */
  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.call('image_missing', `inspecting image ${ref}`, () => this.docker.getImage(ref).inspect());
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw toInfraError(e, 'image_missing', `inspecting image ${ref}`);
    }
  }

  async ensureImage(ref: string, options: EnsureImageOptions): Promise<EnsureImageResult> {
    if (await this.hasImage(ref)) return 'present';
    if (!options.pull) {
      throw new InfraError('image_missing', `image ${ref} is not present locally and pulling is disabled`);
    }
    const full = normalizeRef(ref);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.call('pull_failed', `pulling ${full}`, () => this.docker.pull(full));
    } catch (e) {
      throw toInfraError(e, 'pull_failed', `pulling ${full}`);
    }
    await new Promise<void>((resolve, reject) => {
      // A pull may take long (GBs), but not long without a word: past the transfer deadline with no progress event
      // the pull is abandoned.
      let stall: NodeJS.Timeout | undefined;
      const watch = () => {
        clearTimeout(stall);
        stall = setTimeout(() => {
          (stream as Readable).destroy();
          reject(new InfraError('pull_failed', `pulling ${full}: no progress from the Docker Engine for ${formatMs(this.transferMs)}`));
        }, this.transferMs);
      };
      watch();
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          clearTimeout(stall);
          const failed = err ?? output.find((o) => o.error);
          if (failed) {
            const message = err ? engineMessage(err) : String((failed as { error?: string }).error);
            reject(new InfraError('pull_failed', `pulling ${full}: ${message}`, { cause: err ?? undefined }));
          } else resolve();
        },
        (event: { status?: string; id?: string; progressDetail?: { current?: number; total?: number } }) => {
          watch();
          if (!options.onProgress || !event.status) return;
          const p: PullProgress = { status: event.status };
          if (event.id) p.id = event.id;
          if (event.progressDetail?.current !== undefined) p.current = event.progressDetail.current;
          if (event.progressDetail?.total !== undefined) p.total = event.progressDetail.total;
          options.onProgress(p);
        },
      );
    });
    if (!(await this.hasImage(ref))) throw new InfraError('pull_failed', `pulling ${full} finished but the image is not present`);
    return 'pulled';
  }

  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    const hostConfig: Docker.HostConfig = {};
    if (spec.cpus !== undefined) hostConfig.NanoCpus = Math.round(spec.cpus * 1e9);
    if (spec.memoryBytes !== undefined) {
      hostConfig.Memory = spec.memoryBytes;
      hostConfig.MemorySwap = spec.memoryBytes; // no swap on top of the limit
    }
    if (spec.pidsLimit !== undefined) hostConfig.PidsLimit = spec.pidsLimit;
    if (spec.networkMode !== undefined) hostConfig.NetworkMode = spec.networkMode;
    if (spec.mounts?.length) {
      hostConfig.Mounts = spec.mounts.map((m) => ({ Type: 'volume' as const, Source: m.volume, Target: m.target, ReadOnly: m.readOnly ?? true }));
    }
    const options: Docker.ContainerCreateOptions = {
      Image: spec.image,
      Labels: { ...spec.labels, [LABEL_MANAGED]: 'true' },
      HostConfig: hostConfig,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
    };
    if (spec.name !== undefined) options.name = spec.name;
    if (spec.entrypoint !== undefined) options.Entrypoint = [...spec.entrypoint];
    if (spec.cmd !== undefined) options.Cmd = [...spec.cmd];
    const env = toEnvList(spec.env);
    if (env) options.Env = env;
    if (spec.workingDir !== undefined) options.WorkingDir = spec.workingDir;
    if (spec.user !== undefined) options.User = spec.user;
    try {
      const c = await this.call('create_failed', `creating a container from ${spec.image}`, (abortSignal) => this.docker.createContainer({ ...options, abortSignal }));
      return { id: c.id };
    } catch (e) {
      if (statusOf(e) === 404 && /no such image/i.test(engineMessage(e))) {
        throw new InfraError('image_missing', `creating a container: image ${spec.image} is not present (${engineMessage(e)})`, { cause: e });
      }
      throw toInfraError(e, 'create_failed', `creating a container from ${spec.image}`);
    }
  }

  async start(container: ContainerHandle): Promise<void> {
    try {
      await this.call('start_failed', `starting container ${container.id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(container.id).start({ abortSignal }));
    } catch (e) {
      if (statusOf(e) === 304) return; // already started
      throw toInfraError(e, 'start_failed', `starting container ${container.id.slice(0, 12)}`);
    }
  }

  async exec(container: ContainerHandle, cmd: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    const c = this.docker.getContainer(container.id);
    const withStdin = options.stdin !== undefined;
    let exec: Docker.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      const createOptions: Docker.ExecCreateOptions = {
        Cmd: [...cmd],
        AttachStdin: withStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      };
      const env = toEnvList(options.env);
      if (env) createOptions.Env = env;
      if (options.workingDir !== undefined) createOptions.WorkingDir = options.workingDir;
      if (options.user !== undefined) createOptions.User = options.user;
      const what = `exec ${JSON.stringify(cmd[0] ?? '')} in ${container.id.slice(0, 12)}`;
      exec = await this.call('exec_failed', what, (abortSignal) => c.exec({ ...createOptions, abortSignal }));
      const created = exec;
      stream = (await this.call('exec_failed', what, () => created.start({ hijack: true, stdin: withStdin }))) as NodeJS.ReadWriteStream;
    } catch (e) {
      throw toInfraError(e, 'exec_failed', `exec ${JSON.stringify(cmd[0] ?? '')} in ${container.id.slice(0, 12)}`);
    }

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const demux = new DockerStreamDemuxer(
      (b) => {
        out.push(b);
        options.onStdout?.(b);
      },
      (b) => {
        err.push(b);
        options.onStderr?.(b);
      },
    );
    let timedOut = false;
    let aborted = false;
    let forceEnd: (() => void) | undefined;
    let killing: Promise<void> | undefined;

    const ended = new Promise<void>((resolve, reject) => {
      const readable = stream as unknown as Readable;
      readable.on('data', (chunk: Buffer) => demux.push(chunk));
      readable.on('end', () => resolve());
      readable.on('close', () => resolve());
      readable.on('error', (e) => (timedOut || aborted ? resolve() : reject(e)));
      forceEnd = () => {
        readable.destroy();
        resolve();
      };
    });

    const killForLimit = (why: 'timeout' | 'abort') => {
      if (timedOut || aborted) return;
      if (why === 'timeout') timedOut = true;
      else aborted = true;
      killing = this.kill(container)
        .then(() => this.call('exec_failed', `waiting for ${container.id.slice(0, 12)} to stop`, (abortSignal) => this.docker.getContainer(container.id).wait({ condition: 'not-running', abortSignal })))
        .then(
          () => undefined,
          () => undefined,
        );
      // The attach stream ends when the container dies; do not wait forever if the engine keeps it open.
      setTimeout(() => forceEnd?.(), 10_000).unref();
    };
    // Every exec has a deadline: the caller's, or the runtime's default for execs that set none.
    const killTimer = setTimeout(() => killForLimit('timeout'), options.timeoutMs ?? this.execMs);
    const onAbort = () => killForLimit('abort');
    if (options.signal) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }

    try {
      if (withStdin) {
        stream.write(options.stdin as string | Buffer);
        stream.end();
      }
      await ended;
      // A killed container is stopped for sure before the caller hears of the timeout.
      if (killing) await killing;
    } catch (e) {
      throw toInfraError(e, 'exec_failed', `reading the output of ${JSON.stringify(cmd[0] ?? '')}`);
    } finally {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }

    let exitCode: number | null = null;
    if (!timedOut && !aborted) {
      // The stream can end a moment before the engine records the exit code.
      for (let i = 0; i < 50; i++) {
        try {
          const info = await this.call('exec_failed', `inspecting exec of ${JSON.stringify(cmd[0] ?? '')}`, (abortSignal) => exec.inspect({ abortSignal }));
          if (!info.Running) {
            exitCode = typeof info.ExitCode === 'number' ? info.ExitCode : null;
            break;
          }
        } catch (e) {
          throw toInfraError(e, 'exec_failed', `inspecting exec of ${JSON.stringify(cmd[0] ?? '')}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return {
      exitCode,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      timedOut,
      aborted,
      durationMs: Date.now() - started,
    };
  }

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
  private async upload(container: ContainerHandle, path: string, entries: Iterable<PackEntry>, reason: InfraReason, what: string): Promise<void> {
    const pack = tar.pack();
    // The upload starts first: it is what reads the pack (see writeArchive).
    const upload = withDeadline(this.transferMs, reason, what, (abortSignal) => this.docker.getContainer(container.id).putArchive(asNodeStream(pack), { path, abortSignal }));
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
      return await this.call('copy_failed', what, (abortSignal) => this.docker.getContainer(container.id).getArchive({ path, abortSignal }));
    } catch (e) {
      if (statusOf(e) === 404 && (/could not find the file|no such file/i.test(engineMessage(e)) || (await this.exists(container)))) return null;
      throw toInfraError(e, 'copy_failed', what);
    }
  }

  async getFile(container: ContainerHandle, path: string): Promise<Buffer | null> {
    const stream = await this.archiveOf(container, path);
    if (!stream) return null;
    try {
      const files = await readTarFiles(stream, (_name, index) => (index === 0 ? 'file' : null), this.transferMs, `reading the archive of ${path}`);
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
        this.transferMs,
        `reading the archive of ${path}`,
      );
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `reading the archive of ${path}`);
    }
  }

  async inspect(container: ContainerHandle): Promise<ContainerState | null> {
    try {
      const info = await this.call('exec_failed', `inspecting ${container.id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(container.id).inspect({ abortSignal }));
      const st = info.State;
      return {
        running: st.Running,
        status: st.Status,
        exitCode: st.Running ? null : st.ExitCode,
        oomKilled: st.OOMKilled,
      };
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw toInfraError(e, 'exec_failed', `inspecting ${container.id.slice(0, 12)}`);
    }
  }

  private async exists(container: ContainerHandle): Promise<boolean> {
    try {
      await this.call('exec_failed', `inspecting ${container.id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(container.id).inspect({ abortSignal }));
      return true;
    } catch {
      return false;
    }
  }

  async kill(container: ContainerHandle): Promise<void> {
    try {
      await this.call('remove_failed', `killing ${container.id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(container.id).kill({ signal: 'SIGKILL', abortSignal }));
    } catch (e) {
      const s = statusOf(e);
      if (s === 404 || s === 409 || s === 304) return; // gone or not running
      throw toInfraError(e, 'remove_failed', `killing ${container.id.slice(0, 12)}`);
    }
  }

  async remove(container: ContainerHandle, options: { force?: boolean } = {}): Promise<void> {
    try {
      await this.call('remove_failed', `removing ${container.id.slice(0, 12)}`, (abortSignal) => this.docker.getContainer(container.id).remove({ force: options.force ?? true, v: true, abortSignal }));
    } catch (e) {
      const s = statusOf(e);
      if (s === 404) return;
      if (s === 409 && /already in progress/i.test(engineMessage(e))) return;
      throw toInfraError(e, 'remove_failed', `removing ${container.id.slice(0, 12)}`);
    }
  }

  async removeLeftovers(labels: Record<string, string> = { [LABEL_MANAGED]: 'true' }, options: { olderThanMs?: number } = {}): Promise<number> {
    let list = await this.listLabelled(labels);
    if (options.olderThanMs !== undefined) {
      const cutoff = Date.now() - options.olderThanMs;
      // The engine gives creation times in whole seconds.
      list = list.filter((c) => c.Created * 1000 <= cutoff);
    }
    let removed = 0;
    for (const info of list) {
      await this.remove({ id: info.Id }, { force: true });
      removed++;
    }
    return removed;
  }

  private async listLabelled(labels: Record<string, string>): Promise<Docker.ContainerInfo[]> {
    const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    if (selector.length === 0) throw new TypeError('removeLeftovers needs at least one label');
    try {
      return await this.call('remove_failed', 'listing leftover containers', (abortSignal) => this.docker.listContainers({ all: true, filters: { label: selector }, abortSignal }));
    } catch (e) {
      throw toInfraError(e, 'remove_failed', 'listing leftover containers');
    }
  }

  /**
   * Before a volume is removed for a refill: fill containers of it left by a crashed process would keep it "in use"
   * forever, so those past the grace age are removed; a younger one is another process filling it now, which is
   * waited for (up to the grace age). Returns whether one was waited for (the volume may be complete now).
   */
  private async clearVolumeFills(name: string): Promise<boolean> {
    const labels = { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name };
    let waited = false;
    for (;;) {
      await this.removeLeftovers(labels, { olderThanMs: this.volumeFillGraceMs });
      if ((await this.listLabelled(labels)).length === 0) return waited;
      waited = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  ensureToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions): Promise<void> {
    const running = this.volumeFills.get(name);
    if (running) return running;
    const p = this.fillToolVolume(name, files, options).finally(() => this.volumeFills.delete(name));
    this.volumeFills.set(name, p);
    return p;
  }

  async removeVolume(name: string): Promise<void> {
    this.volumesKnown.delete(name);
    try {
      await this.call('volume_failed', `removing volume ${name}`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
    } catch (e) {
      if (statusOf(e) === 404) return;
      throw toInfraError(e, 'volume_failed', `removing volume ${name}`);
    }
  }

  private async fillToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions, settled = false): Promise<void> {
    const stats = new Map<string, { size: number; mtimeMs: number }>();
    for (const f of Object.values(files)) {
      if ('sourcePath' in f && !stats.has(f.sourcePath)) {
        try {
          const s = await stat(f.sourcePath);
          if (!s.isFile()) throw new Error('not a regular file');
          stats.set(f.sourcePath, { size: s.size, mtimeMs: s.mtimeMs });
        } catch (e) {
          throw new InfraError('volume_failed', `tool volume ${name}: cannot read ${f.sourcePath}: ${(e as Error).message}`, { cause: e });
        }
      }
    }
    const key = options.contentKey ?? hashToolFiles(files, stats);
    const labels = { ...options.labels, [LABEL_MANAGED]: 'true' };

    const createdAt = async (): Promise<string | null> => {
      try {
        const info = (await this.call('volume_failed', `inspecting volume ${name}`, (abortSignal) => this.docker.getVolume(name).inspect({ abortSignal }))) as { CreatedAt?: string };
        return info.CreatedAt ?? '';
      } catch (e) {
        if (statusOf(e) !== 404) throw toInfraError(e, 'volume_failed', `inspecting volume ${name}`);
        return null;
      }
    };
    const created = await createdAt();
    const exists = created !== null;
    const known = this.volumesKnown.get(name);
    if (exists && known?.key === key && known.createdAt === created) return;
    this.volumesKnown.delete(name);

    const mountPoint = '/agentdrift-volume';
    const helper = async <T>(fn: (c: ContainerHandle) => Promise<T>): Promise<T> => {
      const c = await this.createContainer({
        image: options.helperImage,
        labels: { ...labels, [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name },
        entrypoint: ['/agentdrift-never-started'],
        networkMode: 'none',
        mounts: [{ volume: name, target: mountPoint, readOnly: false }],
      });
      try {
        return await fn(c);
      } finally {
        await this.remove(c, { force: true }).catch(() => undefined);
      }
    };

    if (exists) {
      const marker = await helper((c) => this.getFile(c, `${mountPoint}/${TOOL_VOLUME_MARKER}`));
      if (marker) {
        let markedKey: unknown;
        try {
          markedKey = (JSON.parse(marker.toString('utf8')) as { key?: unknown }).key;
        } catch {
          markedKey = undefined;
        }
        if (markedKey === key) {
          this.volumesKnown.set(name, { key, createdAt: created });
          return;
        }
      }
      // Partly filled, or filled with other content: start again from an empty volume, once no fill container
      // holds it. If another process was filling it, look again: it may be complete now.
      if ((await this.clearVolumeFills(name)) && !settled) return this.fillToolVolume(name, files, options, true);
      try {
        await this.call('volume_failed', `removing volume ${name}`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
      } catch (e) {
        throw toInfraError(e, 'volume_failed', `volume ${name} holds other content and cannot be removed (in use?)`);
      }
    }
    try {
      await this.call('volume_failed', `creating volume ${name}`, (abortSignal) => this.docker.createVolume({ Name: name, Labels: labels, abortSignal }));
    } catch (e) {
      throw toInfraError(e, 'volume_failed', `creating volume ${name}`);
    }

    await helper(async (c) => {
      const mtime = new Date();
      const entries = Object.entries(files).map(([path, f]): PackEntry => {
        const header = { name: relativeEntryName('', path), mode: f.mode ?? 0o644, mtime, uid: 0, gid: 0, type: 'file' as const };
        if ('content' in f) return { header, content: Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8') };
        const sourcePath = f.sourcePath;
        return { header: { ...header, size: stats.get(sourcePath)?.size ?? 0 }, source: () => createReadStream(sourcePath) };
      });
      await this.upload(c, mountPoint, entries, 'volume_failed', `filling volume ${name}`);
      // The marker goes in last, so a volume with a marker is complete.
      const markerContent = JSON.stringify({ key, files: Object.keys(files), filledAt: new Date().toISOString() });
      try {
        await this.putFiles(c, mountPoint, { [TOOL_VOLUME_MARKER]: markerContent });
      } catch (e) {
        throw toInfraError(e, 'volume_failed', `marking volume ${name} complete`);
      }
    });
    this.volumesKnown.set(name, { key, createdAt: (await createdAt()) ?? '' });
  }

  // --- images and disk ----------------------------------------------------------------------------------------

  /**
   * Image disk use from the engine's /system/df, and the free space of the filesystem holding its data root
   * (DockerRootDir of /info). The free space is measured, in this order: with `statfs` of the data root when the
   * daemon sees the engine's own data root (the engine's host name is this machine's and the path exists here);
   * else with `df -Pk` in a throwaway container (no network, never started for long) from the first present
   * image of `helperImages`, or this process's own container image when it runs in a container of that engine, with
   * the data root bind-mounted read-only; else it is null (not measured).
   */
  async diskUsage(options: DiskUsageOptions = {}): Promise<DiskUsage> {
    const info = (await this.call('engine_down', 'reading the engine info', () => this.docker.info())) as { DockerRootDir?: string; Name?: string };
    const df = (await this.call('engine_down', 'reading the engine disk use', (abortSignal) =>
      (this.docker.df as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal }),
    )) as { LayersSize?: number; Images?: { Id: string; RepoTags?: string[] | null; Size?: number }[] | null };
    const images: EngineImage[] = (df.Images ?? []).map((i) => ({
      id: i.Id,
      refs: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      sizeBytes: Math.max(0, i.Size ?? 0),
    }));
    const dataRoot = info.DockerRootDir ?? '/var/lib/docker';
    let space: DiskUsage['space'] = null;
    if (this.spaceMethod !== 'helper' && info.Name === hostname()) space = await localSpace(dataRoot);
    if (space === null) {
      const candidates = [...(options.helperImages ?? [])];
      const own = await this.ownImage();
      if (own) candidates.push(own);
      const present = new Set(images.flatMap((i) => [i.id, ...i.refs]));
      const helper = candidates.find((c) => present.has(c) || present.has(normalizeRef(c)));
      if (helper) space = await this.helperSpace(helper, dataRoot);
    }
    return { imagesBytes: Math.max(0, df.LayersSize ?? images.reduce((a, i) => a + i.sizeBytes, 0)), images, dataRoot, space };
  }

  /** The image of the container this process runs in, when it runs in one of this engine (its host name is its id). */
  private async ownImage(): Promise<string | null> {
    if (this.ownImageId !== undefined) return this.ownImageId;
    try {
      const c = (await this.call('engine_down', 'inspecting this process\'s container', () => this.docker.getContainer(hostname()).inspect())) as { Image?: string };
      this.ownImageId = c.Image ?? null;
    } catch {
      this.ownImageId = null;
    }
    return this.ownImageId;
  }

  /** `df -Pk` of the data root in a throwaway container; null when the image has no usable `df`. */
  private async helperSpace(image: string, dataRoot: string): Promise<DiskUsage['space']> {
    const mount = '/agentdrift-data-root';
    let id: string | null = null;
    try {
      const c = await this.call('create_failed', `creating the disk check container from ${image}`, () =>
        this.docker.createContainer({
          Image: image,
          Entrypoint: ['df', '-Pk', mount],
          Cmd: [],
          Labels: { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: 'disk-check' },
          HostConfig: { NetworkMode: 'none', Binds: [`${dataRoot}:${mount}:ro`] },
        }),
      );
      id = c.id;
      const container = this.docker.getContainer(c.id);
      await this.call('start_failed', 'starting the disk check container', () => container.start());
      const exit = (await this.call('exec_failed', 'waiting for the disk check container', () => container.wait())) as { StatusCode?: number };
      if (exit.StatusCode !== 0) return null;
      const logs = (await this.call('exec_failed', 'reading the disk check output', () => container.logs({ stdout: true, stderr: false, follow: false }))) as unknown as Buffer;
      return parseDf(demuxAll(logs));
    } catch {
      return null;
    } finally {
      if (id) await this.remove({ id }, { force: true }).catch(() => undefined);
    }
  }

  async removeImage(ref: string): Promise<'removed' | 'absent' | 'in_use'> {
    try {
      await this.call('remove_failed', `removing image ${ref}`, () => this.docker.getImage(ref).remove({ noprune: false }));
      return 'removed';
    } catch (e) {
      const s = statusOf(e);
      if (s === 404) return 'absent';
      if (s === 409) return 'in_use';
      throw toInfraError(e, 'remove_failed', `removing image ${ref}`);
    }
  }
}

/** statfs of the data root; null when it is not visible here. */
async function localSpace(dataRoot: string): Promise<DiskUsage['space']> {
  try {
    const s = await statfs(dataRoot);
    // bavail: blocks free for unprivileged users, as df reports "Available".
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, method: 'statfs' };
  } catch {
    return null;
  }
}

/** The stdout of a non-tty container's log stream (8-byte frame headers). */
function demuxAll(b: Buffer): string {
  const out: Buffer[] = [];
  new DockerStreamDemuxer((x) => out.push(x), () => undefined).push(b);
  return Buffer.concat(out).toString('utf8');
}

/** The sizes of the last line of POSIX `df -Pk` output (1024-byte blocks: total used available capacity mount). */
export function parseDf(text: string): DiskUsage['space'] {
  const lines = text.trim().split('\n');
  const fields = (lines[lines.length - 1] ?? '').trim().split(/\s+/);
  if (lines.length < 2 || fields.length < 6) return null;
  const total = Number(fields[fields.length - 5]);
  const avail = Number(fields[fields.length - 3]);
  if (!Number.isFinite(total) || !Number.isFinite(avail)) return null;
  return { freeBytes: avail * 1024, totalBytes: total * 1024, method: 'helper' };
}
