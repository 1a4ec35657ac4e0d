/**
 * {@link ContainerRuntime} in memory: images registered up front, containers with their labels, spec, state and a
 * file system of their own, named volumes, and `exec` run by command handlers the test registers. Unit tests of the
 * runner, the scheduler and grading use it instead of a Docker Engine; test/executor/contract.ts checks that it
 * behaves like `DockerRuntime` wherever both can be observed.
 *
 * What it mirrors from Docker: the InfraError reasons (image_missing, pull_failed, create_failed, start_failed,
 * exec_failed, copy_failed, volume_failed, remove_failed, engine_down), the archive path rules (paths relative to
 * `dir`, no `..`; a missing file is null, a missing folder `{}`, a folder read as a file null), kill = exit code 137,
 * an exec past `timeoutMs` or aborted kills the whole container (`timedOut` / `aborted`, exit code null), tool
 * volumes filled once per content key and refilled from empty for another one, read-only mounts.
 * What it does not do: run a container's main process (a started container runs until killed), enforce limits.
 *
 * Faults: `failNext(op, reason)` makes the next call of one operation throw InfraError(reason); `up = false` makes
 * every call fail as an engine that does not answer (engine_down).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import {
  InfraError,
  LABEL_MANAGED,
  type ContainerHandle,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type DiskUsage,
  type EngineImage,
  type EnsureImageOptions,
  type EnsureImageResult,
  type EnsureToolVolumeOptions,
  type ExecOptions,
  type ExecResult,
  type FileContent,
  type InfraReason,
  type ToolFile,
} from './runtime.ts';
import { checkEnvNames, checkInside, fileBytes, hashToolFiles, normalizeRef, TOOL_VOLUME_MARKER } from './refs.ts';


/** One file of a container, an image or a volume. */
export interface MemoryFile {
  content: Buffer;
  mode: number;
}

/** A file as a test gives it: text, bytes, or either with a mode (default 0o644). */
export type MemoryFileInput = FileContent;

/** What an exec handler sees of the process it runs. */
export interface ExecContext {
  readonly container: MemoryContainer;
  readonly cmd: readonly string[];
  /** The container's env with the exec's own on top. */
  readonly env: Readonly<Record<string, string>>;
  /** The exec's working directory, else the container's, else '/'. */
  readonly workingDir: string;
  readonly user: string | undefined;
  /** What was given as stdin (empty when none). */
  readonly stdin: Buffer;
  /** Aborted when the exec times out, is aborted or its container is killed: a long handler should stop then. */
  readonly signal: AbortSignal;
  /** Reads a regular file (an absolute path, or relative to workingDir); null when there is none. */
  readFile(path: string): Buffer | null;
  /** Writes a file (parents implied); false when the path is on a read-only mount. */
  writeFile(path: string, content: string | Buffer, mode?: number): boolean;
  /** Whether a folder (any file under it) or a file exists at `path`. */
  exists(path: string): boolean;
  /** Live output: kept in the result and passed to onStdout / onStderr as it is written. */
  stdout(chunk: string | Buffer): void;
  stderr(chunk: string | Buffer): void;
}

/** What a handler answers: the exit code and any output not already written through the context. */
export interface ExecReply {
  exitCode: number;
  stdout?: string | Buffer;
  stderr?: string | Buffer;
}

/** Handles a command, or returns undefined to leave it to the handlers registered before it. */
export type ExecHandler = (ctx: ExecContext) => ExecReply | undefined | Promise<ExecReply | undefined>;

/** The operations `failNext` can make fail. */
export type MemoryOp =
  | 'ping'
  | 'ensureImage'
  | 'createContainer'
  | 'start'
  | 'exec'
  | 'putFiles'
  | 'getFile'
  | 'getFiles'
  | 'inspect'
  | 'kill'
  | 'remove'
  | 'removeLeftovers'
  | 'ensureToolVolume'
  | 'removeVolume'
  | 'diskUsage'
  | 'removeImage';

export interface MemoryContainer {
  readonly id: string;
  readonly name: string | undefined;
  readonly image: string;
  readonly spec: ContainerSpec;
  /** Labels as the engine keeps them: the spec's plus agentdrift.managed=true. */
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: number;
  status: 'created' | 'running' | 'exited';
  exitCode: number | null;
  oomKilled: boolean;
  /** The container's own files by absolute path (mounted volumes are kept in their volume). */
  readonly files: Map<string, MemoryFile>;
  /** Every exec run in it, in order. */
  readonly execs: { cmd: readonly string[]; options: ExecOptions }[];
}

