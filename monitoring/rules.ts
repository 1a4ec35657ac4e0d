/**
 * The Prometheus recording and alerting rules, generated from the monitoring configuration (monitoring/config.ts):
 * `npm run monitoring:build` writes them to prometheus/rules/agentdrift.rules.yml. The rules are data here (one
 * object per rule, in file order) and `renderRules` writes them in a fixed layout: block scalars for multi-line
 * expressions, folded (`>-`) descriptions kept on the lines written below, single-quoted summaries and URLs. The
 * output is parsed back and compared with the data, so a configured value can never change the YAML's structure.
 */
import { parse } from 'yaml';
import type { AlertName, MonitoringConfig } from './config.ts';

export const RULES_FILE = 'prometheus/rules/agentdrift.rules.yml';

interface RecordingRule {
  record: string;
  expr: string;
  /** Comment lines written above the rule (without the leading '# '). */
  comment?: string[];
}

interface AlertingRule {
  alert: AlertName;
  expr: string;
  keepFiringFor?: boolean;
  severity: 'critical' | 'warning';
  summary: string;
  /** The description's lines; YAML folds them into one line, joined by spaces. */
  description: string[];
  comment?: string[];
}

interface Section {
  /** Title of the `# ---- title ----` line above the section. */
  title: string;
  rules: (RecordingRule | AlertingRule)[];
  /** A blank line between the rules of the section. */
  spaced?: boolean;
}

