/**
 * The "Where and how" dashboard, as code (@grafana/grafana-foundation-sdk, pinned): where the agent got worse and how,
 * for the person the overview's page woke up. One track at a time, the same variables as the overview (`datasource`,
 * `track`, `window`):
 *
 *  - Tasks: each task's latest outcome over time (a state timeline, one row per task), the flip list (tasks reliably
 *    solved in the reference that fail every attempt now, and the reverse), the tasks that push the CUSUM most, and
 *    every task with its reference and window figures. From the agentdrift_task_* series, which exist for the 7d window
 *    only (TASK_SERIES_WINDOW in src/adapters/metrics/exporter.ts), so these panels ignore `$window`.
 *  - By language and by repository: pass rate with its Wilson interval, change against the group's reference and the
 *    Holm-adjusted p of each group (agentdrift_group_*), and the change over time.
 *  - Behaviour: each behaviour metric's window mean against its reference mean, the per-task ratio, the paired test's
 *    Holm-adjusted p and verdict, and tool calls by tool (agentdrift_behaviour_*, agentdrift_tool_calls_mean).
 *
 * `npm run monitoring:build` writes grafana/dashboards/agentdrift-diagnosis.json; the tests check that the committed
 * JSON is what this builds and run every query against a real Prometheus scraping a real agentdrift daemon.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DEFAULT_MONITORING_CONFIG, type DashboardSettings } from '../../monitoring/config.ts';
import { BEHAVIOUR_METRICS, type BehaviourMetric } from '../../src/domain/behaviour.ts';
import { DASHBOARD_UID as OVERVIEW_UID, DIAGNOSIS_UID } from './dashboard.ts';
import {
  agentdriftDashboard,
  bars,
  dashboardLink,
  keyedTable,
  noYes,
  numberPanels,
  series,
  single,
  states,
  steps,
  T,
  TW,
  valueText,
  type Column,
} from './panels.ts';

export { DIAGNOSIS_UID };

/** The window of the agentdrift_task_window_* series (the exporter's TASK_SERIES_WINDOW; a test checks they agree). */
export const TASK_WINDOW = '7d';
const TT = `track="$track",window="${TASK_WINDOW}"`;

/** agentdrift_task_latest_outcome's values (the exporter's LATEST_OUTCOME_CODE; a test checks they agree). */
export const OUTCOME_CODES = { resolved: 1, unresolved: 0, agent_error: -1, timeout: -2 } as const;

const outcomes = valueText({
  [OUTCOME_CODES.resolved]: ['resolved', 'green'],
  [OUTCOME_CODES.unresolved]: ['unresolved', 'red'],
  [OUTCOME_CODES.agent_error]: ['agent error', 'orange'],
  [OUTCOME_CODES.timeout]: ['timeout', 'purple'],
});
const flips = valueText({ '1': ['broke', 'red'], '-1': ['fixed', 'green'], '0': ['no', 'text'] });

/** How each behaviour metric is titled and shown (every metric of BEHAVIOUR_METRICS gets a panel). */
export const BEHAVIOUR_PANELS: Record<BehaviourMetric, { title: string; unit: string }> = {
  reads_before_first_edit: { title: 'Reads before the first edit', unit: 'short' },
  file_reads: { title: 'File reads', unit: 'short' },
  file_edits: { title: 'File edits', unit: 'short' },
  thinking_chars: { title: 'Thinking characters', unit: 'short' },
  thinking_tokens: { title: 'Thinking tokens', unit: 'short' },
  api_error_turns: { title: 'API error turns (retries and errors)', unit: 'short' },
  patch_files: { title: 'Files in the patch', unit: 'short' },
  patch_lines_added: { title: 'Patch lines added', unit: 'short' },
  patch_lines_removed: { title: 'Patch lines removed', unit: 'short' },
};

/** One series per key of the track: `max by (track, <key>)` (one daemon per track; the max only drops __name__, job, instance). */
const byKey = (key: string, expr: string) => `max by (track, ${key}) (${expr})`;

/** Tasks that flipped in the task window, as the right-hand side of an `and`. */
const FLIPPED = `(agentdrift_task_flip{${TT}} != 0)`;

