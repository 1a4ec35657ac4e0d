/**
 * Imported histories for the "Where and how" dashboard's tests: 24 daily runs of 50 tasks (helpers/history.ts), the
 * first 14 days the automatic baseline's reference period, each task in one of five repositories of the four
 * languages, and a behaviour per attempt. Over the last 7 days (the 7d window) the tasks of one repository fail
 * every attempt after passing every reference attempt (they break), one task of another repository passes every
 * attempt after failing every reference attempt (it is fixed), and the agent reads `readsFactor` times as many files
 * before its first edit; the other tasks keep their seeded pass probabilities.
 */
import type { AttemptBehaviour } from '../../src/domain/behaviour.ts';
import { createRng } from '../../src/stats/rng.ts';
import { generateRuns, type HistoryRun } from '../helpers/history.ts';

export const DAYS = 24;
export const REFERENCE_DAYS = 14;
/** First day of the 7d window (the last 7 runs). */
export const WINDOW_FROM_DAY = DAYS - 7;

/** The suite's repositories and their languages: task i is in REPOSITORIES[i % 5]. */
export const REPOSITORIES = [
  { repository: 'navidrome/navidrome', language: 'go' },
  { repository: 'ansible/ansible', language: 'python' },
  { repository: 'qutebrowser/qutebrowser', language: 'python' },
  { repository: 'NodeBB/NodeBB', language: 'js' },
  { repository: 'element-hq/element-web', language: 'ts' },
] as const;

export interface DiagnosisHistoryOptions {
  seed: number;
  /** Index in REPOSITORIES of the repository whose tasks break. */
  breaking: number;
  /** The task that is fixed (its repository must not be the breaking one). */
  fixedTask: number;
  /** Reads before the first edit are multiplied by this in the 7d window. */
  readsFactor: number;
}

export const taskId = (i: number) => `task-${String(i).padStart(3, '0')}`;
export const repositoryOf = (i: number) => REPOSITORIES[i % REPOSITORIES.length] as (typeof REPOSITORIES)[number];

export function diagnosisHistory(o: DiagnosisHistoryOptions): HistoryRun[] {
  const start = new Date(Date.now() - (DAYS + 1) * 86_400_000).toISOString();
  const rng = createRng(o.seed * 31 + 7);
  return generateRuns({ seed: o.seed, days: DAYS, start }).map((run, day) => ({
    ...run,
    attempts: run.attempts.map((a, i) => {
      const breaks = i % REPOSITORIES.length === o.breaking;
      const fixed = i === o.fixedTask;
      let outcome = a.outcome;
      if (breaks || fixed) {
        if (day < REFERENCE_DAYS) outcome = breaks ? 'resolved' : 'unresolved';
        else if (day >= WINDOW_FROM_DAY) outcome = breaks ? 'unresolved' : 'resolved';
      }
      const base = 4.6 + (4 * i) / 49;
      const factor = day >= WINDOW_FROM_DAY ? o.readsFactor : 1;
      const readsBefore = Math.max(0, Math.round(base * factor + (rng.next() - 0.5) * 2));
      const readsAfter = Math.floor(3 * rng.next());
      const edits = 1 + Math.floor(3 * rng.next());
      const bash = 5 + Math.floor(10 * rng.next());
      const behaviour: AttemptBehaviour = {
        toolCalls: { Read: readsBefore + readsAfter, Edit: edits, Bash: bash, ...(rng.next() < 0.3 ? { other: 1 } : {}) },
        fileReads: readsBefore + readsAfter,
        readsBeforeFirstEdit: readsBefore,
        fileEdits: edits,
        thinkingChars: Math.round(3000 + 2000 * rng.next()),
        thinkingBlocks: 3 + Math.floor(4 * rng.next()),
        thinkingTokens: Math.round(800 + 500 * rng.next()),
        apiRetries: rng.next() < 0.1 ? 1 : 0,
        apiErrors: 0,
        patchFiles: 1 + Math.floor(2 * rng.next()),
        patchLinesAdded: 5 + Math.floor(20 * rng.next()),
        patchLinesRemoved: 2 + Math.floor(10 * rng.next()),
      };
      return { ...a, outcome, ...repositoryOf(i), behaviour };
    }),
  }));
}

/** Mean of reads before the first edit over the attempts of the given days (every attempt here has one). */
export function meanReadsBeforeFirstEdit(runs: HistoryRun[], fromDay: number, toDay: number): number {
  const values = runs.slice(fromDay, toDay + 1).flatMap((r) => r.attempts.map((a) => (a.behaviour as AttemptBehaviour).readsBeforeFirstEdit as number));
  return values.reduce((s, v) => s + v, 0) / values.length;
}
