/**
 * Detector operating figures, from a seeded simulation. Two reports:
 * - with `--profile FILE` (issue 14 part 1; `npm run bench stats -- --profile bench/profiles/swe-bench-pro-like.json`):
 *   the paging detector on suites drawn from pools of tasks, see bench/stats-profiles.ts and bench/detector.ts;
 * - without options, the comparison of rules below (issue 3, item 6).
 *
 *
 * World: 50 tasks run once a day. Each replicate draws the tasks' true pass probabilities from Beta(1.1, 0.9)
 * (mean 0.55, strongly heterogeneous, as SWE-Bench-style tasks are: many nearly always or nearly never solved).
 * Days 0-13 are the reference baseline (per task passes / 14). Monitoring is counted from day 44, when the 30-day
 * window holds only post-baseline days; the CUSUM runs from day 14.
 *
 * Rules compared:
 * - agentdrift paging: risk-adjusted Bernoulli CUSUM (R = 0.67) on every attempt against the per-task baseline,
 *   per-task rates and h from the daemon's own code (taskProbability, trackThreshold: empirical-Bayes rates, h averaged
 *   over the reference's uncertainty, 365-day horizon). After a signal S restarts at 0.
 * - agentdrift warning: evaluateWindows (CMH vs the reference baseline, Holm over 1d/7d/30d, alpha 0.01); the
 *   warning is on when the 7d or the 30d window is significant.
 * - peer: exact one-sided binomial for each of 1d/7d/30d against p0 = the replicate's true mean pass rate, at 0.05,
 *   no correction; on when any window is below.
 *
 * False alarms: no change for the whole run; an episode starts on an alarm day whose previous day had no alarm
 * (a CUSUM signal makes its day an alarm day). Reported per 365 days.
 * Detection: the drop starts at day 74 (30 monitored in-control days first) and is a shift of every task's logit,
 * calibrated so the mean pass rate falls by exactly 5, 10 or 20 points. Delay = days of post-drop data until the
 * first alarm day on or after the drop (1 = alarmed at the end of the first dropped day); a window alarm already
 * running when the drop starts counts at once, which flatters rules with many false alarms. Followed up 60 days.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_ODDS_RATIO,
  binomialLowerP,
  createRng,
  cusumWeight,
  evaluateWindows,
  sampleBeta,
  taskProbability,
  trackThreshold,
  type Baseline,
  type Rng,
  type TaskCount,
} from '../src/stats/index.ts';
import { UsageError, benchStatsProfiles, parseStatsArgs } from './stats-profiles.ts';
import { logitDrop } from './suites.ts';

const TASKS = 50;
const BASELINE_DAYS = 14;
const MONITOR_START = BASELINE_DAYS + 30; // first day whose 30d window is all post-baseline
const BETA_A = 1.1;
const BETA_B = 0.9;
const REPLICATES = 100;
const NULL_YEARS_PER_REPLICATE = 3;
const DROP_RUNS_PER_REPLICATE = 2;
const DROP_START = MONITOR_START + 30;
const FOLLOW_UP = 60;
const DROPS = [0.05, 0.1, 0.2];
const ALPHA_WARN = 0.01;
const ALPHA_PEER = 0.05;
const SEED = Number(process.env.BENCH_SEED ?? 20240601);
const WINDOWS = [1, 7, 30] as const;

interface Replicate {
  probs: number[];
  baseline: Baseline;
  h: number;
  ids: string[];
  /** The reference period's tally of each task, in ids order. */
  tallies: TaskCount[];
}

