/**
 * The bearer token of mutating routes is checked before the body is read: a request without it is answered 401 at
 * once, its body never parsed (the import route would otherwise take up to 256 MB from anyone).
 */
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import app from '../../src/adapters/http/app.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const TOKEN = 'auth-token-0123456789abcdef';

let t: TestContext;
let server: FastifyInstance;
let port: number;
/** Requests whose body Fastify started to read (preParsing runs right before the body is read and parsed). */
let parsed: string[] = [];

beforeAll(async () => {
  t = makeContext({ tracks: [{ name: 'main' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
  server = Fastify({ logger: false });
  server.addHook('preParsing', async (req) => {
    if (req.method !== 'GET') parsed.push(`${req.method} ${req.url}`);
  });
  await server.register(app, { ctx: t.ctx });
  await server.listen({ host: '127.0.0.1', port: 0 });
  port = (server.server.address() as { port: number }).port;
});

afterAll(async () => {
  await server.close();
  t.cleanup();
});

beforeEach(() => {
  parsed = [];
});

/** Every mutating route the OpenAPI document lists, with a concrete URL. */
async function mutatingRoutes(): Promise<{ method: string; url: string; security: unknown }[]> {
  const spec = (await server.inject('/docs/json')).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
  const out: { method: string; url: string; security: unknown }[] = [];
  for (const [p, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      out.push({ method: method.toUpperCase(), url: p.replace('{track}', 'main').replace('{id}', '1'), security: op.security });
    }
  }
  return out;
}

describe('the bearer token', () => {
  it('is checked before the body is parsed, on every mutating route', async () => {
    const routes = await mutatingRoutes();
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /api/tracks/main/import', 'PUT /api/tracks/main/baseline', 'POST /api/tracks/main/runs', 'POST /api/runs/1/cancel']),
    );
    // A large body (8 MB of JSON): refused without being read.
    const big = JSON.stringify({ format: 'agentdrift-history/1', runs: [], pad: 'x'.repeat(8 * 1024 * 1024) });
    for (const r of routes) {
      expect(r.security, `${r.method} ${r.url}`).toEqual([{ bearer: [] }]);
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef']) {
        const res = await server.inject({ method: r.method as 'POST', url: r.url, payload: big, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong bearer token' });
        expect(res.headers['www-authenticate']).toBe('Bearer realm="agentdrift"');
      }
    }
    expect(parsed).toEqual([]);
    expect(t.ctx.store.runs.list('main', { limit: 1, offset: 0 }).total).toBe(0);
    // With the token the body is read (so the check above could see it).
    const ok = await server.inject({ method: 'PUT', url: '/api/tracks/main/baseline', payload: { p0: 0.5 }, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(parsed).toEqual(['PUT /api/tracks/main/baseline']);
  });

  it('answers 401 on the wire before the body of a 255 MB import arrives, and closes the connection', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    try {
      // Only the headers and the first bytes of the body: a server that read the body first would wait for the rest.
      socket.write(`POST /api/tracks/main/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${255 * 1024 * 1024}\r\n\r\n{"format":`);
      const closed = await Promise.race([ended.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(answer).toContain('"message":"missing or wrong bearer token"');
      expect(closed).toBe(true);
    } finally {
      socket.destroy();
    }
    expect(parsed).toEqual([]);
  });

  it('answers 401 naming the missing configuration when the daemon has no token', async () => {
    const bare = makeContext({ tracks: [{ name: 'main' }] });
    const s = Fastify({ logger: false });
    try {
      await s.register(app, { ctx: bare.ctx });
      const res = await s.inject({ method: 'POST', url: '/api/tracks/main/runs', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toContain('no API token configured');
    } finally {
      await s.close();
      bare.cleanup();
    }
  });
});
