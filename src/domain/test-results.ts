/**
 * What grading learnt of each listed test of an attempt (issue 12, part 4b): per list of the task (fail_to_pass,
 * pass_to_pass), how many of its tests passed, how the others ended, and the first of their names. Compact by design:
 * the counts are exact, the names are capped (TEST_RESULT_CAPS), so a task that lists thousands of tests keeps a
 * record of a few KB. The grading room builds it (src/grading/summary.ts), the store keeps it per attempt (migration
 * 9), the figures average and test the shares below (src/core/figures/graded.ts). Pure declarations and helpers.
 */

/**
 * Caps of the stored names (docs/statistics.md "Per-test results"): per list, the first `names` tests that did not
 * pass, in the task's list order, each cut to `nameChars` characters (code points; a cut name ends in `…`). Worst
 * case per attempt: 2 x 20 names x 300 characters, about 12 KB; a typical one is well under 2 KB.
 */
export const TEST_RESULT_CAPS = { names: 20, nameChars: 300 } as const;

/** The mark a cut name ends in. */
export const CUT_MARK = '…';

/** One list of the task (fail_to_pass or pass_to_pass), as graded. */
export interface TestListResults {
  /** Distinct test names the list holds. */
  total: number;
  /** Of them, those with a PASSED entry in output.json (the official rule, as src/grading/outcome.ts decides it). */
  passed: number;
  /** The others by the status their first entry got: FAILED (or any status the parser invents), ERROR, SKIPPED... */
  failed: number;
  error: number;
  skipped: number;
  /** ...or absent from output.json. passed + failed + error + skipped + missing = total. */
  missing: number;
  /**
   * The names that did not pass, in the list's order: the first TEST_RESULT_CAPS.names of them, each cut to
   * TEST_RESULT_CAPS.nameChars. Its length is min(total - passed, the cap): the rest are counted above only.
   */
  notPassed: string[];
}

/** An attempt's per-test results: null on an attempt that was not graded, or whose output.json was missing or malformed. */
export interface TestResults {
  /** Distinct test names in output.json: how many tests the parser saw run (a broken build shows as few). */
  ran: number;
  f2p: TestListResults;
  p2p: TestListResults;
}

/** The counts the statistics read of an attempt (the store selects only these, not the names). */
export interface TestCounts {
  f2pPassed: number;
  f2pTotal: number;
  p2pPassed: number;
  p2pTotal: number;
}

/** The graded score of an attempt: the share of its fail_to_pass tests that passed; null when the list is empty. */
export function gradedScore(c: TestCounts): number | null {
  return c.f2pTotal > 0 ? c.f2pPassed / c.f2pTotal : null;
}

/** The p2p breakage of an attempt: the share of its pass_to_pass tests that did not pass; null when the list is empty. */
export function p2pBrokenShare(c: TestCounts): number | null {
  return c.p2pTotal > 0 ? (c.p2pTotal - c.p2pPassed) / c.p2pTotal : null;
}

/** A name as stored: cut to the cap (at a code point), marked when cut. */
export function cappedName(name: string): string {
  const max = TEST_RESULT_CAPS.nameChars;
  if (name.length <= max) return name;
  const points = Array.from(name);
  return points.length <= max ? name : `${points.slice(0, max - 1).join('')}${CUT_MARK}`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Why a value is not a TestListResults, or null when it is one: counts that are integers >= 0 and add up, names that
 * are strings within the caps, as many as the cap allows.
 */
export function testListProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected an object';
  const l = v as Record<string, unknown>;
  for (const k of ['total', 'passed', 'failed', 'error', 'skipped', 'missing'] as const) {
    if (!isCount(l[k])) return `${k}: expected an integer >= 0`;
  }
  const c = l as unknown as TestListResults;
  if (c.passed + c.failed + c.error + c.skipped + c.missing !== c.total) {
    return `expected passed + failed + error + skipped + missing (${c.passed + c.failed + c.error + c.skipped + c.missing}) to equal total (${c.total})`;
  }
  if (!Array.isArray(c.notPassed)) return 'notPassed: expected a list of test names';
  const want = Math.min(c.total - c.passed, TEST_RESULT_CAPS.names);
  if (c.notPassed.length !== want) {
    const of = `the first ${TEST_RESULT_CAPS.names} of the ${c.total - c.passed} that did not pass`;
    return `notPassed: expected ${want} name(s) (${of}), got ${c.notPassed.length}`;
  }
  for (const [i, n] of c.notPassed.entries()) {
    if (typeof n !== 'string' || n.length === 0) return `notPassed[${i}]: expected a test name`;
    if (Array.from(n).length > TEST_RESULT_CAPS.nameChars) return `notPassed[${i}]: expected at most ${TEST_RESULT_CAPS.nameChars} characters`;
  }
  return null;
}

/** Why a value is not TestResults, or null when it is. */
export function testResultsProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected an object';
  const t = v as Record<string, unknown>;
  if (!isCount(t.ran)) return 'ran: expected an integer >= 0';
  for (const k of ['f2p', 'p2p'] as const) {
    const p = testListProblem(t[k]);
    if (p) return `${k}: ${p}`;
  }
  return null;
}

/** Whether a value (a stored JSON column read back) is TestResults. */
export function isTestResults(v: unknown): v is TestResults {
  return testResultsProblem(v) === null;
}

/** The counts of TestResults. */
export function testCounts(t: TestResults): TestCounts {
  return { f2pPassed: t.f2p.passed, f2pTotal: t.f2p.total, p2pPassed: t.p2p.passed, p2pTotal: t.p2p.total };
}
