/**
 * `npm run bench [name...]`: prints the figures the issues name. With no names, runs every bench.
 *   metrics   /metrics scrape latency and daemon memory with a year of history for 3 tracks
 *   stats     the detector's operating figures (false alarms a year, days to detect) vs the peer's rule; with
 *             options (`npm run bench stats -- --profile FILE ...`), on suites drawn from profiles (bench/stats-profiles.ts)
 *   executor  the grading container's own overhead in Docker
 *   runner    run time of 20 fixture tasks at concurrency 1 and 2, and agentdrift's overhead per attempt
 *   eventloop /healthz and /metrics latency while a 50 MB import and a threshold simulation run in the daemon
 * Words before the first `--option` name benches; the options go to the one bench named (only stats takes any).
 */
import { UsageError } from './stats-profiles.ts';
import { ProfileError } from './suites.ts';

const benches: Record<string, () => Promise<{ run: (args: readonly string[]) => Promise<void> }>> = {
  metrics: async () => ({ run: (await import('./metrics.ts')).benchMetrics }),
  stats: async () => ({ run: (await import('./stats.ts')).benchStats }),
  executor: async () => ({ run: (await import('./executor.ts')).benchExecutor }),
  runner: async () => ({ run: (await import('./runner.ts')).benchRunner }),
  eventloop: async () => ({ run: (await import('./eventloop.ts')).benchEventLoop }),
};

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? argv : argv.slice(0, firstOption);
const options = firstOption < 0 ? [] : argv.slice(firstOption);
const names = wanted.length ? wanted : Object.keys(benches);
if (options.length > 0 && (names.length !== 1 || names[0] !== 'stats')) {
  console.error(`options (${options.join(' ')}) are for one bench: only "stats" takes any (npm run bench stats -- --profile FILE)`);
  process.exit(2);
}
for (const name of names) {
  const load = benches[name];
  if (!load) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  const started = performance.now();
  console.log(`\n### bench: ${name}`);
  try {
    await (await load()).run(options);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ProfileError)) throw err;
    console.error(`bench ${name}: ${err.message}`);
    process.exit(2);
  }
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