export interface MemoryVolume {
  readonly name: string;
  labels: Record<string, string>;
  createdAt: number;
  /** Files by path relative to the volume root. */
  readonly files: Map<string, MemoryFile>;
}

interface MemoryImage {
  ref: string;
  id: string;
  files: Map<string, MemoryFile>;
  sizeBytes: number;
}

export interface MemoryRuntimeOptions {
  /** The clock of container and volume creation times (removeLeftovers' olderThanMs); default Date.now. */
  now?: () => number;
  /**
   * Entrypoints a start accepts although the container has no such file (the engine's own shells); default
   * /bin/sh and /bin/bash. An absolute entrypoint that is neither a file nor listed here fails start (start_failed).
   */
  shells?: readonly string[];
  /** What diskUsage reports as the data root's space; default null (not measured). */
  space?: DiskUsage['space'];
}

export interface AddImageOptions {
  /** What diskUsage reports for it; default the sum of its file sizes. */
  sizeBytes?: number;
}

function toFile(f: FileContent): MemoryFile {
  return fileBytes(f);
}

/** Collapses `//`, `.` and `..` of an absolute path; the root is '/'. */
function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

function join(dir: string, path: string): string {
  return normalizePath(path.startsWith('/') ? path : `${dir}/${path}`);
}



const short = (id: string) => id.slice(0, 12);

export class MemoryRuntime implements ContainerRuntime {
  /** False: every call fails with InfraError('engine_down'), as an engine that does not answer. */
  up = true;
  readonly containers = new Map<string, MemoryContainer>();
  readonly volumes = new Map<string, MemoryVolume>();
  private readonly images = new Map<string, MemoryImage>();
  /** Images a pull can bring (by normalized ref). */
  private readonly registry = new Map<string, { files: Map<string, MemoryFile>; sizeBytes: number }>();
  private readonly handlers: ExecHandler[] = [];
  private readonly faults = new Map<MemoryOp, InfraError[]>();
  private readonly kills = new Map<string, AbortController>();
  private readonly now: () => number;
  private readonly shells: Set<string>;
  space: DiskUsage['space'];

  constructor(options: MemoryRuntimeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.shells = new Set(options.shells ?? ['/bin/sh', '/bin/bash']);
    this.space = options.space ?? null;
  }

  // --- set-up by the test ---------------------------------------------------------------------------------------

  /** Makes an image present, with the files its containers start with (paths absolute or relative to '/'). */
  addImage(ref: string, files: Record<string, FileContent> = {}, options: AddImageOptions = {}): this {
    const map = new Map<string, MemoryFile>();
    for (const [p, f] of Object.entries(files)) map.set(join('/', p), toFile(f));
    const sizeBytes = options.sizeBytes ?? [...map.values()].reduce((n, f) => n + f.content.length, 0);
    const key = normalizeRef(ref);
    this.images.set(key, { ref: key, id: `sha256:${createHash('sha256').update(key).digest('hex')}`, files: map, sizeBytes });
    return this;
  }

  /** Makes an image pullable: `ensureImage(ref, {pull: true})` adds it; one not offered fails with pull_failed. */
  offerImage(ref: string, files: Record<string, FileContent> = {}, options: AddImageOptions = {}): this {
    const map = new Map<string, MemoryFile>();
    for (const [p, f] of Object.entries(files)) map.set(join('/', p), toFile(f));
    this.registry.set(normalizeRef(ref), { files: map, sizeBytes: options.sizeBytes ?? [...map.values()].reduce((n, f) => n + f.content.length, 0) });
    return this;
  }

  hasImage(ref: string): boolean {
    return this.images.has(normalizeRef(ref));
  }

