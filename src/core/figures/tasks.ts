/**
 * Per-task history of a track (pure): for every task, its latest outcome, its reference figures and, per window, its
 * passes / attempts, how much it pushes the CUSUM, and whether it flipped. What GET /api/tracks/:track/tasks,
 * `agentdrift tasks --track NAME --history` and the agentdrift_task_* series serve (docs/statistics.md, "Per-task
 * history").
 *
 * The tasks: the frozen suite's (when there is one; tasks without attempts are listed too), the reference period's,
 * and every task attempted in the longest window (30d). So a track whose history was only imported, with no suite
 * frozen, lists the tasks of its stored attempts.
 *
 * How much a task pushes the CUSUM, in a window: the sum of the CUSUM's increments W_t = x_t ln R - ln(1 - p + R p)
 * (cusum.ts) over the task's counted attempts of the window that the CUSUM counts (ended after the baseline's
 * monitorFromMs), p being the task's baseline probability as the CUSUM takes it (baseline.ts taskProbability). The
 * statistic is S_t = max(0, S_{t-1} + W_t), so the pushes of the tasks add up to the window's share of the
 * log-likelihood ratio the CUSUM accumulates (before its floor at 0): a positive push moves it towards a page (a task
 * failed that was expected to pass), a negative one away from it. Null without a baseline.
 *
 * A flip (thresholds in statistics.flips): `broke` when the task was reliably solved in the reference period (at least
 * minReferenceTrials counted trials, pass rate >= solvedRate) and failed every counted attempt of the window (at least
 * minWindowAttempts); `fixed` the reverse (reference pass rate <= failingRate, every window attempt resolved). Only
 * against a reference period: a fixed p0 says nothing of a single task.
 */
import type { Config } from '../../config/index.ts';
import type { AttemptFacts, BaselineRow } from '../../domain/records.ts';
import type { Outcome } from '../../domain/types.ts';
import { cusumWeight, taskProbability, type Baseline } from '../../stats/index.ts';
import { toStatsBaseline } from '../baselines/baseline.ts';
import { WINDOWS, type WindowName, type WindowSelection } from './windows.ts';

export type FlipRule = Config['statistics']['flips'];
export type Flip = 'broke' | 'fixed';

/** A task's latest counted attempt (infra errors left out: they say nothing of the agent). */
export interface LatestOutcome {
  taskId: string;
  outcome: Exclude<Outcome, 'infra_error'>;
  endedAtMs: number;
  runId: number;
}

export interface TaskWindowFigures {
  window: WindowName;
  /** Counted attempts (every outcome but infra_error) of the window's runs, and how many resolved. */
  attempts: number;
  passes: number;
  infraErrors: number;
  passRate: number | null;
  /** Sum of the CUSUM increments of the task's attempts in the window that the CUSUM counts; null without a baseline. */
  cusumPush: number | null;
  /** How many attempts that sum is over (those that ended after the baseline's monitorFromMs). */
  cusumAttempts: number;
  flip: Flip | null;
}

export interface TaskFigures {
  taskId: string;
  /** Whether the task is in the track's frozen suite (false for every task while none is frozen). */
  inSuite: boolean;
  latest: LatestOutcome | null;
  /** The task's counted trials in the reference period and their pass rate; null without a reference or a trial. */
  reference: { passes: number; trials: number; rate: number } | null;
  /** The baseline probability the CUSUM uses for the task (posterior mean, or p0); null without a baseline. */
  baselineProbability: number | null;
  windows: TaskWindowFigures[];
}

export interface TaskHistory {
  suiteFrozen: boolean;
  baseline: 'fixed' | 'reference' | null;
  flipRule: FlipRule;
  /** Every task, by task id. */
  tasks: TaskFigures[];
}

