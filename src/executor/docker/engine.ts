/**
 * The connection to one Docker Engine ({@link Engine}): the dockerode client, the deadlines its calls run under, and
 * `ping`. The other parts of the Docker runtime (workloads, archives, images, tool volumes) each take one.
 */
import Docker from 'dockerode';
import { InfraError, type Engine, type InfraReason } from '../runtime.ts';
import { engineMessage, withDeadline } from './errors.ts';

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

type PingWithSignal = (o: { abortSignal: AbortSignal }) => Promise<unknown>;

export class DockerEngine implements Engine {
  readonly docker: Docker;
  /** Deadline of one engine call. */
  readonly callMs: number;
  /** Deadline of one archive transfer; the longest a pull may go without progress. */
  readonly transferMs: number;
  /** Deadline of an exec that sets none. */
  readonly execMs: number;
  private readonly pingTimeoutMs: number;

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 5000;
    this.callMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.transferMs = options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;
    this.execMs = options.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  }

  /** One engine call under the call deadline (see {@link withDeadline}). */
  call<T>(reason: InfraReason, what: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.callMs, reason, what, fn);
  }

  async ping(): Promise<void> {
    try {
      await withDeadline(this.pingTimeoutMs, 'engine_down', 'ping', (abortSignal) =>
        (this.docker.ping as unknown as PingWithSignal).call(this.docker, { abortSignal }),
      );
    } catch (e) {
      throw new InfraError('engine_down', `Docker Engine not reachable: ${engineMessage(e)}`, { cause: e });
    }
  }
}
