/**
 * Task images on the engine's disk (issue 10 item 11): a real SWE-Bench-Pro image is 2-6 GB, a 50-task suite some
 * 150 GB, so agentdrift checks before a run that what it still has to pull fits, and follows `docker.images`:
 *
 * - `keep` (default): the suite's images stay between runs.
 * - `remove-after-use`: a task image is removed once the run's last attempt that uses it has ended (pulled again
 *   next run): at most `concurrency` task images on disk at a time.
 *
 * Either way, with `docker.removeUnusedImages` (default), images agentdrift pulled itself (recorded in the store) that
 * no configured track's suite uses any more are removed after each run and at daemon start. Images agentdrift did not
 * pull are never removed by that sweep; `remove-after-use` removes the task images it runs (it needs `docker.pull`).
 */
import type { Logger } from 'pino';
import type { Config, TrackConfig } from '../../config/index.ts';
import { imageReference, type Task } from '../../dataset/index.ts';
import type { ContainerRuntime, DiskUsage } from '../../executor/runtime.ts';
import type { Store } from '../../store/store.ts';

const GB = 1e9;
/** Size assumed for a task image not present when the suite has none present to go by (SWE-Bench-Pro: 2-6 GB). */
export const DEFAULT_IMAGE_SIZE_GB = 4;

/** `name` and `host:port/name` mean `:latest`, as the engine lists them. */
export function normalizeImageRef(ref: string): string {
  if (ref.includes('@')) return ref;
  return ref.slice(ref.lastIndexOf('/') + 1).includes(':') ? ref : `${ref}:latest`;
}

/** The image references of these tasks (each once, sorted). */
export function taskImageRefs(tasks: readonly Pick<Task, 'imageTag'>[], imageRepository: string): string[] {
  return [...new Set(tasks.map((t) => normalizeImageRef(imageReference(t.imageTag, imageRepository))))].sort();
}

export interface DiskNeed {
  /** The images of the run present on the engine, and those it still has to pull. */
  present: string[];
  missing: string[];
  /** How many of the missing images must fit at once: all of them, or `concurrency` under remove-after-use. */
  toPull: number;
  /** Bytes assumed per missing image, and where that figure comes from. */
  perImageBytes: number;
  perImageFrom: 'docker.imageSizeGb' | 'present images' | 'default';
  /** Bytes the data root must have free: the images still to pull (at most `concurrency` of them under remove-after-use) plus docker.minFreeGb. */
  requiredBytes: number;
  /** Free bytes of the data root, null when not measured. */
  freeBytes: number | null;
}

/** What a run of these images needs on disk, against what the engine has (pure). */
export function diskNeed(usage: DiskUsage, refs: readonly string[], docker: Config['docker'], concurrency: number): DiskNeed {
  const sizes = new Map<string, number>();
  for (const img of usage.images) for (const r of img.refs) sizes.set(normalizeImageRef(r), img.sizeBytes);
  const wanted = [...new Set(refs.map(normalizeImageRef))].sort();
  const present = wanted.filter((r) => sizes.has(r));
  const missing = wanted.filter((r) => !sizes.has(r));
  let perImageBytes: number;
  let perImageFrom: DiskNeed['perImageFrom'];
  if (docker.imageSizeGb !== undefined) {
    perImageBytes = docker.imageSizeGb * GB;
    perImageFrom = 'docker.imageSizeGb';
  } else if (present.length) {
    perImageBytes = present.reduce((a, r) => a + (sizes.get(r) as number), 0) / present.length;
    perImageFrom = 'present images';
  } else {
    perImageBytes = DEFAULT_IMAGE_SIZE_GB * GB;
    perImageFrom = 'default';
  }
  const toPull = docker.images === 'remove-after-use' ? Math.min(missing.length, concurrency) : missing.length;
  return {
    present,
    missing,
    toPull,
    perImageBytes,
    perImageFrom,
    requiredBytes: Math.round(toPull * perImageBytes + docker.minFreeGb * GB),
    freeBytes: usage.space ? usage.space.freeBytes : null,
  };
}

const gb = (b: number) => `${(b / GB).toFixed(1)} GB`;

/** The reason a run does not start for lack of disk, or null when it fits (or the free space is not measured). */
export function diskShortfall(need: DiskNeed, usage: DiskUsage, docker: Config['docker']): string | null {
  if (need.freeBytes === null || need.freeBytes >= need.requiredBytes) return null;
  const per = need.perImageFrom === 'docker.imageSizeGb' ? 'docker.imageSizeGb' : need.perImageFrom === 'present images' ? "the mean of the suite's present images" : `a default of ${DEFAULT_IMAGE_SIZE_GB} GB`;
  return (
    `not enough disk space for the run: the Docker data root ${usage.dataRoot} has ${gb(need.freeBytes)} free, the run needs ${gb(need.requiredBytes)} ` +
    `(${need.toPull} image(s) to pull${docker.images === 'remove-after-use' ? ' at once (remove-after-use)' : ''} of ${need.missing.length} missing, about ${gb(need.perImageBytes)} each (${per}), ` +
    `plus docker.minFreeGb ${docker.minFreeGb} GB); free space on the engine's disk, or set docker.images: remove-after-use`
  );
}

