/**
 * GET /api/tracks/:track/breakdown: each window by language and by repository of its tasks (src/core/figures/groups.ts),
 * the same figures as the agentdrift_group_* series, from the precomputed snapshot. For diagnosis: which languages and
 * repositories fell, by how much, and whether that is beyond chance (Holm across the groups of a dimension).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { TrackSnapshot } from '../../../core/figures/snapshot.ts';
import { GROUP_DIMENSIONS, REPOSITORY_GROUP_LIMIT } from '../../../core/figures/groups.ts';
import { WINDOWS, type WindowName } from '../../../core/figures/windows.ts';
import { finiteOrNull } from '../../../domain/values.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';

const WINDOW_NAMES = WINDOWS.map((w) => w.name) as [WindowName, ...WindowName[]];

export const breakdownQuery = z.object({
  window: z.enum(WINDOW_NAMES).optional().describe('Only this window (1d, 7d or 30d); default every window.'),
  dimension: z.enum(GROUP_DIMENSIONS).optional().describe('Only this dimension (language or repository); default both.'),
});

const nullableNumber = z.number().nullable();

const groupRow = z.object({
  window: z.string(),
  dimension: z.string(),
  group: z.string(),
  /** Tasks of the group with a counted attempt in the window, and those attempts. */
  tasks: z.number().int(),
  attempts: z.number().int(),
  passes: z.number().int(),
  passRate: nullableNumber,
  lower: nullableNumber,
  upper: nullableNumber,
  referenceRate: nullableNumber,
  change: nullableNumber,
  method: z.string(),
  p: nullableNumber,
  pAdjusted: nullableNumber,
  significant: z.boolean(),
});

export const breakdownBody = z.object({
  track: z.string(),
  alpha: z.number(),
  baseline: z.enum(['fixed', 'reference']).nullable(),
  repositoryGroupLimit: z.number().int(),
  groups: z.array(groupRow),
});

export function presentBreakdown(s: TrackSnapshot, alpha: number, only: z.infer<typeof breakdownQuery> = {}): z.infer<typeof breakdownBody> {
  const groups = s.breakdown
    .filter((g) => (only.window === undefined || g.window === only.window) && (only.dimension === undefined || g.dimension === only.dimension))
    .map((g) => ({
      window: g.window,
      dimension: g.dimension,
      group: g.group,
      tasks: g.tasks,
      attempts: g.n,
      passes: g.passes,
      passRate: finiteOrNull(g.estimate),
      lower: finiteOrNull(g.lower),
      upper: finiteOrNull(g.upper),
      referenceRate: finiteOrNull(g.referenceRate),
      change: finiteOrNull(g.change),
      method: g.method,
      p: finiteOrNull(g.p),
      pAdjusted: finiteOrNull(g.pAdjusted),
      significant: g.significant,
    }));
  return { track: s.track, alpha, baseline: s.regression.baseline?.kind ?? null, repositoryGroupLimit: REPOSITORY_GROUP_LIMIT, groups };
}

export default async function breakdownRoutes(app: FastifyInstance, opts: { ctx: App }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Params: z.infer<typeof trackParams>; Querystring: z.infer<typeof breakdownQuery> }>(
    '/api/tracks/:track/breakdown',
    {
      schema: {
        tags: ['tracks'],
        summary: 'Each window by language and by repository: pass rate, interval, change against the reference, Holm-adjusted p',
        description:
          'One row per window, dimension and group. A task\'s group is what its attempts stored (from the frozen suite, or the import); `unknown` ' +
          'when none did; repositories past `repositoryGroupLimit` are counted as `other`. `change` is the group\'s pass rate minus its reference ' +
          'rate (the pooled baseline rate of its tasks, or p0); `p` is the window test on the group\'s tasks alone, `pAdjusted` Holm across the ' +
          'groups of the dimension in that window. For diagnosis, never for paging.',
        params: jsonSchema(trackParams),
        querystring: jsonSchema(breakdownQuery),
        response: { 200: jsonSchema(breakdownBody), 400: jsonSchema(errorBody), 404: jsonSchema(errorBody) },
      },
    },
    async (req) => presentBreakdown(ctx.figures.snapshot(req.params.track), ctx.config.statistics.alpha, req.query),
  );
}
