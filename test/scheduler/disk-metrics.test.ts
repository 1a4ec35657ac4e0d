/**
 * The daemon's agentdrift_docker_* disk series, measured by the scheduler on the real engine with local busybox
 * images under agentdrift-test names, and the removal at daemon start of images agentdrift pulled that no configured
 * suite uses. When the disk is measured (its interval, a failed measure, the engine down) is checked on the in-memory
 * runtime with an injected clock.
 */
import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, MemoryRuntime } from '../../src/executor/index.ts';
import { Scheduler } from '../../src/core/scheduler/scheduler.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { dockerClient, ensureBusyboxImage } from '../helpers/docker.ts';
import { FakeClock, series } from './fakes.ts';

const docker = dockerClient();
const scope = randomUUID().slice(0, 8);
const repository = `agentdrift-test-diskm-${scope}`;
let present: string;
let unused: string;
let t: TestContext | null = null;
let scheduler: Scheduler | null = null;

beforeAll(async () => {
  const busybox = await ensureBusyboxImage();
  await docker.getImage(busybox).tag({ repo: repository, tag: 'present' });
  await docker.getImage(busybox).tag({ repo: repository, tag: 'unused' });
  present = `${repository}:present`;
  unused = `${repository}:unused`;
}, 120_000);

afterEach(async () => {
  await scheduler?.stop(0);
  scheduler = null;
  t?.cleanup();
  t = null;
});

afterAll(async () => {
  for (const ref of [present, unused]) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
});

function setup(runtime: DockerRuntime): TestContext {
  // A slot far away: nothing runs; the scheduler only checks the engine.
  t = makeContext({ docker: { minFreeGb: 2 }, tracks: [{ name: `disk-${scope}`, concurrency: 1, schedule: { cron: '0 3 1 1 *' } }] });
  scheduler = new Scheduler({ deps: t.ctx, disk: t.ctx.exporter, runtime, execute: async () => Promise.reject(new Error('no run expected')) });
  return t;
}

describe('agentdrift_docker_* disk series', () => {
  it('expose image disk use, the data root\'s free and total bytes, and what each track\'s next run needs', async () => {
    const { ctx } = setup(new DockerRuntime());
    const track = `disk-${scope}`;
    ctx.store.images.setOfTrack(track, [present, `${repository}:missing`]);
    await scheduler!.start();
    const text = await ctx.exporter.render();
    const size = (await docker.getImage(present).inspect()).Size;
    expect(series(text, 'agentdrift_docker_images_bytes')).toBeGreaterThanOrEqual(size);
    expect(series(text, 'agentdrift_docker_images')).toBeGreaterThanOrEqual(1);
    const info = (await docker.info()) as { DockerRootDir: string };
    const s = await statfs(info.DockerRootDir);
    expect(series(text, 'agentdrift_docker_data_root_total_bytes')).toBe(s.blocks * s.bsize);
    expect(series(text, 'agentdrift_docker_data_root_free_bytes')).toBeGreaterThan(0);
    expect(series(text, 'agentdrift_docker_suite_images', { track, state: 'present' })).toBe(1);
    expect(series(text, 'agentdrift_docker_suite_images', { track, state: 'missing' })).toBe(1);
    // One image to pull, estimated at the size of the suite's present one, plus docker.minFreeGb.
    expect(series(text, 'agentdrift_docker_run_required_bytes', { track })).toBe(size + 2e9);
  });

  it('are absent while the engine does not answer (and so is the free space when it cannot be measured)', async () => {
    const { ctx } = setup(new DockerRuntime({ socketPath: `/tmp/agentdrift-no-engine-${scope}.sock` }));
    await scheduler!.start();
    const text = await ctx.exporter.render();
    expect(series(text, 'agentdrift_docker_up')).toBe(0);
    for (const name of ['agentdrift_docker_images_bytes', 'agentdrift_docker_data_root_free_bytes', 'agentdrift_docker_data_root_total_bytes']) {
      expect(text.includes(`\n${name} `), name).toBe(false);
    }
  });
});

