/**
 * What a run fetches before it attempts a task, reported to the run's caller and logged (throttled): the dataset
 * downloaded from a hub-like server of the test's own on 127.0.0.1, and the task image pulled by the real engine from
 * the fake registry on 127.0.0.1. The pulled image holds no shell, so the oracle attempt ends infra_error: only the
 * fetching is under test here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/index.ts';
import type { ContainerRuntime, EnsureImageOptions } from '../../src/executor/runtime.ts';
import type { FetchProgress } from '../../src/core/runner/fetch-progress.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { writeParquet } from '../dataset/helpers.ts';
import { makeContext, tempDir } from '../helpers/context.ts';
import { dockerClient } from '../helpers/docker.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages } from '../helpers/images.ts';
import { startFakeRegistry, type FakeRegistry } from '../executor/fake-registry.ts';

let images: FixtureImages;
let registry: FakeRegistry;
let hub: Server;
let hubUrl: string;
let parquetBody: Buffer;
let harnessPath: string;
let imageRef: string;
const repository = `agentdrift/fetch-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  images = await ensureFixtureImages();
  const base = images.tasks[0]!;
  const tag = `fetch-${randomUUID().slice(0, 8)}`;
  const task = { ...base, row: { ...base.row, dockerhub_tag: tag } };
  const dir = tempDir('agentdrift-fetch-');
  ({ harnessPath } = await writeFixtureDataset(dir, [task]));
  const file = path.join(dir, 'dataset.parquet');
  writeParquet(file, [task.row as unknown as Record<string, unknown>]);
  const { readFileSync } = await import('node:fs');
  parquetBody = readFileSync(file);

  registry = await startFakeRegistry();
  // Incompressible, so the engine downloads (and reports) a few megabytes.
  imageRef = await registry.addImage(repository, tag, { 'data.bin': randomBytes(4_000_000) });

  hub = createServer((req, res) => {
    if (!(req.url ?? '').endsWith('.parquet')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(parquetBody.length) });
    // Four chunks a little apart: several progress events.
    const step = Math.ceil(parquetBody.length / 4);
    const send = (i: number) => (i >= parquetBody.length ? res.end() : (res.write(parquetBody.subarray(i, i + step)), setTimeout(() => send(i + step), 20)));
    send(0);
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
}, 900_000);

afterAll(async () => {
  await dockerClient().getImage(imageRef).remove({ force: true }).catch(() => undefined);
  await registry?.close();
  hub?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
});

describe('fetch progress of a run', { timeout: 180_000 }, () => {
  it('reports the dataset download and the image pull to onFetch and logs them at info, throttled', async () => {
    const t = makeContext(
      fixtureConfig({
        apiUrl: 'http://127.0.0.1:9',
        datasetPath: 'unused',
        harnessPath,
        ids: [images.tasks[0]!.instanceId],
        docker: { imageRepository: `${registry.host}/${repository}`, pull: true, infraRetries: 0 },
        // The suite's dataset comes from the hub-like server instead of a file.
        track: {
          name: 'fetchfx',
          suite: {
            dataset: { kind: 'hub', baseUrl: hubUrl, name: 'acme/fixture', revision: 'r1', split: 'test', path: 'data/test.parquet' },
            harness: { kind: 'local', path: harnessPath },
            ids: [images.tasks[0]!.instanceId],
          },
        },
      }),
    );
    // Count the engine's own pull events, to show that what is reported and logged is fewer.
    const real = new DockerRuntime();
    let engineEvents = 0;
    const runtime: ContainerRuntime = Object.create(real) as ContainerRuntime;
    runtime.ensureImage = (ref: string, o: EnsureImageOptions) =>
      real.ensureImage(ref, { ...o, onProgress: (p) => (engineEvents++, o.onProgress?.(p)) });
    try {
      const fetched: FetchProgress[] = [];
      const r = await executeRun(t.ctx, runtime, 'fetchfx', { trigger: 'test', oracle: true, onFetch: (p) => fetched.push(p) });
      expect(r.oracle).toHaveLength(1);

      const dataset = fetched.filter((p) => p.kind === 'dataset');
      expect(dataset.length).toBeGreaterThanOrEqual(2);
      expect(dataset.at(-1)).toMatchObject({ done: true, bytesDone: parquetBody.length, bytesTotal: parquetBody.length });
      expect(dataset.slice(0, -1).every((p) => !p.done)).toBe(true);

      const pulls = fetched.filter((p): p is Extract<FetchProgress, { kind: 'image' }> => p.kind === 'image');
      expect(pulls.length).toBeGreaterThanOrEqual(2);
      expect(pulls.every((p) => p.image === imageRef)).toBe(true);
      expect(pulls.at(-1)).toMatchObject({ done: true, layers: 1, layersDone: 1 });
      expect(pulls.at(-1)!.bytesTotal).toBeGreaterThan(4_000_000);
      expect(pulls.at(-1)!.bytesDone).toBe(pulls.at(-1)!.bytesTotal);
      expect(pulls.length).toBeLessThan(engineEvents);

      const lines = t.logs.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; image?: string; mbTotal?: number });
      const pulling = lines.filter((l) => l.msg === 'pulling image' || l.msg === 'image pulled');
      expect(pulling.every((l) => l.level === 30 && l.image === imageRef)).toBe(true);
      expect(pulling.at(-1)).toMatchObject({ msg: 'image pulled', mbTotal: expect.any(Number) });
      // The pull takes well under the 5 s log interval: its first event and its end, not a line per event.
      expect(pulling).toHaveLength(2);
      expect(engineEvents).toBeGreaterThan(2);
      expect(lines.filter((l) => l.msg === 'downloading the dataset' || l.msg === 'dataset downloaded').map((l) => l.msg)).toEqual(['downloading the dataset', 'dataset downloaded']);
    } finally {
      t.cleanup();
    }
  });
});
