/**
 * POST /api/tracks/:track/import and the run time of what it is sent (issue 10 item 4): a margin results.json needs
 * the `at` parameter (the daemon's working directory is no run directory), the errors speak of `at`, and an `at`
 * given with an agentdrift history file is refused, whether it is an instant or not. Small bodies are validated
 * in-thread, bodies over 1 MB in a worker: both paths are driven.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_BODY_LIMIT_BYTES } from '../../src/core/history/import.ts';
import { OFFLOAD_BYTES } from '../../src/core/history/import-body.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';

const TOKEN = 'import-api-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let t: TestContext;
let app: FastifyInstance;
let cwd: string;

beforeAll(async () => {
  t = makeContext({ tracks: [{ name: 'peer' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
  app = await buildServer(t.ctx);
  // The daemon running in a directory named like a margin run directory: its name must not date a request body.
  cwd = process.cwd();
  const dir = path.join(tempDir(), '20260315-031500');
  mkdirSync(dir);
  process.chdir(dir);
});
afterAll(async () => {
  process.chdir(cwd);
  await app.close();
  t.cleanup();
});

/** A margin results.json of n instances (n large enough makes a body over the worker threshold). */
function marginBody(n: number): string {
  const instances = Array.from({ length: n }, (_, i) => ({ case_id: `case-${i}-${'x'.repeat(150)}`, sample_index: 0, final_state: i % 2 ? 'succeeded' : 'test_failed', runtime_ms: 1000 }));
  return JSON.stringify({ instances });
}
const nativeBody = JSON.stringify({
  format: 'agentdrift-history/1',
  runs: [{ startedAt: '2026-02-01T03:00:00Z', endedAt: '2026-02-01T04:00:00Z', attempts: [{ taskId: 'a', outcome: 'resolved' }] }],
});

const post = (payload: string, query = '') => app.inject({ method: 'POST', url: `/api/tracks/peer/import${query}`, payload, headers: auth });
const runs = () => t.ctx.store.runs.list('peer', { limit: 5, offset: 0 }).total;

describe('POST /api/tracks/:track/import and at', () => {
  const sizes = [
    ['a small body', marginBody(3)],
    ['a body over the worker threshold', marginBody(7000)],
  ] as const;
  for (const [what, body] of sizes) {
    it(`requires at for a margin results.json, speaking of the at parameter (${what})`, async () => {
      if (what !== 'a small body') expect(body.length).toBeGreaterThan(OFFLOAD_BYTES);
      const r = await post(body);
      expect(r.statusCode).toBe(400);
      const msg = r.json().message as string;
      expect(msg).toBe('request body: a margin results.json carries no date; give its run\'s start as the at parameter, an ISO 8601 instant with a time zone (at=2026-01-31T03:00:00Z)');
      expect(r.body).not.toMatch(/--at|director/);
      const bad = await post(body, '?at=garbage');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/^at "garbage": expected an ISO 8601 instant with a time zone/);
      expect(runs()).toBe(0);
    });
  }

  it('refuses at on an agentdrift history file: garbage or an instant, naming at; stores nothing', async () => {
    const bad = await post(nativeBody, '?at=garbage');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^at "garbage": expected an ISO 8601 instant/) });
    const needless = await post(nativeBody, '?at=2026-02-01T03:00:00Z');
    expect(needless.statusCode).toBe(400);
    expect(needless.json().message).toBe(
      'at "2026-02-01T03:00:00Z": only a margin results.json takes a run time; request body is an agentdrift history file, whose runs carry their own dates (leave the at parameter out)',
    );
    expect(runs()).toBe(0);
    expect((await post(nativeBody)).statusCode).toBe(200);
    expect(runs()).toBe(1);
  });

  it('imports a margin results.json dated by at', async () => {
    const r = await post(marginBody(3), '?at=2026-03-01T03:00:00Z');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ kind: 'margin', runsStored: 1, attemptsStored: 3 });
    expect(t.ctx.store.runs.latest('peer')!.startedAt).toBe('2026-03-01T03:00:00.000Z');
  });

  it('refuses a body over its limit with 413, before parsing it', async () => {
    const before = runs();
    const r = await post(' '.repeat(IMPORT_BODY_LIMIT_BYTES + 1));
    expect(r.statusCode).toBe(413);
    expect(runs()).toBe(before);
  });

  it('documents its body limit in the OpenAPI description', async () => {
    const spec = (await app.inject('/docs/json')).json() as { paths: Record<string, { post?: { description?: string } }> };
    expect(spec.paths['/api/tracks/{track}/import']!.post!.description).toMatch(/at most 64 MiB/);
  });
});
