/**
 * GET /api/tracks/:track/tasks?window=7d: the per-task history of a track (src/core/figures/tasks.ts), every task with
 * its reference and window figures, ordered by how much it pushes the CUSUM, flips marked. From the precomputed
 * snapshot, like the other track routes; `agentdrift tasks --track NAME --flips --json` prints the same body.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { TrackSnapshot } from '../../../core/figures/snapshot.ts';
import { orderTasks, taskWindow } from '../../../core/figures/tasks.ts';
import { WINDOWS, type WindowName } from '../../../core/figures/windows.ts';
import { finiteOrNull, isoOrNull } from '../../../domain/values.ts';
import { errorBody, jsonSchema, trackParams } from '../schema.ts';

const WINDOW_NAMES = WINDOWS.map((w) => w.name) as [WindowName, ...WindowName[]];

export const tasksQuery = z.object({
  window: z.enum(WINDOW_NAMES).default('7d').describe('The window of the figures: 1d, 7d (default) or 30d.'),
});

const flip = z.enum(['broke', 'fixed']).nullable();

const taskRow = z.object({
  taskId: z.string(),
  /** In the frozen suite (false for every task while none is frozen). */
  inSuite: z.boolean(),
  latest: z.object({ outcome: z.string(), endedAt: z.string(), runId: z.number().int() }).nullable(),
  reference: z.object({ passes: z.number().int(), trials: z.number().int(), rate: z.number() }).nullable(),
  baselineProbability: z.number().nullable(),
  attempts: z.number().int(),
  passes: z.number().int(),
  infraErrors: z.number().int(),
  passRate: z.number().nullable(),
  cusumPush: z.number().nullable(),
  cusumAttempts: z.number().int(),
  flip,
});

export const taskHistoryBody = z.object({
  track: z.string(),
  window: z.string(),
  /** The window's calendar days and runs; null while the track has no finished run. */
  span: z.object({ firstDay: z.string(), lastDay: z.string(), from: z.string(), to: z.string(), runs: z.number().int() }).nullable(),
  suiteFrozen: z.boolean(),
  baseline: z.enum(['fixed', 'reference']).nullable(),
  flipRule: z.object({ solvedRate: z.number(), failingRate: z.number(), minReferenceTrials: z.number().int(), minWindowAttempts: z.number().int() }),
  flips: z.object({ broke: z.number().int(), fixed: z.number().int() }),
  tasks: z.array(taskRow),
});

export type TaskHistoryBody = z.infer<typeof taskHistoryBody>;

/** The body of GET /api/tracks/:track/tasks for one window of a snapshot. */
export function presentTaskHistory(s: TrackSnapshot, window: WindowName): TaskHistoryBody {
  const h = s.tasks;
  const w = s.windows.find((x) => x.window === window);
  const tasks = orderTasks(h.tasks, window).map((t) => {
    const f = taskWindow(t, window);
    return {
      taskId: t.taskId,
      inSuite: t.inSuite,
      latest: t.latest ? { outcome: t.latest.outcome, endedAt: isoOrNull(t.latest.endedAtMs) as string, runId: t.latest.runId } : null,
      reference: t.reference,
      baselineProbability: t.baselineProbability === null ? null : finiteOrNull(t.baselineProbability),
      attempts: f?.attempts ?? 0,
      passes: f?.passes ?? 0,
      infraErrors: f?.infraErrors ?? 0,
      passRate: f?.passRate ?? null,
      cusumPush: f?.cusumPush == null ? null : finiteOrNull(f.cusumPush),
      cusumAttempts: f?.cusumAttempts ?? 0,
      flip: f?.flip ?? null,
    };
  });
  return {
    track: s.track,
    window,
    span: w ? { firstDay: w.firstDay, lastDay: w.lastDay, from: isoOrNull(w.fromMs) as string, to: isoOrNull(w.toMs) as string, runs: w.runs } : null,
    suiteFrozen: h.suiteFrozen,
    baseline: h.baseline,
    flipRule: h.flipRule,
    flips: { broke: tasks.filter((t) => t.flip === 'broke').length, fixed: tasks.filter((t) => t.flip === 'fixed').length },
    tasks,
  };
}

export default async function taskRoutes(app: FastifyInstance, opts: { ctx: App }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Params: z.infer<typeof trackParams>; Querystring: z.infer<typeof tasksQuery> }>(
    '/api/tracks/:track/tasks',
    {
      schema: {
        tags: ['tracks'],
        summary: 'Per-task history: every task with its reference and window figures, ordered by how much it pushes the CUSUM, flips marked',
        description:
          'Tasks are the frozen suite\'s (when there is one), the reference period\'s and those attempted in the 30d window. `cusumPush` is the sum of ' +
          'the CUSUM increments of the task\'s attempts in the window (those after the baseline was set): positive pushes towards a page. `flip` is ' +
          '`broke` (reliably solved in the reference, every attempt of the window failed) or `fixed` (the reverse), by `flipRule` (statistics.flips).',
        params: jsonSchema(trackParams),
        querystring: jsonSchema(tasksQuery),
        response: { 200: jsonSchema(taskHistoryBody), 400: jsonSchema(errorBody), 404: jsonSchema(errorBody) },
      },
    },
    async (req) => presentTaskHistory(ctx.figures.snapshot(req.params.track), req.query.window),
  );
}
