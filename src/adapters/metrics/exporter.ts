/**
 * The Prometheus exposition (docs/metrics.md): a dedicated prom-client registry with process metrics, filled from
 * precomputed track snapshots. `apply` swaps every track series at once; a scrape only serialises.
 * Operational series (schedule, runs, progress, budget, Docker) live in a small registry of their own that
 * `applyOps` refills whenever they change; it is rendered on every scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ENDED_RUN_STATES, OUTCOMES, TOKEN_TYPES } from '../../domain/types.ts';
import type { TrackOps, TrackSnapshot } from '../../core/figures/snapshot.ts';
import { BEHAVIOUR_METRICS, TOOL_LABELS } from '../../domain/behaviour.ts';
import { taskWindow, type LatestOutcome } from '../../core/figures/tasks.ts';
import type { WindowName } from '../../core/figures/windows.ts';
import type { DockerDiskFigures } from '../../core/runner/images.ts';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Where the exporter says that it left a figure out (main.ts passes its logger's warn). */
export type ExporterWarn = (fields: Record<string, unknown>, message: string) => void;

/** The config's `metrics` section: whether the agentdrift_task_* series are exported, and up to how many tasks a track. */
export interface ExporterOptions {
  perTaskSeries?: boolean;
  perTaskMaxTasks?: number;
}

/** The window of the agentdrift_task_window_* series (the per-task API and command take any window). */
export const TASK_SERIES_WINDOW: WindowName = '7d';

/** agentdrift_task_latest_outcome's value for each outcome (docs/metrics.md): > 0 resolved, <= 0 failed. */
export const LATEST_OUTCOME_CODE: Record<LatestOutcome['outcome'], number> = { resolved: 1, unresolved: 0, agent_error: -1, timeout: -2 };

export class MetricsExporter {
  /** Track series: change only in apply(), so their text is rendered once and reused until the next apply(). */
  readonly registry = new Registry();
  /** Process metrics: collected on every scrape. */
  readonly processRegistry = new Registry();
  private rendered: string | null = null;
  private generation = 0;
  private readonly gauges = new Map<string, Gauge>();
  private readonly counters = new Map<string, Counter>();
  /** Operational series: few, cheap, changed often. */
  readonly opsRegistry = new Registry();
  private readonly opsGauges = new Map<string, Gauge>();
  private readonly opsCounters = new Map<string, Counter>();
  /**
   * Registered in opsRegistry only once a Docker check has happened: a label-less gauge always renders a sample
   * (0 after reset()), which would read as "engine down" when nothing was checked.
   */
  private readonly dockerUpGauge = new Gauge({
    name: 'agentdrift_docker_up',
    help: '1 when the Docker Engine answered the last check (every 15 s), else 0.',
    registers: [],
  });

  /** Set once per process from its environment (main.ts): never reset by applyOps. */
  private readonly credentialsGauge = new Gauge({
    name: 'agentdrift_agent_credentials_present',
    help: '1 when this process has credentials for the track\'s agent (from its environment), else 0: agent runs fail without them.',
    labelNames: ['track'],
    registers: [],
  });

  /** Series already warned about: a figure that stays broken is logged once per process, not on every refresh. */
  private readonly warned = new Set<string>();

  private readonly perTaskSeries: boolean;
  private readonly perTaskMaxTasks: number;

