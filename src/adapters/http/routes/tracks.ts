import { trackNamed } from '../../../config/index.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { ImportError } from '../../../core/history/format.ts';
import { importHistoryBody } from '../../../core/history/import-body.ts';
import { IMPORT_BODY_LIMIT_BYTES } from '../../../core/history/import.ts';
import type { TrackOps, TrackSnapshot } from '../../../core/figures/snapshot.ts';
import { costByDay } from '../../../core/scheduler/records.ts';
import type { RunRow } from '../../../domain/types.ts';
import { finiteOrNull, isoOrNull } from '../../../domain/values.ts';
import { baselineSummary } from '../../../core/baselines/service.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';
import { baselineBody } from './baselines.ts';

const nullableNumber = z.number().nullable();

/** A window: the runs that started on its calendar days (schedule time zone); from = start of the first day, to = end of its last run. */
const windowBody = z.object({
  window: z.string(),
  firstDay: z.string(),
  lastDay: z.string(),
  from: z.string(),
  to: z.string(),
  runs: z.number().int(),
  attempts: z.number().int(),
  passes: z.number().int(),
  infraErrors: z.number().int(),
  passRate: nullableNumber,
  lower: nullableNumber,
  upper: nullableNumber,
  infraErrorRatio: nullableNumber,
  durationP50Seconds: nullableNumber,
  durationP90Seconds: nullableNumber,
  meanCostUsd: nullableNumber,
  meanTokens: z.record(z.string(), z.number()).nullable(),
  meanTurns: nullableNumber,
  meanToolCalls: nullableNumber,
});

const trackSummary = z.object({
  name: z.string(),
  agent: z.string(),
  agentVersion: z.string(),
  model: z.string(),
  suite: z.string(),
  schedule: z.object({ cron: z.string(), timezone: z.string() }),
  lastRunAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  nextRunAt: z.string().nullable(),
  runInProgress: z.boolean(),
  currentRunId: z.number().int().nullable(),
  windows: z.array(windowBody),
});


const statistics = z.object({
  baselineReady: z.boolean(),
  baseline: baselineBody.nullable(),
  alpha: z.number(),
  windows: z.array(
    z.object({
      window: z.string(),
      method: z.string(),
      n: z.number().int(),
      passes: z.number().int(),
      testN: z.number(),
      testPasses: z.number(),
      strata: z.number().int(),
      coverage: nullableNumber,
      baselineRate: nullableNumber,
      p: nullableNumber,
      pAdjusted: nullableNumber,
      significant: z.boolean(),
      minimumDetectableDrop: nullableNumber,
    }),
  ),
  cusum: z
    .object({
      statistic: z.number(),
      threshold: z.number(),
      signal: z.boolean(),
      attempts: z.number().int(),
      since: z.string(),
      oddsRatio: z.number(),
      horizonDays: z.number(),
      attemptsPerDay: z.number(),
      inControlArlDays: z.number(),
    })
    .nullable(),
  usage: z.array(
    z.object({ metric: z.string(), window: z.string(), ratio: nullableNumber, p: nullableNumber, pAdjusted: nullableNumber, significant: z.boolean(), tasks: z.number().int() }),
  ),
});

function presentStatistics(ctx: App, s: TrackSnapshot): z.infer<typeof statistics> {
  const r = s.regression;
  return {
    baselineReady: r.baseline !== null,
    baseline: r.baseline ? baselineSummary(r.baseline) : null,
    alpha: ctx.config.statistics.alpha,
    windows: r.windows.map((w) => ({
      window: w.window,
      method: w.method,
      n: w.n,
      passes: w.passes,
      testN: w.testN,
      testPasses: w.testPasses,
      strata: w.strata,
      coverage: finiteOrNull(w.coverage),
      baselineRate: finiteOrNull(w.baselineRate),
      p: finiteOrNull(w.p),
      pAdjusted: finiteOrNull(w.pAdjusted),
      significant: w.significant,
      minimumDetectableDrop: finiteOrNull(w.minimumDetectableDrop),
    })),
    cusum: r.cusum,
    usage: r.usage.map((u) => ({ ...u, ratio: finiteOrNull(u.ratio), p: finiteOrNull(u.p), pAdjusted: finiteOrNull(u.pAdjusted) })),
  };
}

