/**
 * Window gauges and Wilson bounds after importing 30 days of history, compared with values computed independently
 * by statsmodels and NumPy (scripts/gen-window-fixtures.py, committed as test/fixtures/windows/expected.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importHistoryFile } from '../../src/core/history/import.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const dir = path.join(import.meta.dirname, '../fixtures/windows');
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
  windowEnd: string;
  confidence: Record<string, Record<string, Record<string, number | Record<string, number>>>>;
  totals: { attempts: Record<string, number>; costUsd: number; inputTokens: number };
};

/** Parses the text exposition into { 'name{labels}': value }. */
function parseExposition(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

let t: TestContext;
afterEach(() => t?.cleanup());

describe.each(['0.95', '0.8'])('window figures at confidence %s', (confidence) => {
  it('match the independent values for 1d, 7d and 30d', async () => {
    t = makeContext({ statistics: { confidence: Number(confidence) }, tracks: [{ name: 'fixture' }] });
    importHistoryFile(t.ctx, 'fixture', path.join(dir, 'history-30d.json'));
    const snap = t.ctx.figures.snapshot('fixture');
    expect(snap.windowEndMs).toBe(Date.parse(expected.windowEnd));
    const metrics = parseExposition(await t.ctx.exporter.render());
    for (const w of snap.windows) {
      const e = expected.confidence[confidence]![w.window]!;
      expect(w.attempts).toBe(e.attempts);
      expect(w.passes).toBe(e.passes);
      expect(w.infraErrors).toBe(e.infraErrors);
      for (const k of ['passRate', 'lower', 'upper', 'infraErrorRatio', 'durationP50Seconds', 'durationP90Seconds', 'meanCostUsd', 'meanTurns', 'meanToolCalls'] as const) {
        expect(w[k], `${w.window} ${k}`).toBeCloseTo(e[k] as number, 9);
      }
      for (const [type, v] of Object.entries(e.meanTokens as Record<string, number>)) expect(w.meanTokens![type as 'input']).toBeCloseTo(v, 6);
      const l = `track="fixture",window="${w.window}"`;
      expect(metrics.get(`agentdrift_pass_rate{${l}}`)).toBeCloseTo(e.passRate as number, 9);
      expect(metrics.get(`agentdrift_pass_rate_lower{${l}}`)).toBeCloseTo(e.lower as number, 9);
      expect(metrics.get(`agentdrift_pass_rate_upper{${l}}`)).toBeCloseTo(e.upper as number, 9);
      expect(metrics.get(`agentdrift_window_attempts{${l}}`)).toBe(e.attempts);
      expect(metrics.get(`agentdrift_window_passes{${l}}`)).toBe(e.passes);
      expect(metrics.get(`agentdrift_infra_error_ratio{${l}}`)).toBeCloseTo(e.infraErrorRatio as number, 9);
      expect(metrics.get(`agentdrift_agent_duration_seconds{${l},quantile="0.9"}`)).toBeCloseTo(e.durationP90Seconds as number, 6);
      expect(metrics.get(`agentdrift_mean_tokens{${l},type="cache_read"}`)).toBeCloseTo((e.meanTokens as Record<string, number>).cache_read!, 6);
    }
    for (const [outcome, n] of Object.entries(expected.totals.attempts)) {
      expect(metrics.get(`agentdrift_attempts_total{track="fixture",outcome="${outcome}"}`)).toBe(n);
    }
    expect(metrics.get('agentdrift_cost_usd_total{track="fixture"}')).toBeCloseTo(expected.totals.costUsd, 6);
    expect(metrics.get('agentdrift_tokens_total{track="fixture",type="input"}')).toBe(expected.totals.inputTokens);
    expect(metrics.get('agentdrift_last_success_timestamp_seconds{track="fixture"}')).toBeCloseTo(Date.parse(expected.windowEnd) / 1000, 3);
    expect(metrics.get('agentdrift_track_info{track="fixture",agent="claude-code",agent_version="2.1.4",model="claude-sonnet-test",suite="unfrozen"}')).toBe(1);
  });
});

describe('a track with no history', () => {
  it('exposes its info and zero counters, and no window gauges rather than errors', async () => {
    t = makeContext({ tracks: [{ name: 'empty' }] });
    const text = await t.ctx.exporter.render();
    const metrics = parseExposition(text);
    expect(metrics.get('agentdrift_track_info{track="empty",agent="claude-code",agent_version="unknown",model="sonnet",suite="unfrozen"}')).toBe(1);
    expect(metrics.get('agentdrift_attempts_total{track="empty",outcome="resolved"}')).toBe(0);
    expect(metrics.get('agentdrift_cost_usd_total{track="empty"}')).toBe(0);
    expect(metrics.get('agentdrift_run_in_progress{track="empty"}')).toBe(0);
    expect(metrics.get('agentdrift_next_run_timestamp_seconds{track="empty"}')).toBeGreaterThan(Date.now() / 1000);
    expect(text).not.toContain('agentdrift_pass_rate{');
    expect(text).toContain('process_resident_memory_bytes');
  });
});