  constructor(
    version: string,
    private readonly warn: ExporterWarn = () => {},
    options: ExporterOptions = {},
  ) {
    this.perTaskSeries = options.perTaskSeries ?? true;
    this.perTaskMaxTasks = options.perTaskMaxTasks ?? 1000;
    this.opsRegistry.registerMetric(this.credentialsGauge);
    collectDefaultMetrics({ register: this.processRegistry });
    const build = this.gauge('agentdrift_build_info', 'Build of the agentdrift daemon (always 1).', ['version']);
    build.set({ version }, 1);
    this.gauge('agentdrift_track_info', 'A watched track: agent, agent version and model as last reported, suite hash (always 1).', [
      'track',
      'agent',
      'agent_version',
      'model',
      'suite',
    ]);
    const tw = ['track', 'window'];
    this.gauge('agentdrift_pass_rate', 'Resolved / attempts in the window (infra errors excluded).', tw);
    this.gauge('agentdrift_pass_rate_lower', 'Lower bound of the Wilson score interval of the pass rate.', tw);
    this.gauge('agentdrift_pass_rate_upper', 'Upper bound of the Wilson score interval of the pass rate.', tw);
    this.gauge('agentdrift_window_attempts', 'Attempts in the window, infra errors excluded.', tw);
    this.gauge('agentdrift_window_passes', 'Resolved attempts in the window.', tw);
    this.gauge('agentdrift_infra_error_ratio', 'Infra errors / all attempts in the window.', tw);
    this.gauge('agentdrift_agent_duration_seconds', 'Quantiles of the agent wall time per attempt in the window.', ['track', 'window', 'quantile']);
    this.gauge('agentdrift_mean_cost_usd', 'Mean cost per attempt in the window, USD.', tw);
    this.gauge('agentdrift_mean_tokens', 'Mean tokens per attempt in the window, by type.', ['track', 'window', 'type']);
    this.gauge('agentdrift_mean_turns', 'Mean agent turns per attempt in the window.', tw);
    this.gauge('agentdrift_mean_tool_calls', 'Mean tool calls per attempt in the window.', tw);
    this.gauge('agentdrift_last_run_timestamp_seconds', 'End of the most recent finished run (Unix seconds).', ['track']);
    this.gauge('agentdrift_last_success_timestamp_seconds', 'End of the most recent completed run (Unix seconds).', ['track']);
    this.gauge('agentdrift_baseline_pass_rate', 'Pass rate of the baseline in force (p0, or pooled rate of the reference period).', ['track']);
    this.gauge('agentdrift_baseline_ready', '1 once the track has a baseline; the regression series are absent until then.', ['track']);
    this.gauge('agentdrift_regression_p_value', 'Raw one-sided p of the window test against the baseline (binomial, CMH or Fisher).', tw);
    this.gauge('agentdrift_regression_p_value_adjusted', 'Holm-adjusted p across the 1d, 7d and 30d windows.', tw);
    this.gauge('agentdrift_regression_significant', '1 when the Holm-adjusted p is below statistics.alpha.', tw);
    this.gauge('agentdrift_minimum_detectable_drop', 'Drop in pass rate (fraction) the window test detects with 80% power.', tw);
    this.gauge('agentdrift_cusum_statistic', 'Risk-adjusted Bernoulli CUSUM statistic since the baseline.', ['track']);
    this.gauge('agentdrift_cusum_threshold', 'CUSUM threshold h (simulated: mean days to a false signal >= the horizon).', ['track']);
    this.gauge('agentdrift_usage_ratio', 'Geometric-mean ratio of the window to the baseline median, per task.', ['track', 'window', 'metric']);
    this.gauge('agentdrift_usage_regression_significant', '1 when usage went up significantly (Holm) and beyond the practical ratio.', ['track', 'window', 'metric']);
    // What the agent did (docs/metrics.md "Behaviour"): bounded labels, metric from BEHAVIOUR_METRICS, tool from TOOL_LABELS.
    const twm = ['track', 'window', 'metric'];
    this.gauge('agentdrift_behaviour_attempts', 'Counted attempts in the window whose behaviour was recorded: the denominator of the behaviour means.', tw);
    this.gauge('agentdrift_behaviour_mean', 'Mean per attempt of a behaviour metric in the window, over the attempts where it has a value.', twm);
    this.gauge('agentdrift_tool_calls_mean', 'Mean tool calls per attempt in the window, by tool (the agent\'s tool set, any other tool as other).', ['track', 'window', 'tool']);
    this.gauge('agentdrift_behaviour_reference_mean', 'Mean per attempt of a behaviour metric over the reference period.', ['track', 'metric']);
    this.gauge('agentdrift_behaviour_ratio', 'Shifted geometric-mean ratio window / reference per task: exp(mean(ln(1 + window mean) - ln(1 + reference mean))).', twm);
    this.gauge('agentdrift_behaviour_p_value', 'Raw two-sided p of the per-task paired Wilcoxon signed-rank test of the metric against the reference.', twm);
    this.gauge('agentdrift_behaviour_p_value_adjusted', 'Holm-adjusted p of the behaviour test across the 1d, 7d and 30d windows of the metric.', twm);
    this.gauge('agentdrift_behaviour_change_significant', '1 when the metric changed significantly (Holm) and beyond the practical ratio, either way.', twm);
    // Per-test results (docs/metrics.md "Graded score"): partial credit beside the pass rate, for warnings, never paging.
    const gradedHelp = 'Counted attempts in the window with per-test results (and fail_to_pass tests): the denominator of the graded score.';
    this.gauge('agentdrift_graded_attempts', gradedHelp, tw);
    this.gauge('agentdrift_graded_score_mean', 'Mean graded score per attempt in the window: the share of the task\'s fail_to_pass tests that passed.', tw);
    const brokenHelp = "Mean share of the task's pass_to_pass tests that did not pass, per attempt in the window (attempts of tasks with pass_to_pass tests).";
    this.gauge('agentdrift_p2p_broken_mean', brokenHelp, tw);
    for (const [m, what, way] of [
      ['graded_score', 'graded score', 'drop'],
      ['p2p_broken', 'p2p breakage', 'rise'],
    ] as const) {
      this.gauge(`agentdrift_${m}_change`, `Mean per-task change of the ${what} against the reference period (window minus reference, share points).`, tw);
      this.gauge(`agentdrift_${m}_p_value`, `Raw one-sided p of the per-task paired Wilcoxon signed-rank test of a ${what} ${way} against the reference.`, tw);
      this.gauge(`agentdrift_${m}_p_value_adjusted`, `Holm-adjusted p of the ${what} test across the 1d, 7d and 30d windows.`, tw);
      const moved = way === 'drop' ? 'fell' : 'rose';
      this.gauge(`agentdrift_${m}_${way}_significant`, `1 when the ${what} ${moved} significantly (Holm) and by at least statistics.gradedShareThreshold.`, tw);
    }
    // The breakdown by language and by repository (docs/metrics.md): for diagnosis and warnings, never for paging.
    const twg = ['track', 'window', 'dimension', 'group'];
    this.gauge('agentdrift_group_attempts', 'Counted attempts of the group\'s tasks in the window (those the window test uses).', twg);
    this.gauge('agentdrift_group_pass_rate', 'Resolved / attempts of the group\'s tasks in the window.', twg);
    this.gauge('agentdrift_group_pass_rate_lower', 'Lower bound of the Wilson score interval of the group\'s pass rate.', twg);
    this.gauge('agentdrift_group_pass_rate_upper', 'Upper bound of the Wilson score interval of the group\'s pass rate.', twg);
    this.gauge('agentdrift_group_change', 'Group pass rate minus the group\'s reference rate (pooled baseline rate of its tasks, or p0): negative is worse.', twg);
    this.gauge('agentdrift_group_p_value', 'One-sided p of the window test on the group\'s tasks, Holm-adjusted across the groups of the dimension.', twg);
    this.gauge('agentdrift_group_significant', '1 when the group\'s Holm-adjusted p is below statistics.alpha.', twg);
    if (this.perTaskSeries) {
      const tt = ['track', 'task'];
      const ttw = ['track', 'task', 'window'];
      this.gauge('agentdrift_task_latest_outcome', 'Outcome of the task\'s latest counted attempt: 1 resolved, 0 unresolved, -1 agent_error, -2 timeout.', tt);
      this.gauge('agentdrift_task_reference_rate', 'Pass rate of the task in the reference period (passes / counted trials).', tt);
      this.gauge('agentdrift_task_window_attempts', 'Counted attempts of the task in the window (infra errors excluded).', ttw);
      this.gauge('agentdrift_task_window_passes', 'Resolved attempts of the task in the window.', ttw);
      this.gauge('agentdrift_task_cusum_push', 'Sum of the CUSUM increments of the task\'s attempts in the window: > 0 pushes towards a page.', ttw);
      this.gauge('agentdrift_task_flip', '1 when the task was reliably solved in the reference and failed every attempt of the window, -1 the reverse, else 0.', ttw);
    }
    this.counter('agentdrift_attempts_total', 'Attempts stored, by outcome.', ['track', 'outcome']);
    this.counter('agentdrift_tokens_total', 'Tokens used by the agent, by type.', ['track', 'type']);
    this.counter('agentdrift_cost_usd_total', 'Cost of the agent, USD.', ['track']);

    const og = (name: string, help: string, labelNames: string[]) => this.opsGauges.set(name, new Gauge({ name, help, labelNames, registers: [this.opsRegistry] }));
    const oc = (name: string, help: string, labelNames: string[]) => this.opsCounters.set(name, new Counter({ name, help, labelNames, registers: [this.opsRegistry] }));
    og('agentdrift_next_run_timestamp_seconds', 'Next scheduled run (Unix seconds).', ['track']);
    og('agentdrift_schedule_period_seconds', 'Longest gap between consecutive slots of the track\'s schedule, seconds.', ['track']);
    og('agentdrift_run_in_progress', '1 while a run of the track is going on.', ['track']);
    og('agentdrift_run_progress_ratio', 'Stored / planned attempts of the run going on (else of the latest run).', ['track']);
    og('agentdrift_budget_exhausted', '1 when the track\'s spend of the day reached budget.dailyUsd.', ['track']);
    og('agentdrift_cost_today_usd', 'Cost of the track\'s attempts that ended today (its schedule\'s time zone), USD.', ['track']);
    oc('agentdrift_runs_total', 'Runs by the state they ended in (a slot skipped while a run went on counts as skipped).', ['track', 'state']);
    oc('agentdrift_scheduler_missed_runs_total', 'Scheduled slots that never ran: missed while the daemon was down, or passed over by a late timer.', ['track']);
  }