const trackDetail = trackSummary.extend({
  /** Cost of the attempts that ended today, the day in the track's schedule time zone. */
  costToday: z.object({ usd: z.number(), since: z.string(), timezone: z.string() }),
  budget: z.object({ dailyUsd: z.number().nullable(), perAttemptUsd: z.number().nullable(), exhausted: z.boolean() }),
  operations: z.object({
    schedulePeriodSeconds: z.number().nullable(),
    catchUp: z.boolean(),
    progressRatio: z.number(),
    runsByState: z.record(z.string(), z.number().int()),
    missedRuns: z.number().int(),
    lastMissed: z.object({ count: z.number().int(), from: z.string(), to: z.string(), recordedAt: z.string(), reason: z.string() }).nullable(),
  }),
  statistics,
  windowsEndAt: z.string().nullable(),
  totals: z.object({
    attemptsByOutcome: z.record(z.string(), z.number()),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cacheReadTokens: z.number(),
    cacheCreationTokens: z.number(),
    costUsd: z.number(),
  }),
  config: z.object({
    model: z.string(),
    samplesPerTask: z.number(),
    concurrency: z.number(),
    limits: z.record(z.string(), z.number()),
    baseline: z.record(z.string(), z.unknown()),
    suite: z.record(z.string(), z.unknown()),
  }),
});

export const runBody = z.object({
  id: z.number().int(),
  track: z.string(),
  state: z.string(),
  trigger: z.string(),
  reason: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  agentVersion: z.string().nullable(),
  modelId: z.string().nullable(),
  suiteHash: z.string().nullable(),
});

/** A run in a list: with the cost of its stored attempts. */
const listedRun = runBody.extend({ costUsd: z.number() });
const runsPage = z.object({ runs: z.array(listedRun), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
const costsQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
const costsBody = z.object({
  track: z.string(),
  /** The schedule's time zone: the days are its calendar days, as the daily budget counts them. */
  timezone: z.string(),
  days: z.array(z.object({ day: z.string(), from: z.string(), to: z.string(), costUsd: z.number(), attempts: z.number().int() })),
});
const pageQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).default(0) });
const importQuery = z.object({
  at: z
    .string()
    .optional()
    .describe('The run time of a margin results.json (required for one): an ISO 8601 instant with a time zone, e.g. 2026-03-15T03:15:00Z. Refused with an agentdrift history file, whose runs carry their own dates.'),
});
const importResult = z.object({
  kind: z.string(),
  runsStored: z.number().int(),
  attemptsStored: z.number().int(),
  runsSkipped: z.number().int(),
  notes: z.array(z.string()),
});

function summary(ctx: App, s: TrackSnapshot, ops: TrackOps = ctx.figures.ops(s.track)) {
  const t = trackNamed(ctx.config, s.track);
  return {
    name: s.track,
    agent: s.agent,
    agentVersion: s.agentVersion,
    model: s.model,
    suite: s.suite,
    schedule: { cron: t.schedule.cron, timezone: t.schedule.timezone },
    lastRunAt: isoOrNull(s.lastRunMs),
    lastSuccessAt: isoOrNull(s.lastSuccessMs),
    nextRunAt: isoOrNull(ops.nextRunMs),
    runInProgress: ops.runInProgress,
    currentRunId: ops.currentRunId,
    windows: s.windows.map(({ fromMs, toMs, ...w }) => ({ ...w, from: isoOrNull(fromMs) as string, to: isoOrNull(toMs) as string })),
  };
}

export function presentRun(r: RunRow) {
  return { ...r };
}

