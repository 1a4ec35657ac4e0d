/**
 * {@link Workloads} on a Docker Engine: containers created from an image, started, driven with `exec` (output
 * demultiplexed, a deadline that kills the whole container, the exit code polled until the engine records it),
 * inspected, killed, removed, and found again by their labels.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import {
  InfraError,
  LABEL_MANAGED,
  type ContainerHandle,
  type ContainerSpec,
  type ContainerState,
  type ExecOptions,
  type ExecResult,
  type Workloads,
} from '../runtime.ts';
import { checkEnvNames } from '../refs.ts';
import type { DockerEngine } from './engine.ts';
import { engineMessage, statusOf, toInfraError } from './errors.ts';
import { DockerStreamDemuxer } from './stream.ts';

function toEnvList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined;
  checkEnvNames(env);
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

export class DockerWorkloads implements Workloads {
  constructor(private readonly engine: DockerEngine) {}

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
      const c = await this.engine.call('create_failed', `creating a container from ${spec.image}`, (abortSignal) =>
        this.engine.docker.createContainer({ ...options, abortSignal }),
      );
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
      await this.engine.call('start_failed', `starting container ${container.id.slice(0, 12)}`, (abortSignal) =>
        this.engine.docker.getContainer(container.id).start({ abortSignal }),
      );
    } catch (e) {
      if (statusOf(e) === 304) return; // already started
      throw toInfraError(e, 'start_failed', `starting container ${container.id.slice(0, 12)}`);
    }
  }

  async exec(container: ContainerHandle, cmd: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    const c = this.engine.docker.getContainer(container.id);
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
      exec = await this.engine.call('exec_failed', what, (abortSignal) => c.exec({ ...createOptions, abortSignal }));
      const created = exec;
      stream = (await this.engine.call('exec_failed', what, () => created.start({ hijack: true, stdin: withStdin }))) as NodeJS.ReadWriteStream;
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
        .then(() =>
          this.engine.call('exec_failed', `waiting for ${container.id.slice(0, 12)} to stop`, (abortSignal) =>
            this.engine.docker.getContainer(container.id).wait({ condition: 'not-running', abortSignal }),
          ),
        )
        .then(
          () => undefined,
          () => undefined,
        );
      // The attach stream ends when the container dies; do not wait forever if the engine keeps it open.
      setTimeout(() => forceEnd?.(), 10_000).unref();
    };
    // Every exec has a deadline: the caller's, or the runtime's default for execs that set none.
    const killTimer = setTimeout(() => killForLimit('timeout'), options.timeoutMs ?? this.engine.execMs);
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

    const exitCode = timedOut || aborted ? null : await this.exitCodeOf(exec, cmd);
    return {
      exitCode,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      timedOut,
      aborted,
      durationMs: Date.now() - started,
    };
  }

  /**
   * The exit code of an exec whose output has ended. The stream can end a moment before the engine records the exit
   * code, so the exec is inspected until it no longer runs (50 times, 20 ms apart); null if it still runs then.
   */
  private async exitCodeOf(exec: Docker.Exec, cmd: readonly string[]): Promise<number | null> {
    const what = `inspecting exec of ${JSON.stringify(cmd[0] ?? '')}`;
    for (let i = 0; i < 50; i++) {
      try {
        const info = await this.engine.call('exec_failed', what, (abortSignal) => exec.inspect({ abortSignal }));
        if (!info.Running) return typeof info.ExitCode === 'number' ? info.ExitCode : null;
      } catch (e) {
        throw toInfraError(e, 'exec_failed', what);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return null;
  }

  async inspect(container: ContainerHandle): Promise<ContainerState | null> {
    try {
      const info = await this.engine.call('exec_failed', `inspecting ${container.id.slice(0, 12)}`, (abortSignal) =>
        this.engine.docker.getContainer(container.id).inspect({ abortSignal }),
      );
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

  /** True when the container exists (any state). */
  async exists(container: ContainerHandle): Promise<boolean> {
    try {
      await this.engine.call('exec_failed', `inspecting ${container.id.slice(0, 12)}`, (abortSignal) =>
        this.engine.docker.getContainer(container.id).inspect({ abortSignal }),
      );
      return true;
    } catch {
      return false;
    }
  }

  async kill(container: ContainerHandle): Promise<void> {
    try {
      await this.engine.call('remove_failed', `killing ${container.id.slice(0, 12)}`, (abortSignal) =>
        this.engine.docker.getContainer(container.id).kill({ signal: 'SIGKILL', abortSignal }),
      );
    } catch (e) {
      const s = statusOf(e);
      if (s === 404 || s === 409 || s === 304) return; // gone or not running
      throw toInfraError(e, 'remove_failed', `killing ${container.id.slice(0, 12)}`);
    }
  }

  async remove(container: ContainerHandle, options: { force?: boolean } = {}): Promise<void> {
    try {
      await this.engine.call('remove_failed', `removing ${container.id.slice(0, 12)}`, (abortSignal) =>
        this.engine.docker.getContainer(container.id).remove({ force: options.force ?? true, v: true, abortSignal }),
      );
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

  /** The containers (any state) carrying all the given labels. */
  async listLabelled(labels: Record<string, string>): Promise<Docker.ContainerInfo[]> {
    const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    if (selector.length === 0) throw new TypeError('removeLeftovers needs at least one label');
    try {
      return await this.engine.call('remove_failed', 'listing leftover containers', (abortSignal) =>
        this.engine.docker.listContainers({ all: true, filters: { label: selector }, abortSignal }),
      );
    } catch (e) {
      throw toInfraError(e, 'remove_failed', 'listing leftover containers');
    }
  }
}
