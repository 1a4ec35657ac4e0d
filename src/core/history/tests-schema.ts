/**
 * The optional `tests` object of an imported attempt (docs/import-format.md): its per-test results, as
 * domain/test-results.ts declares them and `agentdrift export` writes them. Every field is required when the object
 * is there; the counts of a list must add up to its total, and its names respect the caps the store keeps.
 */
import { z } from 'zod';
import { TEST_RESULT_CAPS } from '../../domain/test-results.ts';

/** The range of each imported count: far above any real suite, so no sum leaves the range of a double. */
export const TESTS_IMPORT_LIMITS = {
  /** Tests one list (fail_to_pass, pass_to_pass) of a task holds. */
  listed: 1_000_000,
  /** Distinct tests in one output.json. */
  ran: 10_000_000,
} as const;

function count(max: number, what: string) {
  const message = `out of range: expected an integer in 0..${max} (${what})`;
  return z
    .number({ message: `expected an integer in 0..${max} (${what})` })
    .int({ message })
    .min(0, { message })
    .max(max, { message });
}

const listed = count(TESTS_IMPORT_LIMITS.listed, 'tests of the list');
const name = z
  .string({ message: 'expected a test name' })
  .min(1, { message: 'expected a test name' })
  .refine((s) => Array.from(s).length <= TEST_RESULT_CAPS.nameChars, {
    message: `expected at most ${TEST_RESULT_CAPS.nameChars} characters (longer names are stored cut, ending in …)`,
  });

const listSchema = z
  .strictObject({
    total: listed,
    passed: listed,
    failed: listed,
    error: listed,
    skipped: listed,
    missing: listed,
    notPassed: z.array(name).max(TEST_RESULT_CAPS.names, { message: `expected at most ${TEST_RESULT_CAPS.names} names (the first that did not pass)` }),
  })
  .superRefine((l, ctx) => {
    const sum = l.passed + l.failed + l.error + l.skipped + l.missing;
    if (sum !== l.total) {
      ctx.addIssue({ code: 'custom', path: ['total'], message: `expected passed + failed + error + skipped + missing (${sum}) to equal total (${l.total})` });
      return;
    }
    const want = Math.min(l.total - l.passed, TEST_RESULT_CAPS.names);
    if (l.notPassed.length !== want) {
      const of = `the first ${TEST_RESULT_CAPS.names} of the ${l.total - l.passed} test(s) that did not pass`;
      ctx.addIssue({ code: 'custom', path: ['notPassed'], message: `expected ${want} name(s): ${of}, got ${l.notPassed.length}` });
    }
  });

export const testsSchema = z.strictObject({
  ran: count(TESTS_IMPORT_LIMITS.ran, 'distinct tests in output.json'),
  f2p: listSchema,
  p2p: listSchema,
});
