/**
 * Seeded synthetic histories in the import format: N tasks a day with heterogeneous pass probabilities, and an
 * optional drop from a given day on (shift on each task's probability, floored at 0).
 */
import { createRng, sampleBeta } from '../../src/stats/rng.ts';

export interface HistoryOptions {
  seed: number;
  days: number;
  tasks?: number;
  /** Mean pass probability of the tasks (Beta distributed, default 0.55). */
  mean?: number;
  /** From this day index on, every task's probability drops by `drop` (absolute, e.g. 0.2). */
  dropFromDay?: number;
  drop?: number;
  start?: string;
  /** Cost and tokens multiply by this factor from dropFromDay on (usage regressions). */
  usageFactor?: number;
}

export interface HistoryRun {
  startedAt: string;
  endedAt: string;
  state: 'completed';
  agentVersion: string;
  modelId: string;
  attempts: Record<string, unknown>[];
}

export function taskProbabilities(seed: number, tasks: number, mean: number): number[] {
  const rng = createRng(seed * 7919 + 1);
  const k = 4; // Beta(mean*k, (1-mean)*k): wide spread across tasks, as on SWE-Bench-Pro
  return Array.from({ length: tasks }, () => sampleBeta(rng, mean * k, (1 - mean) * k));
}

export function generateRuns(o: HistoryOptions): HistoryRun[] {
  const tasks = o.tasks ?? 50;
  const probs = taskProbabilities(o.seed, tasks, o.mean ?? 0.55);
  const rng = createRng(o.seed);
  const start = Date.parse(o.start ?? '2026-01-01T03:00:00Z');
  const runs: HistoryRun[] = [];
  for (let d = 0; d < o.days; d++) {
    const dropped = o.dropFromDay !== undefined && d >= o.dropFromDay;
    const t0 = start + d * 86_400_000;
    const attempts = probs.map((p, i) => {
      const q = dropped ? Math.max(0, p - (o.drop ?? 0)) : p;
      const f = dropped ? (o.usageFactor ?? 1) : 1;
      const ended = t0 + (i + 1) * 60_000;
      return {
        taskId: `task-${String(i).padStart(3, '0')}`,
        outcome: rng.next() < q ? 'resolved' : 'unresolved',
        inputTokens: Math.round(f * (50_000 + 10_000 * rng.next())),
        outputTokens: Math.round(f * (5_000 + 1_000 * rng.next())),
        costUsd: Math.round(f * (1 + 0.2 * rng.next()) * 1e6) / 1e6,
        turns: 20 + Math.floor(10 * rng.next()),
        toolCalls: 30 + Math.floor(10 * rng.next()),
        agentDurationMs: Math.round(120_000 + 60_000 * rng.next()),
        startedAt: new Date(ended - 50_000).toISOString(),
        endedAt: new Date(ended).toISOString(),
      };
    });
    runs.push({ startedAt: new Date(t0).toISOString(), endedAt: new Date(t0 + (tasks + 1) * 60_000).toISOString(), state: 'completed', agentVersion: '2.1.0', modelId: 'synthetic', attempts });
  }
  return runs;
}

export function historyDocument(runs: HistoryRun[]): string {
  return JSON.stringify({ format: 'agentdrift-history/1', runs });
}
