/**
 * A run is stored before its suite is resolved: a dataset download of minutes must not keep a trigger (the API's
 * POST .../runs answers once the run has an id) waiting. The dataset comes from a hub-like server of the test's own
 * on 127.0.0.1 that holds its answer until the test lets it go. No engine: the run never gets to a container, so the
 * in-memory runtime (test/helpers/memory-runner.ts) stands in for it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRun, RunStop } from '../../src/core/runner/run.ts';
import { writeParquet } from '../dataset/helpers.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { fixtureConfig, fixtureTasksWithoutImages, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { memoryWorld } from '../helpers/memory-runner.ts';

let tasks: FixtureTask[];
let harnessPath: string;
let parquetBody: Buffer;
let hub: Server;
let hubUrl: string;
let release: () => void = () => undefined;
let answer: 'hold' | 'fail' = 'hold';
let requests = 0;

beforeAll(async () => {
  tasks = await fixtureTasksWithoutImages();
  const dir = tempDir('agentdrift-early-');
  ({ harnessPath } = await writeFixtureDataset(dir, [tasks[0]!]));
  const file = path.join(dir, 'dataset.parquet');
  writeParquet(file, [tasks[0]!.row as unknown as Record<string, unknown>]);
  parquetBody = readFileSync(file);
  hub = createServer((req, res) => {
    requests++;
    if (answer === 'fail') return void res.writeHead(500).end('hub trouble');
    release = () => res.writeHead(200, { 'content-length': String(parquetBody.length) }).end(parquetBody);
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  hub?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
});

function context(): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: 'http://127.0.0.1:9',
      datasetPath: 'unused',
      harnessPath,
      ids: [tasks[0]!.instanceId],
      docker: { infraRetries: 0 },
      track: {
        name: 'earlyfx',
        suite: {
          dataset: { kind: 'hub', baseUrl: hubUrl, name: 'acme/fixture', revision: 'r1', split: 'test', path: 'data/test.parquet' },
          harness: { kind: 'local', path: harnessPath },
          ids: [tasks[0]!.instanceId],
        },
      },
    }),
    { ANTHROPIC_API_KEY: 'sk-ant-test-early-0123456789' },
  );
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('a run stored before its suite', { timeout: 120_000 }, () => {
  it('has its id while the dataset is still downloading, and its plan and suite once it is in', async () => {
    answer = 'hold';
    requests = 0;
    const t = context();
    try {
      const abort = new AbortController();
      let started: number | null = null;
      const w = memoryWorld({ tasks });
      const done = executeRun(t.ctx, w.runtime, 'earlyfx', { trigger: 'manual', signal: abort.signal, onStart: (id) => (started = id) });
      await until(() => started !== null && requests === 1, 'the run to start while the download is held');
      const id = started as unknown as number;
      expect(t.ctx.store.runs.get(id)).toMatchObject({ state: 'running', trigger: 'manual', suiteHash: null });
      expect(t.ctx.store.runs.plan(id)).toBeNull();
      // It is stopped before any attempt: only the suite's arrival is under test.
      abort.abort(new RunStop('cancelled', 'stopped by the test'));
      release();
      const r = await done;
      expect(r).toMatchObject({ runId: id, state: 'cancelled', attempted: 0 });
      expect(t.ctx.store.runs.plan(id)).toEqual({ taskIds: [tasks[0]!.instanceId], samples: 1 });
      expect(t.ctx.store.runs.get(id)!.suiteHash).toMatch(/\S/);
      expect(w.agentCalls).toHaveLength(0);
    } finally {
      t.cleanup();
    }
  });

  it("is marked failed with the dataset's reason when the suite cannot be resolved", async () => {
    answer = 'fail';
    const t = context();
    try {
      let started: number | null = null;
      const err = await executeRun(t.ctx, memoryWorld({ tasks }).runtime, 'earlyfx', { trigger: 'manual', onStart: (id) => (started = id) }).catch(
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('RunFailedError');
      expect(started).not.toBeNull();
      const run = t.ctx.store.runs.get(started as unknown as number)!;
      expect(run.state).toBe('failed');
      expect(run.reason).toMatch(/^failed: .*500/);
    } finally {
      t.cleanup();
    }
  });
});
