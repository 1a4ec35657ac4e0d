/**
 * What the API serves of each attempt (issue 12, part 4c): GET /api/runs/:id gives every attempt's phase timings,
 * dropped binary files and whether its patch is kept; GET /api/runs/:id/attempts/:attempt/patch serves the patch byte
 * for byte as text/x-diff, and refuses bad or unknown ids, and attempts without a kept patch, naming why. The attempts
 * come from a real runner run (test/helpers/kept-attempts.ts) and from an import.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/adapters/http/server.ts';
import { importHistoryText } from '../../src/core/history/import.ts';
import { ATTEMPT_PHASES, type AttemptRow } from '../../src/domain/types.ts';
import { KEEP_API_KEY, KEEP_TRACK, keptRun, TESTS_MS, type KeptRun } from '../helpers/kept-attempts.ts';

let run: KeptRun;
let app: FastifyInstance;
let importedRun: number;
let imported: AttemptRow;

beforeAll(async () => {
  run = await keptRun({ samples: 3, timeoutSeconds: 1 });
  const at = (m: number) => new Date(Date.now() - 86_400_000 + m * 60_000).toISOString();
  importHistoryText(
    run.t.ctx,
    KEEP_TRACK,
    JSON.stringify({
      format: 'agentdrift-history/1',
      runs: [{ startedAt: at(0), endedAt: at(5), attempts: [{ taskId: run.task.instanceId, outcome: 'resolved', patchBytes: 1234 }] }],
    }),
    { fileName: 'history.json' },
  );
  const runs = run.t.ctx.store.runs.list(KEEP_TRACK, { limit: 10, offset: 0 }).runs;
  importedRun = runs.find((r) => r.trigger === 'import')!.id;
  imported = run.t.ctx.store.attempts.ofRun(importedRun)[0]!;
  app = await buildServer(run.t.ctx);
}, 120_000);

afterAll(async () => {
  await app?.close();
  run?.t.cleanup();
});

const patchUrl = (runId: number | string, attempt: number | string) => `/api/runs/${runId}/attempts/${attempt}/patch`;

describe('GET /api/runs/:id', () => {
  it('gives each attempt its phase timings (every phase, null where not reached), dropped files and whether its patch is kept', async () => {
    const r = await app.inject(`/api/runs/${run.runId}`);
    expect(r.statusCode).toBe(200);
    const body = r.json() as { attempts: { id: number; sampleIndex: number; timings: Record<string, number | null> | null; droppedFiles: string[] | null; patchStored: boolean }[] };
    const [fixed, timedOut, empty] = [0, 1, 2].map((s) => body.attempts.find((a) => a.sampleIndex === s)!);
    expect(Object.keys(fixed!.timings!)).toEqual([...ATTEMPT_PHASES]);
    expect(fixed!.timings!.tests).toBe(TESTS_MS);
    expect(fixed!.timings).toEqual(run.attempts[0]!.phaseTimings);
    expect(fixed).toMatchObject({ droppedFiles: ['assets/logo.png', 'cache/[REDACTED].bin'], patchStored: true });
    expect(timedOut).toMatchObject({ droppedFiles: null, patchStored: false });
    expect(Object.keys(timedOut!.timings!)).toEqual([...ATTEMPT_PHASES]);
    for (const p of ['extraction', 'gradingStart', 'gradingPrepare', 'tests', 'gradingResults', 'gradingTeardown']) expect(timedOut!.timings![p], p).toBeNull();
    expect(timedOut!.timings!.agent).toBeGreaterThanOrEqual(900);
    expect(empty).toMatchObject({ droppedFiles: [], patchStored: true });
    // No file path of the data directory, and no secret.
    expect(r.body).not.toContain(run.t.ctx.config.dataDir);
    expect(r.body).not.toContain('.patch.gz');
    expect(r.body).not.toContain(KEEP_API_KEY);
    expect(r.body).not.toMatch(/patchPath|transcriptPath/);
  });

  it('gives an imported attempt (nothing recorded) null timings and dropped files, no patch', async () => {
    const body = (await app.inject(`/api/runs/${importedRun}`)).json() as { attempts: Record<string, unknown>[] };
    expect(body.attempts[0]).toMatchObject({ timings: null, droppedFiles: null, patchStored: false, patchBytes: 1234 });
  });
});

describe('GET /api/runs/:id/attempts/:attempt/patch', () => {
  it('serves the kept patch byte for byte as text/x-diff', async () => {
    const a = run.attempts[0]!;
    const r = await app.inject(patchUrl(run.runId, a.id));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/x-diff; charset=utf-8');
    expect(r.headers['content-disposition']).toBe(`inline; filename="run-${run.runId}-attempt-${a.id}.diff"`);
    expect(r.rawPayload.equals(Buffer.from(run.task.goldPatch, 'utf8'))).toBe(true);
    expect(r.rawPayload.length).toBeGreaterThan(300_000);
    expect(r.body).not.toContain(KEEP_API_KEY);
    // An empty patch is served empty.
    const empty = await app.inject(patchUrl(run.runId, run.attempts[2]!.id));
    expect(empty.statusCode).toBe(200);
    expect(empty.rawPayload.length).toBe(0);
  });

  it('answers 404 naming why an attempt has no patch: ran past its limit, imported', async () => {
    const timedOut = await app.inject(patchUrl(run.runId, run.attempts[1]!.id));
    expect(timedOut.statusCode).toBe(404);
    expect(timedOut.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `attempt ${run.attempts[1]!.id} has no candidate patch (timeout: agent ran past 1 s; container killed)`,
    });
    const old = await app.inject(patchUrl(importedRun, imported.id));
    expect(old.statusCode).toBe(404);
    expect(old.json().message).toBe(`attempt ${imported.id} has no stored patch: it was imported, or stored before agentdrift kept patches`);
  });

  it('answers 404 for an unknown run, and for an attempt of another run', async () => {
    const unknown = await app.inject(patchUrl(999_999, run.attempts[0]!.id));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toBe('no run with id 999999');
    const other = await app.inject(patchUrl(importedRun, run.attempts[0]!.id));
    expect(other.statusCode).toBe(404);
    expect(other.json().message).toBe(`run ${importedRun} has no attempt with id ${run.attempts[0]!.id} (GET /api/runs/${importedRun} lists its attempts)`);
    const none = await app.inject(patchUrl(run.runId, 999_999));
    expect(none.json().message).toContain(`run ${run.runId} has no attempt with id 999999`);
  });

  it('refuses a run id or attempt id that is not a positive integer with a 400 naming it', async () => {
    const hostile = ['abc', '0', '-1', '1.5', '1e400', 'Infinity', 'NaN', '9007199254740993', 'true'];
    for (const v of hostile) {
      for (const [field, url] of [
        ['id', patchUrl(encodeURIComponent(v), run.attempts[0]!.id)],
        ['attempt', patchUrl(run.runId, encodeURIComponent(v))],
      ] as const) {
        const r = await app.inject(url);
        expect(r.statusCode, `${field}=${v}`).toBe(400);
        const body = r.json() as { message: string; problems: string[] };
        expect(body.problems.length, `${field}=${v}`).toBeGreaterThan(0);
        for (const p of body.problems) expect(p.startsWith(`${field}:`), `${field}=${v}: ${p}`).toBe(true);
      }
    }
  });

  it('answers 404 when the patch file is gone, and 500 naming the attempt when it is not gzip; the store is untouched', async () => {
    const stored = run.t.ctx.store.attempts.ofRun(run.runId);
    const empty = run.attempts[2]!;
    writeFileSync(empty.patchPath!, 'not gzip');
    const corrupt = await app.inject(patchUrl(run.runId, empty.id));
    expect(corrupt.statusCode).toBe(500);
    expect(corrupt.json().message).toMatch(new RegExp(`^the stored patch of attempt ${empty.id} cannot be read \\(Z_DATA_ERROR\\)$`));
    expect(corrupt.body).not.toContain(run.t.ctx.config.dataDir);
    rmSync(empty.patchPath!);
    const gone = await app.inject(patchUrl(run.runId, empty.id));
    expect(gone.statusCode).toBe(404);
    expect(gone.json().message).toBe(`the patch of attempt ${empty.id} is no longer in the data directory (removed from transcripts/)`);
    expect(run.t.ctx.store.attempts.ofRun(run.runId)).toEqual(stored);
  });

  it('is in the OpenAPI document with its answers: the diff, 400, 404', async () => {
    const spec = (await app.inject('/docs/json')).json() as { paths: Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }> } }> };
    const route = spec.paths['/api/runs/{id}/attempts/{attempt}/patch'];
    expect(route).toBeDefined();
    expect(Object.keys(route!.get.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(Object.keys(route!.get.responses['200']!.content!)).toEqual(['text/x-diff']);
    const detail = spec.paths['/api/runs/{id}']!.get.responses['200']!.content!['application/json'] as { schema: { properties: { attempts: { items: { properties: Record<string, unknown> } } } } };
    expect(Object.keys(detail.schema.properties.attempts.items.properties)).toEqual(expect.arrayContaining(['timings', 'droppedFiles', 'patchStored']));
  });
});
