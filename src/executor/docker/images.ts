/**
 * {@link Images} on a Docker Engine: task images made present (inspected, pulled with a stall deadline), removed, and
 * the disk they take with the free space of the engine's data root.
 */
import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import {
  InfraError,
  LABEL_MANAGED,
  LABEL_ROLE,
  type DiskUsage,
  type DiskUsageOptions,
  type EngineImage,
  type EnsureImageOptions,
  type EnsureImageResult,
  type Images,
  type PullProgress,
} from '../runtime.ts';
import { normalizeRef } from '../refs.ts';
import type { DockerEngine } from './engine.ts';
import { engineMessage, formatMs, statusOf, toInfraError } from './errors.ts';
import { demuxAll } from './stream.ts';
import type { DockerWorkloads } from './workloads.ts';

export class DockerImages implements Images {
  /** The image of this process's own container (undefined: not looked up yet; null: not in a container of this engine). */
  private ownImageId: string | null | undefined;

  constructor(
    private readonly engine: DockerEngine,
    private readonly workloads: DockerWorkloads,
    private readonly spaceMethod: 'auto' | 'helper' = 'auto',
  ) {}

  /** True when the image is present locally. */
  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.engine.call('image_missing', `inspecting image ${ref}`, () => this.engine.docker.getImage(ref).inspect());
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
      stream = await this.engine.call('pull_failed', `pulling ${full}`, () => this.engine.docker.pull(full));
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
          reject(new InfraError('pull_failed', `pulling ${full}: no progress from the Docker Engine for ${formatMs(this.engine.transferMs)}`));
        }, this.engine.transferMs);
      };
      watch();
      this.engine.docker.modem.followProgress(
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

  /**
   * Image disk use from the engine's /system/df, and the free space of the filesystem holding its data root
   * (DockerRootDir of /info). The free space is measured, in this order: with `statfs` of the data root when the
   * daemon sees the engine's own data root (the engine's host name is this machine's and the path exists here);
   * else with `df -Pk` in a throwaway container (no network, never started for long) from the first present
   * image of `helperImages`, or this process's own container image when it runs in a container of that engine, with
   * the data root bind-mounted read-only; else it is null (not measured).
   */
  async diskUsage(options: DiskUsageOptions = {}): Promise<DiskUsage> {
    const info = (await this.engine.call('engine_down', 'reading the engine info', () => this.engine.docker.info())) as {
      DockerRootDir?: string;
      Name?: string;
    };
    const df = (await this.engine.call('engine_down', 'reading the engine disk use', (abortSignal) =>
      (this.engine.docker.df as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.engine.docker, { abortSignal }),
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
      const c = (await this.engine.call('engine_down', "inspecting this process's container", () => this.engine.docker.getContainer(hostname()).inspect())) as {
        Image?: string;
      };
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
      const c = await this.engine.call('create_failed', `creating the disk check container from ${image}`, () =>
        this.engine.docker.createContainer({
          Image: image,
          Entrypoint: ['df', '-Pk', mount],
          Cmd: [],
          Labels: { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: 'disk-check' },
          HostConfig: { NetworkMode: 'none', Binds: [`${dataRoot}:${mount}:ro`] },
        }),
      );
      id = c.id;
      const container = this.engine.docker.getContainer(c.id);
      await this.engine.call('start_failed', 'starting the disk check container', () => container.start());
      const exit = (await this.engine.call('exec_failed', 'waiting for the disk check container', () => container.wait())) as { StatusCode?: number };
      if (exit.StatusCode !== 0) return null;
      const logs = (await this.engine.call('exec_failed', 'reading the disk check output', () =>
        container.logs({ stdout: true, stderr: false, follow: false }),
      )) as unknown as Buffer;
      return parseDf(demuxAll(logs));
    } catch {
      return null;
    } finally {
      if (id) await this.workloads.remove({ id }, { force: true }).catch(() => undefined);
    }
  }

  async removeImage(ref: string): Promise<'removed' | 'absent' | 'in_use'> {
    try {
      await this.engine.call('remove_failed', `removing image ${ref}`, () => this.engine.docker.getImage(ref).remove({ noprune: false }));
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
