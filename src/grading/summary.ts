/**
 * The per-test results of a graded attempt (domain/test-results.ts), from the verdict ./outcome.ts reached: each
 * name of fail_to_pass and pass_to_pass counted as the verdict counted it (passed, or the status it got, or missing),
 * so the summary never disagrees with the outcome. Only names of the task's own lists are kept (never a name the
 * parser printed), and only as many as the caps allow. Pure function.
 */
import { cappedName, TEST_RESULT_CAPS, type TestListResults, type TestResults } from '../domain/test-results.ts';
import type { Decision } from './outcome.ts';

function summarizeList(names: readonly string[], missing: ReadonlySet<string>, statusOf: ReadonlyMap<string, string>): TestListResults {
  const out: TestListResults = { total: 0, passed: 0, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] };
  for (const name of new Set(names)) {
    out.total++;
    const status = statusOf.get(name);
    if (status === undefined && !missing.has(name)) {
      out.passed++;
      continue;
    }
    if (missing.has(name)) out.missing++;
    else if (status === 'ERROR') out.error++;
    else if (status === 'SKIPPED') out.skipped++;
    else out.failed++;
    if (out.notPassed.length < TEST_RESULT_CAPS.names) out.notPassed.push(cappedName(name));
  }
  return out;
}

/**
 * The summary of a verdict: null (with the reason) when output.json was missing or malformed, since then nothing is
 * known of any test.
 */
export function summarizeTests(
  decision: Pick<Decision, 'output' | 'missing' | 'failed' | 'reason'>,
  failToPass: readonly string[],
  passToPass: readonly string[],
): { tests: TestResults } | { tests: null; unavailable: string } {
  if (!decision.output) return { tests: null, unavailable: decision.reason };
  const missing = new Set(decision.missing);
  const statusOf = new Map(decision.failed.map((f) => [f.name, f.status]));
  const ran = new Set(decision.output.tests.map((t) => t.name)).size;
  return {
    tests: {
      ran,
      f2p: summarizeList(failToPass, missing, statusOf),
      p2p: summarizeList(passToPass, missing, statusOf),
    },
  };
}