export interface TaskHistoryInput {
  /** The frozen suite's task ids, null while none is frozen. */
  suiteTaskIds: readonly string[] | null;
  selections: readonly WindowSelection[];
  latest: readonly LatestOutcome[];
  baseline: BaselineRow | null;
  oddsRatio: number;
  flips: FlipRule;
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function computeTaskHistory(input: TaskHistoryInput): TaskHistory {
  const row = input.baseline;
  const stats: Baseline | null = row ? toStatsBaseline(row) : null;
  const referenceCounts = row?.kind === 'reference' ? (row.perTask ?? {}) : {};
  const ids = new Set<string>(input.suiteTaskIds ?? []);
  for (const id of Object.keys(referenceCounts)) ids.add(id);
  const longest = input.selections.find((s) => s.window === WINDOWS[WINDOWS.length - 1]!.name);
  for (const a of longest?.facts ?? []) ids.add(a.taskId);

  const suite = new Set(input.suiteTaskIds ?? []);
  const latest = new Map(input.latest.map((l) => [l.taskId, l]));
  const monitorFrom = row ? row.monitorFromMs : Infinity;
  // Each window's attempts by task, once (a task's figures then read only its own attempts).
  const perWindow = input.selections.map((w) => {
    const m = new Map<string, AttemptFacts[]>();
    for (const a of w.facts) {
      const list = m.get(a.taskId);
      if (list) list.push(a);
      else m.set(a.taskId, [a]);
    }
    return { window: w.window, byTask: m };
  });
  const tasks = [...ids].sort(byId).map((taskId): TaskFigures => {
    const c = referenceCounts[taskId];
    const reference = c && c.trials > 0 ? { passes: c.passes, trials: c.trials, rate: c.passes / c.trials } : null;
    const p = stats ? taskProbability(stats, taskId) : null;
    const windows = perWindow.map((w): TaskWindowFigures => {
      let attempts = 0;
      let passes = 0;
      let infraErrors = 0;
      let push = 0;
      let pushed = 0;
      for (const a of w.byTask.get(taskId) ?? []) {
        if (a.outcome === 'infra_error') {
          infraErrors++;
          continue;
        }
        attempts++;
        const success = a.outcome === 'resolved';
        if (success) passes++;
        if (p !== null && a.endedAtMs > monitorFrom) {
          push += cusumWeight(success, p, input.oddsRatio);
          pushed++;
        }
      }
      return {
        window: w.window,
        attempts,
        passes,
        infraErrors,
        passRate: attempts > 0 ? passes / attempts : null,
        cusumPush: p === null ? null : push,
        cusumAttempts: pushed,
        flip: flipOf(reference, attempts, passes, input.flips),
      };
    });
    return { taskId, inSuite: suite.has(taskId), latest: latest.get(taskId) ?? null, reference, baselineProbability: p, windows };
  });
  return { suiteFrozen: input.suiteTaskIds !== null, baseline: row ? row.kind : null, flipRule: input.flips, tasks };
}

/** The flip rule (see the head of this file). */
export function flipOf(reference: { trials: number; rate: number } | null, attempts: number, passes: number, rule: FlipRule): Flip | null {
  if (!reference || reference.trials < rule.minReferenceTrials || attempts < rule.minWindowAttempts) return null;
  if (reference.rate >= rule.solvedRate && passes === 0) return 'broke';
  if (reference.rate <= rule.failingRate && passes === attempts) return 'fixed';
  return null;
}

/** One task's figures in one window (the task is in every window, with zero attempts where it has none). */
export function taskWindow(t: TaskFigures, window: WindowName): TaskWindowFigures | null {
  return t.windows.find((w) => w.window === window) ?? null;
}

/**
 * The tasks ordered by how much they push the CUSUM in the window (most first), then by failed attempts in the
 * window (most first), then by task id. Without a baseline every push is null: failures, then id, decide.
 */
export function orderTasks(tasks: readonly TaskFigures[], window: WindowName): TaskFigures[] {
  const key = (t: TaskFigures) => {
    const w = taskWindow(t, window);
    return { push: w?.cusumPush ?? -Infinity, failures: w ? w.attempts - w.passes : 0 };
  };
  return [...tasks]
    .map((t) => ({ t, k: key(t) }))
    .sort((a, b) => b.k.push - a.k.push || b.k.failures - a.k.failures || byId(a.t.taskId, b.t.taskId))
    .map((x) => x.t);
}