export default async function trackRoutes(app: FastifyInstance, opts: { ctx: App }): Promise<void> {
  const { ctx } = opts;
  const notFound = { 404: jsonSchema(errorBody) };

  app.get('/api/tracks', { schema: { tags: ['tracks'], summary: 'Every configured track with its window figures', response: { 200: jsonSchema(z.object({ tracks: z.array(trackSummary) })) } } }, async () => ({
    tracks: ctx.config.tracks.map((t) => summary(ctx, ctx.figures.snapshot(t.name))),
  }));

  app.get<{ Params: z.infer<typeof trackParams> }>(
    '/api/tracks/:track',
    { schema: { tags: ['tracks'], summary: 'One track: windows, totals, configuration', params: jsonSchema(trackParams), response: { 200: jsonSchema(trackDetail), ...notFound } } },
    async (req) => {
      const s = ctx.figures.snapshot(req.params.track);
      const t = trackNamed(ctx.config, req.params.track);
      const ops = ctx.figures.ops(req.params.track);
      const missed = ctx.store.schedule.lastMissed(t.name);
      return {
        ...summary(ctx, s, ops),
        costToday: { usd: ops.costTodayUsd, since: isoOrNull(ops.dayStartMs) as string, timezone: t.schedule.timezone },
        budget: { dailyUsd: t.budget.dailyUsd ?? null, perAttemptUsd: t.budget.perAttemptUsd ?? null, exhausted: ops.budgetExhausted },
        operations: {
          schedulePeriodSeconds: ops.schedulePeriodSeconds,
          catchUp: t.schedule.catchUp,
          progressRatio: ops.progressRatio,
          runsByState: ops.runsByState,
          missedRuns: ops.missedRuns,
          lastMissed: missed ? { count: missed.count, from: isoOrNull(missed.fromMs) as string, to: isoOrNull(missed.toMs) as string, recordedAt: isoOrNull(missed.at) as string, reason: missed.reason } : null,
        },
        windowsEndAt: isoOrNull(s.windowEndMs),
        statistics: presentStatistics(ctx, s),
        totals: s.totals,
        config: { model: t.model, samplesPerTask: t.samplesPerTask, concurrency: t.concurrency, limits: t.limits, baseline: t.baseline, suite: t.suite },
      };
    },
  );

  app.get<{ Params: z.infer<typeof trackParams>; Querystring: z.infer<typeof pageQuery> }>(
    '/api/tracks/:track/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Runs of a track, newest first, paged',
        params: jsonSchema(trackParams),
        querystring: jsonSchema(pageQuery),
        response: { 200: jsonSchema(runsPage), ...notFound },
      },
    },
    async (req) => {
      trackNamed(ctx.config, req.params.track);
      const { limit, offset } = req.query;
      const page = ctx.store.runs.list(req.params.track, { limit, offset });
      const costs = ctx.store.runs.costs(page.runs.map((r) => r.id));
      return { runs: page.runs.map((r) => ({ ...presentRun(r), costUsd: costs.get(r.id) ?? 0 })), total: page.total, limit, offset };
    },
  );

  app.get<{ Params: z.infer<typeof trackParams>; Querystring: z.infer<typeof costsQuery> }>(
    '/api/tracks/:track/costs',
    {
      schema: {
        tags: ['tracks'],
        summary: 'Cost per day: the cost and count of the attempts that ended on each of the last `days` days (today included, oldest first), days of the schedule\'s time zone',
        params: jsonSchema(trackParams),
        querystring: jsonSchema(costsQuery),
        response: { 200: jsonSchema(costsBody), 400: jsonSchema(errorBody), ...notFound },
      },
    },
    async (req) => {
      const t = trackNamed(ctx.config, req.params.track);
      const tz = t.schedule.timezone;
      const days = costByDay(ctx.store, t.name, tz, ctx.figures.now(), req.query.days);
      return { track: t.name, timezone: tz, days: days.map((d) => ({ day: d.day, from: isoOrNull(d.fromMs) as string, to: isoOrNull(d.toMs) as string, costUsd: d.costUsd, attempts: d.attempts })) };
    },
  );

  // The import route reads its body as bytes, not through the JSON parser: a large one is parsed and validated in a
  // worker thread (history/import-body.ts), where the event loop does not wait for it. Its own scope, so that only
  // this route parses JSON so.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post<{ Params: z.infer<typeof trackParams>; Querystring: z.infer<typeof importQuery> }>(
      '/api/tracks/:track/import',
      {
        bodyLimit: IMPORT_BODY_LIMIT_BYTES,
        schema: {
          tags: ['tracks'],
          summary: 'Import history (docs/import-format.md or a margin results.json; token required)',
          description: `The body is the file itself, as application/json, at most ${IMPORT_BODY_LIMIT_BYTES / 1024 / 1024} MiB (a larger body is refused with 413; \`agentdrift import\` on the daemon's host reads a file of any size). The whole file is checked before anything is stored: one bad record rejects it, with a 400 naming every bad record. A margin results.json carries no date: give its run's start as \`at\`.`,
          security: [{ bearer: [] }],
          params: jsonSchema(trackParams),
          querystring: jsonSchema(importQuery),
          response: { 200: jsonSchema(importResult), 400: jsonSchema(errorBody), 401: jsonSchema(errorBody), ...notFound },
        },
      },
      async (req, reply) => {
        trackNamed(ctx.config, req.params.track);
        try {
          const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          // A body has no directory to date a margin results.json by, and its run time is the `at` parameter.
          const summary = await importHistoryBody(ctx, req.params.track, body, { fileName: 'request body', at: req.query.at, atName: 'at', dateFromDirectory: false });
          // Answer once the figures include the import (computed off the event loop in the daemon).
          await ctx.figures.settled();
          return summary;
        } catch (e) {
          if (e instanceof ImportError) {
            return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: e.message.split('\n')[0], problems: e.problems });
          }
          throw e;
        }
      },
    );
  });
}
