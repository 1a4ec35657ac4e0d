/**
 * Task images and the engine's disk, on the real engine with local images only (fixture task images re-tagged under
 * agentdrift-test names, and images served by the test's own registry on 127.0.0.1): the disk check before a run,
 * docker.images: remove-after-use, and the removal of images agentdrift pulled that no configured suite uses.
 */
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { parseConfig } from '../../src/config/index.ts';
import { diskNeed } from '../../src/core/runner/images.ts';
import { executeRun, RunFailedError } from '../../src/core/runner/run.ts';
import { startFakeRegistry, type FakeRegistry } from '../executor/fake-registry.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { ensureBusyboxImage } from '../helpers/docker.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages, type FixtureTask } from '../helpers/images.ts';

const docker = new Docker();
const runtime = new DockerRuntime();
const scope = randomUUID().slice(0, 8);
const TRACK = `img-${scope}`;
let images: FixtureImages;
let datasetPath: string;
let harnessPath: string;
let registry: FakeRegistry;
const made: string[] = [];
let t: TestContext | null = null;

beforeAll(async () => {
  images = await ensureFixtureImages();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-images-'), images.tasks));
  registry = await startFakeRegistry();
}, 900_000);

afterEach(() => {
  t?.cleanup();
  t = null;
});

afterAll(async () => {
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', 'agentdrift.track': TRACK });
  for (const ref of made) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
  await registry.close();
});

const task = (i: number): FixtureTask => images.tasks[i]!;

function context(o: { ids: string[]; docker?: Record<string, unknown>; samples?: number }, env: NodeJS.ProcessEnv = {}): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: 'http://127.0.0.1:9/',
      datasetPath,
      harnessPath,
      ids: o.ids,
      docker: { infraRetries: 0, gradingTimeoutSeconds: 120, ...o.docker },
      track: { name: TRACK, samplesPerTask: o.samples ?? 1 },
    }),
    env,
  );
}

async function exists(ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** The fixture task's image under an agentdrift-test repository of this file. */
async function retag(tk: FixtureTask, repository: string): Promise<string> {
  const ref = `${repository}:${tk.imageTag}`;
  await docker.getImage(tk.image).tag({ repo: repository, tag: tk.imageTag });
  made.push(ref);
  return ref;
}

describe('the disk check before a run', { timeout: 300_000 }, () => {
  it('ends the run failed with the shortfall as its reason before any attempt or container, when the images to pull would not fit', async () => {
    // Task 0's image is missing under this repository (and pulling is off): 1 image to pull at 10 TB each.
    const repository = `agentdrift-test-disk-${scope}`;
    await retag(task(1), repository);
    t = context({ ids: [task(0).instanceId, task(1).instanceId], docker: { imageRepository: repository, imageSizeGb: 10_000, minFreeGb: 0 } }, { ANTHROPIC_API_KEY: 'sk-ant-test-0123456789' });
    const e = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunFailedError);
    const run = t.ctx.store.runs.get((e as RunFailedError).runId)!;
    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/not enough disk space for the run: the Docker data root \/\S+ has [\d.]+ GB free, the run needs 10000\.0 GB \(1 image\(s\) to pull of 1 missing, about 10000\.0 GB each \(docker\.imageSizeGb\)/);
    expect(t.ctx.store.attempts.ofRun(run.id)).toEqual([]);
    expect((await docker.listContainers({ all: true, filters: { label: [`agentdrift.track=${TRACK}`] } })).length).toBe(0);
  });

  it('counts docker.minFreeGb even when every image is present, and lets a run that fits go on', async () => {
    t = context({ ids: [task(0).instanceId], docker: { minFreeGb: 100_000 } });
    await expect(executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true })).rejects.toThrow(/run needs 100000\.0 GB \(0 image\(s\) to pull of 0 missing.*plus docker\.minFreeGb 100000 GB\)/);
    t.cleanup();
    t = context({ ids: [task(0).instanceId], docker: { minFreeGb: 0 } });
    const r = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true });
    expect(r.oracle).toEqual([{ taskId: task(0).instanceId, outcome: 'resolved', reason: expect.any(String), gradingLogPath: expect.stringContaining('/oracle-') }]);
  });

  it('estimates a missing image by the mean of the suite\'s present images, and needs only concurrency of them under remove-after-use', async () => {
    const u = await runtime.diskUsage();
    const present = [task(0).image, task(1).image];
    const sizes = present.map((r) => u.images.find((i) => i.refs.includes(r))!.sizeBytes);
    const refs = [...present, 'agentdrift-test-none:a', 'agentdrift-test-none:b', 'agentdrift-test-none:c'];
    const base = parseConfig({}, {}).config.docker;
    const keep = diskNeed(u, refs, { ...base, minFreeGb: 1 }, 2);
    expect(keep.perImageFrom).toBe('present images');
    expect(keep.perImageBytes).toBeCloseTo((sizes[0]! + sizes[1]!) / 2);
    expect(keep.missing).toHaveLength(3);
    expect(keep.requiredBytes).toBe(Math.round(3 * keep.perImageBytes + 1e9));
    const small = diskNeed(u, refs, { ...base, minFreeGb: 1, images: 'remove-after-use' }, 2);
    expect(small.requiredBytes).toBe(Math.round(2 * keep.perImageBytes + 1e9));
    expect(diskNeed(u, ['agentdrift-test-none:a'], { ...base, minFreeGb: 0 }, 1)).toMatchObject({ perImageFrom: 'default', requiredBytes: 4e9 });
  });
});