/**
 * Counts the run's pending attempts per image, so that under remove-after-use an image is removed once the last
 * attempt that needs it has ended (never while another attempt of the run uses it).
 */
export class ImageUses {
  private readonly left = new Map<string, number>();

  constructor(refs: readonly string[]) {
    for (const r of refs) this.left.set(r, (this.left.get(r) ?? 0) + 1);
  }

  /** One attempt of `ref` ended; true when no other attempt of the run needs it any more. */
  done(ref: string): boolean {
    const n = (this.left.get(ref) ?? 0) - 1;
    if (n > 0) this.left.set(ref, n);
    else this.left.delete(ref);
    return n <= 0;
  }
}

/** Removes a task image after use (remove-after-use); a failure is logged, never fatal. */
export async function removeTaskImage(runtime: ContainerRuntime, store: Store, ref: string, log: Logger): Promise<void> {
  try {
    const r = await runtime.removeImage(ref);
    if (r !== 'in_use') store.images.forgetPulled(ref);
    if (r === 'removed') log.info({ image: ref }, 'removed the task image after use (docker.images: remove-after-use)');
    else if (r === 'in_use') log.warn({ image: ref }, 'the task image is still used by a container: left in place');
  } catch (e) {
    log.warn({ image: ref, err: (e as Error).message }, 'could not remove the task image');
  }
}

/**
 * Removes the images agentdrift pulled that no configured track's suite uses (docker.removeUnusedImages). Skipped
 * while a configured track's suite images are unknown (it has never run against this store): those could be its.
 * Returns the references removed.
 */
export async function removeUnusedImages(store: Store, runtime: ContainerRuntime, config: Pick<Config, 'docker' | 'tracks'>, log: Logger): Promise<string[]> {
  if (!config.docker.removeUnusedImages) return [];
  const pulled = store.images.pulled();
  if (!pulled.length) return [];
  const used = new Set<string>();
  const unknown: string[] = [];
  for (const t of config.tracks as readonly TrackConfig[]) {
    const refs = store.images.ofTrack(t.name);
    if (refs === null) unknown.push(t.name);
    else for (const r of refs) used.add(normalizeImageRef(r));
  }
  if (unknown.length) {
    log.debug({ tracks: unknown }, 'unused images are not removed while a track\'s suite images are unknown (it has not run yet)');
    return [];
  }
  const removed: string[] = [];
  for (const { ref } of pulled) {
    if (used.has(normalizeImageRef(ref))) continue;
    try {
      const r = await runtime.removeImage(ref);
      if (r === 'in_use') continue;
      store.images.forgetPulled(ref);
      if (r === 'removed') removed.push(ref);
    } catch (e) {
      log.warn({ image: ref, err: (e as Error).message }, 'could not remove an unused image');
    }
  }
  if (removed.length) log.info({ images: removed }, 'removed images agentdrift pulled that no configured suite uses any more');
  return removed;
}

/** The engine's disk as the scheduler last measured it (dockerDiskFigures below computes it). */
export interface DockerDiskFigures {
  imagesBytes: number;
  images: number;
  /** Null when the data root's free space cannot be measured from here. */
  freeBytes: number | null;
  totalBytes: number | null;
  /** Tracks whose suite images are known (a run resolved them). */
  tracks: { track: string; present: number; missing: number; requiredBytes: number }[];
}

/** The disk series: the engine's image use and free space, and per track (suite images known) what its next run needs. */
export function dockerDiskFigures(usage: DiskUsage, store: Store, config: Pick<Config, 'docker' | 'tracks'>): DockerDiskFigures {
  const tracks: DockerDiskFigures['tracks'] = [];
  for (const t of config.tracks) {
    const refs = store.images.ofTrack(t.name);
    if (refs === null) continue;
    const need = diskNeed(usage, refs, config.docker, t.concurrency);
    tracks.push({ track: t.name, present: need.present.length, missing: need.missing.length, requiredBytes: need.requiredBytes });
  }
  return {
    imagesBytes: usage.imagesBytes,
    images: usage.images.length,
    freeBytes: usage.space?.freeBytes ?? null,
    totalBytes: usage.space?.totalBytes ?? null,
    tracks,
  };
}
