/**
 * A store holding what no code path writes any more but an older import accepted, or a hand-edited database holds:
 * costs of 1e308 (which sum to Infinity), an infinite cost, token counts whose SQL SUM overflows 64 bits, a text where
 * a number belongs, instants outside the range of a Date, a finished run without attempts. Written straight into the
 * store with SQL, bypassing import validation. Every command must still start on it: `metrics`, `export`, `import`
 * and the daemon (/healthz, /metrics, the API), each figure that is not finite left out with a warning.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { runCli, startDaemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';

const DAY = 86_400_000;
/** Beyond the last instant a Date can hold (8.64e15 ms). */
const BEYOND_DATES = 8.64e15 + 1000;

function pathologicalStore(): { dir: string; config: string } {
  const dir = tempDir();
  const config = path.join(dir, 'agentdrift.yaml');
  writeFileSync(config, 'server:\n  port: 0\ndataDir: data\nlogLevel: info\ntracks:\n  - name: costs\n  - name: dates\n');
  const store = Store.open(path.join(dir, 'data'));
  try {
    const costs = store.tracks.ensure({ name: 'costs', agent: 'claude-code', model: 'sonnet' }).id;
    const dates = store.tracks.ensure({ name: 'dates', agent: 'claude-code', model: 'sonnet' }).id;
    const run = store.db.prepare("INSERT INTO runs (track_id, state, trigger, started_at, ended_at) VALUES (?, 'completed', 'import', ?, ?)");
    const attempt = store.db.prepare(`INSERT INTO attempts (run_id, track_id, task_id, sample_index, outcome, input_tokens, output_tokens,
      cache_read_tokens, cache_creation_tokens, cost_usd, turns, tool_calls, agent_duration_ms, started_at, ended_at)
      VALUES (@run, @track, @task, 0, @outcome, @input, 1, 1, 1, @cost, @turns, 1, @duration, @start, @end)`);
    const t0 = Date.now() - 3 * DAY;
    for (let d = 0; d < 2; d++) {
      const start = t0 + d * DAY;
      const end = start + 3_600_000;
      const id = Number(run.run(costs, start, end).lastInsertRowid);
      const base = { run: id, track: costs, start, end: end - 60_000 };
      // Two costs of 1e308: their sum is Infinity (prom-client threw on it, and every command crashed at start).
      attempt.run({ ...base, task: 'a', outcome: 'resolved', input: 9e18, cost: 1e308, turns: 5, duration: 1e308 });
      attempt.run({ ...base, task: 'b', outcome: 'unresolved', input: 9e18, cost: 1e308, turns: 'many', duration: -1 });
      attempt.run({ ...base, task: 'c', outcome: 'agent_error', input: 1, cost: Infinity, turns: 2, duration: 1000 });
    }
    // 2000 x 5e15 missed slots: SQLite's SUM of integers throws "integer overflow" past 2^63.
    const missed = store.db.prepare("INSERT INTO run_events (track_id, run_id, kind, count, at, slot_from, slot_to, reason) VALUES (?, NULL, 'missed', ?, ?, ?, ?, 'down')");
    for (let i = 0; i < 2000; i++) missed.run(costs, 5e15, t0, t0 - DAY, t0);
    // A run and attempt beyond the range of a Date, and a finished run without attempts.
    const far = Number(run.run(dates, BEYOND_DATES, BEYOND_DATES + 10).lastInsertRowid);
    attempt.run({ run: far, track: dates, task: 'a', outcome: 'resolved', input: 1, cost: 1, turns: 1, duration: 1, start: BEYOND_DATES, end: BEYOND_DATES + 10 });
    run.run(dates, t0, t0 + 1000);
  } finally {
    store.close();
  }
  return { dir, config };
}

/** The exposition parses (promtool reports a parse error as "error while linting"; lint remarks are not errors). */
function expectParsable(exposition: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/error while linting|parsing error/);
}

describe('every command starts on a store holding pathological figures', { timeout: 180_000 }, () => {
  it('metrics, export and import run, leaving out and naming each figure that is not finite', async () => {
    const { dir, config } = pathologicalStore();
    const m = await runCli(['--config', config, 'metrics'], { cwd: dir });
    expect(m.code, m.stderr).toBe(0);
    expectParsable(m.stdout);
    const lines = m.stdout.split('\n');
    expect(lines).toContain('agentdrift_attempts_total{track="costs",outcome="resolved"} 2');
    expect(lines).toContain('agentdrift_tokens_total{track="costs",type="input"} 36000000000000000000');
    expect(lines).toContain('agentdrift_scheduler_missed_runs_total{track="costs"} 10000000000000000000');
    expect(m.stdout).toContain('agentdrift_track_info{track="dates"');
    // The sum of the costs is Infinity: left out, and said.
    expect(m.stdout).not.toMatch(/^agentdrift_cost_usd_total\{track="costs"\}/m);
    expect(m.stdout).not.toMatch(/^agentdrift_mean_cost_usd\{track="costs"/m);
    expect(m.stdout).not.toMatch(/ ([+-]?Inf|NaN)$/m);
    expect(m.stderr).toContain('"metric":"agentdrift_cost_usd_total","labels":{"track":"costs"},"value":"Infinity"');
    expect(m.stderr).toContain('"metric":"window figure meanCostUsd","labels":{"track":"costs","window":"30d"},"value":"not finite"');

    const out = path.join(dir, 'costs.json');
    const exp = await runCli(['--config', config, 'export', '--track', 'costs', '--output', out], { cwd: dir });
    expect(exp.code, exp.stderr).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { runs: unknown[] }).runs).toHaveLength(2);
    const expDates = await runCli(['--config', config, 'export', '--track', 'dates'], { cwd: dir });
    expect(expDates.code, expDates.stderr).toBe(0);
    expect((JSON.parse(expDates.stdout) as { runs: unknown[] }).runs).toEqual([]);
    expect(expDates.stderr).toContain('1 finished run(s) without attempts left out of the export');
    expect(expDates.stderr).toContain('1 run(s) left out of the export: a stored instant of the run or of one of its attempts is not a date');

    // The way out: a good file imports into that store.
    const good = path.join(dir, 'good.json');
    const at = new Date(Date.now() - DAY).toISOString();
    writeFileSync(good, JSON.stringify({ format: 'agentdrift-history/1', runs: [{ startedAt: at, endedAt: at, attempts: [{ taskId: 'a', outcome: 'resolved', costUsd: 1 }] }] }));
    const imp = await runCli(['--config', config, 'import', '--track', 'costs', good], { cwd: dir });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toContain('imported 1 run(s), 1 attempt(s) into costs');
  });

  it('the daemon starts on it and serves /healthz, /metrics and the API', async () => {
    const { dir, config } = pathologicalStore();
    const d = await startDaemon(['--config', config], { cwd: dir });
    try {
      const health = await fetch(`${d.url}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await fetch(`${d.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expectParsable(text);
      expect(text).toContain('agentdrift_attempts_total{track="costs",outcome="resolved"} 2');
      expect(text).not.toMatch(/^agentdrift_cost_usd_total\{track="costs"\}/m);
      for (const url of ['/api/tracks', '/api/tracks/costs', '/api/tracks/dates', '/api/tracks/costs/runs', '/api/tracks/dates/runs', '/api/tracks/costs/costs?days=7']) {
        const r = await fetch(`${d.url}${url}`);
        expect(r.status, `${url}: ${await r.clone().text()}`).toBe(200);
      }
      expect(d.logs()).toContain('figure left out of /metrics: not a finite number');
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await d.exited, d.logs()).toBe(0);
  });
});