interface DayAlarms {
  page: boolean;
  warn: boolean;
  peer: boolean;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;

function makeReplicate(rng: Rng, seed: number, betaA = BETA_A, betaB = BETA_B): Replicate {
  const probs = Array.from({ length: TASKS }, () => sampleBeta(rng, betaA, betaB));
  const ids = probs.map((_, i) => `task-${String(i).padStart(2, '0')}`);
  const perTask = new Map<string, TaskCount>();
  probs.forEach((p, i) => {
    let passes = 0;
    for (let d = 0; d < BASELINE_DAYS; d++) if (rng.next() < p) passes++;
    perTask.set(ids[i]!, { passes, trials: BASELINE_DAYS });
  });
  const baseline: Baseline = { kind: 'reference', perTask };
  const { h } = trackThreshold(baseline, { attemptsPerDay: TASKS, seed });
  return { probs, baseline, h, ids, tallies: ids.map((id) => perTask.get(id)!) };
}

/**
 * Simulate days BASELINE_DAYS .. lastDay (inclusive) after the baseline. `probsOn(day)` gives the true task
 * probabilities of a day. Calls `onDay` with the alarms of every day from MONITOR_START on.
 */
function simulate(
  rep: Replicate,
  rng: Rng,
  lastDay: number,
  probsOn: (day: number) => readonly number[],
  onDay: (day: number, alarms: DayAlarms) => void,
): void {
  const { ids, baseline, h } = rep;
  const p0 = mean(rep.probs);
  const R = DEFAULT_ODDS_RATIO;
  const pb = ids.map((id) => taskProbability(baseline, id));
  const wPass = pb.map((p) => cusumWeight(1, p, R));
  const wFail = pb.map((p) => cusumWeight(0, p, R));
  // ring buffer of the last 30 days' outcomes per task, and rolling per-task sums for each window
  const ring = new Uint8Array(30 * TASKS);
  const sums = WINDOWS.map(() => new Int32Array(TASKS));
  let s = 0;
  for (let day = BASELINE_DAYS; day <= lastDay; day++) {
    const probs = probsOn(day);
    const slot = day % 30;
    let signalled = false;
    for (let k = 0; k < TASKS; k++) {
      const x = rng.next() < probs[k]! ? 1 : 0;
      s += x ? wPass[k]! : wFail[k]!;
      if (s < 0) s = 0;
      if (s > h) {
        signalled = true;
        s = 0; // restart after a signal
      }
      WINDOWS.forEach((w, wi) => {
        const leaving = day - w;
        if (leaving >= BASELINE_DAYS) sums[wi]![k]! -= ring[(leaving % 30) * TASKS + k]!;
        sums[wi]![k]! += x;
      });
      ring[slot * TASKS + k] = x;
    }
    if (day < MONITOR_START) continue;
    const tallies = WINDOWS.map((w, wi) => ({
      window: `${w}d`,
      perTask: new Map(ids.map((id, k) => [id, { passes: sums[wi]![k]!, trials: w }])),
    }));
    const evaluation = evaluateWindows(baseline, tallies, { alpha: ALPHA_WARN });
    const warn = evaluation.results[1]!.significant || evaluation.results[2]!.significant;
    let peer = false;
    WINDOWS.forEach((w, wi) => {
      let passes = 0;
      for (let k = 0; k < TASKS; k++) passes += sums[wi]![k]!;
      if (binomialLowerP(passes, w * TASKS, p0) < ALPHA_PEER) peer = true;
    });
    onDay(day, { page: signalled, warn, peer });
  }
}

type Rule = keyof DayAlarms;
const RULES: Rule[] = ['page', 'warn', 'peer'];

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Peer rule false-alarm episodes per year when all 50 attempts a day have p = 0.55. */
function peerFalseAlarmsHomogeneous(rng: Rng, years: number): { perYear: number; alarmDayShare: number } {
  const p0 = 0.55;
  const days = Math.round(years * 365);
  const daily: number[] = [];
  let episodes = 0;
  let alarmDays = 0;
  let prev = false;
  for (let day = 0; day < days + 29; day++) {
    let passes = 0;
    for (let k = 0; k < TASKS; k++) if (rng.next() < p0) passes++;
    daily.push(passes);
    if (day < 29) continue;
    let alarm = false;
    for (const w of WINDOWS) {
      let sum = 0;
      for (let d = day - w + 1; d <= day; d++) sum += daily[d]!;
      if (binomialLowerP(sum, w * TASKS, p0) < ALPHA_PEER) alarm = true;
    }
    if (alarm && !prev) episodes++;
    if (alarm) alarmDays++;
    prev = alarm;
  }
  return { perYear: episodes / (days / 365), alarmDayShare: alarmDays / days };
}

/** False pages a year of one CUSUM (weights wPass/wFail, threshold h, restart after each signal) under `probs`. */
function pagesPerYear(rng: Rng, probs: ArrayLike<number>, wPass: readonly number[], wFail: readonly number[], h: number, years: number): number {
  let s = 0;
  let n = 0;
  for (let t = 0, k = 0; t < years * 365 * TASKS; t++) {
    s += rng.next() < probs[k]! ? wPass[k]! : wFail[k]!;
    if (s < 0) s = 0;
    else if (s > h) {
      n++;
      s = 0;
    }
    if (++k === TASKS) k = 0;
  }
  return n / years;
}

interface Spread {
  /** Direct count: false pages a year under each track's true probabilities, mean over tracks and its standard error. */
  mean: number;
  meanSe: number;
  median: number;
  p90: number;
  p99: number;
  over2: number;
  /** The same mean, Rao-Blackwellised (see cusumBaselineSpread), and its standard error. */
  rb: number;
  rbSe: number;
}

const RB_DRAWS = 200;
const RB_YEARS = 2;

/**
 * The CUSUM alone over many more simulated tracks (each its own 14-day reference period, its own h): how false pages
 * a year spread over the reference periods a track can get, and their mean, which is what "ARL >= horizon" has to
 * deliver to the users of the tool (each of whom gets one reference period).
 *
 * The direct count (each track's pages over `years` under its true probabilities) is heavy-tailed: a few unlucky
 * references page ten times a year, so its mean over 200 tracks has a standard error of about 0.15. The same mean
 * is also estimated with far less noise by Rao-Blackwellisation: given a reference period's tallies, the simulated
 * world's truth is distributed as the posterior under the world's own Beta(betaA, betaB) (known here, unlike in the
 * daemon), so E[pages a year | reference] is the pages a year averaged over RB_DRAWS draws from that posterior, and
 * its mean over tracks estimates the same quantity as the direct count, with the truth's noise integrated out.
 */
function cusumBaselineSpread(rng: Rng, tracks: number, years: number, betaA: number, betaB: number): Spread {
  const perTrack: number[] = [];
  const rbTrack: number[] = [];
  for (let r = 0; r < tracks; r++) {
    const rep = makeReplicate(rng, SEED + 10_000 + r, betaA, betaB);
    const pb = rep.ids.map((id) => taskProbability(rep.baseline, id));
    const wPass = pb.map((p) => cusumWeight(1, p));
    const wFail = pb.map((p) => cusumWeight(0, p));
    perTrack.push(pagesPerYear(rng, rep.probs, wPass, wFail, rep.h, years));
    const q = new Float64Array(TASKS);
    let sum = 0;
    for (let d = 0; d < RB_DRAWS; d++) {
      rep.tallies.forEach((c, k) => (q[k] = sampleBeta(rng, c.passes + betaA, c.trials - c.passes + betaB)));
      sum += pagesPerYear(rng, q, wPass, wFail, rep.h, RB_YEARS);
    }
    rbTrack.push(sum / RB_DRAWS);
  }
  const se = (xs: readonly number[]): number => {
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1) / xs.length);
  };
  const sorted = [...perTrack].sort((a, b) => a - b);
  return {
    mean: mean(perTrack),
    meanSe: se(perTrack),
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    over2: perTrack.filter((x) => x > 2).length / tracks,
    rb: mean(rbTrack),
    rbSe: se(rbTrack),
  };
}

