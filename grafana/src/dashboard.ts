/**
 * The agentdrift overview dashboard, as code (@grafana/grafana-foundation-sdk, pinned). One track at a time (the
 * `track` variable), every figure of the metrics contract (docs/metrics.md): pass rate with its Wilson band and the
 * baseline, significance per window, CUSUM against its threshold, minimum detectable drop, attempts by outcome,
 * tokens, cost, durations, turns, tool calls, infra errors and the run timeline.
 *
 * `npm run monitoring:build` (monitoring/build.ts) writes grafana/dashboards/agentdrift-overview.json with the
 * dashboard settings of the monitoring configuration (monitoring/config.ts: refresh, time range); a test fails when
 * the committed JSON differs from what the generator writes, and another runs every query here against a real Prometheus.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { DEFAULT_MONITORING_CONFIG, type DashboardSettings } from '../../monitoring/config.ts';
import { agentdriftDashboard, dashboardLink, DS, noYes, numberPanels, series, single, states, steps, T, target, TW, valueText } from './panels.ts';

export const DASHBOARD_UID = 'agentdrift-overview';
/** The uid of the "Where and how" dashboard (grafana/src/diagnosis.ts), linked from this one. */
export const DIAGNOSIS_UID = 'agentdrift-diagnosis';

export function buildOverview(settings: DashboardSettings = DEFAULT_MONITORING_CONFIG.dashboards): dashboard.Dashboard {
  const d = agentdriftDashboard({
    title: 'agentdrift / Overview',
    uid: DASHBOARD_UID,
    description: 'Pass rate, regression statistics, usage and runs of one agentdrift track. Generated from grafana/src/dashboard.ts: edit that file, not the JSON.',
    settings,
  }).link(dashboardLink('Where and how', DIAGNOSIS_UID, 'Which tasks, languages and repositories fell, and what the agent did differently'));

  // ---- Now ----------------------------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Now'))
    .withPanel(
      single({
        title: 'Pass rate ($window)',
        description: 'Resolved / attempts in the window, infra errors excluded.',
        queries: [{ expr: `agentdrift_pass_rate{${TW}}` }],
        unit: 'percentunit',
        decimals: 1,
      }),
    )
    .withPanel(
      single({
        title: 'Baseline pass rate',
        description: 'The pass rate the track is compared with (fixed p0 or its reference period).',
        queries: [{ expr: `agentdrift_baseline_pass_rate{${T}}` }],
        unit: 'percentunit',
        decimals: 1,
      }),
    )
    .withPanel(
      single({
        title: 'CUSUM / threshold',
        description: 'Risk-adjusted CUSUM statistic as a share of its threshold; at 100% AgentDriftPassRateRegression pages.',
        queries: [{ expr: `agentdrift:cusum:ratio{${T}}` }],
        unit: 'percentunit',
        thresholds: steps([null, 'green'], [0.8, 'orange'], [1, 'red']),
      }),
    )
    .withPanel(
      single({
        title: 'Baseline',
        description: 'Collecting: the regression statistics appear once the baseline is ready (by default after the first 14 finished days).',
        queries: [{ expr: `agentdrift_baseline_ready{${T}}` }],
        mappings: valueText({ '0': ['collecting', 'orange'], '1': ['ready', 'green'] }),
      }),
    )
    .withPanel(
      single({
        title: 'Since last completed run',
        description: 'Time since the end of the most recent completed run; AgentDriftRunMissed warns past the schedule period plus a margin.',
        queries: [{ expr: `time() - agentdrift_last_success_timestamp_seconds{${T}}` }],
        unit: 's',
      }),
    )
    .withPanel(
      single({
        title: 'Next run',
        description: 'Next scheduled run of the track.',
        queries: [{ expr: `agentdrift_next_run_timestamp_seconds{${T}} * 1000` }],
        unit: 'dateTimeFromNow',
      }),
    );

  // ---- Pass rate and significance -------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Pass rate and significance'))
    .withPanel(
      series({
        title: 'Pass rate ($window) with its Wilson band and the baseline',
        description: 'Pass rate of the window ending at each run, its Wilson score interval (shaded) and the baseline pass rate (dashed).',
        queries: [
          { expr: `agentdrift_pass_rate{${TW}}`, legend: 'pass rate' },
          { expr: `agentdrift_pass_rate_lower{${TW}}`, legend: 'lower' },
          { expr: `agentdrift_pass_rate_upper{${TW}}`, legend: 'upper' },
          { expr: `agentdrift_baseline_pass_rate{${T}}`, legend: 'baseline' },
        ],
        unit: 'percentunit',
        min: 0,
        max: 1,
      })
        .overrideByName('upper', [
          { id: 'custom.fillBelowTo', value: 'lower' },
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.fillOpacity', value: 20 },
          { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
        ])
        .overrideByName('lower', [
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
        ])
        .overrideByName('baseline', [
          { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'text' } },
        ]),
    )
    .withPanel(
      series({
        title: 'Change against the baseline, by window',
        description: 'Pass rate of each window minus the baseline pass rate (negative: worse).',
        queries: [{ expr: `agentdrift:pass_rate:change_vs_baseline{${T}}`, legend: '{{window}}' }],
        unit: 'percentunit',
      }),
    )
    .withPanel(
      series({
        title: 'Regression p-value by window (Holm-adjusted, solid; raw, dashed)',
        description: 'One-sided test of a drop against the baseline per window; significant when the Holm-adjusted p-value is below alpha (statistics.alpha, default 0.01).',
        queries: [
          { expr: `agentdrift_regression_p_value_adjusted{${T}}`, legend: '{{window}} adjusted' },
          { expr: `agentdrift_regression_p_value{${T}}`, legend: '{{window}} raw' },
        ],
        log: true,
        max: 1,
      }).overrideByQuery('B', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [4, 6] } }]),
    )
    .withPanel(
      states({
        title: 'Significant drop, by window',
        description: 'agentdrift_regression_significant: a 7d or 30d window significant after Holm raises AgentDriftPassRateDrop.',
        queries: [{ expr: `agentdrift_regression_significant{${T}}`, legend: '{{window}}' }],
        mappings: noYes,
      }),
    )
    .withPanel(
      series({
        title: 'CUSUM against its threshold',
        description: 'Risk-adjusted Bernoulli CUSUM over attempts in time order; crossing the threshold (simulated for the configured false-alarm horizon) pages.',
        queries: [
          { expr: `agentdrift_cusum_statistic{${T}}`, legend: 'CUSUM' },
          { expr: `agentdrift_cusum_threshold{${T}}`, legend: 'threshold' },
        ],
        min: 0,
      }).overrideByName('threshold', [
        { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
      ]),
    )
    .withPanel(
      series({
        title: 'Minimum detectable drop (80% power)',
        description: 'Smallest drop below the baseline each window would detect with 80% power at alpha: how blind the test is with this many attempts.',
        queries: [{ expr: `agentdrift_minimum_detectable_drop{${T}}`, legend: '{{window}}' }],
        unit: 'percentunit',
        min: 0,
      }),
    );

  // ---- Attempts and infra errors ------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Attempts and infra errors'))
    .withPanel(
      series({
        title: 'Attempts by outcome (per day)',
        description: 'Attempts stored in the preceding 24 hours, by outcome.',
        queries: [{ expr: `sum by (outcome) (increase(agentdrift_attempts_total{${T}}[1d]))`, legend: '{{outcome}}' }],
        bars: true,
        stacked: true,
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Attempts and passes ($window)',
        description: 'Attempts (infra errors excluded) and resolved attempts in the window.',
        queries: [
          { expr: `agentdrift_window_attempts{${TW}}`, legend: 'attempts' },
          { expr: `agentdrift_window_passes{${TW}}`, legend: 'passes' },
        ],
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Infra error ratio, by window',
        description: 'Infra errors / all attempts per window; above the dashed threshold (1d window) AgentDriftInfraErrors warns and the regression alerts of the track are inhibited.',
        queries: [
          { expr: `agentdrift_infra_error_ratio{${T}}`, legend: '{{window}}' },
          { expr: 'agentdrift:threshold:infra_error_ratio', legend: 'threshold' },
        ],
        unit: 'percentunit',
        min: 0,
        w: 8,
      }).overrideByName('threshold', [
        { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
      ]),
    );

  // ---- Usage --------------------------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Usage'))
    .withPanel(
      series({
        title: 'Tokens per attempt ($window), by type',
        description: 'Mean tokens per attempt in the window.',
        queries: [{ expr: `agentdrift_mean_tokens{${TW}}`, legend: '{{type}}' }],
        unit: 'short',
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Tokens per day, by type',
        description: 'Tokens used in the preceding 24 hours.',
        queries: [{ expr: `sum by (type) (increase(agentdrift_tokens_total{${T}}[1d]))`, legend: '{{type}}' }],
        unit: 'short',
        bars: true,
        stacked: true,
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Cost per attempt ($window) and spend per day',
        description: 'Mean cost per attempt in the window (left axis) and spend in the preceding 24 hours (right axis), USD.',
        queries: [
          { expr: `agentdrift_mean_cost_usd{${TW}}`, legend: 'per attempt' },
          { expr: `increase(agentdrift_cost_usd_total{${T}}[1d])`, legend: 'per day' },
        ],
        unit: 'currencyUSD',
        min: 0,
        w: 8,
      }).overrideByQuery('B', [{ id: 'custom.axisPlacement', value: 'right' }]),
    )
    .withPanel(
      series({
        title: 'Agent duration per attempt ($window)',
        description: 'Median and 90th percentile of the agent wall time per attempt in the window.',
        queries: [{ expr: `agentdrift_agent_duration_seconds{${TW}}`, legend: 'p{{quantile}}' }],
        unit: 's',
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Turns and tool calls per attempt ($window)',
        description: 'Mean agent turns and tool calls per attempt in the window.',
        queries: [
          { expr: `agentdrift_mean_turns{${TW}}`, legend: 'turns' },
          { expr: `agentdrift_mean_tool_calls{${TW}}`, legend: 'tool calls' },
        ],
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Usage against the baseline ($window)',
        description: 'Per-task usage relative to the baseline median (1 = unchanged), by metric.',
        queries: [{ expr: `agentdrift_usage_ratio{${TW}}`, legend: '{{metric}}' }],
        w: 8,
      }),
    )
    .withPanel(
      states({
        title: 'Usage significantly up ($window)',
        description: 'agentdrift_usage_regression_significant: significant after Holm and above the practical ratio; over 7d or 30d it raises AgentDriftUsageRegression.',
        queries: [{ expr: `agentdrift_usage_regression_significant{${TW}}`, legend: '{{metric}}' }],
        mappings: noYes,
        w: 24,
      }),
    );

  // ---- Runs ---------------------------------------------------------------------------------------------------------
  d.withRow(new dashboard.RowBuilder('Runs'))
    .withPanel(
      states({
        title: 'Run timeline',
        description: 'When a run was going on, when the daily budget was exhausted, and whether agentdrift could reach its Docker Engine.',
        queries: [
          { expr: `agentdrift_run_in_progress{${T}}`, legend: 'run' },
          { expr: `agentdrift_budget_exhausted{${T}}`, legend: 'budget exhausted' },
          { expr: 'agentdrift_docker_up', legend: 'Docker {{instance}}' },
        ],
        mappings: valueText({ '0': ['idle', 'transparent'], '1': ['running', 'blue'] }),
        thresholds: steps([null, 'transparent'], [1, 'blue']),
        w: 24,
      })
        .overrideByName('budget exhausted', [
          { id: 'mappings', value: valueText({ '0': ['ok', 'transparent'], '1': ['exhausted', 'red'] }) },
        ])
        .overrideByRegexp('^Docker ', [{ id: 'mappings', value: valueText({ '0': ['down', 'red'], '1': ['up', 'green'] }) }]),
    )
    .withPanel(
      series({
        title: 'Runs by final state (per day)',
        description: 'Runs that ended in the preceding 24 hours, by state (completed, failed, cancelled, interrupted, skipped, budget_exhausted), and scheduled runs missed while the daemon was down.',
        queries: [
          { expr: `sum by (state) (increase(agentdrift_runs_total{${T}}[1d]))`, legend: '{{state}}' },
          { expr: `increase(agentdrift_scheduler_missed_runs_total{${T}}[1d])`, legend: 'missed' },
        ],
        bars: true,
        stacked: true,
        min: 0,
        w: 8,
      }),
    )
    .withPanel(
      series({
        title: 'Progress of the current run',
        description: 'Share of the current run\'s attempts that finished.',
        queries: [{ expr: `agentdrift_run_progress_ratio{${T}}`, legend: 'progress' }],
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 8,
      }),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Track')
        .description('Agent, agent version and model as last reported, suite hash; and the agentdrift build.')
        .datasource(DS)
        .span(8)
        .height(8)
        .withTarget(target({ expr: `agentdrift_track_info{${T}}`, instant: true, table: true }, 'A'))
        .withTarget(target({ expr: 'agentdrift_build_info', instant: true, table: true }, 'B'))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation({
          id: 'organize',
          options: { excludeByName: { Time: true, Value: true, __name__: true, job: true }, renameByName: {} },
        }),
    );

  const built = d.build();
  numberPanels(built);
  return built;
}
