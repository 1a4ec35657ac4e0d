/**
 * The container runtime agentdrift needs, as a small typed interface (in the spirit of testcontainers-node).
 *
 * Attempt and grading containers are created from a task image with the entrypoint overridden (usually by
 * {@link KEEP_ALIVE}), started, and then driven with `exec`; files go in and out through the engine's archive API, so
 * nothing depends on paths shared with the host (the daemon may itself run in a container with the socket mounted).
 * The interface is split by job ({@link Engine}, {@link Workloads}, {@link Archives}, {@link Images},
 * {@link ToolVolumes}); {@link ContainerRuntime} is all of them. The Docker implementation is `DockerRuntime` in
 * `./docker/`; `MemoryRuntime` in `./memory.ts` keeps containers, files, images and volumes in memory and runs
 * `exec` through handlers a test registers. One contract suite (test/executor/contract.ts) runs against both.
 *
 * Every failure of the infrastructure (engine down, image missing, create/start errors) is an {@link InfraError}
 * with a machine-readable reason, so the runner can record `infra_error` and retry with {@link withInfraRetries}.
 */
import { retryWhile } from '../domain/retry.ts';

/** Labels every container agentdrift creates carries; `removeLeftovers` selects on `agentdrift.managed=true`. */
export const LABEL_MANAGED = 'agentdrift.managed';
export const LABEL_TRACK = 'agentdrift.track';
export const LABEL_RUN = 'agentdrift.run';
export const LABEL_ATTEMPT = 'agentdrift.attempt';
/** What the container is for: 'agent', 'grading', 'volume-fill', ... (free text). */
export const LABEL_ROLE = 'agentdrift.role';
/** The throwaway containers that fill or check a tool volume carry role ROLE_VOLUME_FILL and the volume's name here. */
export const LABEL_VOLUME = 'agentdrift.volume';
export const ROLE_VOLUME_FILL = 'volume-fill';
/**
 * A volume-fill container this old is a leftover (its process crashed): a fill copies one CLI binary and takes
 * seconds, while a younger one may be another process's fill going on (fills are not tied to a track).
 */
export const VOLUME_FILL_GRACE_MS = 2 * 60_000;

/** The labels of one attempt's container: managed + track + run + attempt (+ role). */
export function attemptLabels(a: { track: string; run: string | number; attempt: string | number; role?: string }): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANAGED]: 'true',
    [LABEL_TRACK]: a.track,
    [LABEL_RUN]: String(a.run),
    [LABEL_ATTEMPT]: String(a.attempt),
  };
  if (a.role !== undefined) labels[LABEL_ROLE] = a.role;
  return labels;
}

/**
 * An entrypoint that keeps a container alive doing nothing until it is killed, with only `/bin/sh` and `sleep`
 * from the image (SWE-Bench-Pro images have bash as entrypoint, which would exit at once without a tty).
 */
export const KEEP_ALIVE: readonly string[] = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

export type InfraReason =
  | 'engine_down'
  | 'image_missing'
  | 'pull_failed'
  | 'create_failed'
  | 'start_failed'
  | 'exec_failed'
  | 'copy_failed'
  | 'volume_failed'
  | 'remove_failed';

