/**
 * Figures that are not finite (sums past the range of a double, text where a number belongs: what a hand-edited store
 * or an older import could hold) are left out of the exposition with one warning per series, never thrown: prom-client
 * throws on a non-finite counter increment, and that throw once made every command crash at start (issue 10 item 2).
 */
import { describe, expect, it } from 'vitest';
import { MetricsExporter } from '../../src/adapters/metrics/exporter.ts';
import type { TrackSnapshot } from '../../src/core/figures/snapshot.ts';
import { quantile, selectWindows, summarizeWindow } from '../../src/core/figures/windows.ts';
import { calendarDay } from '../../src/cron/cron.ts';
import type { AttemptFacts } from '../../src/domain/records.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const fact = (extra: Partial<AttemptFacts> = {}): AttemptFacts => ({
  taskId: 't',
  outcome: 'resolved',
  inputTokens: 1,
  outputTokens: 1,
  cacheReadTokens: 1,
  cacheCreationTokens: 1,
  costUsd: 1,
  turns: 1,
  toolCalls: 1,
  agentDurationMs: 1000,
  endedAtMs: END - 1000,
  runId: 1,
  runStartedAtMs: END - 3_600_000,
  runEndedAtMs: END,
  ...extra,
});

/** The windows of these attempts (one run, ended at END). */
const windowsOf = (facts: AttemptFacts[]) => selectWindows(facts, calendarDay(END - 3_600_000, 'UTC'), 'UTC');

function snapshot(facts: AttemptFacts[], totals: Partial<TrackSnapshot['totals']> = {}): TrackSnapshot {
  return {
    track: 'x',
    agent: 'claude-code',
    agentVersion: 'unknown',
    model: 'm',
    suite: 'unfrozen',
    computedAt: END,
    windowEndMs: END,
    windows: windowsOf(facts).map((w) => summarizeWindow(w, 0.95)),
    behaviour: [],
    graded: [],
    totals: {
      attemptsByOutcome: { resolved: facts.length, unresolved: 0, agent_error: 0, timeout: 0, infra_error: 0 },
      inputTokens: 2,
      outputTokens: 2,
      cacheReadTokens: 2,
      cacheCreationTokens: 2,
      costUsd: 2,
      ...totals,
    },
    lastRunMs: END,
    lastSuccessMs: null,
    regression: { baseline: null, windows: [], cusum: null, usage: [], behaviour: [], behaviourReference: null, graded: [] },
    tasks: { suiteFrozen: false, baseline: null, flipRule: { solvedRate: 0.8, failingRate: 0.2, minReferenceTrials: 5, minWindowAttempts: 2 }, tasks: [] },
    breakdown: [],
  };
}

describe('figures that are not finite', () => {
  it('summarizeWindow gives null for them and names them; quantiles of equal infinities are no NaN', () => {
    const w = summarizeWindow(windowsOf([fact({ costUsd: 1e308 }), fact({ costUsd: 1e308, agentDurationMs: Infinity }), fact({ turns: 'many' as unknown as number, agentDurationMs: Infinity })])[0]!, 0.95);
    expect(w).toMatchObject({ attempts: 3, passes: 3, meanCostUsd: null, meanTurns: null, meanToolCalls: 1, durationP90Seconds: null });
    expect(w.notFinite).toEqual(['durationP50Seconds', 'durationP90Seconds', 'meanCostUsd', 'meanTurns']);
    expect(quantile([Infinity, Infinity], 0.5)).toBe(Infinity);
    expect(summarizeWindow(windowsOf([fact()])[0]!, 0.95).notFinite).toBeUndefined();
  });

  it('are left out of the exposition, each said once however often the figures are applied', async () => {
    const warnings: Record<string, unknown>[] = [];
    const m = new MetricsExporter('test', (fields) => warnings.push(fields));
    const s = snapshot([fact({ costUsd: 1e308 }), fact({ costUsd: 1e308 })], { costUsd: Infinity, inputTokens: -5, outputTokens: NaN, cacheReadTokens: 'lots' as unknown as number });
    m.apply([s]);
    m.apply([s]);
    m.applyOps([{ track: 'x', nextRunMs: null, schedulePeriodSeconds: null, runInProgress: false, currentRunId: null, progressRatio: 0, runsByState: { completed: Infinity, failed: 0, cancelled: 0, interrupted: 0, skipped: 0, budget_exhausted: 0 }, missedRuns: 0, costTodayUsd: Infinity, dayStartMs: END, budgetDailyUsd: null, budgetExhausted: true }], null);
    const lines = (await m.render()).split('\n');
    expect(lines).toContain('agentdrift_attempts_total{track="x",outcome="resolved"} 2');
    expect(lines).toContain('agentdrift_tokens_total{track="x",type="cache_creation"} 2');
    expect(lines).toContain('agentdrift_runs_total{track="x",state="failed"} 0');
    for (const gone of ['agentdrift_cost_usd_total{track="x"}', 'agentdrift_tokens_total{track="x",type="input"}', 'agentdrift_tokens_total{track="x",type="output"}', 'agentdrift_tokens_total{track="x",type="cache_read"}', 'agentdrift_mean_cost_usd{track="x",window="1d"}', 'agentdrift_cost_today_usd{track="x"}', 'agentdrift_runs_total{track="x",state="completed"}']) {
      expect(lines.some((l) => l.startsWith(`${gone} `)), gone).toBe(false);
    }
    expect(warnings).toEqual(
      expect.arrayContaining([
        { metric: 'agentdrift_cost_usd_total', labels: { track: 'x' }, value: 'Infinity' },
        { metric: 'agentdrift_tokens_total', labels: { track: 'x', type: 'input' }, value: '-5' },
        { metric: 'agentdrift_tokens_total', labels: { track: 'x', type: 'output' }, value: 'NaN' },
        { metric: 'agentdrift_tokens_total', labels: { track: 'x', type: 'cache_read' }, value: 'a string' },
        { metric: 'window figure meanCostUsd', labels: { track: 'x', window: '1d' }, value: 'not finite' },
        { metric: 'agentdrift_cost_today_usd', labels: { track: 'x' }, value: 'Infinity' },
        { metric: 'agentdrift_runs_total', labels: { track: 'x', state: 'completed' }, value: 'Infinity' },
      ]),
    );
    // Once per series, though applied twice.
    expect(warnings).toHaveLength(new Set(warnings.map((w) => JSON.stringify(w))).size);
    expect(warnings).toHaveLength(9);
  });
});