function groupRows(d: dashboard.DashboardBuilder, dimension: 'language' | 'repository', heading: string, what: string): void {
  const sel = `${TW},dimension="${dimension}"`;
  const col = (name: string, metric: string, extra: Partial<Column> = {}): Column => ({ name, expr: byKey('group', `${metric}{${sel}}`), ...extra });
  d.withRow(new dashboard.RowBuilder(`${heading} ($window)`))
    .withPanel(
      keyedTable({
        title: `Pass rate by ${dimension} ($window)`,
        description:
          `Each ${what} of the track's tasks in the window: pass rate with its Wilson interval, change against the group's reference rate ` +
          '(pooled baseline rate of its tasks, or p0; negative is worse), the one-sided p of the window test on its tasks alone, Holm-adjusted ' +
          `across the ${dimension}s, and whether it is below alpha. Worst change first. For diagnosis: only the CUSUM pages.`,
        key: 'group',
        columns: [
          col('pass rate', 'agentdrift_group_pass_rate', { unit: 'percentunit', decimals: 1 }),
          col('lower', 'agentdrift_group_pass_rate_lower', { unit: 'percentunit', decimals: 1 }),
          col('upper', 'agentdrift_group_pass_rate_upper', { unit: 'percentunit', decimals: 1 }),
          col('change', 'agentdrift_group_change', { unit: 'percentunit', decimals: 1 }),
          col('p (Holm)', 'agentdrift_group_p_value', { unit: 'sci', decimals: 1 }),
          col('significant', 'agentdrift_group_significant', { mappings: noYes }),
          col('attempts', 'agentdrift_group_attempts', { decimals: 0 }),
        ],
        sortBy: { column: 'change', desc: false },
        w: 14,
        h: 9,
      }),
    )
    .withPanel(
      series({
        title: `Change against the reference, by ${dimension} ($window)`,
        description: `Pass rate of each ${what} in the window minus its reference rate, at each run (negative: worse).`,
        queries: [{ expr: `agentdrift_group_change{${sel}}`, legend: '{{group}}' }],
        unit: 'percentunit',
        w: 10,
        h: 9,
      }),
    );
}

