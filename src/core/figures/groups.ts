/**
 * The breakdown of each window by group (pure): per language and per repository of the tasks, the pass rate with its
 * Wilson interval, the change against the group's reference rate, and the window test on the group's tasks alone,
 * Holm-adjusted across the groups of a dimension (stats/groups.ts; docs/statistics.md). For diagnosis and warnings:
 * the paging alarm stays the track's CUSUM.
 *
 * A task's group is what its attempts stored (the runner takes it from the frozen suite's task, an import from the
 * attempt's `repository` and `language`): the latest attempt of the task that names one (store.attempts.taskGroups).
 * A task none of whose attempts names one is in the group `unknown`. Every group label is bounded: the four languages
 * and `unknown`; at most REPOSITORY_GROUP_LIMIT repositories (those with the most tasks, then by name), the others
 * counted together as `other`, and `unknown`.
 */
import type { Config } from '../../config/index.ts';
import type { BaselineRow } from '../../domain/records.ts';
import { LANGUAGES, type Language } from '../../domain/types.ts';
import { evaluateGroups, restrictBaseline, type GroupResult, type TaskCount } from '../../stats/index.ts';
import { toStatsBaseline } from '../baselines/baseline.ts';
import type { WindowName, WindowSelection } from './windows.ts';

export const GROUP_DIMENSIONS = ['language', 'repository'] as const;
export type GroupDimension = (typeof GROUP_DIMENSIONS)[number];

/** The group of the tasks whose attempts name no language (or no repository). */
export const UNKNOWN_GROUP = 'unknown';
/** The repositories past REPOSITORY_GROUP_LIMIT, counted together. */
export const OTHER_GROUP = 'other';
/**
 * The most repositories that get a group of their own (SWE-Bench-Pro's public set has 11): it bounds the `group`
 * label of the repository dimension at this many values plus `other` and `unknown`.
 */
export const REPOSITORY_GROUP_LIMIT = 30;

/** Each task's stored repository and language; a task missing from a map is `unknown` in that dimension. */
export interface TaskGroups {
  repository: ReadonlyMap<string, string>;
  language: ReadonlyMap<string, Language>;
}

export interface GroupFigures extends Omit<GroupResult, 'group'> {
  window: WindowName;
  dimension: GroupDimension;
  group: string;
  /** Tasks of the group with a counted attempt in the window. */
  tasks: number;
}

export interface BreakdownInput {
  selections: readonly WindowSelection[];
  /** The baseline in force (RegressionFigures.baseline), null while there is none: then no change and no test. */
  baseline: BaselineRow | null;
  groups: TaskGroups;
  statistics: Pick<Config['statistics'], 'alpha' | 'confidence'>;
}

/**
 * One entry per window, dimension and group, windows in their order, then language before repository, groups in a
 * fixed order (languages as LANGUAGES lists them, repositories by name, then `other`, then `unknown`). A dimension
 * lists the groups of every task seen in any window or in the reference, in every window (one with no attempt in a
 * window has n = 0 and NaN figures there), so the series of a group do not come and go with the windows.
 */
export function computeBreakdown(input: BreakdownInput): GroupFigures[] {
  const { selections, baseline: row } = input;
  if (!selections.length) return [];
  const baseline = row ? toStatsBaseline(row) : null;
  // The attempts each window's test uses (evaluate.ts): counted ones (infra errors out) and, against a reference
  // period, only those that ended after it, so that no attempt is in both rows of a task's table.
  const notBefore = row?.kind === 'reference' ? row.monitorFromMs : -Infinity;
  const perWindow = selections.map((w) => ({ window: w.window, perTask: tally(w.facts.filter((a) => a.outcome !== 'infra_error' && a.endedAtMs > notBefore)) }));
  const seen = new Set<string>();
  for (const w of perWindow) for (const id of w.perTask.keys()) seen.add(id);
  if (row?.kind === 'reference') for (const id of Object.keys(row.perTask ?? {})) seen.add(id);

  const out: GroupFigures[] = [];
  for (const dimension of GROUP_DIMENSIONS) {
    const groupOf = labeller(dimension, input.groups, seen);
    const names = orderGroups(dimension, new Set([...seen].map(groupOf)));
    const restricted = new Map(names.map((g) => [g, baseline ? restrictBaseline(baseline, (id) => groupOf(id) === g) : null]));
    for (const w of perWindow) {
      const byGroup = new Map<string, Map<string, TaskCount>>(names.map((g) => [g, new Map()]));
      for (const [id, c] of w.perTask) byGroup.get(groupOf(id))?.set(id, c);
      const results = evaluateGroups(
        names.map((g) => ({ group: g, perTask: byGroup.get(g) as Map<string, TaskCount>, baseline: restricted.get(g) ?? null })),
        input.statistics,
      );
      results.forEach((r, i) => out.push({ ...r, window: w.window, dimension, group: names[i] as string, tasks: (byGroup.get(names[i] as string) as Map<string, TaskCount>).size }));
    }
  }
  return out;
}

/**
 * The tasks whose groups the breakdown needs (store.attempts.taskGroups): those of every window's attempts and, against
 * a reference period, its tasks. A superset of computeBreakdown's own (which leaves out infra errors) is harmless.
 */
export function breakdownTaskIds(selections: readonly WindowSelection[], baseline: BaselineRow | null): Set<string> {
  const ids = new Set<string>();
  for (const w of selections) for (const a of w.facts) ids.add(a.taskId);
  if (baseline?.kind === 'reference') for (const id of Object.keys(baseline.perTask ?? {})) ids.add(id);
  return ids;
}

/** The group of each task in one dimension; repositories past the limit become `other`. */
function labeller(dimension: GroupDimension, groups: TaskGroups, tasks: ReadonlySet<string>): (taskId: string) => string {
  if (dimension === 'language') return (id) => groups.language.get(id) ?? UNKNOWN_GROUP;
  const taskCount = new Map<string, number>();
  for (const id of tasks) {
    const repo = groups.repository.get(id);
    if (repo !== undefined) taskCount.set(repo, (taskCount.get(repo) ?? 0) + 1);
  }
  const kept = new Set(
    [...taskCount]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, REPOSITORY_GROUP_LIMIT)
      .map(([repo]) => repo),
  );
  return (id) => {
    const repo = groups.repository.get(id);
    return repo === undefined ? UNKNOWN_GROUP : kept.has(repo) ? repo : OTHER_GROUP;
  };
}

const LANGUAGE_ORDER: readonly string[] = LANGUAGES;

function orderGroups(dimension: GroupDimension, names: ReadonlySet<string>): string[] {
  const rank = (g: string) => (g === UNKNOWN_GROUP ? 2 : g === OTHER_GROUP ? 1 : 0);
  return [...names].sort((a, b) => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (dimension === 'language') return LANGUAGE_ORDER.indexOf(a) - LANGUAGE_ORDER.indexOf(b);
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function tally(facts: readonly { taskId: string; outcome: string }[]): Map<string, TaskCount> {
  const m = new Map<string, TaskCount>();
  for (const a of facts) {
    const c = m.get(a.taskId) ?? { passes: 0, trials: 0 };
    c.trials++;
    if (a.outcome === 'resolved') c.passes++;
    m.set(a.taskId, c);
  }
  return m;
}
