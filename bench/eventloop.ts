/**
 * The daemon's event loop under CPU-heavy work (issue 10 item 5 target: /healthz and /metrics p99 under 50 ms while a
 * 50 MB import and a threshold simulation run). A real daemon (compiled, as `npm start` runs it; real store in a temp
 * dir) gets, at the same time:
 *  - a 50 MB history posted to POST /api/tracks/big/import (3 years x 200 tasks a day): parsed and validated in a
 *    worker, stored in chunks, then the figures recomputed, which includes simulating the threshold of the track's
 *    new auto baseline (200 attempts a day);
 *  - PUT /api/tracks/ref/baseline with a new reference period, whose threshold is simulated (50 tasks a day);
 * while two clients probe /healthz and /metrics back to back. Prints each endpoint's p50/p99/max and how long the
 * import and the simulation took (client side, request to response: both answer once the figures are in).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../test/helpers/cli.ts';
import { tempDir } from '../test/helpers/context.ts';
import { generateRuns, historyDocument } from '../test/helpers/history.ts';

const TOKEN = 'bench-eventloop-token-0123456789';
const DAY_MS = 86_400_000;

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Midnight UTC `days` days before today, plus 3 h: histories that end before now. */
function daysAgo(days: number): string {
  return new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - days * DAY_MS + 3 * 3_600_000).toISOString();
}

export async function benchEventLoop(): Promise<void> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'inherit' });
  const dir = tempDir('agentdrift-bench-eventloop-');
  const config = path.join(dir, 'agentdrift.yaml');
  writeFileSync(config, 'server:\n  port: 0\ndataDir: data\nlogLevel: debug\ntracks:\n  - name: big\n  - name: ref\n');

  const bigDays = 1085;
  const big = Buffer.from(historyDocument(generateRuns({ seed: 1, days: bigDays, tasks: 200, start: daysAgo(bigDays + 2) })));
  const refRuns = generateRuns({ seed: 2, days: 40, start: daysAgo(42) });
  const d = await startDaemon(['--config', config], { cwd: dir, env: { AGENTDRIFT_FROM_SOURCE: '0', AGENTDRIFT_API_TOKEN: TOKEN }, nodeArgs: ['--max-semi-space-size=2'] });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  try {
    // The reference track's history and its auto baseline's threshold, before the measurement.
    const pre = await fetch(`${d.url}/api/tracks/ref/import`, { method: 'POST', headers, body: historyDocument(refRuns) });
    if (!pre.ok) throw new Error(`ref import: ${pre.status} ${await pre.text()}`);
    for (let i = 0; i < 50; i++) {
      await (await fetch(`${d.url}/healthz`)).text();
      await (await fetch(`${d.url}/metrics`)).text();
    }

    let busy = true;
    // Each probe asks again 5 ms after an answer (about 150 requests a second each): far more than Prometheus and a
    // health check ask, without the probes themselves taking the machine's two cores from the daemon.
    const probe = async (url: string): Promise<number[]> => {
      const times: number[] = [];
      while (busy) {
        const t = performance.now();
        await (await fetch(url)).text();
        times.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 5));
      }
      return times;
    };
    const healthz = probe(`${d.url}/healthz`);
    const metrics = probe(`${d.url}/metrics`);
    const started = performance.now();
    const startedAt = Date.now();
    const timed = async (what: string, req: () => Promise<Response>): Promise<number> => {
      const res = await req();
      if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
      await res.text();
      return performance.now() - started;
    };
    const [importMs, baselineMs] = await Promise.all([
      timed('import', () => fetch(`${d.url}/api/tracks/big/import`, { method: 'POST', headers, body: big })),
      timed('baseline', () =>
        fetch(`${d.url}/api/tracks/ref/baseline`, {
          method: 'PUT',
          headers,
          body: JSON.stringify({ from: refRuns[20]!.startedAt, to: refRuns[39]!.endedAt, reason: 'bench', by: 'bench' }),
        }),
      ),
    ]).finally(() => (busy = false));
    const results = { '/healthz': (await healthz).sort((a, b) => a - b), '/metrics': (await metrics).sort((a, b) => a - b) };

    console.log(`\n== event loop while a ${(big.length / 1e6).toFixed(0)} MB import (${bigDays} days x 200 tasks) and a threshold simulation run ==`);
    const stored = /"time":(\d+),[^\n]*"track":"big"[^\n]*"msg":"history imported"/.exec(d.logs());
    if (stored) console.log(`import, parsed and stored after:  ${((Number(stored[1]) - startedAt) / 1000).toFixed(1)} s   (parsed and validated in a worker, stored a run per transaction)`);
    console.log(`import, request to response:     ${(importMs / 1000).toFixed(1)} s   (then the figures and the new auto baseline's threshold, 200 attempts a day, in a worker)`);
    console.log(`baseline PUT, request to answer: ${(baselineMs / 1000).toFixed(1)} s   (the new reference's threshold, 50 attempts a day, simulated in a worker)`);
    for (const [name, t] of Object.entries(results)) {
      console.log(`${name.padEnd(9)} ${String(t.length).padStart(5)} requests: p50 ${pct(t, 0.5).toFixed(1)} ms, p99 ${pct(t, 0.99).toFixed(1)} ms, max ${t.at(-1)!.toFixed(1)} ms   (target p99 < 50 ms)`);
    }
    const recomputed = [...d.logs().matchAll(/"tracks":\[([^\]]*)\],"ms":(\d+),"msg":"figures recomputed in a worker"/g)].map((m) => `${m[1]!.replaceAll('"', '')} ${(Number(m[2]) / 1000).toFixed(1)} s`);
    if (recomputed.length) console.log(`worker refreshes (daemon log):   ${recomputed.join(', ')}`);
    const mb = (key: string) => (Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'))?.[1]) / 1024).toFixed(0);
    const rss = mb('VmRSS');
    // The pool ends a thread idle for 30 s, and its heap with it.
    await new Promise((r) => setTimeout(r, 35_000));
    console.log(`daemon resident memory:          ${rss} MB right after, ${mb('VmRSS')} MB once the idle workers ended, ${mb('VmHWM')} MB peak`);
  } finally {
    d.child.kill('SIGTERM');
    await d.exited;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEventLoop();