  /** Registers a command handler; the latest registered is asked first. Returns a function that unregisters it. */
  onExec(handler: ExecHandler): () => void {
    this.handlers.unshift(handler);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** The next call of `op` throws InfraError(reason) (queued: call it twice for two failures). */
  failNext(op: MemoryOp, reason: InfraReason, message = `injected ${reason} in ${op}`): this {
    const queue = this.faults.get(op) ?? [];
    queue.push(new InfraError(reason, message));
    this.faults.set(op, queue);
    return this;
  }

  /** A container by id (or handle); undefined when it does not exist. */
  container(c: ContainerHandle | string): MemoryContainer | undefined {
    return this.containers.get(typeof c === 'string' ? c : c.id);
  }

  /** Containers carrying every given label. */
  list(labels: Record<string, string> = {}): MemoryContainer[] {
    return [...this.containers.values()].filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v));
  }

  /** The main process ends by itself with this exit code (or OOM-killed): what a crashed container looks like. */
  exitContainer(c: ContainerHandle, exitCode: number, options: { oomKilled?: boolean } = {}): void {
    const m = this.container(c);
    if (!m || m.status !== 'running') return;
    this.stop(m, exitCode);
    m.oomKilled = options.oomKilled ?? false;
  }

  // --- the interface ---------------------------------------------------------------------------------------------

  private enter(op: MemoryOp, what: string): void {
    if (!this.up) throw new InfraError('engine_down', `${what}: engine not reachable (memory runtime is down)`);
    const queued = this.faults.get(op)?.shift();
    if (queued) throw queued;
  }

  async ping(): Promise<void> {
    await Promise.resolve();
    this.enter('ping', 'ping');
  }

  async ensureImage(ref: string, options: EnsureImageOptions): Promise<EnsureImageResult> {
    await Promise.resolve();
    this.enter('ensureImage', `inspecting image ${ref}`);
    if (this.hasImage(ref)) return 'present';
    if (!options.pull) throw new InfraError('image_missing', `image ${ref} is not present locally and pulling is disabled`);
    const full = normalizeRef(ref);
    const offered = this.registry.get(full);
    if (!offered) throw new InfraError('pull_failed', `pulling ${full}: manifest unknown (not offered to the memory runtime)`);
    options.onProgress?.({ status: `Pulling from ${full}` });
    this.images.set(full, { ref: full, id: `sha256:${createHash('sha256').update(full).digest('hex')}`, files: new Map(offered.files), sizeBytes: offered.sizeBytes });
    options.onProgress?.({ status: `Status: Downloaded newer image for ${full}` });
    return 'pulled';
  }

  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    checkEnvNames(spec.env);
    await Promise.resolve();
    this.enter('createContainer', `creating a container from ${spec.image}`);
    const image = this.images.get(normalizeRef(spec.image));
    if (!image) throw new InfraError('image_missing', `creating a container: image ${spec.image} is not present (No such image: ${spec.image})`);
    if (spec.name !== undefined && [...this.containers.values()].some((c) => c.name === spec.name)) {
      throw new InfraError('create_failed', `creating a container from ${spec.image}: Conflict. The container name "/${spec.name}" is already in use`);
    }
    for (const m of spec.mounts ?? []) {
      // The engine creates a volume a mount names but that does not exist.
      if (!this.volumes.has(m.volume)) this.volumes.set(m.volume, { name: m.volume, labels: {}, createdAt: this.now(), files: new Map() });
    }
    const id = randomBytes(32).toString('hex');
    this.containers.set(id, {
      id,
      name: spec.name,
      image: image.ref,
      spec: { ...spec },
      labels: { ...spec.labels, [LABEL_MANAGED]: 'true' },
      createdAt: this.now(),
      status: 'created',
      exitCode: 0,
      oomKilled: false,
      files: new Map([...image.files].map(([p, f]) => [p, { content: Buffer.from(f.content), mode: f.mode }])),
      execs: [],
    });
    return { id };
  }

  async start(container: ContainerHandle): Promise<void> {
    await Promise.resolve();
    const what = `starting container ${short(container.id)}`;
    this.enter('start', what);
    const c = this.containers.get(container.id);
    if (!c) throw new InfraError('start_failed', `${what}: No such container: ${container.id}`);
    if (c.status === 'running') return;
    const entry = c.spec.entrypoint?.[0];
    if (entry?.startsWith('/') && !this.shells.has(entry) && !this.lookup(c, entry)) {
      throw new InfraError('start_failed', `${what}: exec: "${entry}": stat ${entry}: no such file or directory`);
    }
    c.status = 'running';
    c.exitCode = null;
    c.oomKilled = false;
  }

  async exec(container: ContainerHandle, cmd: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    checkEnvNames(options.env);
    await Promise.resolve();
    const started = this.now();
    const what = `exec ${JSON.stringify(cmd[0] ?? '')} in ${short(container.id)}`;
    this.enter('exec', what);
    const c = this.containers.get(container.id);
    if (!c) throw new InfraError('exec_failed', `${what}: No such container: ${container.id}`);
    if (c.status !== 'running') throw new InfraError('exec_failed', `${what}: container ${container.id} is not running`);
    c.execs.push({ cmd: [...cmd], options });

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stop = new AbortController();
    const killed = this.kills.get(c.id) ?? new AbortController();
    this.kills.set(c.id, killed);
    let timedOut = false;
    let aborted = false;
    let limit!: () => void;
    const limited = new Promise<void>((r) => (limit = r));
    const killFor = (why: 'timeout' | 'abort') => {
      if (timedOut || aborted) return;
      if (why === 'timeout') timedOut = true;
      else aborted = true;
      this.stop(c, 137);
      limit();
    };
    const timer = options.timeoutMs !== undefined ? setTimeout(() => killFor('timeout'), options.timeoutMs) : undefined;
    const onAbort = () => killFor('abort');
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const onKilled = () => {
      stop.abort();
      limit();
    };
    killed.signal.addEventListener('abort', onKilled, { once: true });

    const workingDir = options.workingDir ?? c.spec.workingDir ?? '/';
    const write = (sink: Buffer[], live: ((b: Buffer) => void) | undefined) => (chunk: string | Buffer) => {
      if (stop.signal.aborted) return;
      const b = Buffer.from(chunk);
      sink.push(b);
      live?.(b);
    };
    const ctx: ExecContext = {
      container: c,
      cmd,
      env: { ...c.spec.env, ...options.env },
      workingDir,
      user: options.user ?? c.spec.user,
      stdin: options.stdin === undefined ? Buffer.alloc(0) : Buffer.from(options.stdin),
      signal: stop.signal,
      readFile: (p) => {
        const f = this.lookup(c, join(workingDir, p));
        return f ? Buffer.from(f.content) : null;
      },
      writeFile: (p, content, mode = 0o644) => this.write(c, join(workingDir, p), { content: Buffer.from(content), mode }),
      exists: (p) => this.lookup(c, join(workingDir, p)) !== null || Object.keys(this.filesUnder(c, join(workingDir, p))).length > 0,
      stdout: write(out, options.onStdout),
      stderr: write(err, options.onStderr),
    };

    let exitCode: number | null = null;
    try {
      const run = (async () => {
        for (const h of this.handlers) {
          const reply = await h(ctx);
          if (reply) return reply;
        }
        return { exitCode: 127, stderr: `exec: "${cmd[0] ?? ''}": executable file not found in $PATH\n` } satisfies ExecReply;
      })();
      run.catch(() => undefined);
      const reply = await Promise.race([run, limited.then(() => null)]);
      if (reply && c.status === 'running') {
        if (reply.stdout !== undefined) ctx.stdout(reply.stdout);
        if (reply.stderr !== undefined) ctx.stderr(reply.stderr);
        exitCode = reply.exitCode;
      }
    } catch (e) {
      throw new InfraError('exec_failed', `${what}: ${(e as Error).message}`, { cause: e });
    } finally {
      stop.abort();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killed.signal.removeEventListener('abort', onKilled);
    }
    return {
      exitCode: timedOut || aborted ? null : exitCode,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      timedOut,
      aborted,
      durationMs: this.now() - started,
    };
  }

  async putFiles(container: ContainerHandle, dir: string, files: Record<string, FileContent>): Promise<void> {
    const entries = Object.entries(files).map(([path, f]) => {
      checkInside(dir, path);
      return [join(dir, path), toFile(f)] as const;
    });
    await Promise.resolve();
    const what = `copying ${entries.length} file(s) into ${short(container.id)}:${dir}`;
    this.enter('putFiles', what);
    const c = this.containers.get(container.id);
    if (!c) throw new InfraError('copy_failed', `${what}: No such container: ${container.id}`);
    for (const [p] of entries) {
      if (this.mountOf(c, p)?.readOnly) throw new InfraError('copy_failed', `${what}: mounted volume is marked read-only`);
    }
    for (const [p, f] of entries) this.write(c, p, f);
  }

  async getFile(container: ContainerHandle, path: string): Promise<Buffer | null> {
    await Promise.resolve();
    const what = `copying ${path} out of ${short(container.id)}`;
    this.enter('getFile', what);
    const c = this.containers.get(container.id);
    if (!c) throw new InfraError('copy_failed', `${what}: No such container: ${container.id}`);
    const f = this.lookup(c, normalizePath(path));
    return f ? Buffer.from(f.content) : null;
  }

  async getFiles(container: ContainerHandle, dir: string, names?: readonly string[]): Promise<Record<string, Buffer>> {
    await Promise.resolve();
    const path = normalizePath(dir);
    const what = `copying ${path} out of ${short(container.id)}`;
    this.enter('getFiles', what);
    const c = this.containers.get(container.id);
    if (!c) throw new InfraError('copy_failed', `${what}: No such container: ${container.id}`);
    const all = this.filesUnder(c, path);
    const wanted = names ? new Set(names) : null;
    const out: Record<string, Buffer> = {};
    for (const [rel, f] of Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!wanted || wanted.has(rel)) out[rel] = Buffer.from(f.content);
    }
    return out;
  }

  async inspect(container: ContainerHandle): Promise<ContainerState | null> {
    await Promise.resolve();
    this.enter('inspect', `inspecting ${short(container.id)}`);
    const c = this.containers.get(container.id);
    if (!c) return null;
    const running = c.status === 'running';
    return { running, status: c.status, exitCode: running ? null : (c.exitCode ?? 0), oomKilled: c.oomKilled };
  }

  async kill(container: ContainerHandle): Promise<void> {
    await Promise.resolve();
    this.enter('kill', `killing ${short(container.id)}`);
    const c = this.containers.get(container.id);
    if (c?.status === 'running') this.stop(c, 137);
  }

  async remove(container: ContainerHandle, options: { force?: boolean } = {}): Promise<void> {
    await Promise.resolve();
    const what = `removing ${short(container.id)}`;
    this.enter('remove', what);
    const c = this.containers.get(container.id);
    if (!c) return;
    if (c.status === 'running') {
      if (!(options.force ?? true)) throw new InfraError('remove_failed', `${what}: You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
      this.stop(c, 137);
    }
    this.containers.delete(c.id);
    this.kills.delete(c.id);
  }

  async removeLeftovers(labels: Record<string, string> = { [LABEL_MANAGED]: 'true' }, options: { olderThanMs?: number } = {}): Promise<number> {
    if (Object.keys(labels).length === 0) throw new TypeError('removeLeftovers needs at least one label');
    await Promise.resolve();
    this.enter('removeLeftovers', 'listing leftover containers');
    let list = this.list(labels);
    if (options.olderThanMs !== undefined) {
      const cutoff = this.now() - options.olderThanMs;
      list = list.filter((c) => c.createdAt <= cutoff);
    }
    for (const c of list) await this.remove(c, { force: true });
    return list.length;
  }

  async ensureToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions): Promise<void> {
    await Promise.resolve();
    this.enter('ensureToolVolume', `tool volume ${name}`);
    const stats = new Map<string, { size: number; mtimeMs: number }>();
    const contents = new Map<string, Buffer>();
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
    const existing = this.volumes.get(name);
    if (existing) {
      const marker = existing.files.get(TOOL_VOLUME_MARKER);
      let markedKey: unknown;
      try {
        markedKey = marker ? (JSON.parse(marker.content.toString('utf8')) as { key?: unknown }).key : undefined;
      } catch {
        markedKey = undefined;
      }
      if (markedKey === key) return;
      if (this.usersOf(name).length > 0) throw new InfraError('volume_failed', `volume ${name} holds other content and cannot be removed (in use?)`);
      this.volumes.delete(name);
    }
    if (!this.images.has(normalizeRef(options.helperImage))) {
      throw new InfraError('image_missing', `creating a container: image ${options.helperImage} is not present (No such image: ${options.helperImage})`);
    }
    // The sources are read only to fill (a CLI binary is hundreds of MB; an up-to-date volume is left as it is).
    for (const f of Object.values(files)) {
      if (!('sourcePath' in f) || contents.has(f.sourcePath)) continue;
      try {
        contents.set(f.sourcePath, await readFile(f.sourcePath));
      } catch (e) {
        throw new InfraError('volume_failed', `tool volume ${name}: cannot read ${f.sourcePath}: ${(e as Error).message}`, { cause: e });
      }
    }
    const volume: MemoryVolume = { name, labels: { ...options.labels, [LABEL_MANAGED]: 'true' }, createdAt: this.now(), files: new Map() };
    this.volumes.set(name, volume);
    for (const [path, f] of Object.entries(files)) {
      if (path.startsWith('/') || path.split('/').includes('..')) throw new TypeError(`file path must be relative and stay inside : ${JSON.stringify(path)}`);
      const content = 'content' in f ? Buffer.from(f.content) : (contents.get(f.sourcePath) as Buffer);
      volume.files.set(normalizePath(path).slice(1), { content, mode: f.mode ?? 0o644 });
    }
    const marker = JSON.stringify({ key, files: Object.keys(files), filledAt: new Date(this.now()).toISOString() });
    volume.files.set(TOOL_VOLUME_MARKER, { content: Buffer.from(marker), mode: 0o644 });
  }

  async removeVolume(name: string): Promise<void> {
    await Promise.resolve();
    this.enter('removeVolume', `removing volume ${name}`);
    if (!this.volumes.has(name)) return;
    if (this.usersOf(name).length > 0) throw new InfraError('volume_failed', `removing volume ${name}: volume is in use`);
    this.volumes.delete(name);
  }

  async diskUsage(): Promise<DiskUsage> {
    await Promise.resolve();
    this.enter('diskUsage', 'reading the engine disk use');
    const images: EngineImage[] = [...this.images.values()].map((i) => ({ id: i.id, refs: [i.ref], sizeBytes: i.sizeBytes }));
    return { imagesBytes: images.reduce((n, i) => n + i.sizeBytes, 0), images, dataRoot: '/var/lib/docker', space: this.space };
  }

  async removeImage(ref: string): Promise<'removed' | 'absent' | 'in_use'> {
    await Promise.resolve();
    this.enter('removeImage', `removing image ${ref}`);
    const key = normalizeRef(ref);
    if (!this.images.has(key)) return 'absent';
    if ([...this.containers.values()].some((c) => c.image === key)) return 'in_use';
    this.images.delete(key);
    return 'removed';
  }

  // --- the file system ---------------------------------------------------------------------------------------------

  private stop(c: MemoryContainer, exitCode: number): void {
    c.status = 'exited';
    c.exitCode = exitCode;
    const k = this.kills.get(c.id);
    if (k) {
      k.abort();
      this.kills.delete(c.id);
    }
  }

  private usersOf(volume: string): MemoryContainer[] {
    return [...this.containers.values()].filter((c) => (c.spec.mounts ?? []).some((m) => m.volume === volume));
  }

  /** The mount holding `path` (the deepest target), with the path relative to the volume root. */
  private mountOf(c: MemoryContainer, path: string): { volume: MemoryVolume; rel: string; readOnly: boolean } | null {
    let best: { volume: MemoryVolume; rel: string; readOnly: boolean; depth: number } | null = null;
    for (const m of c.spec.mounts ?? []) {
      const target = normalizePath(m.target);
      if (path !== target && !path.startsWith(`${target}/`)) continue;
      const volume = this.volumes.get(m.volume);
      if (!volume || (best && best.depth >= target.length)) continue;
      best = { volume, rel: path.slice(target.length + 1), readOnly: m.readOnly ?? true, depth: target.length };
    }
    return best;
  }

  private lookup(c: MemoryContainer, path: string): MemoryFile | null {
    const m = this.mountOf(c, path);
    if (m) return m.volume.files.get(m.rel) ?? null;
    return c.files.get(path) ?? null;
  }

  private write(c: MemoryContainer, path: string, f: MemoryFile): boolean {
    const m = this.mountOf(c, path);
    if (m) {
      if (m.readOnly || m.rel === '') return false;
      m.volume.files.set(m.rel, f);
      return true;
    }
    c.files.set(path, f);
    return true;
  }

  /** The regular files under the folder `dir` by path relative to it (empty when there is no such folder). */
  private filesUnder(c: MemoryContainer, dir: string): Record<string, MemoryFile> {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const out: Record<string, MemoryFile> = {};
    for (const [p, f] of c.files) {
      if (p.startsWith(prefix) && !this.mountOf(c, p)) out[p.slice(prefix.length)] = f;
    }
    for (const m of c.spec.mounts ?? []) {
      const target = normalizePath(m.target);
      const volume = this.volumes.get(m.volume);
      if (!volume) continue;
      for (const [rel, f] of volume.files) {
        const p = `${target}/${rel}`;
        if (!p.startsWith(prefix) || this.mountOf(c, p)?.volume !== volume) continue;
        out[p.slice(prefix.length)] = f;
      }
    }
    return out;
  }
}
