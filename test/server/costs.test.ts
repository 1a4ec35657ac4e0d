/**
 * Cost per run (in the list of a track's runs) and per day (the days of the schedule's time zone, as the daily budget
 * counts them) in the API.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptInput } from '../../src/domain/types.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const NOW = Date.parse('2026-03-30T10:00:00Z');

let t: TestContext;
let app: FastifyInstance;
let runs: Record<string, number> = {};

function attempt(taskId: string, endedAt: string, costUsd: number): AttemptInput {
  return {
    taskId, sampleIndex: 0, outcome: 'resolved', reason: null, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0, costUsd,
    turns: 1, toolCalls: 0, agentDurationMs: 1, gradingDurationMs: 1, patchBytes: 1, transcriptPath: null, gradingLogPath: null, startedAt: endedAt, endedAt,
  };
}

function run(track: string, startedAt: string, state: 'completed' | 'skipped' = 'completed'): number {
  return t.ctx.store.runs.create(
    { track, state, trigger: 'scheduler', reason: null, startedAt, endedAt: state === 'skipped' ? null : startedAt, agentVersion: null, modelId: null, suiteHash: null },
    state === 'skipped' ? undefined : { taskIds: ['a', 'b', 'c'], samples: 1 },
  );
}

beforeAll(async () => {
  t = makeContext({
    tracks: [
      { name: 'paris', schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' } },
      { name: 'utc', schedule: { cron: '0 3 * * *', timezone: 'UTC' } },
    ],
  });
  t.ctx.figures.attachLive({ now: () => NOW, nextRunMs: () => null, liveRun: () => null, dockerUp: () => true });
  const s = t.ctx.store;
  // Paris moved to summer time on 2026-03-29 (a 23-hour day, 23:00Z to 22:00Z).
  runs = { early: run('paris', '2026-03-28T22:00:00Z'), skipped: run('paris', '2026-03-29T01:00:00Z', 'skipped'), late: run('paris', '2026-03-29T21:00:00Z') };
  s.attempts.insert(runs.early!, attempt('a', '2026-03-28T22:30:00Z', 0.25)); // 23:30 in Paris on the 28th
  s.attempts.insert(runs.early!, attempt('b', '2026-03-28T23:30:00Z', 1.5)); // 00:30 on the 29th
  s.attempts.insert(runs.late!, attempt('a', '2026-03-29T21:30:00Z', 2)); // 23:30 CEST on the 29th
  s.attempts.insert(runs.late!, attempt('b', '2026-03-29T22:30:00Z', 0.5)); // 00:30 CEST on the 30th: today
  s.attempts.insert(runs.late!, attempt('c', '2026-03-30T09:00:00Z', 0.125)); // today
  app = await buildServer(t.ctx);
});

afterAll(async () => {
  await app.close();
  t.cleanup();
});

describe('cost in the API', () => {
  it('gives each run of a track its cost in the list of runs', async () => {
    const r = await app.inject('/api/tracks/paris/runs');
    expect(r.statusCode).toBe(200);
    const byId = Object.fromEntries((r.json().runs as { id: number; costUsd: number }[]).map((x) => [x.id, x.costUsd]));
    expect(byId).toEqual({ [runs.early!]: 1.75, [runs.skipped!]: 0, [runs.late!]: 2.625 });
    // The same figure as the run's own page.
    expect((await app.inject(`/api/runs/${runs.late}`)).json().costUsd).toBe(2.625);
  });

  it('gives the cost per day, days of the schedule\'s time zone, today last, empty days included', async () => {
    const r = await app.inject('/api/tracks/paris/costs?days=4');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      track: 'paris',
      timezone: 'Europe/Paris',
      days: [
        { day: '2026-03-27', from: '2026-03-26T23:00:00.000Z', to: '2026-03-27T23:00:00.000Z', costUsd: 0, attempts: 0 },
        { day: '2026-03-28', from: '2026-03-27T23:00:00.000Z', to: '2026-03-28T23:00:00.000Z', costUsd: 0.25, attempts: 1 },
        { day: '2026-03-29', from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z', costUsd: 3.5, attempts: 2 },
        { day: '2026-03-30', from: '2026-03-29T22:00:00.000Z', to: '2026-03-30T22:00:00.000Z', costUsd: 0.625, attempts: 2 },
      ],
    });
    // Today's figure is the one the track's page (and the budget guard) reports.
    expect((await app.inject('/api/tracks/paris')).json().costToday.usd).toBe(0.625);
    // Thirty days by default.
    const d = (await app.inject('/api/tracks/paris/costs')).json().days as { day: string }[];
    expect(d).toHaveLength(30);
    expect([d[0]!.day, d.at(-1)!.day]).toEqual(['2026-03-01', '2026-03-30']);
  });

  it('counts by the track\'s own time zone: the same attempts fall on other days in UTC', async () => {
    const s = t.ctx.store;
    const id = run('utc', '2026-03-28T22:00:00Z');
    s.attempts.insert(id, attempt('a', '2026-03-28T23:30:00Z', 1.5)); // the 28th in UTC, the 29th in Paris
    s.attempts.insert(id, attempt('b', '2026-03-29T22:30:00Z', 0.5)); // the 29th in UTC, the 30th in Paris
    const days = (await app.inject('/api/tracks/utc/costs?days=3')).json().days;
    expect(days.map((x: { day: string; costUsd: number }) => [x.day, x.costUsd])).toEqual([
      ['2026-03-28', 1.5],
      ['2026-03-29', 0.5],
      ['2026-03-30', 0],
    ]);
  });

  it('answers 400 for a bad number of days and 404 for an unknown track', async () => {
    for (const q of ['0', '367', 'x']) {
      const r = await app.inject(`/api/tracks/paris/costs?days=${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().problems.join(' ')).toContain('days');
    }
    expect((await app.inject('/api/tracks/nope/costs')).statusCode).toBe(404);
  });
});
