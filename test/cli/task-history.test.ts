/**
 * `agentdrift tasks --track NAME --flips` through the real entry point (bin/agentdrift.js): the per-task history of a
 * track whose history was only imported (no suite frozen, no dataset, no daemon), as a table and as the API's JSON.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';
import { generateRuns, historyDocument } from '../helpers/history.ts';

function setup(): { cfg: string; history: string } {
  const dir = tempDir();
  const cfg = path.join(dir, 'agentdrift.yaml');
  // The dataset is a file that does not exist: the history mode must never read it.
  writeFileSync(cfg, `dataDir: data\nlogLevel: info\ntracks:\n  - name: main\n    suite:\n      dataset: { kind: file, path: missing.parquet }\n`);
  const runs = generateRuns({ seed: 11, days: 30, tasks: 12 });
  runs.forEach((run, day) => {
    for (const a of run.attempts) {
      // task-000 solved throughout the reference (first 14 days), failed throughout the last 7; task-001 the reverse.
      if (a.taskId === 'task-000') a.outcome = day < 14 ? 'resolved' : day >= 23 ? 'unresolved' : a.outcome;
      if (a.taskId === 'task-001') a.outcome = day < 14 ? 'unresolved' : day >= 23 ? 'resolved' : a.outcome;
    }
  });
  const history = path.join(dir, 'history.json');
  writeFileSync(history, historyDocument(runs));
  return { cfg, history };
}

describe('agentdrift tasks --flips', { timeout: 120_000 }, () => {
  it('prints the per-task history of an imported track, as a table and as JSON', async () => {
    const { cfg, history } = setup();
    const imported = await runCli(['--config', cfg, 'import', '--track', 'main', history]);
    expect(imported.code, imported.stderr).toBe(0);

    const r = await runCli(['--config', cfg, 'tasks', '--track', 'main', '--flips']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('track main, window 7d (2026-01-24 .. 2026-01-30, 7 run(s)); baseline: reference; suite: not frozen (tasks from stored attempts); 12 task(s)');
    expect(lines[1]).toMatch(/^task\s+latest\s+reference\s+7d\s+cusum push\s+flip$/);
    // The task that broke pushes most: first row; the one fixed pushes least: last row.
    expect(lines[2]).toMatch(/^task-000\s+unresolved\s+14\/14 \(100%\)\s+0\/7\s+\+\d\.\d\d\s+BROKE$/);
    expect(lines[13]).toMatch(/^task-001\s+resolved\s+0\/14 \(0%\)\s+7\/7\s+-\d\.\d\d\s+fixed$/);
    expect(r.stdout).toContain('2 flip(s) in 7d: 1 broke, 1 fixed');
    expect(r.stdout).toContain('  BROKE: task-000: reference 14/14, 7d 0/7');
    expect(r.stdout).toContain('  fixed: task-001: reference 0/14, 7d 7/7');

    const j = await runCli(['--config', cfg, 'tasks', '--track', 'main', '--flips', '--json', '--window', '30d']);
    expect(j.code, j.stderr).toBe(0);
    const body = JSON.parse(j.stdout) as { window: string; suiteFrozen: boolean; tasks: { taskId: string; attempts: number; cusumAttempts: number }[]; flips: object };
    expect(body).toMatchObject({ window: '30d', suiteFrozen: false, flips: { broke: 0, fixed: 0 } });
    expect(body.tasks).toHaveLength(12);
    expect(body.tasks.every((x) => x.attempts === 30 && x.cusumAttempts === 16)).toBe(true);
  });

  it('refuses a bad window, --flips with a dataset file, --window alone, and an unknown track, each in one line', async () => {
    const { cfg } = setup();
    const cases: [string[], string][] = [
      [['tasks', '--track', 'main', '--flips', '--window', '2d'], 'agentdrift: --window: got "2d"; expected 1d, 7d, 30d'],
      [['tasks', '--dataset', 'x.jsonl', '--flips'], 'agentdrift: --flips goes with --track NAME: a dataset file has no history'],
      [['tasks', '--track', 'main', '--window', '30d'], 'agentdrift: --window goes with --flips'],
      [['tasks', '--track', 'nope', '--flips'], 'nope'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['--config', cfg, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
  });
});
