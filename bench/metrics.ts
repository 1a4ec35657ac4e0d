/**
 * /metrics scrape latency (p50/p99) and the daemon's resident memory with 365 days x 50 tasks of imported history
 * for 3 tracks (issue 2 target: p99 under 10 ms, RSS under 150 MB). Measures the real daemon process over HTTP.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startDaemon } from '../test/helpers/cli.ts';
import { tempDir } from '../test/helpers/context.ts';
import { createRng } from '../src/stats/rng.ts';

const DAYS = 365;
const TASKS = 50;
const TRACKS = ['alpha', 'beta', 'gamma'];

function history(seed: number): unknown {
  const rng = createRng(seed);
  const rand = () => rng.next();
  const start = Date.parse('2025-11-01T03:00:00Z');
  const runs = [];
  for (let d = 0; d < DAYS; d++) {
    const t0 = start + d * 86_400_000;
    const attempts = [];
    for (let i = 0; i < TASKS; i++) {
      const dur = Math.round(60_000 + rand() * 600_000);
      const u = rand();
      attempts.push({
        taskId: `task-${i}`,
        outcome: u < 0.03 ? 'infra_error' : u < 0.58 ? 'resolved' : u < 0.9 ? 'unresolved' : u < 0.95 ? 'agent_error' : 'timeout',
        inputTokens: Math.round(rand() * 200_000),
        outputTokens: Math.round(rand() * 20_000),
        cacheReadTokens: Math.round(rand() * 800_000),
        cacheCreationTokens: Math.round(rand() * 50_000),
        costUsd: Math.round(rand() * 3_000_000) / 1_000_000,
        turns: Math.round(rand() * 80),
        toolCalls: Math.round(rand() * 120),
        agentDurationMs: dur,
        startedAt: new Date(t0 + i * 1000).toISOString(),
        endedAt: new Date(t0 + i * 1000 + dur).toISOString(),
      });
    }
    runs.push({ startedAt: new Date(t0).toISOString(), endedAt: new Date(t0 + 3_600_000).toISOString(), state: 'completed', agentVersion: '2.1.0', modelId: 'bench-model', attempts });
  }
  return { format: 'agentdrift-history/1', runs };
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function benchMetrics(): Promise<void> {
  // Measure the daemon as `npm start` and the container image run it: compiled, not through tsx.
  execFileSync('npm', ['run', '-s', 'build'], { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'inherit' });
  const compiled = { AGENTDRIFT_FROM_SOURCE: '0' };
  const dir = tempDir('agentdrift-bench-');
  const config = path.join(dir, 'agentdrift.yaml');
  writeFileSync(config, `server:\n  port: 0\ndataDir: data\nlogLevel: info\ntracks:\n${TRACKS.map((t) => `  - name: ${t}\n`).join('')}`);
  const importStart = performance.now();
  for (const [i, track] of TRACKS.entries()) {
    const file = path.join(dir, `${track}.json`);
    writeFileSync(file, JSON.stringify(history(i + 1)));
    const r = await runCli(['--config', config, 'import', '--track', track, file], { timeoutMs: 300_000, env: compiled });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const importMs = performance.now() - importStart;
  // With the node flags `npm start` and the image use (package.json, Dockerfile).
  const d = await startDaemon(['--config', config], { cwd: dir, env: compiled, nodeArgs: ['--max-semi-space-size=2'] });
  try {
    const url = `${d.url}/metrics`;
    for (let i = 0; i < 200; i++) await (await fetch(url)).text();
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      const body = await (await fetch(url)).text();
      times.push(performance.now() - t);
      bytes = body.length;
    }
    times.sort((a, b) => a - b);
    const status = readFileSync(`/proc/${d.child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    console.log(`\n== /metrics with ${DAYS} days x ${TASKS} tasks x ${TRACKS.length} tracks (${DAYS * TASKS * TRACKS.length} attempts) ==`);
    console.log(`import (3 CLI runs):        ${(importMs / 1000).toFixed(1)} s`);
    console.log(`exposition size:            ${(bytes / 1024).toFixed(1)} KiB`);
    console.log(`scrape latency p50:         ${pct(times, 0.5).toFixed(2)} ms   (2000 sequential scrapes over HTTP, client-side)`);
    console.log(`scrape latency p99:         ${pct(times, 0.99).toFixed(2)} ms   (target < 10 ms)`);
    console.log(`daemon resident memory:     ${(rssKb / 1024).toFixed(1)} MB now, ${(hwmKb / 1024).toFixed(1)} MB peak   (target < 150 MB)`);
  } finally {
    d.child.kill('SIGTERM');
    await d.exited;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMetrics();
