/**
 * Hostile input, generated (fast-check), against every route that takes input and both import formats, over real
 * HTTP to a real app on a real SQLite store (issue 10, "Done when"). For each rejected request:
 *  - a 4xx whose JSON body has the status's own name and names the field at fault;
 *  - `/healthz` answers within 100 ms afterwards (the acceptance bound: `?days=Infinity` once spun the daemon);
 *  - the store's export (and its baselines) is byte-identical to before.
 * Every generated value is invalid by construction (or filtered by the route's own rule), so a 2xx is a hole.
 */
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHistory, toHistoryDocument } from '../../src/core/history/format.ts';
import { importHistoryText } from '../../src/core/history/import.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const TOKEN = 'hostile-token-0123456789abcdef';
const TRACKS = ['main', 'other'];
/** Runs per property: the whole file stays well under a minute. */
const RUNS = 40;
const EXPORT_CLOCK = new Date('2026-01-01T00:00:00Z');

let t: TestContext;
let server: FastifyInstance;
let base: string;

beforeAll(async () => {
  t = makeContext({ tracks: TRACKS.map((name) => ({ name })) }, { AGENTDRIFT_API_TOKEN: TOKEN });
  // A little history and a baseline, so that a hole would have something to change.
  const runs = [1, 2, 3].map((d) => ({
    startedAt: `2026-04-0${d}T03:00:00Z`,
    endedAt: `2026-04-0${d}T04:00:00Z`,
    attempts: ['a', 'b', 'c'].map((task, i) => ({ taskId: task, outcome: i === 2 ? 'unresolved' : 'resolved', costUsd: 0.25, inputTokens: 100, turns: 3 })),
  }));
  importHistoryText(t.ctx, 'main', JSON.stringify({ format: 'agentdrift-history/1', runs }), { fileName: 'seed' });
  server = await buildServer(t.ctx);
  base = await server.listen({ host: '127.0.0.1', port: 0 });
  const set = await fetch(`${base}/api/tracks/main/baseline`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ p0: 0.6 }) });
  expect(set.status).toBe(200);
});
afterAll(async () => {
  const sorted = [...firstProbeMs].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(1);
  console.log(`first /healthz probe after ${sorted.length} rejected requests: median ${at(0.5)} ms, p99 ${at(0.99)} ms, worst ${at(1)} ms`);
  await server.close();
  t.cleanup();
});

/** What the store holds, as its export writes it (at a fixed clock), with every track's baselines. */
function storeState(): string {
  return JSON.stringify(TRACKS.map((track) => [toHistoryDocument(track, t.ctx.store.runs.iterateWithAttempts(track), EXPORT_CLOCK), t.ctx.store.baselines.list(track)]));
}

interface Hostile {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: string;
  contentType?: string;
  /** The field the answer must name. */
  field: string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The field's name as a word of the answer (`id`, not the "id" inside "invalid"). */
const names = (text: string, field: string) => new RegExp(`(^|[^A-Za-z0-9_])${escapeRe(field)}($|[^A-Za-z0-9_])`, 'i').test(text);

/** The first /healthz probe after each rejected request, in ms (printed at the end). */
const firstProbeMs: number[] = [];

/**
 * `/healthz` answers within 100 ms of the rejected request. On this shared 2-core machine (load 7 while the suite
 * runs) the OS alone has held a loopback request over 100 ms (first probes: median about 2 ms, 99th percentile about
 * 60 ms, worst about 110 ms), so a probe over the bound is followed by up to two more, one of which must make it; the
 * first must answer within a second. A daemon that is busy (the bug: `?days=Infinity` spun it; a 7 s parse held the
 * loop) fails all three.
 */
async function expectHealthy(what: string): Promise<void> {
  const probes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    await health.text();
    probes.push(performance.now() - start);
    expect(health.status).toBe(200);
    if ((probes.at(-1) as number) < 100) break;
  }
  firstProbeMs.push(probes[0] as number);
  expect(probes[0], `first /healthz after ${what}`).toBeLessThan(1000);
  expect(Math.min(...probes), `/healthz after ${what}: ${probes.map((x) => x.toFixed(0)).join(', ')} ms`).toBeLessThan(100);
}

