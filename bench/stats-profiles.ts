/**
 * `npm run bench stats -- --profile FILE [--profile FILE ...]`: the paging detector's operating figures on suites drawn
 * from suite profiles (issue 14 part 1). The simulation is bench/detector.ts; profiles and the drop bench/suites.ts.
 *
 * Options:
 *   --profile FILE    a pool of candidate tasks, JSON {"p": [...]} of true pass probabilities (repeatable; the
 *                     shipped ones are bench/profiles/*.json)
 *   --suite-size N    monitored tasks drawn from the pool per replicate (default 50)
 *   --json FILE       write the figures as JSON
 *   --quick           fewer replications, for a first look (the figures say so)
 *   --replicates N    simulated tracks per profile (default 300, quick 30)
 *   --seed N          base seed (default $BENCH_SEED or 20240601); the same seed gives the same figures
 *   --workers N       threads (default: up to 2 cores); the figures do not depend on it
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  DROPS,
  DROP_START,
  FOLLOW_UP,
  PLAIN,
  REFERENCE_DAYS,
  SWITCHED_ON,
  aggregate,
  isPlain,
  replicateSeed,
  runReplicate,
  type Effort,
  type Figures,
  type ReplicateResult,
  type Setup,
} from './detector.ts';
import { loadProfile, type Profile } from './suites.ts';

export const FULL_EFFORT: Effort = { replicates: 300, nullYears: 3, rbDraws: 200, rbYears: 2, dropRuns: 4 };
export const QUICK_EFFORT: Effort = { replicates: 30, nullYears: 2, rbDraws: 50, rbYears: 2, dropRuns: 4 };

export interface ProfileBenchOptions {
  profiles: string[];
  suiteSize: number;
  json?: string;
  quick: boolean;
  replicates?: number;
  seed: number;
  workers: number;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function positiveInt(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function parseStatsArgs(args: readonly string[]): ProfileBenchOptions {
  const envSeed = process.env.BENCH_SEED;
  const opts: ProfileBenchOptions = {
    profiles: [],
    suiteSize: 50,
    quick: false,
    seed: envSeed === undefined ? 20240601 : Number(envSeed),
    workers: Math.max(1, Math.min(2, availableParallelism())),
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string | undefined => args[++i];
    switch (flag) {
      case '--profile': {
        const file = value();
        if (file === undefined) throw new UsageError('--profile needs a file');
        opts.profiles.push(file);
        break;
      }
      case '--suite-size':
        opts.suiteSize = positiveInt(flag, value());
        break;
      case '--json': {
        const file = value();
        if (file === undefined) throw new UsageError('--json needs a file');
        opts.json = file;
        break;
      }
      case '--quick':
        opts.quick = true;
        break;
      case '--replicates':
        opts.replicates = positiveInt(flag, value());
        break;
      case '--seed': {
        const v = value();
        if (v === undefined || !Number.isSafeInteger(Number(v))) throw new UsageError(`--seed must be an integer, got "${v}"`);
        opts.seed = Number(v);
        break;
      }
      case '--workers':
        opts.workers = positiveInt(flag, value());
        break;
      default:
        throw new UsageError(`unknown option "${flag}" (known: --profile, --suite-size, --json, --quick, --replicates, --seed, --workers)`);
    }
  }
  if (!Number.isSafeInteger(opts.seed)) throw new UsageError(`BENCH_SEED must be an integer, got "${envSeed}"`);
  return opts;
}

export interface Job {
  id: number;
  pool: readonly number[];
  size: number;
  setup: 'plain' | 'on';
  effort: Effort;
  seed: number;
}

export const SETUPS: Record<Job['setup'], Setup> = { plain: PLAIN, on: SWITCHED_ON };

export const runJob = (job: Job): ReplicateResult => runReplicate(job.pool, job.size, SETUPS[job.setup], job.effort, job.seed);

/** Runs the jobs on `workers` threads (in this thread when 1); results in job order, whatever the threads. */
async function runJobs(jobs: readonly Job[], workers: number, onDone: (done: number) => void): Promise<ReplicateResult[]> {
  const results: ReplicateResult[] = new Array(jobs.length);
  let done = 0;
  if (workers <= 1) {
    for (const job of jobs) {
      results[job.id] = runJob(job);
      onDone(++done);
    }
    return results;
  }
  let next = 0;
  const threads = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(new URL('./stats-worker-entry.mjs', import.meta.url)));
  try {
    await Promise.all(
      threads.map(
        (thread) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= jobs.length) {
                resolve();
                return;
              }
              thread.postMessage(jobs[next++]);
            };
            thread.on('message', (msg: { id: number; result: ReplicateResult }) => {
              results[msg.id] = msg.result;
              onDone(++done);
              feed();
            });
            thread.on('error', reject);
            thread.on('exit', (code) => {
              if (code !== 0) reject(new Error(`bench worker exited with code ${code}`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return results;
}

export interface ProfileEntry extends Figures {
  file: string;
  poolSize: number;
  poolMean: number;
  plain: Figures;
}

export interface ProfileReport {
  bench: 'stats';
  quick: boolean;
  seed: number;
  suiteSize: number;
  selection: string;
  /** Policies switched on for the top-level figures; [] today (issue 14 parts 2 and 3 add theirs). */
  policies: string[];
  note: string;
  effort: Effort;
  referenceDays: number;
  dropStartDay: number;
  followUpDays: number;
  profiles: Record<string, ProfileEntry>;
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const days = (d: number | null): string => (d === null ? `>${FOLLOW_UP}` : String(d));

function describe(name: string, entry: ProfileEntry, effort: Effort, suiteSize: number): string[] {
  const f = entry;
  const lines = [
    `profile ${name} (${entry.file}): pool of ${entry.poolSize} tasks, mean true rate ${fmt(entry.poolMean, 3)}; ` +
      `a suite of ${suiteSize} drawn at random per replicate`,
    `  false pages a year, averaged over ${effort.replicates} reference periods: ${fmt(f.falsePagesPerYear)} +- ` +
      `${fmt(f.falsePagesPerYearSe)} (Rao-Blackwellised: ${effort.rbDraws} draws of the truth x ${effort.rbYears} years ` +
      `each); counted directly over ${effort.nullYears} years each: ${fmt(f.falsePagesPerYearDirect)} +- ${fmt(f.falsePagesPerYearDirectSe)}`,
    `  days to page, median (90th pct) of ${f.dropRunsPerSize} drops each: ` +
      DROPS.map((d) => {
        const k = String(d);
        const censored = f.censoredDrops[k]! > 0 ? `, ${f.censoredDrops[k]} not paged within ${FOLLOW_UP} days` : '';
        return `-${d} pt ${days(f.medianDaysToPage[k]!)} (${days(f.p90DaysToPage[k]!)}${censored})`;
      }).join(', '),
    `  spend a day vs one plain daily run: ${fmt(f.spendRatio)}; calibration (one-off): ${fmt(f.calibrationRuns)} runs ` +
      `(${fmt(f.calibrationAttempts, 0)} attempts); h mean ${fmt(f.threshold.mean)}, range ${fmt(f.threshold.min)}-${fmt(f.threshold.max)}`,
  ];
  const target = (ok: boolean, what: string): string => `${ok ? 'met' : 'MISSED'}: ${what}`;
  const le = (v: number | null, t: number): boolean => v !== null && v <= t;
  lines.push(
    '  issue 14 targets: ' +
      [
        target(f.falsePagesPerYear <= 0.5, `false pages/yr <= 0.5 (${fmt(f.falsePagesPerYear)})`),
        target(le(f.medianDaysToPage['10']!, 3), `-10 pt median <= 3 d (${days(f.medianDaysToPage['10']!)})`),
        target(le(f.medianDaysToPage['20']!, 1), `-20 pt median <= 1 d (${days(f.medianDaysToPage['20']!)})`),
        target(le(f.medianDaysToPage['5']!, 10), `-5 pt median <= 10 d (${days(f.medianDaysToPage['5']!)})`),
        target(f.spendRatio <= 1.15, `spend <= 1.15 (${fmt(f.spendRatio)})`),
      ].join('; '),
  );
  return lines;
}

export async function benchStatsProfiles(opts: ProfileBenchOptions): Promise<ProfileReport> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const base = opts.quick ? QUICK_EFFORT : FULL_EFFORT;
  const effort: Effort = { ...base, replicates: opts.replicates ?? base.replicates };
  const profiles: Profile[] = opts.profiles.map((file) => loadProfile(file, opts.suiteSize));
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.name)) throw new UsageError(`two profiles are named "${p.name}" (the file name without .json names a profile)`);
    names.add(p.name);
  }
  const setups: Job['setup'][] = isPlain(SWITCHED_ON) ? ['plain'] : ['plain', 'on'];
  const jobs: Job[] = [];
  for (const profile of profiles) {
    for (const setup of setups) {
      for (let r = 0; r < effort.replicates; r++) {
        // Both setups of a replicate share its seed: common random numbers make their difference sharper.
        jobs.push({ id: jobs.length, pool: profile.p, size: opts.suiteSize, setup, effort, seed: replicateSeed(opts.seed, profile.name, r) });
      }
    }
  }
  const note = isPlain(SWITCHED_ON)
    ? 'No policy is implemented yet (issue 14 parts 2 and 3): the top-level figures are the plain ones, "policies" is empty.'
    : `Top-level figures with ${SWITCHED_ON.policies.map((p) => p.name).join(', ') || 'no policy'} and ${SWITCHED_ON.selector.name} selection.`;
  console.log(
    `Paging detector on suites drawn from profiles: ${effort.replicates} simulated tracks per profile, each its own suite ` +
      `draw, ${REFERENCE_DAYS}-day reference period (one attempt per task a day) and h (the daemon's code); drops of ` +
      `${DROPS.join('/')} points (log-odds shift) from monitored day ${DROP_START + 1}, followed up ${FOLLOW_UP} days; ` +
      `${opts.workers} thread(s), seed ${opts.seed}.`,
  );
  if (opts.quick) console.log('QUICK: fewer replications, a first look only; the figures are marked "quick": true.');
  console.log(note);
  let lastShown = 0;
  const results = await runJobs(jobs, opts.workers, (done) => {
    const pct = Math.floor((100 * done) / jobs.length);
    if (pct >= lastShown + 10 || done === jobs.length) {
      lastShown = pct;
      process.stderr.write(`  ${done}/${jobs.length} replicates (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    }
  });
  const report: ProfileReport = {
    bench: 'stats',
    quick: opts.quick,
    seed: opts.seed,
    suiteSize: opts.suiteSize,
    selection: SWITCHED_ON.selector.name,
    policies: SWITCHED_ON.policies.map((p) => p.name),
    note,
    effort,
    referenceDays: REFERENCE_DAYS,
    dropStartDay: DROP_START,
    followUpDays: FOLLOW_UP,
    profiles: {},
  };
  let offset = 0;
  for (const profile of profiles) {
    const figures = setups.map((setup, si) => {
      const from = offset + si * effort.replicates;
      return { setup, figures: aggregate(results.slice(from, from + effort.replicates), opts.suiteSize, effort) };
    });
    offset += setups.length * effort.replicates;
    const plain = figures.find((f) => f.setup === 'plain')!.figures;
    const on = figures.find((f) => f.setup === 'on')?.figures ?? plain;
    const entry: ProfileEntry = {
      file: profile.file,
      poolSize: profile.p.length,
      poolMean: profile.p.reduce((a, v) => a + v, 0) / profile.p.length,
      ...on,
      plain,
    };
    report.profiles[profile.name] = entry;
    for (const line of describe(profile.name, entry, effort, opts.suiteSize)) console.log(line);
  }
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`figures written to ${opts.json}`);
  }
  const cpu = process.cpuUsage(cpuStarted);
  console.log(
    `(simulated in ${((performance.now() - started) / 1000).toFixed(1)} s on ${opts.workers} thread(s); process CPU ` +
      `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`,
  );
  return report;
}
