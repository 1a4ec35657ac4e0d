/**
 * {@link ToolVolumes} on a Docker Engine: named volumes filled once through a throwaway container that is never
 * started (files streamed in through the archive API, a completion marker written last), checked again by their
 * marker, refilled from empty for other content, and removed.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  InfraError,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_VOLUME,
  ROLE_VOLUME_FILL,
  VOLUME_FILL_GRACE_MS,
  type ContainerHandle,
  type EnsureToolVolumeOptions,
  type ToolFile,
  type ToolVolumes,
} from '../runtime.ts';
import { hashToolFiles, TOOL_VOLUME_MARKER } from '../refs.ts';
import { relativeEntryName, type DockerArchives, type PackEntry } from './archives.ts';
import type { DockerEngine } from './engine.ts';
import { statusOf, toInfraError } from './errors.ts';
import type { DockerWorkloads } from './workloads.ts';

export { TOOL_VOLUME_MARKER };

export class DockerToolVolumes implements ToolVolumes {
  private readonly volumeFills = new Map<string, Promise<void>>();
  /**
   * Content key and creation time of each tool volume this process has filled or verified: a later call only
   * inspects the volume (a volume removed and re-created behind our back has another creation time).
   */
  private readonly volumesKnown = new Map<string, { key: string; createdAt: string }>();

  /** `volumeFillGraceMs`: age from which another process's volume-fill container counts as a leftover. */
  constructor(
    private readonly engine: DockerEngine,
    private readonly workloads: DockerWorkloads,
    private readonly archives: DockerArchives,
    private readonly volumeFillGraceMs: number = VOLUME_FILL_GRACE_MS,
  ) {}

  /**
   * Before a volume is removed for a refill: fill containers of it left by a crashed process would keep it "in use"
   * forever, so those past the grace age are removed; a younger one is another process filling it now, which is
   * waited for (up to the grace age). Returns whether one was waited for (the volume may be complete now).
   */
  private async clearVolumeFills(name: string): Promise<boolean> {
    const labels = { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name };
    let waited = false;
    for (;;) {
      await this.workloads.removeLeftovers(labels, { olderThanMs: this.volumeFillGraceMs });
      if ((await this.workloads.listLabelled(labels)).length === 0) return waited;
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
      await this.engine.call('volume_failed', `removing volume ${name}`, (abortSignal) => this.engine.docker.getVolume(name).remove({ abortSignal }));
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
        const info = (await this.engine.call('volume_failed', `inspecting volume ${name}`, (abortSignal) =>
          this.engine.docker.getVolume(name).inspect({ abortSignal }),
        )) as { CreatedAt?: string };
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
      const c = await this.workloads.createContainer({
        image: options.helperImage,
        labels: { ...labels, [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name },
        entrypoint: ['/agentdrift-never-started'],
        networkMode: 'none',
        mounts: [{ volume: name, target: mountPoint, readOnly: false }],
      });
      try {
        return await fn(c);
      } finally {
        await this.workloads.remove(c, { force: true }).catch(() => undefined);
      }
    };

    if (exists) {
      const marker = await helper((c) => this.archives.getFile(c, `${mountPoint}/${TOOL_VOLUME_MARKER}`));
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
        await this.engine.call('volume_failed', `removing volume ${name}`, (abortSignal) => this.engine.docker.getVolume(name).remove({ abortSignal }));
      } catch (e) {
        throw toInfraError(e, 'volume_failed', `volume ${name} holds other content and cannot be removed (in use?)`);
      }
    }
    try {
      await this.engine.call('volume_failed', `creating volume ${name}`, (abortSignal) =>
        this.engine.docker.createVolume({ Name: name, Labels: labels, abortSignal }),
      );
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
      await this.archives.upload(c, mountPoint, entries, 'volume_failed', `filling volume ${name}`);
      // The marker goes in last, so a volume with a marker is complete.
      const markerContent = JSON.stringify({ key, files: Object.keys(files), filledAt: new Date().toISOString() });
      try {
        await this.archives.putFiles(c, mountPoint, { [TOOL_VOLUME_MARKER]: markerContent });
      } catch (e) {
        throw toInfraError(e, 'volume_failed', `marking volume ${name} complete`);
      }
    });
    this.volumesKnown.set(name, { key, createdAt: (await createdAt()) ?? '' });
  }
}
