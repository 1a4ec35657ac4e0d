/**
 * Request validation and the error shape (issue 10, items 1, 6 and 7): every numeric parameter refuses non-finite and
 * non-integer values with a 400 naming it, a baseline's p0 is a JSON number strictly between 0 and 1, an error's
 * `error` is its status's own name, a body nested too deep is a 400, and the OpenAPI document lists these answers.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../src/adapters/http/app.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../src/adapters/http/validation.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const TOKEN = 'validation-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const HOSTILE_NUMBERS = ['Infinity', '-Infinity', '1e400', '-1e400', 'NaN', '1.5', '2.000001', '-1', 'abc', 'true', '9007199254740993'];

let t: TestContext;
let server: FastifyInstance;

beforeAll(async () => {
  t = makeContext({ tracks: [{ name: 'main' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
  server = await buildServer(t.ctx);
});
afterAll(async () => {
  await server.close();
  t.cleanup();
});

function expectNamed(r: { statusCode: number; json: () => unknown }, field: string, what: string): void {
  expect(r.statusCode, what).toBe(400);
  const body = r.json() as { error: string; message: string; problems?: string[] };
  expect(body.error, what).toBe('Bad Request');
  expect(body.message, what).toContain(field);
  expect(body.problems?.length, what).toBeGreaterThan(0);
  for (const p of body.problems ?? []) expect(p.startsWith(`${field}:`), `${what}: ${p}`).toBe(true);
}

describe('numeric parameters', () => {
  const cases: [string, (v: string) => { method: 'GET' | 'POST'; url: string }][] = [
    ['days', (v) => ({ method: 'GET', url: `/api/tracks/main/costs?days=${v}` })],
    ['limit', (v) => ({ method: 'GET', url: `/api/tracks/main/runs?limit=${v}` })],
    ['offset', (v) => ({ method: 'GET', url: `/api/tracks/main/runs?offset=${v}` })],
    ['id', (v) => ({ method: 'GET', url: `/api/runs/${v}` })],
    ['id', (v) => ({ method: 'POST', url: `/api/runs/${v}/cancel` })],
  ];
  for (const [field, request] of cases) {
    it(`refuses non-finite and non-integer ${field} with a 400 naming it (${request('v').method} ${request('v').url})`, async () => {
      for (const v of HOSTILE_NUMBERS) {
        if (field === 'offset' && v === '-1') continue; // checked below: offset 0 is allowed, -1 is not
        const r = await server.inject({ ...request(encodeURIComponent(v)), headers: auth });
        expectNamed(r, field, `${field}=${v}`);
      }
    });
  }

  it('refuses a negative offset and still accepts the valid forms', async () => {
    expectNamed(await server.inject('/api/tracks/main/runs?offset=-1'), 'offset', 'offset=-1');
    const ok = await server.inject('/api/tracks/main/runs?limit=5&offset=0');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ limit: 5, offset: 0 });
    expect((await server.inject('/api/tracks/main/costs?days=366')).json().days).toHaveLength(366);
    expect((await server.inject('/api/tracks/main/costs')).json().days).toHaveLength(30);
  });
});

describe('PUT /api/tracks/:track/baseline', () => {
  const put = (payload: unknown) => server.inject({ method: 'PUT', url: '/api/tracks/main/baseline', payload: payload as object, headers: auth });
  const raw = (text: string) => server.inject({ method: 'PUT', url: '/api/tracks/main/baseline', payload: text, headers: { ...auth, 'content-type': 'application/json' } });

  it('requires 0 < p0 < 1 as a JSON number, naming only p0, and stores nothing', async () => {
    for (const p0 of [1, 0, -0.1, 1.5, '0.5', true, null, [0.5], { v: 0.5 }]) expectNamed(await put({ p0 }), 'p0', `p0=${JSON.stringify(p0)}`);
    for (const text of ['{"p0": 1e400}', '{"p0": -1e400}', '{"p0": 1e-400}']) expectNamed(await raw(text), 'p0', text);
    expect(t.ctx.store.baselines.list('main')).toEqual([]);
  });

  it('names the field of the other form that is missing or does not belong', async () => {
    expectNamed(await put({ from: '2026-01-01T00:00:00Z' }), 'to', 'from alone');
    expectNamed(await put({ p0: 0.5, to: '2026-01-01T00:00:00Z' }), 'to', 'p0 with to');
    expectNamed(await put({ p0: 0.5, extra: 1 }), 'extra', 'unknown key');
    expectNamed(await put({}), 'p0', 'nothing');
    expectNamed(await put({ p0: 0.5, reason: 'x'.repeat(501) }), 'reason', 'long reason');
  });

  it('stores a p0 inside the range', async () => {
    const r = await put({ p0: 0.5, reason: 'peer figure' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ kind: 'fixed', p0: 0.5, reason: 'peer figure' });
  });
});

describe('the error shape', () => {
  it('names the status itself: 413, 415', async () => {
    const big = await server.inject({ method: 'PUT', url: '/api/tracks/main/baseline', payload: JSON.stringify({ p0: 0.5, reason: 'x'.repeat(2 * 1024 * 1024) }), headers: { ...auth, 'content-type': 'application/json' } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(big.json().message).toContain('body');
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const r = await server.inject({ method: 'PUT', url: '/api/tracks/main/baseline', payload: 'p0=0.5', headers: { ...auth, 'content-type': type } });
      expect(r.statusCode, type).toBe(415);
      expect(r.json(), type).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
      expect(r.json().message, type).toContain(type);
    }
  });

  it('checks a long path parameter by its schema, and answers a longer one than the router takes with a 414', async () => {
    expectNamed(await server.inject(`/api/tracks/${'t'.repeat(500)}/runs`), 'track', 'a 500-character track');
    const r = await server.inject(`/api/tracks/${'t'.repeat(9000)}/runs`);
    expect(r.statusCode).toBe(414);
    expect(r.json()).toMatchObject({ statusCode: 414, error: 'URI Too Long', message: 'path: a parameter is longer than 8192 characters' });
  });

  it('names any status a route raises (403) with node\'s name for it', async () => {
    const f = Fastify();
    await f.register(async (scope) => {
      await app(scope, { ctx: t.ctx });
      scope.get('/forbidden', async () => {
        throw Object.assign(new Error('not for you'), { statusCode: 403 });
      });
      scope.get('/teapot', async () => {
        throw Object.assign(new Error('short and stout'), { statusCode: 418 });
      });
    });
    expect((await f.inject('/forbidden')).json()).toEqual({ statusCode: 403, error: 'Forbidden', message: 'not for you' });
    expect((await f.inject('/teapot')).json()).toEqual({ statusCode: 418, error: STATUS_CODES[418], message: 'short and stout' });
    await f.close();
  });

  it('refuses a body nested 100k deep as a 400 (it overflowed the stack: a 500), and stores nothing', async () => {
    for (const [url, method] of [['/api/tracks/main/import', 'POST'], ['/api/tracks/main/baseline', 'PUT']] as const) {
      for (const payload of ['['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)]) {
        const r = await server.inject({ method, url, payload, headers: { ...auth, 'content-type': 'application/json' } });
        expect(r.statusCode, url).toBe(400);
        expect(r.json(), url).toMatchObject({ error: 'Bad Request' });
        // The import route parses its body in a worker (history/import-body.ts), the others behind the depth check.
        expect(r.json().message, url).toMatch(url.endsWith('/import') ? /body/ : /^body: nested deeper than 64 levels/);
      }
    }
    expect(t.ctx.store.runs.list('main', { limit: 1, offset: 0 }).total).toBe(0);
  });

  it('measures depth past strings, escaped quotes and brackets inside them', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '['.repeat(1000), t: 'a\\"[[[[', u: [1, '\\'] }), 3)).toBe(false);
    expect(jsonDepthExceeds(`["\\\\"${'['.repeat(5)}]]]]]]`, 4)).toBe(true);
  });
});

describe('the OpenAPI document', () => {
  it('lists the 400 of every route with parameters and the 413 and 415 of every route with a body', async () => {
    const spec = (await server.inject('/docs/json')).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const codes = (p: string, m: string) => Object.keys(spec.paths[p]?.[m]?.responses ?? {});
    expect(codes('/api/tracks/{track}/runs', 'get')).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(codes('/api/runs/{id}', 'get')).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(codes('/api/tracks/{track}/import', 'post')).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415']));
    expect(codes('/api/tracks/{track}/baseline', 'put')).toEqual(expect.arrayContaining(['400', '401', '413', '415']));
    for (const [p, methods] of Object.entries(spec.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        if (p.includes('{')) expect(Object.keys(op.responses), `${m} ${p}`).toContain('400');
        if (m !== 'get') expect(Object.keys(op.responses), `${m} ${p}`).toEqual(expect.arrayContaining(['413', '415']));
      }
    }
  });
});
