/**
 * The fixed-window regression tests the daemon runs for each track: one result per window (normally 1d, 7d, 30d).
 *
 * For each window:
 * - n, passes and the Wilson interval of the window's pass rate;
 * - raw one-sided p: exact binomial P(X <= passes | n, p0) for a fixed baseline; the task-stratified CMH test (with
 *   its pooled Fisher fallback, cmh.ts) for a reference baseline;
 * - Holm-adjusted p across the windows that have a test (a window with no attempts has p = NaN, method 'none', is
 *   left out of the family and is never significant);
 * - significant = adjusted p < alpha (default 0.01);
 * - minimum detectable drop at 80% power (mdd.ts) at one-sided level alpha / m, m = number of windows in the family:
 *   the strictest Holm step, so a drop of that size is caught with >= 80% power by that window alone. For a
 *   reference baseline p0 is the baseline pass rate the test compares against (the window's expected rate from its
 *   matched tasks for CMH, the pooled baseline rate for Fisher) and n is the effective size 1 / (1/n + 1/n_base) of a
 *   two-sample comparison, because the baseline is itself a sample; for a fixed p0 it is the window's n.
 */
import type { Baseline, TaskCount } from './baseline.ts';
import { binomialLowerP } from './binomial.ts';
import { cmhLess, type TaskTally } from './cmh.ts';
import { holm } from './holm.ts';
import { minimumDetectableDrop } from './mdd.ts';
import { wilson } from './wilson.ts';

export interface WindowTally {
  /** Label, e.g. '1d', '7d', '30d'. */
  window: string;
  /** Attempts in the window per task (infra errors already excluded). */
  perTask: ReadonlyMap<string, TaskCount>;
}

export interface WindowOptions {
  /** Family-wise alpha for Holm and the significant flag (default 0.01). */
  alpha?: number;
  /** Power for the minimum detectable drop (default 0.8). */
  power?: number;
  /** Confidence of the Wilson interval (default 0.95). */
  confidence?: number;
  /** CMH continuity correction (default true, as R). */
  correct?: boolean;
  /** CMH coverage below which the pooled Fisher test is used (default 0.5). */
  minCoverage?: number;
}

export interface WindowResult {
  window: string;
  /** All attempts and passes in the window. */
  n: number;
  passes: number;
  /** Wilson interval of passes / n (NaN when n = 0). */
  estimate: number;
  lower: number;
  upper: number;
  method: 'binomial' | 'cmh' | 'fisher' | 'none';
  /** Raw one-sided p-value (NaN when method is 'none'). */
  p: number;
  /** Holm-adjusted p-value across the tested windows (NaN when method is 'none'). */
  pAdjusted: number;
  significant: boolean;
  /** Minimum detectable drop in pass rate (fraction, e.g. 0.08), NaN without a test, Infinity if none is. */
  minimumDetectableDrop: number;
  /** The baseline pass rate the window is compared with. */
  baselineRate: number;
  /** Inputs of the test: attempts and passes it used, strata (CMH), share of attempts matched to the baseline. */
  testN: number;
  testPasses: number;
  strata: number;
  coverage: number;
  /** Signed z of the CMH statistic (NaN for other methods). */
  z: number;
}

export interface WindowsEvaluation {
  alpha: number;
  /** Windows in the Holm family (those with a test). */
  familySize: number;
  results: WindowResult[];
}

type RawResult = Omit<WindowResult, 'pAdjusted' | 'significant' | 'minimumDetectableDrop'> & { mddN: number };

function totals(perTask: ReadonlyMap<string, TaskCount>): TaskCount {
  let passes = 0;
  let trials = 0;
  for (const c of perTask.values()) {
    passes += c.passes;
    trials += c.trials;
  }
  return { passes, trials };
}

function testWindow(baseline: Baseline, tally: WindowTally, options: WindowOptions): RawResult {
  const { passes, trials: n } = totals(tally.perTask);
  const ci = wilson(passes, n, options.confidence ?? 0.95);
  const common = { window: tally.window, n, passes, ...ci };
  if (baseline.kind === 'fixed') {
    const tested = n > 0;
    return {
      ...common,
      method: tested ? 'binomial' : 'none',
      p: tested ? binomialLowerP(passes, n, baseline.p0) : NaN,
      baselineRate: baseline.p0,
      testN: n,
      testPasses: passes,
      strata: 0,
      coverage: tested ? 1 : NaN,
      z: NaN,
      mddN: n,
    };
  }
  const empty: TaskCount = { passes: 0, trials: 0 };
  const tasks: TaskTally[] = [];
  for (const [id, w] of tally.perTask) {
    const b = baseline.perTask.get(id) ?? empty;
    tasks.push({ windowPasses: w.passes, windowTrials: w.trials, basePasses: b.passes, baseTrials: b.trials });
  }
  for (const [id, b] of baseline.perTask) {
    if (tally.perTask.has(id)) continue;
    tasks.push({ windowPasses: 0, windowTrials: 0, basePasses: b.passes, baseTrials: b.trials });
  }
  const r = cmhLess(tasks, { correct: options.correct ?? true, minCoverage: options.minCoverage ?? 0.5 });
  let baselineRate = NaN;
  let baseN = 0;
  if (r.method === 'cmh') {
    let expected = 0;
    for (const t of tasks) {
      if (t.windowTrials === 0 || t.baseTrials === 0) continue;
      expected += (t.windowTrials * t.basePasses) / t.baseTrials;
      baseN += t.baseTrials;
    }
    baselineRate = r.n > 0 ? expected / r.n : NaN;
  } else {
    const b = totals(baseline.perTask);
    baseN = b.trials;
    baselineRate = b.trials > 0 ? b.passes / b.trials : NaN;
  }
  return {
    ...common,
    method: r.method,
    p: r.p,
    baselineRate,
    testN: r.n,
    testPasses: r.passes,
    strata: r.strata,
    coverage: r.coverage,
    z: r.z,
    mddN: r.n > 0 && baseN > 0 ? 1 / (1 / r.n + 1 / baseN) : 0,
  };
}

export function evaluateWindows(
  baseline: Baseline,
  windows: readonly WindowTally[],
  options: WindowOptions = {},
): WindowsEvaluation {
  const alpha = options.alpha ?? 0.01;
  const power = options.power ?? 0.8;
  const raw = windows.map((w) => testWindow(baseline, w, options));
  const adjusted = holm(raw.map((r) => r.p));
  const familySize = raw.filter((r) => !Number.isNaN(r.p)).length;
  const results = raw.map(({ mddN, ...r }, i): WindowResult => {
    const pAdjusted = adjusted[i]!;
    const tested = r.method !== 'none' && Number.isFinite(r.baselineRate) && mddN > 0;
    return {
      ...r,
      pAdjusted,
      significant: pAdjusted < alpha,
      minimumDetectableDrop: tested ? minimumDetectableDrop(mddN, r.baselineRate, alpha / familySize, power) : NaN,
    };
  });
  return { alpha, familySize, results };
}
