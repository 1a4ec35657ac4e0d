/**
 * {@link ContainerRuntime} on a Docker Engine through dockerode (API 1.41 and later).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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
  type EnsureImageOptions,
  type EnsureToolVolumeOptions,
  type ExecOptions,
  type ExecResult,
  type FileContent,
  type InfraReason,
  type PullProgress,
  type ToolFile,
} from './runtime.js';

export interface DockerRuntimeOptions {
  /** Path of the engine's unix socket; default: dockerode's own default (DOCKER_HOST or /var/run/docker.sock). */
  socketPath?: string;
  /** An existing client (takes precedence over socketPath). */
  docker?: Docker;
  /** How long `ping` waits for an answer; default 5 s. */
  pingTimeoutMs?: number;
  /** Age from which another process's volume-fill container counts as a leftover; default VOLUME_FILL_GRACE_MS. */
  volumeFillGraceMs?: number;
}

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

function normalizeRef(ref: string): string {
  // "name" and "host:port/name" have no tag; "name@sha256:..." has a digest.
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

function toEnvList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined;
  return Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k)) throw new TypeError(`invalid environment variable name: ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });
}

function relativeEntryName(dir: string, path: string): string {
  if (path.startsWith('/') || path.split('/').includes('..')) {
    throw new TypeError(`file path must be relative and stay inside ${dir}: ${JSON.stringify(path)}`);
  }
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

function hashToolFiles(files: Record<string, ToolFile>, stats: Map<string, { size: number; mtimeMs: number }>): string {
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

type TarHeader = Parameters<tar.Pack['entry']>[0];

function addEntry(pack: tar.Pack, header: TarHeader, content: Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, content, (err) => (err ? reject(err) : resolve())));
}

/** Streams a file into the archive without holding it in memory (the entry's size must be in the header). */
async function addStreamEntry(pack: tar.Pack, header: TarHeader, source: Readable): Promise<void> {
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const sink = pack.entry(header, (err) => (err ? fail(err) : finish()));
  try {
    for await (const chunk of source) {
      if (!sink.write(chunk as Buffer)) await new Promise<void>((r) => sink.once('drain', () => r()));
    }
    (sink as unknown as { end(): void }).end();
  } catch (e) {
    sink.destroy(e as Error);
    throw e;
  }
  await done;
}

/** tar-stream 3 packs are streamx streams; dockerode pipes them like Node streams. */
function asNodeStream(pack: tar.Pack): NodeJS.ReadableStream {
  return pack as unknown as NodeJS.ReadableStream;
}

function readTarFirstFile(stream: NodeJS.ReadableStream): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    let result: Buffer | null = null;
    let seen = false;
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      const first = !seen;
      seen = true;
      body.on('data', (c: unknown) => {
        if (first && header.type === 'file') chunks.push(c as Buffer);
      });
      body.on('end', () => {
        if (first && header.type === 'file') result = Buffer.concat(chunks);
        next();
      });
      body.resume();
    });
    extract.on('finish', () => resolve(result));
    extract.on('error', reject);
    (stream as Readable).on('error', reject);
    (stream as Readable).pipe(extract as unknown as NodeJS.WritableStream);
  });
}

/** The regular files of a tar stream whose names `select` maps to a key (null: skipped). */
function readTarFiles(stream: NodeJS.ReadableStream, select: (name: string) => string | null): Promise<Record<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    const files: Record<string, Buffer> = {};
    extract.on('entry', (header, body, next) => {
      const key = header.type === 'file' ? select(header.name.replace(/^\.\//, '')) : null;
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
    extract.on('finish', () => resolve(files));
    extract.on('error', reject);
    (stream as Readable).on('error', reject);
    (stream as Readable).pipe(extract as unknown as NodeJS.WritableStream);
  });
}

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  private readonly pingTimeoutMs: number;
  private readonly volumeFillGraceMs: number;
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
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
        }),
      ]);
    } catch (e) {
      throw new InfraError('engine_down', `Docker Engine not reachable: ${engineMessage(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when the image is present locally. */
  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw toInfraError(e, 'image_missing', `inspecting image ${ref}`);
    }
  }

  async ensureImage(ref: string, options: EnsureImageOptions): Promise<void> {
    if (await this.hasImage(ref)) return;
    if (!options.pull) {
      throw new InfraError('image_missing', `image ${ref} is not present locally and pulling is disabled`);
    }
    const full = normalizeRef(ref);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(full);
    } catch (e) {
      throw toInfraError(e, 'pull_failed', `pulling ${full}`);
    }
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          const failed = err ?? output.find((o) => o.error);
          if (failed) {
            const message = err ? engineMessage(err) : String((failed as { error?: string }).error);
            reject(new InfraError('pull_failed', `pulling ${full}: ${message}`, { cause: err ?? undefined }));
          } else resolve();
        },
        (event: { status?: string; id?: string; progressDetail?: { current?: number; total?: number } }) => {
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
      const c = await this.docker.createContainer(options);
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
      await this.docker.getContainer(container.id).start();
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
      exec = await c.exec(createOptions);
      stream = (await exec.start({ hijack: true, stdin: withStdin })) as NodeJS.ReadWriteStream;
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
    let killTimer: NodeJS.Timeout | undefined;
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
        .then(() => this.docker.getContainer(container.id).wait({ condition: 'not-running' }))
        .then(
          () => undefined,
          () => undefined,
        );
      // The attach stream ends when the container dies; do not wait forever if the engine keeps it open.
      setTimeout(() => forceEnd?.(), 10_000).unref();
    };
    if (options.timeoutMs !== undefined) killTimer = setTimeout(() => killForLimit('timeout'), options.timeoutMs);
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
          const info = await exec.inspect();
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
    const pack = tar.pack();
    const entries = Object.entries(files).map(([path, f]) => {
      const content = typeof f === 'string' || Buffer.isBuffer(f) ? f : f.content;
      const mode = typeof f === 'string' || Buffer.isBuffer(f) ? 0o644 : (f.mode ?? 0o644);
      return { name: relativeEntryName(dir, path), content: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'), mode };
    });
    const mtime = new Date();
    for (const e of entries) await addEntry(pack, { name: e.name, mode: e.mode, mtime, uid: 0, gid: 0, type: 'file' }, e.content);
    pack.finalize();
    try {
      await this.docker.getContainer(container.id).putArchive(asNodeStream(pack), { path: '/' });
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `copying ${entries.length} file(s) into ${container.id.slice(0, 12)}:${dir}`);
    }
  }

  async getFile(container: ContainerHandle, path: string): Promise<Buffer | null> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.getContainer(container.id).getArchive({ path });
    } catch (e) {
      if (statusOf(e) === 404 && (/could not find the file|no such file/i.test(engineMessage(e)) || (await this.exists(container)))) return null;
      throw toInfraError(e, 'copy_failed', `copying ${path} out of ${container.id.slice(0, 12)}`);
    }
    try {
      return await readTarFirstFile(stream);
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `reading the archive of ${path}`);
    }
  }

  async getFiles(container: ContainerHandle, dir: string, names?: readonly string[]): Promise<Record<string, Buffer>> {
    const path = dir.replace(/\/+$/, '') || '/';
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.getContainer(container.id).getArchive({ path });
    } catch (e) {
      if (statusOf(e) === 404 && (/could not find the file|no such file/i.test(engineMessage(e)) || (await this.exists(container)))) return {};
      throw toInfraError(e, 'copy_failed', `copying ${path} out of ${container.id.slice(0, 12)}`);
    }
    const wanted = names ? new Set(names) : null;
    try {
      return await readTarFiles(stream, (name) => {
        // Entries are named after the directory itself: "<basename>/<relative path>".
        const slash = name.indexOf('/');
        const rel = slash < 0 ? '' : name.slice(slash + 1);
        return rel !== '' && (!wanted || wanted.has(rel)) ? rel : null;
      });
    } catch (e) {
      throw toInfraError(e, 'copy_failed', `reading the archive of ${path}`);
    }
  }

  async inspect(container: ContainerHandle): Promise<ContainerState | null> {
    try {
      const info = await this.docker.getContainer(container.id).inspect();
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
      await this.docker.getContainer(container.id).inspect();
      return true;
    } catch {
      return false;
    }
  }

  async kill(container: ContainerHandle): Promise<void> {
    try {
      await this.docker.getContainer(container.id).kill({ signal: 'SIGKILL' });
    } catch (e) {
      const s = statusOf(e);
      if (s === 404 || s === 409 || s === 304) return; // gone or not running
      throw toInfraError(e, 'remove_failed', `killing ${container.id.slice(0, 12)}`);
    }
  }

  async remove(container: ContainerHandle, options: { force?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getContainer(container.id).remove({ force: options.force ?? true, v: true });
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
      return await this.docker.listContainers({ all: true, filters: { label: selector } });
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
      await this.docker.getVolume(name).remove();
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
        const info = (await this.docker.getVolume(name).inspect()) as { CreatedAt?: string };
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
        await this.docker.getVolume(name).remove();
      } catch (e) {
        throw toInfraError(e, 'volume_failed', `volume ${name} holds other content and cannot be removed (in use?)`);
      }
    }
    try {
      await this.docker.createVolume({ Name: name, Labels: labels });
    } catch (e) {
      throw toInfraError(e, 'volume_failed', `creating volume ${name}`);
    }

    await helper(async (c) => {
      const pack = tar.pack();
      const container = this.docker.getContainer(c.id);
      const upload = container.putArchive(asNodeStream(pack), { path: mountPoint });
      const mtime = new Date();
      try {
        for (const [path, f] of Object.entries(files)) {
          const entryName = relativeEntryName('', path);
          const mode = f.mode ?? 0o644;
          if ('content' in f) {
            const content = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
            await addEntry(pack, { name: entryName, mode, mtime, uid: 0, gid: 0, type: 'file' }, content);
          } else {
            const size = stats.get(f.sourcePath)?.size ?? 0;
            await addStreamEntry(pack, { name: entryName, mode, mtime, uid: 0, gid: 0, type: 'file', size }, createReadStream(f.sourcePath));
          }
        }
        pack.finalize();
        await upload;
      } catch (e) {
        pack.destroy();
        await upload.catch(() => undefined);
        throw toInfraError(e, 'volume_failed', `filling volume ${name}`);
      }
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
}
