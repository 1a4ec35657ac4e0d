/**
 * Golden exposition: GET /metrics of a fixed imported history, compared byte for byte with
 * test/fixtures/golden/metrics.prom. It pins every series the daemon exports (names, HELP texts, label order, sample
 * order, number formatting, content type) so that a restructuring can show the exposition did not change (issue 11).
 *
 * What is fixed here: the config (three tracks, UTC daily schedule), the histories (the committed 30-day fixture and
 * a seeded synthetic one with a drop), the baselines (a fixed p0 and a reference period, both from the config), the
 * clock of the operational figures (a LiveSource whose now() is NOW: next run, cost today, budget), the engine state
 * and disk figures (as a scheduler would apply them), and the CUSUM thresholds (seeded simulation, seed 1, fresh
 * store so nothing comes from a cache). What is left out: the prom-client default metrics of the process (below).
 *
 * To change the golden file deliberately (a new series, a changed HELP text), run
 *   AGENTDRIFT_UPDATE_GOLDEN=1 npx vitest run test/metrics/golden-exposition.test.ts
 * and commit the diff of test/fixtures/golden/metrics.prom with the change that explains it (docs/metrics.md).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveSource } from '../../src/core/figures/figures.ts';
import { importHistoryFile, importHistoryText } from '../../src/core/history/import.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { generateRuns, historyDocument } from '../helpers/history.ts';

const GOLDEN = path.join(import.meta.dirname, '../fixtures/golden/metrics.prom');
const HISTORY_30D = path.join(import.meta.dirname, '../fixtures/windows/history-30d.json');
const UPDATE = process.env.AGENTDRIFT_UPDATE_GOLDEN === '1';

/** The instant the operational figures are computed at: the day of both histories' last run, after it ended. */
const NOW = Date.parse('2026-10-30T12:00:00Z');

/**
 * The prom-client default metrics (collectDefaultMetrics in src/adapters/metrics/exporter.ts): CPU time, memory, file
 * descriptors, event-loop lag, handles, heap, GC and the node version describe the process that runs the test, not
 * the history, so they can never be byte-stable. Exactly these families are left out (HELP, TYPE and every sample);
 * any other process_ or nodejs_ family makes the test fail, so that a new one is looked at rather than dropped.
 */
const PROCESS_FAMILIES = new Set([
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
]);

/**
 * Drops the families of PROCESS_FAMILIES: a family runs from its "# HELP name" line to the next family's. Every
 * other byte is kept, the final newline too.
 */
function withoutProcessFamilies(text: string): { kept: string; dropped: string[] } {
  const out: string[] = [];
  const dropped = new Set<string>();
  let family: string | null = null;
  const lines = text.split('\n');
  const tail = lines.pop(); // '' after the final newline
  for (const line of lines) {
    const help = /^# HELP (\S+) /.exec(line);
    if (help) family = help[1]!;
    if (family !== null && PROCESS_FAMILIES.has(family)) {
      dropped.add(family);
      continue;
    }
    out.push(line);
  }
  out.push(tail ?? '');
  return { kept: out.join('\n'), dropped: [...dropped] };
}

const CONFIG = {
  tracks: [
    // The committed 30-day fixture (every outcome, cache tokens) against a fixed p0 from the config, with a daily
    // budget its last day's spend exceeds.
    { name: 'fixed', baseline: { kind: 'fixed', p0: 0.6 }, budget: { dailyUsd: 5 } },
    // A seeded synthetic history whose pass rate drops by 0.25 and whose usage grows by half from day 20, against a
    // reference period of its first 14 days: significant window tests, a CUSUM past its threshold, usage ratios.
    { name: 'reference', model: 'opus', baseline: { kind: 'reference', from: '2026-10-01T00:00:00Z', to: '2026-10-15T00:00:00Z' } },
    // No history: what an empty track exports.
    { name: 'empty' },
  ],
};

function referenceHistory(): string {
  const runs = generateRuns({ seed: 11, days: 30, tasks: 40, dropFromDay: 20, drop: 0.25, usageFactor: 1.5, start: '2026-10-01T03:00:00Z' });
  // Two runs that did not complete, so that agentdrift_runs_total has more than one state.
  const states = new Map<number, string>([
    [5, 'failed'],
    [12, 'cancelled'],
  ]);
  return historyDocument(runs.map((r, i) => ({ ...r, state: (states.get(i) ?? r.state) as 'completed' })));
}

/** The operational facts a scheduler would give, pinned at NOW: no run going on, the engine answered. */
function pinnedLive(t: TestContext): LiveSource {
  return {
    now: () => NOW,
    nextRunMs: (track) => t.ctx.figures.schedule(track).nextAfter(NOW),
    liveRun: () => null,
    dockerUp: () => true,
  };
}

let t: TestContext | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

/** Builds a context on a fresh data dir, imports the fixed histories and answers GET /metrics. */
async function exposition(): Promise<{ contentType: string | undefined; text: string }> {
  t = makeContext(CONFIG);
  importHistoryFile(t.ctx, 'fixed', HISTORY_30D);
  importHistoryText(t.ctx, 'reference', referenceHistory(), { fileName: 'reference.json' });
  t.ctx.figures.attachLive(pinnedLive(t));
  t.ctx.exporter.applyDockerDisk({
    imagesBytes: 12_345_678_901,
    images: 42,
    freeBytes: 98_765_432_100,
    totalBytes: 250_000_000_000,
    tracks: [{ track: 'fixed', present: 38, missing: 2, requiredBytes: 10_737_418_240 }],
  });
  const app = await buildServer(t.ctx);
  try {
    const r = await app.inject('/metrics');
    expect(r.statusCode).toBe(200);
    return { contentType: r.headers['content-type'] as string | undefined, text: r.body };
  } finally {
    await app.close();
  }
}

describe('golden /metrics exposition', () => {
  it('of a fixed imported history is byte-identical to test/fixtures/golden/metrics.prom', async () => {
    const { contentType, text } = await exposition();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { kept, dropped } = withoutProcessFamilies(text);
    // The filter removed the process metrics it names (a renamed one would otherwise slip out of view) and nothing
    // else of that kind is left.
    expect(dropped).toContain('process_resident_memory_bytes');
    expect(dropped).toContain('nodejs_version_info');
    expect(kept.split('\n').filter((l) => /^(# (HELP|TYPE) )?(process|nodejs)_/.test(l))).toEqual([]);
    // The histories and baselines did produce the figures the golden file is meant to pin.
    expect(kept).toContain('agentdrift_regression_significant{track="reference",window="7d"} 1');
    expect(kept).toContain('agentdrift_cusum_threshold{track="fixed"}');
    expect(kept).toContain('agentdrift_usage_ratio{track="reference",window="7d",metric="cost"}');
    expect(kept).toContain('agentdrift_budget_exhausted{track="fixed"} 1');
    // The CUSUM thresholds were simulated in this run (seed 1) on a store that started empty, none read from a cache:
    // the golden file matching run after run is what shows the simulation reproducible.
    if (UPDATE) {
      mkdirSync(path.dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, kept);
    }
    const golden = readFileSync(GOLDEN, 'utf8');
    // Line by line first, so that a failure names the series that changed; then the bytes themselves.
    expect(kept.split('\n')).toEqual(golden.split('\n'));
    expect(Buffer.from(kept, 'utf8').equals(Buffer.from(golden, 'utf8'))).toBe(true);
  });
});