/** Seconds as the comments say them: 6 h, 90 min, 45 s. */
export function humanSeconds(s: number): string {
  if (s > 0 && s % 3600 === 0) return `${s / 3600} h`;
  if (s > 0 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** How an alert description names the scrape targets: `job "agentdrift"` for a single job, else the selector. */
function targetsNamed(jobSelector: string): string {
  const single = /^\s*job\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(jobSelector);
  return single ? `job "${single[1]}"` : `selector {${jobSelector}}`;
}

function sections(c: MonitoringConfig): Section[] {
  const job = c.jobSelector;
  return [
    {
      title: 'thresholds (config `thresholds`)',
      rules: [
        { record: 'agentdrift:threshold:infra_error_ratio', expr: `vector(${c.thresholds.infraErrorRatio})` },
        { record: 'agentdrift:threshold:run_missed_margin_seconds', expr: `vector(${c.thresholds.runMissedMarginSeconds})` },
      ],
    },
    {
      title: 'recording rules',
      rules: [
        {
          comment: ['CUSUM statistic as a fraction of its threshold: 1 means the paging alarm.'],
          record: 'agentdrift:cusum:ratio',
          expr: 'agentdrift_cusum_statistic / agentdrift_cusum_threshold',
        },
        {
          comment: ['Pass rate of each window minus the baseline pass rate (negative: worse than the baseline).'],
          record: 'agentdrift:pass_rate:change_vs_baseline',
          expr: 'agentdrift_pass_rate - ignoring(window) group_left() agentdrift_baseline_pass_rate',
        },
        {
          comment: ['How long a track may go without a completed run: its schedule period plus the margin.'],
          record: 'agentdrift:run_missed_allowance_seconds',
          expr: 'agentdrift_schedule_period_seconds + on() group_left() agentdrift:threshold:run_missed_margin_seconds',
        },
        {
          comment: ['When the last completed run ended; for a track that never completed one, when the daemon started.'],
          record: 'agentdrift:last_success_or_start_timestamp_seconds',
          expr: [
            'agentdrift_last_success_timestamp_seconds',
            'or',
            '(agentdrift_schedule_period_seconds * 0 + ignoring(track) group_left() process_start_time_seconds)',
          ].join('\n'),
        },
      ],
    },
    {
      title: 'alerts',
      spaced: true,
      rules: [
        {
          alert: 'AgentDriftPassRateRegression',
          expr: ['(agentdrift_cusum_statistic > agentdrift_cusum_threshold)', 'and', '(agentdrift_baseline_ready == 1)'].join('\n'),
          keepFiringFor: true,
          severity: 'critical',
          summary: 'Pass rate of track {{ $labels.track }} dropped below its baseline (CUSUM alarm)',
          description: [
            'The risk-adjusted CUSUM of track {{ $labels.track }} is {{ $value | printf "%.2f" }}, above its threshold',
            '{{ with printf "agentdrift_cusum_threshold{track=%q}" $labels.track | query }}{{ . | first | value | printf "%.2f" }}{{ end }}:',
            'the agent now resolves fewer tasks than the baseline predicts, beyond what chance explains',
            '(baseline pass rate {{ with printf "agentdrift_baseline_pass_rate{track=%q}" $labels.track | query }}' +
              '{{ . | first | value | humanizePercentage }}{{ end }},',
            'last 7 days {{ with printf "agentdrift_pass_rate{track=%q,window=\\"7d\\"}" $labels.track | query }}' +
              '{{ . | first | value | humanizePercentage }}{{ end }}).',
            'Fell most in the last 7 days:',
            'language {{ with printf "bottomk(1, 100 * agentdrift_group_change{track=%q,window=\\"7d\\",dimension=\\"language\\"} < 0)" $labels.track | query }}' +
              '{{ . | first | label "group" }} ({{ . | first | value | printf "%+.1f" }} points against its reference){{ else }}none (no language fell){{ end }},',
            'repository {{ with printf "bottomk(1, 100 * agentdrift_group_change{track=%q,window=\\"7d\\",dimension=\\"repository\\"} < 0)" $labels.track | query }}' +
              '{{ . | first | label "group" }} ({{ . | first | value | printf "%+.1f" }} points){{ else }}none (no repository fell){{ end }}.',
          ],
        },
        {
          alert: 'AgentDriftPassRateDrop',
          expr: 'agentdrift_regression_significant{window=~"7d|30d"} == 1',
          keepFiringFor: true,
          severity: 'warning',
          summary: 'Pass rate of track {{ $labels.track }} is significantly lower over {{ $labels.window }}',
          description: [
            'Over the {{ $labels.window }} window track {{ $labels.track }} passes',
            '{{ with printf "agentdrift_pass_rate{track=%q,window=%q}" $labels.track $labels.window | query }}' +
              '{{ . | first | value | humanizePercentage }}{{ end }}',
            'against a baseline of',
            '{{ with printf "agentdrift_baseline_pass_rate{track=%q}" $labels.track | query }}{{ . | first | value | humanizePercentage }}{{ end }};',
            'the Holm-adjusted p-value is',
            '{{ with printf "agentdrift_regression_p_value_adjusted{track=%q,window=%q}" $labels.track $labels.window | query }}' +
              '{{ . | first | value | printf "%.2g" }}{{ end }}.',
          ],
        },
        {
          alert: 'AgentDriftUsageRegression',
          expr: 'agentdrift_usage_regression_significant{window=~"7d|30d"} == 1',
          keepFiringFor: true,
          severity: 'warning',
          summary: '{{ $labels.metric }} of track {{ $labels.track }} went up over {{ $labels.window }}',
          description: [
            'Per task, {{ $labels.metric }} of track {{ $labels.track }} over the {{ $labels.window }} window is',
            '{{ with printf "agentdrift_usage_ratio{track=%q,window=%q,metric=%q}" $labels.track $labels.window $labels.metric | query }}' +
              '{{ . | first | value | printf "%.2f" }}{{ end }}',
            'times its baseline median, significantly after Holm and above the practical threshold.',
          ],
        },
        {
          alert: 'AgentDriftBehaviourChange',
          expr: 'agentdrift_behaviour_change_significant{window=~"7d|30d"} == 1',
          keepFiringFor: true,
          severity: 'warning',
          summary: '{{ $labels.metric }} of track {{ $labels.track }} changed over {{ $labels.window }}',
          description: [
            'Over the {{ $labels.window }} window, {{ $labels.metric }} of track {{ $labels.track }} averages',
            '{{ with printf "agentdrift_behaviour_mean{track=%q,window=%q,metric=%q}" $labels.track $labels.window $labels.metric | query }}' +
              '{{ . | first | value | printf "%.2f" }}{{ end }}',
            'per attempt against',
            '{{ with printf "agentdrift_behaviour_reference_mean{track=%q,metric=%q}" $labels.track $labels.metric | query }}' +
              '{{ . | first | value | printf "%.2f" }}{{ end }}',
            'in the reference period (per-task ratio',
            '{{ with printf "agentdrift_behaviour_ratio{track=%q,window=%q,metric=%q}" $labels.track $labels.window $labels.metric | query }}' +
              '{{ . | first | value | printf "%.2f" }}{{ end }},',
            'Holm-adjusted p',
            '{{ with printf "agentdrift_behaviour_p_value_adjusted{track=%q,window=%q,metric=%q}" $labels.track $labels.window $labels.metric | query }}' +
              '{{ . | first | value | printf "%.2g" }}{{ end }}):',
            'the agent works differently, beyond chance and the practical threshold. A warning, never a page.',
          ],
        },
        {
          alert: 'AgentDriftRunMissed',
          expr: 'time() - agentdrift:last_success_or_start_timestamp_seconds > agentdrift:run_missed_allowance_seconds',
          severity: 'warning',
          summary: 'No completed run of track {{ $labels.track }} for {{ $value | humanizeDuration }}',
          description: [
            'Track {{ $labels.track }} has had no completed run for {{ $value | humanizeDuration }}, longer than its schedule',
            'period plus the margin',
            '({{ with printf "agentdrift:run_missed_allowance_seconds{track=%q}" $labels.track | query }}{{ . | first | value | humanizeDuration }}{{ end }}).',
            'Budget exhausted: {{ with printf "agentdrift_budget_exhausted{track=%q}" $labels.track | query }}' +
              '{{ if eq (. | first | value) 1.0 }}yes{{ else }}no{{ end }}{{ else }}unknown{{ end }}.',
          ],
        },
        {
          alert: 'AgentDriftInfraErrors',
          expr: 'agentdrift_infra_error_ratio{window="1d"} > on() group_left() agentdrift:threshold:infra_error_ratio',
          severity: 'warning',
          summary: 'Infra errors in {{ $value | humanizePercentage }} of the attempts of track {{ $labels.track }}',
          description: [
            '{{ $value | humanizePercentage }} of the attempts of track {{ $labels.track }} in the last day ended in an',
            'infra error (threshold {{ with query "agentdrift:threshold:infra_error_ratio" }}{{ . | first | value | humanizePercentage }}{{ end }}).',
            'Infra errors are left out of the pass rate, so its statistics rest on fewer, possibly biased, attempts;',
            'regression alerts of this track are inhibited meanwhile.',
          ],
        },
        {
          alert: 'AgentDriftDown',
          expr: `up{${job}} == 0 or absent(up{${job}})`,
          severity: 'critical',
          summary: 'agentdrift is down or not scraped',
          description: [
            `Prometheus cannot scrape agentdrift{{ with $labels.instance }} at {{ . }}{{ end }} (${targetsNamed(job)}), or has`,
            'no such target. Nothing is measured and no regression can be detected meanwhile.',
          ],
        },
        {
          alert: 'AgentDriftDockerDown',
          expr: 'agentdrift_docker_up == 0',
          severity: 'critical',
          summary: 'agentdrift cannot reach its Docker Engine',
          description: [
            'agentdrift at {{ $labels.instance }} gets no answer from its Docker Engine: runs cannot start their task',
            'containers, so attempts fail as infra errors and runs are missed.',
          ],
        },
        {
          comment: [
            'The next run of a track would not fit: the free space it needs on the engine\'s data root (its images still to',
            'pull, estimated, plus docker.minFreeGb; the figure agentdrift\'s own disk check refuses a run below) is more than',
            'what is free. Absent figures (free space not measurable, suite not resolved yet) never fire.',
          ],
          alert: 'AgentDriftDiskLow',
          expr: 'agentdrift_docker_run_required_bytes > on(job, instance) group_left() agentdrift_docker_data_root_free_bytes',
          severity: 'warning',
          summary: 'The next run of track {{ $labels.track }} would not fit on the Docker Engine\'s disk',
          description: [
            'The next run of track {{ $labels.track }} needs {{ $value | humanize1024 }}B free on the Docker Engine\'s data root',
            '(its missing images, estimated, plus docker.minFreeGb), but only',
            '{{ with printf "agentdrift_docker_data_root_free_bytes{job=%q,instance=%q}" $labels.job $labels.instance | query }}' +
              '{{ . | first | value | humanize1024 }}B{{ end }}',
            'is free: agentdrift will refuse the run (it ends failed, naming the shortfall).',
          ],
        },
        {
          comment: [
            'The daemon has no credentials for a track\'s agent: it starts and serves its figures, but every agent run of',
            'the track fails at its next slot. Warned before the 03:00 run rather than after it.',
          ],
          alert: 'AgentDriftNoAgentCredentials',
          expr: 'agentdrift_agent_credentials_present == 0',
          severity: 'warning',
          summary: 'agentdrift has no credentials for the agent of track {{ $labels.track }}',
          description: [
            'agentdrift at {{ $labels.instance }} found no credentials for the agent of track {{ $labels.track }} in its',
            'environment (ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, or complete Bedrock / Vertex settings): every agent',
            'run of the track will fail until they are set and agentdrift restarted. Its /readyz lists what is missing.',
          ],
        },
      ],
    },
  ];
}

function header(c: MonitoringConfig): string[] {
  const t = c.thresholds;
  const values = [String(t.infraErrorRatio), String(t.runMissedMarginSeconds)];
  const w = Math.max(...values.map((v) => v.length)) + 2;
  const name = (n: string) => n.padEnd('agentdrift:threshold:run_missed_margin_seconds'.length + 1);
  const indent = ' '.repeat(2 + name('').length + w);
  return [
    'agentdrift: recording and alerting rules. Needs Prometheus >= 2.42 (keep_firing_for).',
    '',
    'GENERATED by `npm run monitoring:build` from monitoring/rules.ts and the settings of monitoring/config.ts: do not',
    'edit this file. For your own job selector, runbook URL, thresholds or `for:` durations, write a configuration file',
    'and run `npm run monitoring:build -- --config my.json --out DIR` (docs/monitoring.md). A test fails when the',
    'committed file differs from what the generator writes with the defaults.',
    '',
    `Job selector: ${c.jobSelector}. Runbooks: ${c.runbookBaseUrl}#<alert name in lower case>.`,
    '',
    'THRESHOLDS are the `agentdrift:threshold:*` constants at the top of the group below: every alert (and the',
    'dashboard\'s threshold lines) compares with those series, never with a literal. docs/monitoring.md explains each one.',
    '',
    `  ${name('agentdrift:threshold:infra_error_ratio')}${values[0]?.padEnd(w)}AgentDriftInfraErrors fires above this share of infra`,
    `${indent}errors among the attempts of the last day's window (1d).`,
    `  ${name('agentdrift:threshold:run_missed_margin_seconds')}${values[1]?.padEnd(w)}AgentDriftRunMissed fires when no run completed within the`,
    `${indent}track's schedule period (agentdrift_schedule_period_seconds)`,
    `${indent}plus this margin (${humanSeconds(t.runMissedMarginSeconds)}).`,
    '',
    'The statistical decisions are NOT thresholds here: agentdrift makes them from its own config (statistics.alpha for the',
    'Holm-corrected window tests, the CUSUM threshold h from statistics.cusumOddsRatio / cusumHorizonDays, the practical',
    'ratio statistics.usageRatioThreshold) and exports them as 0/1 gauges and agentdrift_cusum_threshold. Re-deciding them',
    'in PromQL would page on noise the daemon already judged not significant.',
    '',
    '`for:` durations (how long a condition must hold before an alert fires) sit on each alert; they are listed in',
    `docs/monitoring.md too. Regression alerts also carry \`keep_firing_for: ${c.keepFiringFor}\`, so that an agentdrift restart or outage`,
    '(its series go stale) neither resolves them nor pages again when it comes back; Alertmanager inhibits them meanwhile.',
  ].map((l) => (l ? `# ${l}` : '#'));
}

/** A single-quoted YAML scalar. */
function quoted(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `key: value` for an expression: a block scalar when it has several lines, plain when YAML reads it back as is. */
function exprLines(expr: string, indent: string): string[] {
  if (expr.includes('\n')) return [`${indent}expr: |`, ...expr.split('\n').map((l) => `${indent}  ${l}`)];
  let plain = false;
  try {
    plain = (parse(`expr: ${expr}`) as { expr?: unknown }).expr === expr;
  } catch {
    plain = false;
  }
  return [`${indent}expr: ${plain ? expr : quoted(expr)}`];
}

function ruleLines(r: RecordingRule | AlertingRule, c: MonitoringConfig): string[] {
  const out = (r.comment ?? []).map((l) => `      # ${l}`);
  if ('record' in r) return [...out, `      - record: ${r.record}`, ...exprLines(r.expr, '        ')];
  out.push(`      - alert: ${r.alert}`, ...exprLines(r.expr, '        '), `        for: ${c.for[r.alert]}`);
  if (r.keepFiringFor) out.push(`        keep_firing_for: ${c.keepFiringFor}`);
  out.push(
    '        labels:',
    `          severity: ${r.severity}`,
    '        annotations:',
    `          summary: ${quoted(r.summary)}`,
    '          description: >-',
    ...r.description.map((l) => `            ${l}`),
    `          runbook_url: ${quoted(runbookUrl(c, r.alert))}`,
  );
  return out;
}

export function runbookUrl(c: MonitoringConfig, alert: AlertName): string {
  return `${c.runbookBaseUrl}#${alert.toLowerCase()}`;
}

/** An expression as YAML reads it back: a block scalar (`|`) keeps its final newline. */
const exprValue = (expr: string) => (expr.includes('\n') ? `${expr}\n` : expr);

/** What the rules file must contain once parsed: the check that the text below says what the data says. */
function expected(c: MonitoringConfig) {
  return {
    groups: [
      {
        name: 'agentdrift',
        rules: sections(c).flatMap((s) =>
          s.rules.map((r) =>
            'record' in r
              ? { record: r.record, expr: exprValue(r.expr) }
              : {
                  alert: r.alert,
                  expr: exprValue(r.expr),
                  for: c.for[r.alert],
                  ...(r.keepFiringFor ? { keep_firing_for: c.keepFiringFor } : {}),
                  labels: { severity: r.severity },
                  annotations: { summary: r.summary, description: r.description.join(' '), runbook_url: runbookUrl(c, r.alert) },
                },
          ),
        ),
      },
    ],
  };
}

/** The text of prometheus/rules/agentdrift.rules.yml for a configuration. */
export function renderRules(c: MonitoringConfig): string {
  const lines = [...header(c), 'groups:', '  - name: agentdrift', '    rules:'];
  sections(c).forEach((s, i) => {
    if (i > 0) lines.push('');
    lines.push(`      # ---- ${s.title} ${'-'.repeat(Math.max(3, 103 - s.title.length))}`);
    s.rules.forEach((r, j) => {
      if (s.spaced && j > 0) lines.push('');
      lines.push(...ruleLines(r, c));
    });
  });
  const text = `${lines.join('\n')}\n`;
  const back = (parse(text) as ReturnType<typeof expected>).groups[0]?.rules ?? [];
  const want = expected(c).groups[0]?.rules ?? [];
  const bad = want.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(back[i]));
  if (bad >= 0 || back.length !== want.length) {
    throw new Error(
      `renderRules: the generated YAML does not read back as the rules it was written from (a configured value breaks the layout): ` +
        `rule ${bad} reads ${JSON.stringify(back[bad])}, expected ${JSON.stringify(want[bad])}`,
    );
  }
  return text;
}
