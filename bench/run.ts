/**
 * `npm run bench [name...]`: prints the figures the issues name. With no names, runs every bench.
 *   metrics   /metrics scrape latency and daemon memory with a year of history for 3 tracks
 *   stats     the detector's operating figures (false alarms a year, days to detect) vs the peer's rule
 *   executor  the grading container's own overhead in Docker
 *   runner    run time of 20 fixture tasks at concurrency 1 and 2, and agentdrift's overhead per attempt
 *   eventloop /healthz and /metrics latency while a 50 MB import and a threshold simulation run in the daemon
 */
const benches: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  metrics: async () => ({ run: (await import('./metrics.ts')).benchMetrics }),
  stats: async () => ({ run: (await import('./stats.ts')).benchStats }),
  executor: async () => ({ run: (await import('./executor.ts')).benchExecutor }),
  runner: async () => ({ run: (await import('./runner.ts')).benchRunner }),
  eventloop: async () => ({ run: (await import('./eventloop.ts')).benchEventLoop }),
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(benches);
for (const name of names) {
  const load = benches[name];
  if (!load) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  const started = performance.now();
  console.log(`\n### bench: ${name}`);
  await (await load()).run();
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