/** A failure of the infrastructure, not of the agent or the task. */
export class InfraError extends Error {
  override readonly name = 'InfraError';
  constructor(
    readonly reason: InfraReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isInfraError(e: unknown): e is InfraError {
  return e instanceof InfraError;
}

export interface RetryOptions {
  /** Wait before retry n (1-based); default 500 ms * n. */
  delayMs?: (attempt: number) => number;
  /** Called before each retry with the error that caused it. */
  onRetry?: (error: InfraError, attempt: number) => void;
}

/**
 * Runs `fn`, retrying it up to `retries` more times while it throws an {@link InfraError}; any other error is thrown
 * at once. After the last retry the last InfraError is thrown.
 */
export async function withInfraRetries<T>(fn: (attempt: number) => Promise<T>, retries: number, options: RetryOptions = {}): Promise<T> {
  const delay = options.delayMs ?? ((n: number) => 500 * n);
  return retryWhile(fn, retries, (e) => e instanceof InfraError, async (error, n) => {
    options.onRetry?.(error as InfraError, n);
    const ms = delay(n);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  });
}

export interface PullProgress {
  status: string;
  /** Layer id, when the event concerns one layer. */
  id?: string;
  current?: number;
  total?: number;
}

export interface EnsureImageOptions {
  /** Pull the image when it is not present locally; when false a missing image is InfraError('image_missing'). */
  pull: boolean;
  onProgress?: (p: PullProgress) => void;
}

/** A named volume mounted into a container (read-only unless said otherwise). */
export interface VolumeMount {
  volume: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  image: string;
  /** Optional container name (must be unique on the engine). */
  name?: string;
  labels?: Record<string, string>;
  /** Replaces the image's entrypoint; pass e.g. {@link KEEP_ALIVE}. */
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** CPU limit in cores (fractions allowed). */
  cpus?: number;
  memoryBytes?: number;
  pidsLimit?: number;
  /** 'none', 'host', 'bridge', ... */
  networkMode?: string;
  mounts?: readonly VolumeMount[];
}

export interface ContainerHandle {
  readonly id: string;
}

/** What the engine says about a container. */
export interface ContainerState {
  running: boolean;
  /** 'created', 'running', 'exited', 'removing', ... */
  status: string;
  /** Exit code of the main process once it stopped; null while it runs. */
  exitCode: number | null;
  /** The kernel killed it for exceeding its memory limit. */
  oomKilled: boolean;
}

export interface ExecOptions {
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** Hard limit: when it passes the whole container is killed and the result has `timedOut: true`. */
  timeoutMs?: number;
  /** Written to the process's stdin, which is then closed. */
  stdin?: string | Buffer;
  /** Aborting kills the container, like a timeout (the result has `timedOut: false`, `aborted: true`). */
  signal?: AbortSignal;
  /** Live copies of the output as it arrives (e.g. to stream a transcript to disk). */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  /** The process's exit code; null when it could not be known (container killed). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

/** A file to put into a container: text, bytes, or either with an explicit mode (default 0o644). */
export type FileContent = string | Buffer | { content: string | Buffer; mode?: number };

/** A file for a tool volume: bytes, or a file the daemon process can read (streamed, never fully in memory). */
export type ToolFile = { content: string | Buffer; mode?: number } | { sourcePath: string; mode?: number };

export interface EnsureToolVolumeOptions {
  /** A local image to create the throwaway fill container from (it is never started). */
  helperImage: string;
  /**
   * Identifies the content (e.g. the CLI version). Default: a hash of the file names, modes and contents (for
   * `sourcePath` files: their size and modification time). A volume filled for another key is refilled.
   */
  contentKey?: string;
  /** Labels for the volume and the throwaway container (agentdrift.managed is always added). */
  labels?: Record<string, string>;
}

/** The engine (or cluster) as a whole. */
export interface Engine {
  /** Resolves when the engine answers; InfraError('engine_down') otherwise. */
  ping(): Promise<void>;
}

/**
 * Workloads: containers (a Kubernetes implementation would map one to a pod) created from an image, started, driven
 * with `exec`, inspected, killed, removed, and found again by their labels.
 */
export interface Workloads {
  /** Creates (does not start) a container. InfraError('create_failed' | 'image_missing' | 'engine_down'). */
  createContainer(spec: ContainerSpec): Promise<ContainerHandle>;
  /** InfraError('start_failed' | 'engine_down'). */
  start(container: ContainerHandle): Promise<void>;
  /** Runs `cmd` in a running container, demultiplexing stdout and stderr. */
  exec(container: ContainerHandle, cmd: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** The container's state; null when it does not exist. */
  inspect(container: ContainerHandle): Promise<ContainerState | null>;
  /** SIGKILLs the container; no error when it is not running. */
  kill(container: ContainerHandle): Promise<void>;
  /** Removes the container (and its anonymous volumes); no error when it is already gone. */
  remove(container: ContainerHandle, options?: { force?: boolean }): Promise<void>;
  /**
   * Force-removes every container carrying all the given labels (default `agentdrift.managed=true`), or with
   * `olderThanMs` only those created at least that long ago; returns how many were removed.
   */
  removeLeftovers(labels?: Record<string, string>, options?: { olderThanMs?: number }): Promise<number>;
}

/** Files in and out of a container (Docker: its archive API), never through paths shared with the host. */
export interface Archives {
  /** Writes files (paths relative to `dir`, parent folders created) into the container through a tar archive. */
  putFiles(container: ContainerHandle, dir: string, files: Record<string, FileContent>): Promise<void>;
  /** Reads one regular file out of the container; null when it does not exist (or is not a regular file). */
  getFile(container: ContainerHandle, path: string): Promise<Buffer | null>;
  /**
   * Reads the regular files under `dir` in one archive (paths relative to `dir`), or only those named in `names`;
   * an empty record when `dir` does not exist. Cheaper than several `getFile` calls.
   */
  getFiles(container: ContainerHandle, dir: string, names?: readonly string[]): Promise<Record<string, Buffer>>;
}

/** Task images and the disk they take (docker.images policy, agentdrift_docker_* disk series). */
export interface Images {
  /** Makes `ref` available locally: pulls it when allowed, else requires it. Says whether it was pulled now. */
  ensureImage(ref: string, options: EnsureImageOptions): Promise<EnsureImageResult>;
  /**
   * The engine's image disk use and the free space of the filesystem holding its data root (see {@link DiskUsage}).
   * InfraError('engine_down') when the engine does not answer.
   */
  diskUsage(options?: DiskUsageOptions): Promise<DiskUsage>;
  /**
   * Removes the image reference `ref` (untags it; the layers go once no other reference or container holds them).
   * 'removed', 'absent' when there is no such reference, 'in_use' when a container uses it (never forced).
   */
  removeImage(ref: string): Promise<'removed' | 'absent' | 'in_use'>;
}

/** Named volumes holding the agent's tools, filled once and mounted read-only into attempt containers. */
export interface ToolVolumes {
  /**
   * Makes sure the named volume holds `files` (paths relative to the volume root), filling it once: a volume already
   * marked complete for the same content key is left as it is; concurrent calls for one name share the work.
   * Mount it read-only into attempt containers with `mounts: [{volume: name, target: '/opt/agentdrift/bin'}]`.
   */
  ensureToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions): Promise<void>;
  /** Removes a named volume; no error when it does not exist. */
  removeVolume(name: string): Promise<void>;
}

/**
 * Everything agentdrift asks of a container runtime: the name callers use. Implementations: `DockerRuntime`
 * (`./docker/`, a Docker Engine) and `MemoryRuntime` (`./memory.ts`, in memory, for unit tests); both pass the
 * contract suite of test/executor/contract.ts. A part that needs less may ask for less (e.g. `Workloads & Archives`).
 */
export interface ContainerRuntime extends Engine, Workloads, Archives, Images, ToolVolumes {}

/** The same interface, named for what it runs (a Kubernetes implementation is the next one). */
export type WorkloadRuntime = ContainerRuntime;

/** What ensureImage did: the image was there already, or it was pulled now. */
export type EnsureImageResult = 'present' | 'pulled';

/** One image on the engine. */
export interface EngineImage {
  id: string;
  /** Its `repository:tag` references (none for a dangling image). */
  refs: string[];
  /** Bytes of all its layers, shared ones included. */
  sizeBytes: number;
}

export interface DiskUsageOptions {
  /**
   * Local images that may serve as the throwaway container measuring the data root's free space when the daemon
   * cannot see the data root itself (it runs in a container with only the socket); the first present one with `df`
   * is used. Never pulled.
   */
  helperImages?: readonly string[];
}

export interface DiskUsage {
  /** Disk space of every image layer on the engine, each counted once (the engine's /system/df LayersSize). */
  imagesBytes: number;
  images: EngineImage[];
  /** The engine's data root (DockerRootDir), where images and container layers live. */
  dataRoot: string;
  /**
   * Free and total bytes of the filesystem holding the data root: `statfs` when the daemon sees the engine's data
   * root (same host), else `helper` (`df` in a throwaway container with the data root mounted read-only); null when
   * neither is possible.
   */
  space: { freeBytes: number; totalBytes: number; method: 'statfs' | 'helper' } | null;
}