const fmtDays = (d: number): string => (Number.isFinite(d) ? String(d) : `>${FOLLOW_UP}`);

/** `npm run bench stats [-- options]`: the profile report when options are given (bench/stats-profiles.ts), else the rules'. */
export async function benchStats(args: readonly string[] = []): Promise<void> {
  if (args.length > 0) {
    const opts = parseStatsArgs(args);
    if (opts.profiles.length === 0) throw new UsageError('give at least one --profile FILE (bench/profiles/*.json ships three)');
    await benchStatsProfiles(opts);
    return;
  }
  const started = performance.now();
  const rng = createRng(SEED);
  const episodes: Record<Rule, number> = { page: 0, warn: 0, peer: 0 };
  const alarmDays: Record<Rule, number> = { page: 0, warn: 0, peer: 0 };
  let monitoredDays = 0;
  const delays: Record<Rule, number[][]> = {
    page: DROPS.map(() => []),
    warn: DROPS.map(() => []),
    peer: DROPS.map(() => []),
  };
  const hs: number[] = [];

  for (let r = 0; r < REPLICATES; r++) {
    const rep = makeReplicate(rng, SEED + r);
    hs.push(rep.h);
    // no change: NULL_YEARS_PER_REPLICATE years of monitoring
    const prev: DayAlarms = { page: false, warn: false, peer: false };
    simulate(rep, rng, MONITOR_START + 365 * NULL_YEARS_PER_REPLICATE - 1, () => rep.probs, (_day, alarms) => {
      monitoredDays++;
      for (const rule of RULES) {
        if (alarms[rule]) {
          alarmDays[rule]++;
          if (!prev[rule]) episodes[rule]++;
        }
        prev[rule] = alarms[rule];
      }
    });
    // drops
    DROPS.forEach((points, di) => {
      const after = logitDrop(rep.probs, points);
      for (let run = 0; run < DROP_RUNS_PER_REPLICATE; run++) {
        const first: Record<Rule, number> = { page: Infinity, warn: Infinity, peer: Infinity };
        simulate(
          rep,
          rng,
          DROP_START + FOLLOW_UP - 1,
          (day) => (day >= DROP_START ? after : rep.probs),
          (day, alarms) => {
            if (day < DROP_START) return;
            for (const rule of RULES) {
              if (alarms[rule] && !Number.isFinite(first[rule])) first[rule] = day - DROP_START + 1;
            }
          },
        );
        for (const rule of RULES) delays[rule][di]!.push(first[rule]);
      }
    });
  }

  const years = monitoredDays / 365;
  const label: Record<Rule, string> = {
    page: 'agentdrift paging: CUSUM, R=0.67, ARL0 >= 365 d',
    warn: 'agentdrift warning: 7d/30d CMH, Holm, alpha 0.01',
    peer: 'peer: any 1d/7d/30d binomial vs p0, 0.05',
  };
  const rows = RULES.map((rule) => {
    const cells = DROPS.map((_, di) => {
      const sorted = [...delays[rule][di]!].sort((a, b) => a - b);
      return `${fmtDays(quantile(sorted, 0.5))} (${fmtDays(quantile(sorted, 0.9))})`;
    });
    return [
      label[rule],
      (episodes[rule] / years).toFixed(2),
      ((100 * alarmDays[rule]) / monitoredDays).toFixed(2) + '%',
      ...cells,
    ];
  });
  const header = [
    'rule',
    'false alarms/yr',
    'alarm days',
    ...DROPS.map((d) => `-${Math.round(d * 100)} pt: median (p90)`),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');

  console.log(
    `Detector operating figures: ${REPLICATES} seeded replicates x ${NULL_YEARS_PER_REPLICATE} years without change ` +
      `(${years.toFixed(0)} monitored years), ${REPLICATES * DROP_RUNS_PER_REPLICATE} drop runs per size.`,
  );
  console.log(
    `${TASKS} tasks/day, task pass probability ~ Beta(${BETA_A}, ${BETA_B}) (mean 0.55); baseline = first ` +
      `${BASELINE_DAYS} days per task; drop = logit shift giving exactly the stated mean drop; days to detect ` +
      `counted from the first dropped day (1 = same day).`,
  );
  console.log(
    `CUSUM threshold h (per replicate baseline): mean ${mean(hs).toFixed(2)}, range ` +
      `${Math.min(...hs).toFixed(2)}-${Math.max(...hs).toFixed(2)}`,
  );
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  const med = (rule: Rule, di: number): number => quantile([...delays[rule][di]!].sort((a, b) => a - b), 0.5);
  const checks: [string, boolean][] = [
    ['paging false alarms <= 1/yr', episodes.page / years <= 1],
    ['warning false alarms <= 4/yr', episodes.warn / years <= 4],
    ['10-pt drop paged within a median of 5 days', med('page', 1) <= 5],
    ['20-pt drop paged within a median of 2 days', med('page', 2) <= 2],
  ];
  // Context for the peer's figure: its binomial model is exactly right only when every attempt has the same
  // probability. With heterogeneous tasks run once a day the daily count is under-dispersed and the rule is quieter.
  const homogeneous = peerFalseAlarmsHomogeneous(rng, years);
  console.log(
    `peer rule if every task had p = 0.55 (its binomial model exactly true): ${homogeneous.perYear.toFixed(1)} ` +
      `false-alarm episodes/yr, alarm on ${(100 * homogeneous.alarmDayShare).toFixed(1)}% of days ` +
      `(${(365 * homogeneous.alarmDayShare).toFixed(0)} alarm days/yr)`,
  );
  const spreadTracks = 200;
  const spreadYears = 4;
  // The bench's suite (mean 0.55), and a harder one (mean 0.40, many never-solved tasks), as real suites can be.
  for (const [a, b, what] of [
    [BETA_A, BETA_B, 'this suite'],
    [0.8, 1.2, 'a harder suite, Beta(0.8, 1.2), mean 0.40'],
  ] as const) {
    const spread = cusumBaselineSpread(rng, spreadTracks, spreadYears, a, b);
    console.log(
      `CUSUM alone, ${what}: ${spreadTracks} more simulated tracks (each its own reference period and h): false ` +
        `pages/yr averaged over reference periods ${spread.rb.toFixed(2)} +/- ${spread.rbSe.toFixed(2)} ` +
        `(Rao-Blackwellised, ${RB_DRAWS} posterior draws x ${RB_YEARS} years a track); counted directly over ` +
        `${spreadYears} years a track: mean ${spread.mean.toFixed(2)} +/- ${spread.meanSe.toFixed(2)}, median ` +
        `${spread.median.toFixed(2)}, 90th pct ${spread.p90.toFixed(2)}, 99th pct ${spread.p99.toFixed(2)}; ` +
        `${(100 * spread.over2).toFixed(0)}% of reference periods give more than 2 a year`,
    );
    checks.push([`paging false alarms <= 1/yr averaged over ${spreadTracks} more reference periods of ${what}`, spread.rb <= 1]);
  }
  console.log('targets: ' + checks.map(([name, ok]) => `${ok ? 'met' : 'MISSED'}: ${name}`).join('; '));
  console.log(`(simulated in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await benchStats(process.argv.slice(2));
}
