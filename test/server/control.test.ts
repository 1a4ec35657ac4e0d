/**
 * The control API against a real scheduler whose runs are stand-ins (test/scheduler/fakes.ts): status codes, bodies
 * and the token. The real engine is in test/scheduler/e2e.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler/scheduler.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { FakeClock, fakeRuns, flush, memoryRuntime, type FakeRuns } from '../scheduler/fakes.ts';

const TOKEN = 'control-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

let t: TestContext;
let app: FastifyInstance;
let bare: FastifyInstance;
let scheduler: Scheduler;
let runs: FakeRuns;

beforeAll(async () => {
  t = makeContext({ tracks: [{ name: 'main', budget: { dailyUsd: 50, perAttemptUsd: 2 } }, { name: 'other' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
  const clock = new FakeClock(Date.parse('2026-02-01T12:00:00Z'));
  runs = fakeRuns(clock);
  scheduler = new Scheduler({ deps: t.ctx, disk: t.ctx.exporter, runtime: memoryRuntime(clock), clock, execute: runs.execute, graceMs: 1000 });
  await scheduler.start();
  app = await buildServer(t.ctx, { control: scheduler });
  bare = await buildServer(t.ctx);
});

afterAll(async () => {
  await scheduler.stop(0);
  await app.close();
  await bare.close();
  t.cleanup();
});

describe('control API', () => {
  it('refuses to start or cancel without the token', async () => {
    for (const url of ['/api/tracks/main/runs', '/api/runs/1/cancel']) {
      const r = await app.inject({ method: 'POST', url });
      expect(r.statusCode, url).toBe(401);
      expect(r.json()).toMatchObject({ message: 'missing or wrong bearer token' });
    }
    expect(runs.calls).toHaveLength(0);
  });

  it('starts a run now (202), refuses a second while it goes on (409), and shows live progress and cost', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/tracks/main/runs', headers: auth });
    expect(r.statusCode).toBe(202);
    const run = r.json();
    expect(run).toMatchObject({ track: 'main', state: 'running', trigger: 'manual', live: true, costUsd: 0, progress: { done: 0, total: 2, resolved: 0, ratio: 0 } });

    const again = await app.inject({ method: 'POST', url: '/api/tracks/main/runs', headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ statusCode: 409, error: 'Conflict', runId: run.id });
    expect(again.json().message).toContain(`a run of track "main" is going on (run ${run.id})`);

    // The other track is independent.
    const other = await app.inject({ method: 'POST', url: '/api/tracks/other/runs', headers: auth });
    expect(other.statusCode).toBe(202);

    t.ctx.store.attempts.insert(run.id, {
      taskId: 'task-a', sampleIndex: 0, outcome: 'resolved', reason: null, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheCreationTokens: 0,
      costUsd: 0.75, turns: 2, toolCalls: 1, agentDurationMs: 1000, gradingDurationMs: 500, patchBytes: 10, transcriptPath: null, gradingLogPath: null,
      startedAt: new Date().toISOString(), endedAt: new Date().toISOString(),
    });
    const live = (await app.inject(`/api/runs/${run.id}`)).json();
    expect(live).toMatchObject({ state: 'running', live: true, costUsd: 0.75, progress: { done: 1, total: 2, resolved: 1, ratio: 0.5 } });

    const track = (await app.inject('/api/tracks/main')).json();
    expect(track).toMatchObject({
      runInProgress: true,
      currentRunId: run.id,
      costToday: { usd: 0.75, timezone: 'UTC' },
      budget: { dailyUsd: 50, perAttemptUsd: 2, exhausted: false },
      operations: { schedulePeriodSeconds: 86_400, catchUp: true, missedRuns: 0, lastMissed: null },
    });
    expect(track.nextRunAt).toBe('2026-02-02T03:00:00.000Z');
  });

  it('cancels a run (finished attempts kept), then answers 409 for it; 404 for an unknown run, 400 for a bad id', async () => {
    const running = t.ctx.store.runs.latest('main', ['running'])!;
    const r = await app.inject({ method: 'POST', url: `/api/runs/${running.id}/cancel`, headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: running.id, state: 'cancelled', live: false, progress: { done: 1 } });
    expect(t.ctx.store.attempts.ofRun(running.id)).toHaveLength(1);
    const again = await app.inject({ method: 'POST', url: `/api/runs/${running.id}/cancel`, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toBe(`run ${running.id} has already ended (cancelled)`);
    expect((await app.inject({ method: 'POST', url: '/api/runs/999999/cancel', headers: auth })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'POST', url: '/api/runs/zero/cancel', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().problems.join(' ')).toContain('id');
    expect((await app.inject({ method: 'POST', url: '/api/tracks/nope/runs', headers: auth })).statusCode).toBe(404);
  });

  it('answers 503 naming the cause when a run cannot start, and keeps the failure on record', async () => {
    runs.calls.find((c) => c.track === 'other')!.finish();
    await flush();
    runs.failNext = new Error('no credentials for the agent');
    const r = await app.inject({ method: 'POST', url: '/api/tracks/other/runs', headers: auth });
    expect(r.statusCode).toBe(503);
    expect(r.json().message).toContain('could not start: no credentials for the agent');
    expect(t.ctx.store.runs.get(r.json().runId)).toMatchObject({ state: 'failed' });
  });

  it('answers 409 naming the other process while another agentdrift process runs the track, for a start and a cancel', async () => {
    const other = { id: 'cli-elsewhere', pid: process.ppid, host: hostname(), purpose: 'agentdrift run' };
    expect(t.ctx.store.leases.acquire('other', other, Date.now(), () => true)).toEqual({ acquired: true });
    const theirs = t.ctx.store.runs.create(
      { track: 'other', state: 'running', trigger: 'cli', reason: null, startedAt: new Date().toISOString(), endedAt: null, agentVersion: null, modelId: null, suiteHash: null },
      { taskIds: ['task-a'], samples: 1 },
    );
    try {
      const before = t.ctx.store.runs.list('other', { limit: 100, offset: 0 }).total;
      const r = await app.inject({ method: 'POST', url: '/api/tracks/other/runs', headers: auth });
      expect(r.statusCode).toBe(409);
      expect(r.json().message).toMatch(/^track "other" is being run by another agentdrift process \(agentdrift run, pid \d+ on /);
      expect(t.ctx.store.runs.list('other', { limit: 100, offset: 0 }).total).toBe(before);
      const c = await app.inject({ method: 'POST', url: `/api/runs/${theirs}/cancel`, headers: auth });
      expect(c.statusCode).toBe(409);
      expect(c.json()).toMatchObject({ runId: theirs });
      expect(c.json().message).toContain(`run ${theirs} is not this daemon's: track "other" is being run by another agentdrift process`);
      expect(t.ctx.store.runs.get(theirs)!.state).toBe('running');
    } finally {
      t.ctx.store.leases.release('other', other.id);
      t.ctx.store.runs.update(theirs, { state: 'completed', endedAt: new Date().toISOString() });
    }
  });

  it('answers 503 on a server without a scheduler', async () => {
    const r = await bare.inject({ method: 'POST', url: '/api/tracks/main/runs', headers: auth });
    expect(r.statusCode).toBe(503);
    expect(r.json().message).toContain('no scheduler');
  });

  it('lists the control routes in the OpenAPI document and never logs the token', async () => {
    const spec = (await app.inject('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/tracks/{track}/runs', '/api/runs/{id}/cancel']));
    expect(t.logs.join('')).not.toContain(TOKEN);
  });
});
