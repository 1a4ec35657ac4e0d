/**
 * {@link ContainerRuntime} on a Docker Engine through dockerode (API 1.41 and later), split by job as the interfaces
 * of ../runtime.ts are: the connection and ping (engine.ts), workloads (workloads.ts: containers and exec), archives
 * (archives.ts: tar in and out), images (images.ts: pull, remove, disk use) and tool volumes (volumes.ts). Engine
 * errors become InfraErrors in errors.ts; stream.ts decodes the engine's multiplexed output. `DockerRuntime` builds
 * one of each on one connection and answers for all of them.
 */
import type Docker from 'dockerode';
import type {
  ContainerHandle,
  ContainerRuntime,
  ContainerSpec,
  ContainerState,
  DiskUsage,
  DiskUsageOptions,
  EnsureImageOptions,
  EnsureImageResult,
  EnsureToolVolumeOptions,
  ExecOptions,
  ExecResult,
  FileContent,
  ToolFile,
} from '../runtime.ts';
import { DockerArchives } from './archives.ts';
import { DockerEngine, type DockerRuntimeOptions } from './engine.ts';
import { DockerImages } from './images.ts';
import { DockerToolVolumes } from './volumes.ts';
import { DockerWorkloads } from './workloads.ts';

export { DockerArchives, readTarFiles, writeArchive } from './archives.ts';
export { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_EXEC_TIMEOUT_MS, DEFAULT_TRANSFER_TIMEOUT_MS, DockerEngine, type DockerRuntimeOptions } from './engine.ts';
export { isEngineDown, toInfraError, withDeadline } from './errors.ts';
export { DockerImages, parseDf } from './images.ts';
export { DockerStreamDemuxer } from './stream.ts';
export { DockerToolVolumes, TOOL_VOLUME_MARKER } from './volumes.ts';
export { DockerWorkloads } from './workloads.ts';

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  readonly engine: DockerEngine;
  readonly workloads: DockerWorkloads;
  readonly archives: DockerArchives;
  readonly images: DockerImages;
  readonly volumes: DockerToolVolumes;

  constructor(options: DockerRuntimeOptions = {}) {
    this.engine = new DockerEngine(options);
    this.docker = this.engine.docker;
    this.workloads = new DockerWorkloads(this.engine);
    this.archives = new DockerArchives(this.engine, this.workloads);
    this.images = new DockerImages(this.engine, this.workloads, options.spaceMethod);
    this.volumes = new DockerToolVolumes(this.engine, this.workloads, this.archives, options.volumeFillGraceMs);
  }

  // Engine
  ping(): Promise<void> {
    return this.engine.ping();
  }

  // Workloads
  createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    return this.workloads.createContainer(spec);
  }
  start(container: ContainerHandle): Promise<void> {
    return this.workloads.start(container);
  }
  exec(container: ContainerHandle, cmd: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.workloads.exec(container, cmd, options);
  }
  inspect(container: ContainerHandle): Promise<ContainerState | null> {
    return this.workloads.inspect(container);
  }
  kill(container: ContainerHandle): Promise<void> {
    return this.workloads.kill(container);
  }
  remove(container: ContainerHandle, options?: { force?: boolean }): Promise<void> {
    return this.workloads.remove(container, options);
  }
  removeLeftovers(labels?: Record<string, string>, options?: { olderThanMs?: number }): Promise<number> {
    return this.workloads.removeLeftovers(labels, options);
  }

  // Archives
  putFiles(container: ContainerHandle, dir: string, files: Record<string, FileContent>): Promise<void> {
    return this.archives.putFiles(container, dir, files);
  }
  getFile(container: ContainerHandle, path: string): Promise<Buffer | null> {
    return this.archives.getFile(container, path);
  }
  getFiles(container: ContainerHandle, dir: string, names?: readonly string[]): Promise<Record<string, Buffer>> {
    return this.archives.getFiles(container, dir, names);
  }

  // Images
  /** True when the image is present locally. */
  hasImage(ref: string): Promise<boolean> {
    return this.images.hasImage(ref);
  }
  ensureImage(ref: string, options: EnsureImageOptions): Promise<EnsureImageResult> {
    return this.images.ensureImage(ref, options);
  }
  diskUsage(options?: DiskUsageOptions): Promise<DiskUsage> {
    return this.images.diskUsage(options);
  }
  removeImage(ref: string): Promise<'removed' | 'absent' | 'in_use'> {
    return this.images.removeImage(ref);
  }

  // Tool volumes
  ensureToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions): Promise<void> {
    return this.volumes.ensureToolVolume(name, files, options);
  }
  removeVolume(name: string): Promise<void> {
    return this.volumes.removeVolume(name);
  }
}
