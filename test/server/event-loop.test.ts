/**
 * CPU-heavy work runs off the daemon's event loop (issue 10 item 5): once the server runs, a CUSUM threshold is
 * simulated in a worker thread, so a /healthz asked for during the simulation answers before it ends, and the
 * threshold is the one the in-thread computation gives; a large import body is parsed and validated in a worker, so
 * /healthz answers while it is, and the import stores exactly what the in-thread import stores. Functional
 * orderings, not timings (the latencies are in `npm run bench eventloop`).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import { OFFLOAD_BYTES } from '../../src/core/history/import-body.ts';
import { toStatsBaseline } from '../../src/core/baselines/baseline.ts';
import { setBaseline } from '../../src/core/baselines/service.ts';
import { startServer, buildServer, type RunningServer } from '../../src/adapters/http/server.ts';
import { trackThreshold, type ThresholdResult } from '../../src/stats/index.ts';
import { CpuPool } from '../../src/workers/pool.ts';
import { thresholdInWorker } from '../../src/core/figures/figures.ts';
import { generateRuns, historyDocument } from '../helpers/history.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const TOKEN = 'event-loop-token-0123456789';
const DAY_MS = 86_400_000;
/** Histories that end before now: days back from today. */
const daysAgo = (days: number) => new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - days * DAY_MS + 3 * 3_600_000).toISOString();

let t: TestContext | null = null;
let u: TestContext | null = null;
let server: RunningServer | null = null;
let app: FastifyInstance | null = null;
let pool: CpuPool | null = null;
afterEach(async () => {
  await server?.close();
  await app?.close();
  await pool?.close();
  server = app = pool = null;
  t?.cleanup();
  u?.cleanup();
  t = u = null;
});

/** The context's error lines (a refresh that failed in its worker would settle at once). */
const errors = (c: TestContext) => c.logs.filter((l) => l.includes('"level":50')).join('') || 'no error logged';

/** Resolves with the names in the order their promises settled. */
function race(entries: Record<string, Promise<unknown>>): Promise<string[]> {
  const order: string[] = [];
  return Promise.all(Object.entries(entries).map(([name, p]) => p.then(() => order.push(name)))).then(() => order);
}

