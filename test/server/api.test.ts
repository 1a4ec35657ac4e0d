import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const TOKEN = 'test-token-0123456789abcdef';
const HISTORY = readFileSync(path.join(import.meta.dirname, '../fixtures/windows/history-30d.json'), 'utf8');

let t: TestContext;
let app: FastifyInstance;

beforeAll(async () => {
  t = makeContext({ tracks: [{ name: 'main' }, { name: 'other', model: 'opus' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
  app = await buildServer(t.ctx);
});
afterAll(async () => {
  await app.close();
  t.cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('HTTP API', () => {
  it('answers health and readiness', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ready', store: true, tracks: 2 });
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    const spec = (await app.inject('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/metrics', '/api/tracks', '/api/tracks/{track}', '/api/tracks/{track}/runs', '/api/runs/{id}']));
    const ui = await app.inject('/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('<!DOCTYPE html>');
  });

  it('refuses to import without a token, with a wrong one, and stores nothing', async () => {
    const none = await app.inject({ method: 'POST', url: '/api/tracks/main/import', payload: JSON.parse(HISTORY) });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ statusCode: 401, message: 'missing or wrong bearer token' });
    const wrong = await app.inject({ method: 'POST', url: '/api/tracks/main/import', payload: JSON.parse(HISTORY), headers: { authorization: 'Bearer nope-nope-nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(t.ctx.store.runs.list('main', { limit: 1, offset: 0 }).total).toBe(0);
  });

  it('rejects a bad import body with the record index, storing nothing', async () => {
    const body = { format: 'agentdrift-history/1', runs: [{ startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T01:00:00Z', attempts: [{ taskId: 'x', outcome: 'great' }] }] };
    const r = await app.inject({ method: 'POST', url: '/api/tracks/main/import', payload: body, headers: auth });
    expect(r.statusCode).toBe(400);
    expect(r.json().problems[0]).toContain('runs[0].attempts[0].outcome: got "great"');
    expect(t.ctx.store.runs.list('main', { limit: 1, offset: 0 }).total).toBe(0);
  });

  it('imports with the token; tracks, runs (paged) and a run with its attempts follow', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/tracks/main/import', payload: JSON.parse(HISTORY), headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ runsStored: 30, attemptsStored: 1200 });

    const tracks = (await app.inject('/api/tracks')).json() as { tracks: { name: string; windows: { window: string; attempts: number }[] }[] };
    expect(tracks.tracks.map((x) => x.name)).toEqual(['main', 'other']);
    expect(tracks.tracks[0]!.windows.map((w) => w.window)).toEqual(['1d', '7d', '30d']);
    expect(tracks.tracks[1]!.windows).toEqual([]);

    const detail = (await app.inject('/api/tracks/main')).json();
    expect(detail).toMatchObject({ name: 'main', agentVersion: '2.1.4', model: 'claude-sonnet-test', config: { concurrency: 2 } });
    expect(detail.totals.attemptsByOutcome.resolved).toBeGreaterThan(0);

    const page1 = (await app.inject('/api/tracks/main/runs?limit=10')).json();
    const page3 = (await app.inject('/api/tracks/main/runs?limit=10&offset=20')).json();
    expect(page1).toMatchObject({ total: 30, limit: 10, offset: 0 });
    expect(page1.runs).toHaveLength(10);
    expect(Date.parse(page1.runs[0].startedAt)).toBeGreaterThan(Date.parse(page1.runs[9].startedAt));
    expect(page3.runs).toHaveLength(10);
    expect(page3.runs[9].startedAt).toBe('2026-10-01T03:00:00.000Z');

    const run = (await app.inject(`/api/runs/${page1.runs[0].id}`)).json();
    expect(run.attempts).toHaveLength(40);
    expect(run.summary.attempts).toBe(40);
    expect(run.attempts[0]).not.toHaveProperty('transcriptPath');
  });

  it('answers 404 with a JSON body for an unknown track, run or route', async () => {
    for (const url of ['/api/tracks/nope', '/api/tracks/nope/runs', '/api/runs/999999', '/api/nothing']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json(), url).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
    expect((await app.inject('/api/tracks/nope')).json().message).toContain('unknown track "nope"');
  });

  it('answers 400 naming the bad parameter', async () => {
    const r = await app.inject('/api/tracks/main/runs?limit=0');
    expect(r.statusCode).toBe(400);
    expect(r.json().problems.join(' ')).toContain('limit');
    const id = await app.inject('/api/runs/abc');
    expect(id.statusCode).toBe(400);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const r = await app.inject('/metrics');
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toContain('agentdrift_pass_rate{track="main",window="7d"}');
    expect(r.body).toContain('agentdrift_build_info{version=');
  });

  it('never writes the API token to the log', () => {
    const all = t.logs.join('');
    expect(all).toContain('/api/tracks/main/import');
    expect(all).not.toContain(TOKEN);
  });
});