describe('docker.images: remove-after-use', { timeout: 300_000 }, () => {
  it('removes a task image once the run\'s last attempt that uses it has ended, not before; the image\'s other references stay', async () => {
    // Under the test registry's host: a pull it should not make goes to 127.0.0.1 (and fails), never outside.
    const repository = `${registry.host}/agentdrift-test-rau-${scope}`;
    const ref = await retag(task(0), repository);
    t = context({ ids: [task(0).instanceId], samples: 2, docker: { imageRepository: repository, pull: true, images: 'remove-after-use', minFreeGb: 0 } });
    const r = await executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true });
    // Both samples graded from the image: the first attempt did not remove it under the second.
    expect(r.oracle?.map((o) => o.outcome)).toEqual(['resolved', 'resolved']);
    expect(await exists(ref)).toBe(false);
    expect(await exists(task(0).image)).toBe(true);
    expect(t.logs.join('')).toContain('removed the task image after use');
  });

  it('is refused with pull: false, naming docker.images', () => {
    expect(() => context({ ids: [task(0).instanceId], docker: { images: 'remove-after-use', pull: false } })).toThrow(/docker\.images.*docker\.pull is false/s);
  });
});

describe('images agentdrift pulled that no configured suite uses', { timeout: 300_000 }, () => {
  it('are removed after a run once the suite no longer uses them; its own pulls in use and images it did not pull stay', async () => {
    const repository = `${registry.host}/agentdrift-test/tasks-${scope}`;
    const name = `agentdrift-test/tasks-${scope}`;
    const a = await registry.addImage(name, task(0).imageTag, { 'a.txt': 'a' });
    const b = await registry.addImage(name, task(1).imageTag, { 'b.txt': 'b' });
    made.push(a, b);
    const busybox = await ensureBusyboxImage();
    const foreign = `agentdrift-test-foreign-${scope}:x`;
    await docker.getImage(busybox).tag({ repo: `agentdrift-test-foreign-${scope}`, tag: 'x' });
    made.push(foreign);

    const dataDir = tempDir('agentdrift-images-data-');
    // Suite 1 uses task 0: its image is pulled (from the test's registry) and recorded; it is no runnable task image,
    // so the attempt is an infra error, which does not matter here.
    const cfg = (ids: string[]) => fixtureConfig({ apiUrl: 'http://127.0.0.1:9/', datasetPath, harnessPath, ids, docker: { imageRepository: repository, pull: true, minFreeGb: 0, infraRetries: 0 }, track: { name: TRACK } });
    t = makeContext({ ...cfg([task(0).instanceId]), dataDir });
    await executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true });
    expect(t.ctx.store.images.pulled().map((p) => p.ref)).toEqual([a]);
    expect(await exists(a)).toBe(true);
    t.cleanup();

    // Suite 2 uses task 1 only: after its run, task 0's image (pulled by agentdrift, used by no suite) is removed.
    t = makeContext({ ...cfg([task(1).instanceId]), dataDir });
    await executeRun(t.ctx, runtime, TRACK, { trigger: 'test', oracle: true });
    expect(await exists(a)).toBe(false);
    expect(await exists(b)).toBe(true);
    expect(t.ctx.store.images.pulled().map((p) => p.ref)).toEqual([b]);
    expect(await exists(foreign)).toBe(true);
    expect(t.logs.join('')).toContain('removed images agentdrift pulled that no configured suite uses any more');
  });
});