describe('the CUSUM threshold in a worker thread', () => {
  it('gives the in-thread result for the same seed, for a fixed p0 and for a reference period', async () => {
    pool = new CpuPool();
    const reference = { kind: 'reference' as const, perTask: new Map(Array.from({ length: 12 }, (_, i) => [`t${i}`, { passes: i % 7, trials: 7 }])) };
    for (const [baseline, options] of [
      [{ kind: 'fixed', p0: 0.55 }, { attemptsPerDay: 12, seed: 7, horizonDays: 90 }],
      [reference, { attemptsPerDay: 12, seed: 3, horizonDays: 90 }],
    ] as const) {
      const inWorker: ThresholdResult = await thresholdInWorker(pool, { baseline, options });
      expect(inWorker).toEqual(trackThreshold(baseline, options));
    }
  });

  it('keeps the daemon answering /healthz while a new baseline\'s threshold is simulated, then serves that threshold', async () => {
    t = makeContext({ server: { port: 0 }, tracks: [{ name: 't' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
    const runs = generateRuns({ seed: 11, days: 20, start: daysAgo(22) });
    importHistoryText(t.ctx, 't', historyDocument(runs), { fileName: 'generated' });
    const before = t.ctx.figures.snapshot('t').regression.cusum!;
    server = await startServer(t.ctx, { handleSignals: false });

    // A new reference period: a baseline hash no threshold is cached for, so the refresh simulates one.
    const row = setBaseline(t.ctx, 't', { from: runs[10]!.startedAt, to: runs[19]!.endedAt }, { by: 'test', reason: 'new reference' });
    const order = await race({
      threshold: t.ctx.figures.settled(),
      healthz: fetch(`${server.address}/healthz`).then((r) => expect(r.status).toBe(200)),
    });
    expect(order, errors(t)).toEqual(['healthz', 'threshold']);

    const after = t.ctx.figures.snapshot('t').regression.cusum!;
    expect(after.since).toBe(new Date(row.monitorFromMs).toISOString());
    expect(after.threshold).not.toBe(before.threshold);
    const inThread = trackThreshold(toStatsBaseline(row), { attemptsPerDay: after.attemptsPerDay, R: after.oddsRatio, horizonDays: after.horizonDays });
    expect(after.threshold).toBe(inThread.h);
    expect(after.inControlArlDays).toBe(inThread.arlDays);
    // Cached in the store by the worker's own connection, so a restart does not simulate it again.
    expect(t.ctx.store.thresholds.load<ThresholdResult>().map(([, v]) => v.h)).toContain(inThread.h);
    const text = await (await fetch(`${server.address}/metrics`)).text();
    expect(text).toContain(`agentdrift_cusum_threshold{track="t"} ${inThread.h}`);
  });

  it('answers the baseline PUT once the new threshold is in, with /healthz answered meanwhile', async () => {
    t = makeContext({ server: { port: 0 }, tracks: [{ name: 't' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
    const runs = generateRuns({ seed: 5, days: 20, start: daysAgo(22) });
    importHistoryText(t.ctx, 't', historyDocument(runs), { fileName: 'generated' });
    server = await startServer(t.ctx, { handleSignals: false });
    const put = fetch(`${server.address}/api/tracks/t/baseline`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: runs[12]!.startedAt, to: runs[19]!.endedAt }),
    });
    // The PUT has been handled (its baseline stored) and its threshold is being simulated.
    for (let i = 0; i < 2000 && t.ctx.store.baselines.list('t').length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const order = await race({ put, healthz: fetch(`${server.address}/healthz`) });
    expect(order, errors(t)).toEqual(['healthz', 'put']);
    expect((await put).status).toBe(200);
    const { cusum } = ((await (await fetch(`${server.address}/api/tracks/t`)).json()) as { statistics: { cusum: { threshold: number; since: string; attemptsPerDay: number; oddsRatio: number; horizonDays: number } } }).statistics;
    const row = t.ctx.store.baselines.list('t')[0]!;
    expect(cusum.since).toBe(new Date(row.monitorFromMs).toISOString());
    expect(cusum.threshold).toBe(trackThreshold(toStatsBaseline(row), { attemptsPerDay: cusum.attemptsPerDay, R: cusum.oddsRatio, horizonDays: cusum.horizonDays }).h);
  });
});

describe('a large import body in a worker thread', () => {
  async function listen(ctx: TestContext['ctx'], onImportHandler: () => void): Promise<string> {
    ctx.figures.offloadRefreshes();
    app = await buildServer(ctx);
    app.addHook('preHandler', async (req) => {
      if (req.url.includes('/import')) onImportHandler();
    });
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  it('answers /healthz while the body is parsed, and stores what the in-thread import stores', async () => {
    const doc = historyDocument(generateRuns({ seed: 9, days: 150, start: daysAgo(152) }));
    expect(Buffer.byteLength(doc)).toBeGreaterThan(OFFLOAD_BYTES);
    t = makeContext({ tracks: [{ name: 't' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
    u = makeContext({ tracks: [{ name: 't' }] });
    const inThread = importHistoryText(u.ctx, 't', doc, { fileName: 'request body' });

    let started!: () => void;
    const handling = new Promise<void>((r) => (started = r));
    const url = await listen(t.ctx, started);
    const post = fetch(`${url}/api/tracks/t/import`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: doc });
    await handling;
    const order = await race({ import: post, healthz: fetch(`${url}/healthz`) });
    expect(order, errors(t)).toEqual(['healthz', 'import']);
    const res = await post;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(inThread);
    const strip = (d: unknown) => ({ ...(d as object), exportedAt: null });
    expect(strip(exportHistory(t.ctx, 't'))).toEqual(strip(exportHistory(u.ctx, 't')));
    const figures = (c: TestContext) => {
      const { windows, cusum, usage } = c.ctx.figures.snapshot('t').regression;
      return { windows, cusum, usage };
    };
    expect(figures(t)).toEqual(figures(u));
  });

  it('rejects a large invalid body with the problems named, storing nothing', async () => {
    const runs = generateRuns({ seed: 9, days: 150, start: daysAgo(152) });
    runs[120]!.attempts[3]!.outcome = 'great';
    const doc = historyDocument(runs);
    expect(Buffer.byteLength(doc)).toBeGreaterThan(OFFLOAD_BYTES);
    t = makeContext({ tracks: [{ name: 't' }] }, { AGENTDRIFT_API_TOKEN: TOKEN });
    const url = await listen(t.ctx, () => undefined);
    const res = await fetch(`${url}/api/tracks/t/import`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: doc });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; problems: string[] };
    expect(body.message).toContain('request body was rejected');
    expect(body.problems.join('\n')).toContain('runs[120].attempts[3].outcome');
    expect(t.ctx.store.runs.list('t', { limit: 10, offset: 0 }).total).toBe(0);
  });
});