async function expectRejected(h: Hostile): Promise<void> {
  const before = storeState();
  const res = await fetch(`${base}${h.path}`, {
    method: h.method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(h.body !== undefined ? { 'content-type': h.contentType ?? 'application/json' } : {}) },
    body: h.body,
  });
  const text = await res.text();
  const what = `${h.method} ${h.path.slice(0, 300)} ${h.body?.slice(0, 300) ?? ''} -> ${res.status} ${text.slice(0, 500)}`;
  expect(res.status >= 400 && res.status < 500, what).toBe(true);
  expect(res.headers.get('content-type'), what).toContain('application/json');
  const body = JSON.parse(text) as { statusCode: number; error: string; message: string; problems?: string[] };
  expect(body.statusCode, what).toBe(res.status);
  expect(body.error, what).toBe(STATUS_CODES[res.status]);
  expect(names([body.message, ...(body.problems ?? [])].join('\n'), h.field), `${what}\nshould name ${JSON.stringify(h.field)}`).toBe(true);

  await expectHealthy(what);

  expect(storeState(), what).toBe(before);
}

// ---- generators --------------------------------------------------------------------------------------------------

const ascii = (min: number, max: number) => fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max });
/** Odd Unicode: whole graphemes (emoji, combining marks, RTL, astral planes). */
const unicode = (min: number, max: number) => fc.string({ unit: 'grapheme', minLength: min, maxLength: max });
/** Any UTF-16, lone surrogates included (only inside JSON, escaped). */
const binary = (min: number, max: number) => fc.string({ unit: 'binary', minLength: min, maxLength: max });

/** Text of a query or path parameter meant as an integer: anything, most of it not one. */
const integerText = fc.oneof(
  fc.constantFrom('Infinity', '-Infinity', '+Infinity', 'NaN', '1e400', '-1e400', '1e308', '-1e308', '9007199254740993', '0.5', '1.0000001', '-1', ' ', 'null', 'true', '[]', '{}'),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  unicode(1, 40),
  // Long, yet within the router's 8 KiB of a path parameter once percent-encoded.
  ascii(2000, 2500),
);
/** Whether a route's z.coerce.number().int().min().max() accepts the text (what Number() makes of it). */
const acceptsInteger = (v: string | string[], min: number, max: number) => {
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min && n <= max;
};