describe('daemon start', () => {
  it('removes images agentdrift pulled that no configured suite uses, and only those', async () => {
    const { ctx } = setup(new DockerRuntime());
    ctx.store.images.setOfTrack(`disk-${scope}`, [present]);
    ctx.store.images.recordPulled(present);
    ctx.store.images.recordPulled(unused);
    await scheduler!.start();
    await expect(docker.getImage(unused).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getImage(present).inspect()).RepoTags).toContain(present);
    expect(ctx.store.images.pulled().map((p) => p.ref)).toEqual([present]);
  });
});

describe('when the disk is measured (in-memory runtime, injected clock)', () => {
  it('at most once per disk interval; a failed measure leaves the series out until the next one; the engine back up is measured at once', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T05:00:00Z'));
    const track = `disk-${scope}`;
    t = makeContext({ docker: { minFreeGb: 2 }, tracks: [{ name: track, concurrency: 1, schedule: { cron: '0 3 1 1 *' } }] });
    const space = (freeBytes: number) => ({ freeBytes, totalBytes: 100e9, method: 'statfs' as const });
    const rt = new MemoryRuntime({ now: () => clock.now(), space: space(50e9) }).addImage(present, {}, { sizeBytes: 3e9 });
    t.ctx.store.images.setOfTrack(track, [present, `${repository}:missing`]);
    const execute = async () => Promise.reject(new Error('no run expected'));
    scheduler = new Scheduler({ deps: t.ctx, disk: t.ctx.exporter, runtime: rt, clock, execute, checkIntervalMs: 15_000, diskIntervalMs: 60_000 });
    const ctx = t.ctx;
    const get = async (name: string, labels?: Record<string, string>) => series(await ctx.exporter.render(), name, labels);
    await scheduler.start();
    expect(await get('agentdrift_docker_up')).toBe(1);
    expect(await get('agentdrift_docker_images_bytes')).toBe(3e9);
    expect(await get('agentdrift_docker_images')).toBe(1);
    expect(await get('agentdrift_docker_data_root_free_bytes')).toBe(50e9);
    expect(await get('agentdrift_docker_data_root_total_bytes')).toBe(100e9);
    expect(await get('agentdrift_docker_suite_images', { track, state: 'present' })).toBe(1);
    expect(await get('agentdrift_docker_suite_images', { track, state: 'missing' })).toBe(1);
    expect(await get('agentdrift_docker_run_required_bytes', { track })).toBe(3e9 + 2e9);

    // The checks within the disk interval (15, 30, 45 s) do not measure again; the one at 60 s does.
    rt.space = space(40e9);
    await clock.advance(45_000);
    expect(await get('agentdrift_docker_data_root_free_bytes')).toBe(50e9);
    await clock.advance(15_000);
    expect(await get('agentdrift_docker_data_root_free_bytes')).toBe(40e9);

    // A measure that fails while the engine answers: the series are left out, the next measure is an interval later.
    rt.failNext('diskUsage', 'exec_failed', 'injected disk usage failure');
    await clock.advance(60_000);
    expect(await get('agentdrift_docker_up')).toBe(1);
    expect(await get('agentdrift_docker_images_bytes')).toBeUndefined();
    expect(await get('agentdrift_docker_data_root_free_bytes')).toBeUndefined();
    expect(t.logs.join('')).toContain('injected disk usage failure');
    await clock.advance(15_000);
    expect(await get('agentdrift_docker_images_bytes')).toBeUndefined();
    await clock.advance(45_000);
    expect(await get('agentdrift_docker_images_bytes')).toBe(3e9);

    // The engine down: up 0 and no disk series; back up, the next check measures at once.
    rt.up = false;
    await clock.advance(15_000);
    expect(await get('agentdrift_docker_up')).toBe(0);
    expect(await get('agentdrift_docker_images_bytes')).toBeUndefined();
    rt.up = true;
    rt.space = space(30e9);
    await clock.advance(15_000);
    expect(await get('agentdrift_docker_up')).toBe(1);
    expect(await get('agentdrift_docker_data_root_free_bytes')).toBe(30e9);
  });
});
