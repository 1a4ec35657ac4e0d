/**
 * The official resolution rule: a candidate is resolved iff every test named in fail_to_pass and pass_to_pass has
 * status PASSED in the parser's output.json. No output.json, or one that cannot be read, is not resolved.
 * Pure function.
 */

export const TEST_STATUSES = ['PASSED', 'FAILED', 'SKIPPED', 'ERROR'] as const;

export interface ParsedTest {
  name: string;
  status: string;
}

export interface GradingOutput {
  tests: ParsedTest[];
}

export interface Decision {
  resolved: boolean;
  reason: string;
  /** Listed tests absent from output.json. */
  missing: string[];
  /** Listed tests present in output.json without a PASSED entry, with the status they got. */
  failed: Array<{ name: string; status: string }>;
  /** output.json as read, when it could be read. */
  output: GradingOutput | null;
}

const SHOWN = 5;

function listSome(names: readonly string[]): string {
  const shown = names.slice(0, SHOWN).join(', ');
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}

/** Reads output.json strictly: an object with a `tests` array of `{name: string, status: string}`. */
export function parseGradingOutput(raw: string | Buffer): { output: GradingOutput } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  } catch (e) {
    return { error: `not JSON (${(e as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { error: 'not a JSON object' };
  const tests = (data as { tests?: unknown }).tests;
  if (!Array.isArray(tests)) return { error: 'has no "tests" array' };
  const out: ParsedTest[] = [];
  for (const [i, t] of tests.entries()) {
    const name = (t as { name?: unknown } | null)?.name;
    const status = (t as { status?: unknown } | null)?.status;
    if (typeof name !== 'string' || typeof status !== 'string') {
      return { error: `tests[${i}] is not {"name": string, "status": string}` };
    }
    out.push({ name, status });
  }
  return { output: { tests: out } };
}

/**
 * Decides resolution from the raw output.json (null when the parser wrote none). As in the official harness, a test
 * counts as passed when any entry of that name has status PASSED.
 */
export function decideOutcome(outputJson: string | Buffer | null | undefined, failToPass: readonly string[], passToPass: readonly string[]): Decision {
  if (outputJson === null || outputJson === undefined) {
    return { resolved: false, reason: 'no output.json: the parser wrote no results', missing: [], failed: [], output: null };
  }
  const parsed = parseGradingOutput(outputJson);
  if ('error' in parsed) {
    return { resolved: false, reason: `malformed output.json: ${parsed.error}`, missing: [], failed: [], output: null };
  }
  const output = parsed.output;
  const passed = new Set<string>();
  const statusOf = new Map<string, string>();
  for (const t of output.tests) {
    if (t.status === 'PASSED') passed.add(t.name);
    else if (!statusOf.has(t.name)) statusOf.set(t.name, t.status);
  }
  const wanted = [...new Set([...failToPass, ...passToPass])];
  const missing: string[] = [];
  const failed: Array<{ name: string; status: string }> = [];
  for (const name of wanted) {
    if (passed.has(name)) continue;
    const status = statusOf.get(name);
    if (status === undefined) missing.push(name);
    else failed.push({ name, status });
  }
  if (missing.length === 0 && failed.length === 0) {
    return { resolved: true, reason: `all ${wanted.length} listed tests passed`, missing, failed, output };
  }
  const parts: string[] = [];
  if (failed.length) parts.push(`not passed: ${listSome(failed.map((f) => `${f.name} (${f.status})`))}`);
  if (missing.length) parts.push(`missing from output: ${listSome(missing)}`);
  return {
    resolved: false,
    reason: `${failed.length + missing.length} of ${wanted.length} listed tests did not pass; ${parts.join('; ')}`,
    missing,
    failed,
    output,
  };
}