export function buildDiagnosis(settings: DashboardSettings = DEFAULT_MONITORING_CONFIG.dashboards): dashboard.Dashboard {
  const d = agentdriftDashboard({
    title: 'agentdrift / Where and how',
    uid: DIAGNOSIS_UID,
    description:
      'Where one agentdrift track got worse (tasks, languages, repositories) and how (what the agent did differently). Generated from ' +
      'grafana/src/diagnosis.ts: edit that file, not the JSON.',
    settings,
  }).link(dashboardLink('Overview', OVERVIEW_UID, 'Pass rate, regression statistics, usage and runs of the track'));

  // ---- Now ----------------------------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Now'))
    .withPanel(
      single({
        title: `Tasks that broke (${TASK_WINDOW})`,
        description: `Tasks reliably solved in the reference period whose every attempt of the ${TASK_WINDOW} window failed (statistics.flips).`,
        queries: [{ expr: `count(agentdrift_task_flip{${TT}} == 1) or vector(0)` }],
        thresholds: steps([null, 'green'], [1, 'red']),
      }),
    )
    .withPanel(
      single({
        title: `Tasks that were fixed (${TASK_WINDOW})`,
        description: `Tasks reliably failing in the reference period whose every attempt of the ${TASK_WINDOW} window passed.`,
        queries: [{ expr: `count(agentdrift_task_flip{${TT}} == -1) or vector(0)` }],
        thresholds: steps([null, 'text'], [1, 'green']),
      }),
    )
    .withPanel(
      single({
        title: 'Language that fell most ($window)',
        description: 'The language whose pass rate fell most against its reference in the window (the page names it for 7d).',
        queries: [{ expr: `bottomk(1, agentdrift_group_change{${TW},dimension="language"} < 0)`, legend: '{{group}}' }],
        unit: 'percentunit',
        decimals: 1,
        withName: true,
        noValue: 'none fell',
      }),
    )
    .withPanel(
      single({
        title: 'Repository that fell most ($window)',
        description: 'The repository whose pass rate fell most against its reference in the window (the page names it for 7d).',
        queries: [{ expr: `bottomk(1, agentdrift_group_change{${TW},dimension="repository"} < 0)`, legend: '{{group}}' }],
        unit: 'percentunit',
        decimals: 1,
        withName: true,
        noValue: 'none fell',
      }),
    )
    .withPanel(
      single({
        title: 'Groups significantly down ($window)',
        description: 'Languages and repositories whose Holm-adjusted p (across the groups of their dimension) is below alpha.',
        queries: [{ expr: `count(agentdrift_group_significant{${TW}} == 1) or vector(0)` }],
        thresholds: steps([null, 'green'], [1, 'orange']),
      }),
    )
    .withPanel(
      single({
        title: 'Behaviour metrics changed ($window)',
        description: 'Behaviour metrics that changed significantly (Holm) and beyond statistics.behaviourRatioThreshold, either way; over 7d or 30d AgentDriftBehaviourChange warns.',
        queries: [{ expr: `count(agentdrift_behaviour_change_significant{${TW}} == 1) or vector(0)` }],
        thresholds: steps([null, 'green'], [1, 'orange']),
      }),
    );

  // ---- Tasks --------------------------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder(`Tasks (${TASK_WINDOW})`))
    .withPanel(
      states({
        title: 'Task outcomes per day',
        description:
          'One row per task: the outcome of its latest counted attempt (infra errors left out) as it changed run by run, so a day is a column ' +
          'and a task that stopped passing turns red from the run it broke in.',
        queries: [{ expr: `agentdrift_task_latest_outcome{${T}}`, legend: '{{task}}' }],
        mappings: outcomes,
        thresholds: steps([null, 'red'], [1, 'green']),
        interval: '1h',
        w: 24,
        h: 18,
      }),
    )
    .withPanel(
      keyedTable({
        title: `Flips (${TASK_WINDOW})`,
        description:
          `broke: reliably solved in the reference period (pass rate >= statistics.flips.solvedRate) and every attempt of the ${TASK_WINDOW} ` +
          'window failed; fixed: the reverse. With the reference pass rate, the window\'s passes / attempts and the CUSUM push. Only against a ' +
          'reference period (a fixed p0 says nothing of one task).',
        key: 'task',
        columns: [
          { name: 'flip', expr: byKey('task', FLIPPED), mappings: flips },
          { name: 'reference pass rate', expr: byKey('task', `agentdrift_task_reference_rate{${T}} and on (track, task) ${FLIPPED}`), unit: 'percentunit', decimals: 0 },
          { name: 'passes', expr: byKey('task', `agentdrift_task_window_passes{${TT}} and on (track, task) ${FLIPPED}`), decimals: 0 },
          { name: 'attempts', expr: byKey('task', `agentdrift_task_window_attempts{${TT}} and on (track, task) ${FLIPPED}`), decimals: 0 },
          { name: 'CUSUM push', expr: byKey('task', `agentdrift_task_cusum_push{${TT}} and on (track, task) ${FLIPPED}`), decimals: 2 },
        ],
        sortBy: { column: 'CUSUM push', desc: true },
        w: 12,
        h: 10,
      }),
    )
    .withPanel(
      bars({
        title: `CUSUM push by task (${TASK_WINDOW}), largest first`,
        description:
          `The 20 tasks whose attempts of the ${TASK_WINDOW} window pushed the CUSUM most towards a page: the sum of their increments ` +
          '(a failure of a task expected to pass adds up to -ln R, 0.40 at R = 0.67). Tasks that pushed it away are left out.',
        queries: [{ expr: `sort_desc(topk(20, agentdrift_task_cusum_push{${TT}} > 0))`, legend: '{{task}}' }],
        min: 0,
        noValue: 'no task pushes towards a page',
        thresholds: steps([null, 'orange'], [2, 'red']),
        w: 12,
        h: 10,
      }),
    )
    .withPanel(
      keyedTable({
        title: `Every task (${TASK_WINDOW}), by CUSUM push`,
        description:
          `Every task of the track with its latest outcome, its reference pass rate, its passes / attempts in the ${TASK_WINDOW} window and its ` +
          'push on the CUSUM, largest first: the table of GET /api/tracks/:track/tasks?window=7d and agentdrift tasks --flips.',
        key: 'task',
        columns: [
          { name: 'CUSUM push', expr: byKey('task', `agentdrift_task_cusum_push{${TT}}`), decimals: 2 },
          { name: 'latest outcome', expr: byKey('task', `agentdrift_task_latest_outcome{${T}}`), mappings: outcomes },
          { name: 'reference pass rate', expr: byKey('task', `agentdrift_task_reference_rate{${T}}`), unit: 'percentunit', decimals: 0 },
          { name: 'passes', expr: byKey('task', `agentdrift_task_window_passes{${TT}}`), decimals: 0 },
          { name: 'attempts', expr: byKey('task', `agentdrift_task_window_attempts{${TT}}`), decimals: 0 },
          { name: 'flip', expr: byKey('task', `agentdrift_task_flip{${TT}}`), mappings: flips },
        ],
        sortBy: { column: 'CUSUM push', desc: true },
        w: 24,
        h: 12,
      }),
    );

  // ---- By language, by repository -----------------------------------------------------------------------------------
  groupRows(d, 'language', 'By language', 'language (python, go, js, ts, unknown)');
  groupRows(d, 'repository', 'By repository', 'repository (owner/name; other past the 30 largest, unknown)');

  // ---- Behaviour ----------------------------------------------------------------------------------------------------
  const metricCol = (name: string, expr: string, extra: Partial<Column> = {}): Column => ({ name, expr: byKey('metric', expr), ...extra });
  d.withRow(new dashboard.RowBuilder('Behaviour ($window)'))
    .withPanel(
      keyedTable({
        title: 'Behaviour against the reference ($window)',
        description:
          'Each behaviour metric: its mean per attempt in the window and over the reference period, the per-task shifted geometric-mean ratio ' +
          '(< 1 fell, > 1 rose), the Holm-adjusted p of the paired Wilcoxon test and whether it changed beyond chance and the practical ratio.',
        key: 'metric',
        columns: [
          metricCol('window mean', `agentdrift_behaviour_mean{${TW}}`, { decimals: 1 }),
          metricCol('reference mean', `agentdrift_behaviour_reference_mean{${T}}`, { decimals: 1 }),
          metricCol('ratio', `agentdrift_behaviour_ratio{${TW}}`, { decimals: 2 }),
          metricCol('p (Holm)', `agentdrift_behaviour_p_value_adjusted{${TW}}`, { unit: 'sci', decimals: 1 }),
          metricCol('changed', `agentdrift_behaviour_change_significant{${TW}}`, { mappings: noYes }),
        ],
        sortBy: { column: 'ratio', desc: false },
        w: 12,
        h: 9,
      }),
    )
    .withPanel(
      series({
        title: 'Behaviour against the reference, ratio ($window)',
        description: 'Per-task ratio of each behaviour metric to its reference (1 = unchanged, 0.5 = halved), at each run.',
        queries: [{ expr: `agentdrift_behaviour_ratio{${TW}}`, legend: '{{metric}}' }],
        log: true,
        logBase: 2,
        w: 12,
        h: 9,
      }),
    )
    .withPanel(
      states({
        title: 'Behaviour changed beyond chance ($window)',
        description: 'agentdrift_behaviour_change_significant: Holm-adjusted p below alpha and the ratio beyond the practical threshold either way.',
        queries: [{ expr: `agentdrift_behaviour_change_significant{${TW}}`, legend: '{{metric}}' }],
        mappings: valueText({ '0': ['no', 'green'], '1': ['changed', 'orange'] }),
        thresholds: steps([null, 'green'], [1, 'orange']),
        w: 12,
        h: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Tool calls per attempt, by tool ($window)',
        description: 'Mean calls of each tool per attempt in the window (tools of the agent\'s tool set, anything else as other; unused tools left out).',
        queries: [{ expr: `agentdrift_tool_calls_mean{${TW}} > 0`, legend: '{{tool}}' }],
        stacked: true,
        min: 0,
        w: 12,
        h: 8,
      }),
    );
  for (const metric of BEHAVIOUR_METRICS) {
    const { title, unit } = BEHAVIOUR_PANELS[metric];
    d.withPanel(
      series({
        title: `${title} per attempt ($window) and reference`,
        description: `Mean ${title.toLowerCase()} per attempt in the window (attempts with a value), and over the reference period (dashed).`,
        queries: [
          { expr: `agentdrift_behaviour_mean{${TW},metric="${metric}"}`, legend: 'window' },
          { expr: `agentdrift_behaviour_reference_mean{${T},metric="${metric}"}`, legend: 'reference' },
        ],
        unit,
        min: 0,
        w: 8,
        h: 7,
      }).overrideByName('reference', [
        { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        { id: 'color', value: { mode: 'fixed', fixedColor: 'text' } },
      ]),
    );
  }

  const built = d.build();
  numberPanels(built);
  return built;
}