  gauge(name: string, help: string, labelNames: string[]): Gauge {
    const g = new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.gauges.set(name, g);
    return g;
  }

  counter(name: string, help: string, labelNames: string[]): Counter {
    const c = new Counter({ name, help, labelNames, registers: [this.registry] });
    this.counters.set(name, c);
    return c;
  }

  /**
   * Every sample goes through here. A value that is not a finite number (an aggregate of a hand-edited or corrupted
   * store: a sum past the range of a double, a text where a number belongs), or a negative counter increment, is left
   * out of the exposition with a warning: prom-client would throw, and a throw here once made every command crash at
   * start on that store.
   */
  private put(metric: Gauge | Counter, name: string, labels: Record<string, string>, v: unknown, kind: 'set' | 'inc'): void {
    if (typeof v === 'number' && Number.isFinite(v) && (kind === 'set' || v >= 0)) {
      if (kind === 'set') (metric as Gauge).set(labels, v);
      else (metric as Counter).inc(labels, v);
      return;
    }
    this.dropped(name, labels, typeof v === 'number' ? String(v) : `a ${typeof v}`);
  }

  /** Says once per series that a figure was left out because it is not a finite number. */
  private dropped(name: string, labels: Record<string, string>, value: string): void {
    const key = `${name}${JSON.stringify(labels)}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn({ metric: name, labels, value }, 'figure left out of /metrics: not a finite number (check the stored history)');
  }

  private g(name: string): Gauge {
    const g = this.gauges.get(name);
    if (!g) throw new Error(`no gauge ${name}`);
    return g;
  }

  private c(name: string): Counter {
    const c = this.counters.get(name);
    if (!c) throw new Error(`no counter ${name}`);
    return c;
  }

  /** Replaces every per-track series with the given snapshots (synchronously, so no scrape sees half of it). */
  apply(snapshots: readonly TrackSnapshot[]): void {
    for (const [name, g] of this.gauges) if (name !== 'agentdrift_build_info') g.reset();
    for (const c of this.counters.values()) c.reset();
    for (const s of snapshots) this.applyOne(s);
    this.rendered = null;
    this.generation++;
  }

  private applyOne(s: TrackSnapshot): void {
    const track = s.track;
    this.g('agentdrift_track_info').set({ track, agent: s.agent, agent_version: s.agentVersion, model: s.model, suite: s.suite }, 1);
    const set = (name: string, labels: Record<string, string>, v: number) => this.put(this.g(name), name, labels, v, 'set');
    // An optional figure: null or NaN means "none" (no attempts, no test) and is left out without a word; an infinity
    // or a value of another type is a broken figure, left out with a warning.
    const setIf = (name: string, labels: Record<string, string>, v: number | null) => {
      if (v === null || Number.isNaN(v)) return;
      set(name, labels, v);
    };
    const inc = (name: string, labels: Record<string, string>, v: number) => this.put(this.c(name), name, labels, v, 'inc');
    for (const w of s.windows) {
      const l = { track, window: w.window };
      set('agentdrift_window_attempts', l, w.attempts);
      set('agentdrift_window_passes', l, w.passes);
      // Figures summarizeWindow found not finite (it gives null for them): said here, where they are left out.
      for (const f of w.notFinite ?? []) this.dropped(`window figure ${f}`, l, 'not finite');
      setIf('agentdrift_pass_rate', l, w.passRate);
      setIf('agentdrift_pass_rate_lower', l, w.lower);
      setIf('agentdrift_pass_rate_upper', l, w.upper);
      setIf('agentdrift_infra_error_ratio', l, w.infraErrorRatio);
      setIf('agentdrift_agent_duration_seconds', { ...l, quantile: '0.5' }, w.durationP50Seconds);
      setIf('agentdrift_agent_duration_seconds', { ...l, quantile: '0.9' }, w.durationP90Seconds);
      setIf('agentdrift_mean_cost_usd', l, w.meanCostUsd);
      setIf('agentdrift_mean_turns', l, w.meanTurns);
      setIf('agentdrift_mean_tool_calls', l, w.meanToolCalls);
      if (w.meanTokens) for (const type of TOKEN_TYPES) setIf('agentdrift_mean_tokens', { ...l, type }, w.meanTokens[type]);
    }
    for (const b of s.behaviour) {
      const l = { track, window: b.window };
      set('agentdrift_behaviour_attempts', l, b.attempts);
      for (const metric of BEHAVIOUR_METRICS) setIf('agentdrift_behaviour_mean', { ...l, metric }, b.means[metric]);
      if (b.toolCalls) for (const tool of TOOL_LABELS) setIf('agentdrift_tool_calls_mean', { ...l, tool }, b.toolCalls[tool]);
    }
    for (const g of s.graded ?? []) {
      const l = { track, window: g.window };
      set('agentdrift_graded_attempts', l, g.attempts);
      setIf('agentdrift_graded_score_mean', l, g.gradedScoreMean);
      setIf('agentdrift_p2p_broken_mean', l, g.p2pBrokenMean);
    }
    const reg = s.regression;
    set('agentdrift_baseline_ready', { track }, reg.baseline ? 1 : 0);
    if (reg.baseline) {
      setIf('agentdrift_baseline_pass_rate', { track }, reg.baseline.passRate);
      for (const w of reg.windows) {
        const l = { track, window: w.window };
        setIf('agentdrift_regression_p_value', l, w.p);
        setIf('agentdrift_regression_p_value_adjusted', l, w.pAdjusted);
        if (w.method !== 'none') set('agentdrift_regression_significant', l, w.significant ? 1 : 0);
        setIf('agentdrift_minimum_detectable_drop', l, w.minimumDetectableDrop);
      }
      if (reg.cusum) {
        set('agentdrift_cusum_statistic', { track }, reg.cusum.statistic);
        set('agentdrift_cusum_threshold', { track }, reg.cusum.threshold);
      }
      for (const u of reg.usage) {
        const l = { track, window: u.window, metric: u.metric };
        setIf('agentdrift_usage_ratio', l, u.ratio);
        if (Number.isFinite(u.p)) set('agentdrift_usage_regression_significant', l, u.significant ? 1 : 0);
      }
      const ref = reg.behaviourReference;
      if (ref) for (const metric of BEHAVIOUR_METRICS) setIf('agentdrift_behaviour_reference_mean', { track, metric }, ref.means[metric]);
      for (const b of reg.behaviour) {
        const l = { track, window: b.window, metric: b.metric };
        setIf('agentdrift_behaviour_ratio', l, b.ratio);
        setIf('agentdrift_behaviour_p_value', l, b.p);
        setIf('agentdrift_behaviour_p_value_adjusted', l, b.pAdjusted);
        if (Number.isFinite(b.p)) set('agentdrift_behaviour_change_significant', l, b.significant ? 1 : 0);
      }
      for (const g of reg.graded ?? []) {
        const l = { track, window: g.window };
        setIf(`agentdrift_${g.metric}_change`, l, g.change);
        setIf(`agentdrift_${g.metric}_p_value`, l, g.p);
        setIf(`agentdrift_${g.metric}_p_value_adjusted`, l, g.pAdjusted);
        // Tested when a task is paired: 0 too when no paired task's share moved (the test then has no p).
        if (g.tasks > 0) set(`agentdrift_${g.metric}_${g.metric === 'graded_score' ? 'drop' : 'rise'}_significant`, l, g.significant ? 1 : 0);
      }
    }
    this.applyTasks(s, set);
    for (const g of s.breakdown) {
      const l = { track, window: g.window, dimension: g.dimension, group: g.group };
      set('agentdrift_group_attempts', l, g.n);
      setIf('agentdrift_group_pass_rate', l, g.estimate);
      setIf('agentdrift_group_pass_rate_lower', l, g.lower);
      setIf('agentdrift_group_pass_rate_upper', l, g.upper);
      setIf('agentdrift_group_change', l, g.change);
      setIf('agentdrift_group_p_value', l, g.pAdjusted);
      if (g.method !== 'none') set('agentdrift_group_significant', l, g.significant ? 1 : 0);
    }
    const secs = (v: number | null) => (v === null ? null : v / 1000);
    setIf('agentdrift_last_run_timestamp_seconds', { track }, secs(s.lastRunMs));
    setIf('agentdrift_last_success_timestamp_seconds', { track }, secs(s.lastSuccessMs));
    for (const outcome of OUTCOMES) inc('agentdrift_attempts_total', { track, outcome }, s.totals.attemptsByOutcome[outcome]);
    const t = s.totals;
    const tokens = { input: t.inputTokens, output: t.outputTokens, cache_read: t.cacheReadTokens, cache_creation: t.cacheCreationTokens };
    for (const type of TOKEN_TYPES) inc('agentdrift_tokens_total', { track, type }, tokens[type]);
    inc('agentdrift_cost_usd_total', { track }, t.costUsd);
  }

  /** The agentdrift_task_* series of a track, when metrics.perTaskSeries is on and the track has few enough tasks. */
  private applyTasks(s: TrackSnapshot, set: (name: string, labels: Record<string, string>, v: number) => void): void {
    if (!this.perTaskSeries) return;
    const h = s.tasks;
    if (h.tasks.length > this.perTaskMaxTasks) {
      const key = `per-task series of ${s.track}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.warn({ track: s.track, tasks: h.tasks.length, max: this.perTaskMaxTasks }, 'per-task series left out: the track has more tasks than metrics.perTaskMaxTasks');
      }
      return;
    }
    const track = s.track;
    const window = TASK_SERIES_WINDOW;
    const reference = h.baseline === 'reference';
    for (const t of h.tasks) {
      const l = { track, task: t.taskId };
      if (t.latest) set('agentdrift_task_latest_outcome', l, LATEST_OUTCOME_CODE[t.latest.outcome]);
      if (t.reference) set('agentdrift_task_reference_rate', l, t.reference.rate);
      const w = taskWindow(t, window);
      if (!w) continue;
      const lw = { ...l, window };
      set('agentdrift_task_window_attempts', lw, w.attempts);
      set('agentdrift_task_window_passes', lw, w.passes);
      if (w.cusumPush !== null) set('agentdrift_task_cusum_push', lw, w.cusumPush);
      if (reference) set('agentdrift_task_flip', lw, w.flip === 'broke' ? 1 : w.flip === 'fixed' ? -1 : 0);
    }
  }

  private og(name: string): Gauge {
    const g = this.opsGauges.get(name);
    if (!g) throw new Error(`no gauge ${name}`);
    return g;
  }

  /** Whether the agent of each track has credentials (the same for every track: they come from the environment). */
  setAgentCredentials(tracks: readonly string[], present: boolean): void {
    this.credentialsGauge.reset();
    for (const track of tracks) this.credentialsGauge.set({ track }, present ? 1 : 0);
  }

  /** Replaces every operational series; `dockerUp` null (not checked in this process) leaves agentdrift_docker_up out. */
  applyOps(ops: readonly TrackOps[], dockerUp: boolean | null): void {
    for (const g of this.opsGauges.values()) g.reset();
    for (const c of this.opsCounters.values()) c.reset();
    this.opsRegistry.removeSingleMetric('agentdrift_docker_up');
    if (dockerUp !== null) {
      this.dockerUpGauge.set(dockerUp ? 1 : 0);
      this.opsRegistry.registerMetric(this.dockerUpGauge);
    }
    const runs = this.opsCounters.get('agentdrift_runs_total') as Counter;
    const missed = this.opsCounters.get('agentdrift_scheduler_missed_runs_total') as Counter;
    const set = (name: string, labels: Record<string, string>, v: number) => this.put(this.og(name), name, labels, v, 'set');
    for (const o of ops) {
      const track = o.track;
      if (o.nextRunMs !== null) set('agentdrift_next_run_timestamp_seconds', { track }, o.nextRunMs / 1000);
      if (o.schedulePeriodSeconds !== null) set('agentdrift_schedule_period_seconds', { track }, o.schedulePeriodSeconds);
      set('agentdrift_run_in_progress', { track }, o.runInProgress ? 1 : 0);
      set('agentdrift_run_progress_ratio', { track }, o.progressRatio);
      set('agentdrift_budget_exhausted', { track }, o.budgetExhausted ? 1 : 0);
      set('agentdrift_cost_today_usd', { track }, o.costTodayUsd);
      for (const state of ENDED_RUN_STATES) this.put(runs, 'agentdrift_runs_total', { track, state }, o.runsByState[state], 'inc');
      this.put(missed, 'agentdrift_scheduler_missed_runs_total', { track }, o.missedRuns, 'inc');
    }
  }

  // --- the engine's disk (agentdrift_docker_*; docs/metrics.md) ------------------------------------------------

  /** Registered in opsRegistry only while there are figures: label-less gauges would otherwise render a 0. */
  private readonly diskGauges = {
    imagesBytes: new Gauge({ name: 'agentdrift_docker_images_bytes', help: 'Disk space of every image layer on the Docker Engine, each layer counted once (/system/df LayersSize), bytes.', registers: [] }),
    images: new Gauge({ name: 'agentdrift_docker_images', help: 'Images on the Docker Engine.', registers: [] }),
    free: new Gauge({ name: 'agentdrift_docker_data_root_free_bytes', help: 'Free bytes of the filesystem holding the engine\'s data root (DockerRootDir); absent when not measurable.', registers: [] }),
    total: new Gauge({ name: 'agentdrift_docker_data_root_total_bytes', help: 'Size of the filesystem holding the engine\'s data root, bytes; absent when not measurable.', registers: [] }),
    suite: new Gauge({ name: 'agentdrift_docker_suite_images', help: 'Images of the track\'s suite (as its last run resolved it), present on the engine or missing (to pull).', labelNames: ['track', 'state'], registers: [] }),
    required: new Gauge({
      name: 'agentdrift_docker_run_required_bytes',
      help: 'Free bytes the track\'s next run needs on the data root: its missing images (estimated) plus docker.minFreeGb; the disk check refuses a run below it.',
      labelNames: ['track'],
      registers: [],
    }),
  };

  /** Replaces the disk series; null (no check yet, or the engine did not answer) leaves them all out. */
  applyDockerDisk(d: DockerDiskFigures | null): void {
    const g = this.diskGauges;
    for (const gauge of Object.values(g)) {
      this.opsRegistry.removeSingleMetric((gauge as unknown as { name: string }).name);
      gauge.reset();
    }
    if (d === null) return;
    const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
    const put = (gauge: Gauge, v: number | null) => {
      if (!finite(v)) return;
      this.opsRegistry.registerMetric(gauge);
      gauge.set(v);
    };
    put(g.imagesBytes, d.imagesBytes);
    put(g.images, d.images);
    if (finite(d.freeBytes) && finite(d.totalBytes)) {
      put(g.free, d.freeBytes);
      put(g.total, d.totalBytes);
    }
    this.opsRegistry.registerMetric(g.suite);
    this.opsRegistry.registerMetric(g.required);
    for (const t of d.tracks) {
      g.suite.set({ track: t.track, state: 'present' }, t.present);
      g.suite.set({ track: t.track, state: 'missing' }, t.missing);
      if (finite(t.requiredBytes)) g.required.set({ track: t.track }, t.requiredBytes);
    }
  }

  async render(): Promise<string> {
    let text = this.rendered;
    if (text === null) {
      const generation = this.generation;
      text = await this.registry.metrics();
      // Keep it only if no apply() came in while it was rendered.
      if (generation === this.generation) this.rendered = text;
    }
    return text + (await this.opsRegistry.metrics()) + (await this.processRegistry.metrics());
  }
}
