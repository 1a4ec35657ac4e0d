/**
 * The runtime's image and disk calls on the real engine: diskUsage (the engine's /system/df and the free space of its
 * data root, by statfs and by a helper container), removeImage. Images are local busybox ones under agentdrift-test
 * names; nothing is pulled.
 */
import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, parseDf } from '../../src/executor/docker/index.ts';
import { dockerClient, ensureBusyboxImage } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const docker = dockerClient();
let busybox: string;
const made: string[] = [];
const scope = randomUUID().slice(0, 8);

async function tag(ref: string): Promise<string> {
  const [repo, t] = ref.split(':') as [string, string];
  await docker.getImage(busybox).tag({ repo, tag: t });
  made.push(ref);
  return ref;
}

beforeAll(async () => {
  busybox = await ensureBusyboxImage();
}, 120_000);

afterAll(async () => {
  for (const ref of made) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
});

describe('diskUsage', () => {
  it('lists the engine images with their sizes and measures the data root with statfs when it is visible here', async () => {
    const ref = await tag(`agentdrift-test-disk-${scope}:a`);
    const u = await runtime.diskUsage();
    const info = (await docker.info()) as { DockerRootDir: string };
    expect(u.dataRoot).toBe(info.DockerRootDir);
    const img = u.images.find((i) => i.refs.includes(ref));
    expect(img, 'the tagged image is listed').toBeDefined();
    expect(img!.refs).toContain(busybox);
    expect(img!.sizeBytes).toBe((await docker.getImage(ref).inspect()).Size);
    expect(u.imagesBytes).toBeGreaterThanOrEqual(img!.sizeBytes);
    // This machine runs the engine: the data root is measured here.
    const s = await statfs(info.DockerRootDir);
    expect(u.space?.method).toBe('statfs');
    expect(u.space?.totalBytes).toBe(s.blocks * s.bsize);
    expect(u.space!.freeBytes).toBeGreaterThan(0);
    expect(u.space!.freeBytes).toBeLessThanOrEqual(u.space!.totalBytes);
  });

  it('measures the data root in a helper container when it cannot see it (a daemon in a container)', async () => {
    const inContainer = new DockerRuntime({ spaceMethod: 'helper' });
    const u = await inContainer.diskUsage({ helperImages: ['agentdrift-test-absent:none', busybox] });
    const s = await statfs(u.dataRoot);
    expect(u.space?.method).toBe('helper');
    // df reports whole KiB: the same filesystem, within a KiB of statfs.
    expect(Math.abs(u.space!.totalBytes - s.blocks * s.bsize)).toBeLessThan(1024);
    // Other tests write meanwhile: the free space agrees within 2% of the disk.
    expect(Math.abs(u.space!.freeBytes - s.bavail * s.bsize)).toBeLessThan(0.02 * s.blocks * s.bsize);
    // The helper container is gone.
    const left = await docker.listContainers({ all: true, filters: { label: ['agentdrift.role=disk-check'] } });
    expect(left.filter((c) => c.Image === busybox)).toEqual([]);
  });

  it('leaves the free space out (null) when neither way is possible, and still reports the images', async () => {
    const inContainer = new DockerRuntime({ spaceMethod: 'helper' });
    const u = await inContainer.diskUsage({ helperImages: ['agentdrift-test-absent:none'] });
    expect(u.space).toBeNull();
    expect(u.images.length).toBeGreaterThan(0);
  });

  it('parses POSIX df output, and refuses what is not', () => {
    const text = 'Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/vda         264212084  24764960  81625952      24% /agentdrift-data-root\n';
    expect(parseDf(text)).toEqual({ totalBytes: 264212084 * 1024, freeBytes: 81625952 * 1024, method: 'helper' });
    expect(parseDf('df: /x: No such file or directory\n')).toBeNull();
    expect(parseDf('')).toBeNull();
  });
});

describe('removeImage', () => {
  it('removes a reference, says absent afterwards, and leaves the other references of the image alone', async () => {
    const ref = await tag(`agentdrift-test-rm-${scope}:a`);
    expect(await runtime.removeImage(ref)).toBe('removed');
    expect(await runtime.removeImage(ref)).toBe('absent');
    expect((await docker.getImage(busybox).inspect()).RepoTags).toContain(busybox);
  });

  it('never forces: an image a container uses is in_use and stays', async () => {
    // An image of its own (only this reference), so removing the reference would delete it.
    const c = await docker.createContainer({ Image: busybox, Cmd: ['true'], Labels: { 'agentdrift.test': scope } });
    const ref = `agentdrift-test-inuse-${scope}:a`;
    await c.commit({ repo: ref.split(':')[0], tag: 'a' });
    made.push(ref);
    await c.remove({ force: true });
    const user = await docker.createContainer({ Image: ref, Cmd: ['true'], Labels: { 'agentdrift.test': scope } });
    try {
      expect(await runtime.removeImage(ref)).toBe('in_use');
      await docker.getImage(ref).inspect();
    } finally {
      await user.remove({ force: true });
    }
    expect(await runtime.removeImage(ref)).toBe('removed');
  });
});