const jsonNumberText = fc.oneof(
  fc.constantFrom('1e400', '-1e400', '1e999999', '-1e999999'),
  fc.constantFrom('1e308', '-1e308', '1.7976931348623157e308', '9007199254740993', '123456789012345678901234567890'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
);
const wrongType = fc.constantFrom('true', 'false', 'null', '[]', '{}', '[0.5]', '{"value":0.5}', '"0.5"', '"1"', '""');
const jsonString = (min: number, max: number) => fc.oneof(unicode(min, max), binary(min, max)).map((s) => JSON.stringify(s));
/** A JSON value nested past the depth limit: the whole body is refused. */
const deep = fc.integer({ min: 65, max: 5000 }).chain((n) => fc.constantFrom('['.repeat(n) + ']'.repeat(n), '{"a":'.repeat(n) + '1' + '}'.repeat(n)));

interface Value {
  text: string;
  /** Set when the answer names the whole body rather than the field (nesting). */
  body?: true;
}
const v = (arb: fc.Arbitrary<string>): fc.Arbitrary<Value> => arb.map((text) => ({ text }));
const deepValue: fc.Arbitrary<Value> = deep.map((text) => ({ text, body: true as const }));
/**
 * The import route parses its body as its format says (history/import-body.ts, in a worker when large), without the
 * other routes' depth limit: JSON.parse takes any depth, a strict record refuses the nested value as the field's, a
 * margin record ignores keys it does not know. A nested list where a field belongs is named as that field.
 */
const deepList: fc.Arbitrary<Value> = fc.integer({ min: 65, max: 5000 }).map((n) => ({ text: '['.repeat(n) + ']'.repeat(n) }));
/** A numeric JSON text, filtered by the field's own rule: kept only when the rule refuses it. */
const numberOutside = (ok: (x: number) => boolean) => jsonNumberText.filter((s) => !ok(JSON.parse(s) as number));

// ---- routes without a body ---------------------------------------------------------------------------------------

describe('hostile input to every route (property-based)', { timeout: 120_000 }, () => {
  it('refuses a hostile numeric query or path parameter with a 400 naming it', async () => {
    const routes: { name: string; min: number; max: number; request: (v: string) => Pick<Hostile, 'method' | 'path'> }[] = [
      { name: 'days', min: 1, max: 366, request: (x) => ({ method: 'GET', path: `/api/tracks/main/costs?days=${x}` }) },
      { name: 'limit', min: 1, max: 500, request: (x) => ({ method: 'GET', path: `/api/tracks/main/runs?limit=${x}` }) },
      { name: 'offset', min: 0, max: Number.MAX_SAFE_INTEGER, request: (x) => ({ method: 'GET', path: `/api/tracks/other/runs?offset=${x}` }) },
      { name: 'id', min: 1, max: Number.MAX_SAFE_INTEGER, request: (x) => ({ method: 'GET', path: `/api/runs/${x}` }) },
      { name: 'id', min: 1, max: Number.MAX_SAFE_INTEGER, request: (x) => ({ method: 'POST', path: `/api/runs/${x}/cancel` }) },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(integerText, fc.array(integerText, { minLength: 2, maxLength: 3 })), async (route, value) => {
        fc.pre(!acceptsInteger(value, route.min, route.max));
        const values = [value].flat();
        fc.pre(values[0] !== '.' && values[0] !== '..');
        // A repeated query parameter (?limit=1&limit=2) arrives as a list; a path segment cannot repeat.
        if (values.length > 1 && route.name === 'id') return;
        const r = route.request(encodeURIComponent(values[0] as string));
        const extra = values.slice(1).map((x) => `&${route.name}=${encodeURIComponent(x)}`).join('');
        await expectRejected({ ...r, path: r.path + extra, field: route.name });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('refuses a track that is not configured (or not a name) on every route that takes one, naming it', async () => {
    const routes: ((track: string) => Omit<Hostile, 'field'>)[] = [
      (x) => ({ method: 'GET', path: `/api/tracks/${x}` }),
      (x) => ({ method: 'GET', path: `/api/tracks/${x}/runs` }),
      (x) => ({ method: 'GET', path: `/api/tracks/${x}/costs?days=7` }),
      (x) => ({ method: 'GET', path: `/api/tracks/${x}/baselines` }),
      (x) => ({ method: 'GET', path: `/api/tracks/${x}/tasks?window=7d` }),
      (x) => ({ method: 'PUT', path: `/api/tracks/${x}/baseline`, body: '{"p0":0.5}' }),
      (x) => ({ method: 'POST', path: `/api/tracks/${x}/runs` }),
      (x) => ({ method: 'POST', path: `/api/tracks/${x}/import`, body: JSON.stringify({ format: 'agentdrift-history/1', runs: [] }) }),
    ];
    const track = fc.oneof(unicode(1, 64), ascii(65, 2000), fc.constantFrom('MAIN', 'main ', ' main', 'main\u0000', 'ma\u200bin', '..', '%', '?', '#', '\u202emain'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), track, async (route, name) => {
        // "." and ".." are path segments a URL resolves away (even percent-encoded), not names.
        fc.pre(!TRACKS.includes(name) && name !== '.' && name !== '..');
        await expectRejected({ ...route(encodeURIComponent(name)), field: 'track' });
      }),
      { numRuns: RUNS },
    );
  });

  // ---- the baseline body -----------------------------------------------------------------------------------------

  it('refuses a hostile baseline body, naming the field, and keeps the baseline in force', async () => {
    const known = new Set(['p0', 'from', 'to', 'reason', 'by']);
    const longerThan = (n: number) => jsonString(n + 1, n + 200);
    const notString = fc.oneof(v(jsonNumberText), v(fc.constantFrom('true', 'null', '[]', '{}', '["x"]')), deepValue);
    const fields: [string, fc.Arbitrary<Value>][] = [
      ['p0', fc.oneof(v(numberOutside((x) => x > 0 && x < 1)), v(fc.constantFrom('0', '1', '-0', '1e-400', '0e0')), v(wrongType), v(jsonString(0, 20)), deepValue)],
      ['reason', fc.oneof(v(fc.constant('""')), v(longerThan(500)), notString)],
      ['by', fc.oneof(v(fc.constant('""')), v(longerThan(100)), notString)],
      ['from', fc.oneof(v(longerThan(64)), v(jsonString(0, 40).filter((s) => Number.isNaN(Date.parse(JSON.parse(s) as string)) || !/^\d{4}-\d{2}-\d{2}T/.test(JSON.parse(s) as string))), notString)],
    ];
    const field = fc.oneof(
      fc.constantFrom(...fields).chain(([name, value]) => value.map((x) => ({ name, x }))),
      // A key the body does not have, named back.
      fc.tuple(unicode(1, 40), wrongType).filter(([k]) => !known.has(k) && k !== '__proto__' && k !== 'constructor').map(([name, text]) => ({ name, x: { text } as Value })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TRACKS), field, async (track, { name, x }) => {
        const body = name === 'p0' ? `{"p0":${x.text}}` : `{"p0":0.5,${JSON.stringify(name)}:${x.text}}`;
        await expectRejected({ method: 'PUT', path: `/api/tracks/${track}/baseline`, body, field: x.body ? 'body' : name });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('refuses a body that is not a JSON object of the route, naming the body', async () => {
    const routes = ['/api/tracks/main/baseline', '/api/tracks/main/import'];
    const badBody = fc.oneof(
      fc.record({ body: fc.constantFrom('[]', '"p0"', '0.5', 'null', 'true', '1e400', '[{"p0":0.5}]'), contentType: fc.constant('application/json') }),
      fc.record({ body: deep, contentType: fc.constant('application/json') }),
      // Not JSON at all, cut short, or empty.
      fc.record({ body: fc.constantFrom('', '{', '{"p0":', '{"p0":0.5', "{'p0':0.5}", '{"p0":0.5,}', '\u0000', '{"__proto__":{"x":1}}'), contentType: fc.constant('application/json') }),
      fc.record({ body: unicode(1, 200).filter((s) => !/^\s*[[{"\d-tfn]/.test(s)), contentType: fc.constant('application/json') }),
      // Another content type: 415.
      fc.record({ body: fc.constant('{"p0":0.5}'), contentType: fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), badBody, async (path, { body, contentType }) => {
        await expectRejected({ method: path.endsWith('baseline') ? 'PUT' : 'POST', path, body, contentType, field: 'body' });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a body over the route\'s limit with a 413 naming the body', async () => {
    await expectRejected({ method: 'PUT', path: '/api/tracks/main/baseline', body: JSON.stringify({ p0: 0.5, reason: 'x'.repeat(1024 * 1024) }), field: 'body' });
  });

  // ---- both import formats ---------------------------------------------------------------------------------------

  /** A document that would be stored (checked below), and the field paths a property replaces with hostile values. */
  const nativeDoc = () => ({
    format: 'agentdrift-history/1',
    runs: [
      {
        startedAt: '2026-05-01T03:00:00Z',
        endedAt: '2026-05-01T04:00:00Z',
        state: 'completed',
        agentVersion: '2.1.4',
        modelId: 'claude-test',
        suiteHash: null,
        reason: null,
        attempts: [
          {
            taskId: 'task-1',
            sampleIndex: 0,
            outcome: 'resolved',
            reason: null,
            inputTokens: 10,
            outputTokens: 5,
            cacheReadTokens: 0,
            cacheCreationTokens: 0,
            costUsd: 0.5,
            turns: 3,
            toolCalls: 2,
            agentDurationMs: 1000,
            gradingDurationMs: 500,
            patchBytes: 100,
            startedAt: '2026-05-01T03:00:05Z',
            endedAt: '2026-05-01T03:10:00Z',
          },
        ],
      },
    ],
  });
  const marginDoc = () => ({
    instances: [{ case_id: 'case-1', sample_index: 0, final_state: 'succeeded', runtime_ms: 1000, usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, total_cost_usd: 0.1, num_turns: 3, tool_calls: 2 } }],
  });
  const MARGIN_AT = '2026-06-01T00:00:00Z';

  it('starts from import documents the import would store', () => {
    expect(parseHistory(JSON.stringify(nativeDoc()), { fileName: 'request body' }).runs).toHaveLength(1);
    expect(parseHistory(JSON.stringify(marginDoc()), { fileName: 'request body', at: MARGIN_AT }).runs).toHaveLength(1);
  });

  /** Puts a raw JSON text at a path of a document (a placeholder string, replaced in the serialised text). */
  function withValue(doc: unknown, path: (string | number)[], text: string): string {
    const marker = '\u0001HOSTILE\u0001';
    let node = doc as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    node[path.at(-1) as string | number] = marker;
    return JSON.stringify(doc).replace(JSON.stringify(marker), () => text);
  }

  const count = fc.oneof(v(numberOutside((x) => Number.isSafeInteger(x) && x >= 0)), v(wrongType.filter((w) => w !== 'null')), deepList);
  // Amounts (cost, durations): finite, >= 0, and within a sane range (1e308 twice once summed to Infinity).
  const amount = fc.oneof(
    v(numberOutside((x) => x >= 0 && x <= 1e12)),
    v(fc.constantFrom('1e400', '-1e400', '1e999999', '1e308', '1.7976931348623157e308', '1e300', '-1', '-0.01')),
    v(wrongType.filter((w) => w !== 'null')),
    deepList,
  );
  const ms = amount;
  const text = (max: number, nullable = true) =>
    fc.oneof(v(jsonString(max + 1, max + 100)), v(jsonNumberText), v(fc.constantFrom('true', '[]', '{}', ...(nullable ? [] : ['null']))), deepList);
  const instantText = fc.oneof(
    v(fc.constantFrom('"2026-02-30T00:00:00Z"', '"2026-13-01T00:00:00Z"', '"2026-05-01T03:00:00"', '"2026-05-01"', '"yesterday"', '""', '"+275761-01-01T00:00:00Z"', '"2026-05-01T25:00:00Z"')),
    v(jsonNumberText),
    v(jsonString(0, 30).filter((s) => !/^"\d{4}-/.test(s))),
    v(fc.constantFrom('true', 'null', '[]', '{}')),
    deepList,
  );
  /** An end may also be in the future (it pinned last_success and every window to 2030), or before the start. */
  const endText = fc.oneof(instantText, v(fc.constantFrom('"2030-01-01T00:00:00Z"', '"2999-12-31T23:59:59Z"', '"9999-12-31T23:59:59.999Z"', '"2100-01-01T00:00:00+14:00"', '"1970-01-01T00:00:00Z"')));
  const enumText = fc.oneof(v(jsonString(0, 30).filter((s) => !['"completed"', '"failed"', '"cancelled"', '"interrupted"', '"budget_exhausted"', '"resolved"', '"unresolved"', '"agent_error"', '"timeout"', '"infra_error"', '"succeeded"', '"test_failed"', '"infra_failed"', '"canceled"'].includes(s))), v(fc.constantFrom('1', 'true', 'null', '[]')), deepList);

  it('refuses a hostile value anywhere in an agentdrift history file, naming the field, storing nothing', async () => {
    const a = ['runs', 0, 'attempts', 0];
    const fields: [(string | number)[], fc.Arbitrary<Value>][] = [
      ...['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'turns', 'toolCalls', 'sampleIndex'].map((k): [(string | number)[], fc.Arbitrary<Value>] => [[...a, k], count]),
      [[...a, 'patchBytes'], fc.oneof(v(numberOutside((x) => Number.isSafeInteger(x) && x >= 0)), v(fc.constantFrom('true', '"1"', '[]')), deepList)],
      [[...a, 'costUsd'], amount],
      [[...a, 'agentDurationMs'], ms],
      [[...a, 'gradingDurationMs'], ms],
      [[...a, 'taskId'], fc.oneof(v(fc.constant('""')), text(512, false))],
      [[...a, 'outcome'], enumText],
      [[...a, 'reason'], text(4096)],
      [[...a, 'startedAt'], instantText],
      [[...a, 'endedAt'], endText],
      [['runs', 0, 'startedAt'], instantText],
      [['runs', 0, 'endedAt'], endText],
      [['runs', 0, 'state'], enumText],
      [['runs', 0, 'agentVersion'], text(200)],
      [['runs', 0, 'modelId'], text(200)],
      [['runs', 0, 'suiteHash'], text(200)],
      // No attempts at all is refused too (in both formats), as is a list of anything but attempts.
      [['runs', 0, 'attempts'], fc.oneof(v(fc.constantFrom('[]', 'null', '{}', '"x"', '1', '[1]', '[null]', '["x"]')), deepList)],
      [['runs'], fc.oneof(v(fc.constantFrom('null', '{}', '"x"', '1', '[1]', '[null]')), deepList)],
      [['format'], fc.oneof(v(fc.constantFrom('"agentdrift-history/2"', '"AGENTDRIFT-HISTORY/1"', '1', 'null')), deepList)],
    ];
    const unknownKey = fc.tuple(fc.constantFrom([], ['runs', 0], a), unicode(1, 30)).filter(([, k]) => !['format', 'track', 'exportedAt', 'runs', 'startedAt', 'endedAt', 'state', 'reason', 'agentVersion', 'modelId', 'suiteHash', 'attempts', 'taskId', 'sampleIndex', 'outcome', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'costUsd', 'turns', 'toolCalls', 'agentDurationMs', 'gradingDurationMs', 'patchBytes', '__proto__', 'constructor'].includes(k));
    // A second run starting at the same instant (however written): a conflict, named, not one silently dropped.
    const sameStart = fc.constantFrom('"2026-05-01T03:00:00Z"', '"2026-05-01T03:00:00.000Z"', '"2026-05-01T05:00:00+02:00"', '"2026-04-30T22:00:00-05:00"');
    const hostile = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...fields).chain(([path, value]) => value.map((x) => ({ path, x }))) },
      { weight: 1, arbitrary: sameStart.map((text) => ({ path: ['runs', 1, 'startedAt'], x: { text } as Value })) },
      { weight: 1, arbitrary: unknownKey.map(([at, k]) => ({ path: [...at, k], x: { text: '1' } as Value })) },
    );
    await fc.assert(
      fc.asyncProperty(hostile, async ({ path, x }) => {
        const doc = nativeDoc();
        if (path[1] === 1) doc.runs.push({ ...structuredClone(doc.runs[0]!), endedAt: '2026-05-01T06:00:00Z' });
        const body = withValue(doc, path, x.text);
        await expectRejected({ method: 'POST', path: '/api/tracks/main/import', body, field: String(path.at(-1)) });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('refuses a hostile `at` (the run time of a margin results.json; never meant for a history file), naming it', async () => {
    const at = fc.oneof(
      fc.constantFrom('garbage', '2026-06-01', '2026-06-01T00:00:00', '2026-02-30T00:00:00Z', '1e400', 'Infinity', '0', '-1', ' ', '2026-06-01T00:00:00Z 2026'),
      unicode(1, 40).filter((x) => Number.isNaN(Date.parse(x))),
      ascii(1000, 2000),
    );
    const doc = fc.constantFrom(JSON.stringify(marginDoc()), JSON.stringify(nativeDoc()));
    await fc.assert(
      fc.asyncProperty(doc, at, async (body, value) => {
        await expectRejected({ method: 'POST', path: `/api/tracks/main/import?at=${encodeURIComponent(value)}`, body, field: 'at' });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a hostile value anywhere in a margin results.json, naming the field, storing nothing', async () => {
    const i = ['instances', 0];
    const u = [...i, 'usage'];
    const fields: [(string | number)[], fc.Arbitrary<Value>][] = [
      ...['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'num_turns', 'tool_calls'].map((k): [(string | number)[], fc.Arbitrary<Value>] => [[...u, k], count]),
      [[...u, 'total_cost_usd'], amount],
      [[...u, 'cost_usd'], amount],
      [[...i, 'runtime_ms'], fc.oneof(v(numberOutside((x) => x >= 0 || Math.abs(x) >= 1e300)), v(fc.constantFrom('1e400', '-1', 'true', '"1"', '[]')), deepList)],
      [[...i, 'sample_index'], count],
      [[...i, 'case_id'], fc.oneof(v(fc.constantFrom('""', '1', 'null', 'true', '[]')), v(jsonString(513, 2000)), deepList)],
      [[...i, 'final_state'], enumText],
      [u, fc.oneof(v(fc.constantFrom('1', '"x"', 'true', '[1]')), deepList)],
      [['instances'], fc.oneof(v(fc.constantFrom('[]', 'null', '{}', '"x"', '1', '[1]', '[null]')), deepList)],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields).chain(([path, value]) => value.map((x) => ({ path, x }))), async ({ path, x }) => {
        const body = withValue(marginDoc(), path, x.text);
        await expectRejected({ method: 'POST', path: `/api/tracks/main/import?at=${encodeURIComponent(MARGIN_AT)}`, body, field: String(path.at(-1)) });
      }),
      { numRuns: RUNS * 2 },
    );
  });

});
