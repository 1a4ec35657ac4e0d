/**
 * The per-test results of gradeAttempt (src/grading/summary.ts) on the in-memory runtime: the entry script is played
 * by an exec handler that writes the output.json a test gives, so the edge cases of a parser's output (missing,
 * malformed, duplicates, odd statuses, long names, more failures than the caps keep) are checked exactly, with the
 * verdict as src/grading/outcome.ts gives it. The real-container cases are in ./test-results.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRuntime, type ExecContext } from '../../src/executor/memory.ts';
import { gradeAttempt, type GradeInput, type GradingTask } from '../../src/grading/grade.ts';
import { summarizeTests } from '../../src/grading/summary.ts';
import { decideOutcome } from '../../src/grading/outcome.ts';
import { MARKER_PREFIX, WORKSPACE } from '../../src/grading/script.ts';
import { CUT_MARK, TEST_RESULT_CAPS, isTestResults, testResultsProblem } from '../../src/domain/test-results.ts';

const IMAGE = 'task:memory-tests';

const task: GradingTask = {
  instanceId: 'memory-tests',
  baseCommit: 'abc123',
  beforeRepoSetCmd: 'git checkout abc123 -- tests/test_x.py',
  selectedTestFiles: ['tests/test_x.py'],
  failToPass: ['t::fix_a', 't::fix_b', 't::fix_c', 't::fix_d', 't::fix_e'],
  passToPass: ['t::old_a', 't::old_b', 't::old_c'],
};

function input(extra: Partial<GradeInput> = {}): GradeInput {
  return { image: IMAGE, task, files: { runScript: 'run', parser: 'parse', env: {} }, patch: 'diff --git a/x b/x\n+change\n', timeoutMs: 60_000, ...extra };
}

/** A runtime whose entry script ends normally and leaves `output` as output.json (nothing when null). */
function runtime(output: string | null): MemoryRuntime {
  const rt = new MemoryRuntime().addImage(IMAGE);
  rt.onExec((ctx: ExecContext) => {
    if (ctx.cmd[0] !== '/bin/bash' || ctx.cmd[1] !== `${WORKSPACE}/entry.sh`) return undefined;
    const mark = (phase: string) => ctx.stderr(`${MARKER_PREFIX} phase=${phase} t=${1000 + phase.length}\n`);
    for (const p of ['start', 'reset']) mark(p);
    ctx.stderr(`${MARKER_PREFIX} patch=applied\n`);
    mark('tests');
    ctx.writeFile(`${WORKSPACE}/stdout.log`, 'ran the tests\n');
    mark('parse');
    if (output !== null) ctx.writeFile(`${WORKSPACE}/output.json`, output);
    mark('done');
    return { exitCode: 0 };
  });
  return rt;
}

const json = (tests: { name: string; status: string }[]) => JSON.stringify({ tests });

describe('per-test results of gradeAttempt on the memory runtime', () => {
  it('counts each list as the verdict does: PASSED anywhere wins, else the first status, else missing', async () => {
    const output = json([
      { name: 't::fix_a', status: 'PASSED' },
      // Two entries of one name: any PASSED counts, as officially.
      { name: 't::fix_b', status: 'FAILED' },
      { name: 't::fix_b', status: 'PASSED' },
      { name: 't::fix_c', status: 'ERROR' },
      { name: 't::fix_c', status: 'FAILED' },
      { name: 't::fix_d', status: 'SKIPPED' },
      // fix_e missing.
      { name: 't::old_a', status: 'PASSED' },
      { name: 't::old_b', status: 'XFAIL' },
      { name: 't::old_c', status: 'PASSED' },
      { name: 't::unlisted', status: 'FAILED' },
    ]);
    const rt = runtime(output);
    const r = await gradeAttempt(rt, input());
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toBe(
      '4 of 8 listed tests did not pass; not passed: t::fix_c (ERROR), t::fix_d (SKIPPED), t::old_b (XFAIL); missing from output: t::fix_e',
    );
    expect(r.testsUnavailable).toBeNull();
    expect(r.tests).toEqual({
      ran: 8,
      f2p: { total: 5, passed: 2, failed: 0, error: 1, skipped: 1, missing: 1, notPassed: ['t::fix_c', 't::fix_d', 't::fix_e'] },
      // A status the parser invents counts as failed.
      p2p: { total: 3, passed: 2, failed: 1, error: 0, skipped: 0, missing: 0, notPassed: ['t::old_b'] },
    });
    expect(isTestResults(r.tests)).toBe(true);
    expect(rt.containers.size).toBe(0);
  });

  it('a resolved attempt has every listed test passed; a name listed twice counts once', async () => {
    const twice = { ...task, failToPass: [...task.failToPass, 't::fix_a'] };
    const all = [...task.failToPass, ...task.passToPass].map((name) => ({ name, status: 'PASSED' }));
    const r = await gradeAttempt(runtime(json(all)), input({ task: twice }));
    expect(r.outcome).toBe('resolved');
    expect(r.tests).toEqual({
      ran: 8,
      f2p: { total: 5, passed: 5, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
      p2p: { total: 3, passed: 3, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
    });
  });

  it('an empty patch is unresolved as today, and still has its per-test results', async () => {
    const tests = [...task.passToPass.map((name) => ({ name, status: 'PASSED' })), ...task.failToPass.map((name) => ({ name, status: 'FAILED' }))];
    const r = await gradeAttempt(runtime(json(tests)), input({ patch: '' }));
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toMatch(/^empty patch: /);
    expect(r.tests?.f2p).toEqual({ total: 5, passed: 0, failed: 5, error: 0, skipped: 0, missing: 0, notPassed: task.failToPass });
    expect(r.tests?.p2p.passed).toBe(3);
  });

  it('no output.json: the verdict as today (unresolved), the results null with the reason, no crash', async () => {
    const r = await gradeAttempt(runtime(null), input());
    expect(r.outcome).toBe('unresolved');
    expect(r.reason).toBe('no output.json: the parser wrote no results');
    expect(r.tests).toBeNull();
    expect(r.testsUnavailable).toBe('no output.json: the parser wrote no results');
  });

  it('malformed output.json of every kind: unresolved as today, the results null with the reason', async () => {
    const cases: [string, string][] = [
      ['{not json', 'malformed output.json: not JSON'],
      ['[]', 'malformed output.json: not a JSON object'],
      ['{"tests": {"a": 1}}', 'malformed output.json: has no "tests" array'],
      ['{"tests": [{"name": "t::fix_a", "status": 3}]}', 'malformed output.json: tests[0] is not {"name": string, "status": string}'],
      ['{"tests": [null]}', 'malformed output.json: tests[0] is not {"name": string, "status": string}'],
      ['', 'malformed output.json: not JSON'],
    ];
    for (const [output, reason] of cases) {
      const r = await gradeAttempt(runtime(output), input());
      expect(r.outcome, output).toBe('unresolved');
      expect(r.reason.startsWith(reason), `${output}: ${r.reason}`).toBe(true);
      expect(r.tests, output).toBeNull();
      expect(r.testsUnavailable?.startsWith(reason), output).toBe(true);
    }
  });

  it('an infrastructure failure has no results (never graded) and says why', async () => {
    const rt = runtime(json([]));
    rt.failNext('putFiles', 'copy_failed');
    const r = await gradeAttempt(rt, input());
    expect(r.outcome).toBe('infra_error');
    expect(r.tests).toBeNull();
    expect(r.testsUnavailable).toBe('grading did not reach the test results');
  });

  it('keeps the first 20 names that did not pass, in list order, each cut to 300 characters', async () => {
    const long = `tests/test_long.py::TestLong::test_${'x'.repeat(400)}`;
    const wide = `tests/test_wide.py::test_${'ü'.repeat(150)}${'😀'.repeat(200)}`;
    const f2p = Array.from({ length: 50 }, (_, i) => `t::many_${String(i).padStart(2, '0')}`);
    const big: GradingTask = { ...task, failToPass: [long, wide, ...f2p], passToPass: [] };
    // Every other one passes: 25 of the 50 fail, with the two long ones 27.
    const tests = f2p.map((name, i) => ({ name, status: i % 2 ? 'PASSED' : 'FAILED' }));
    const r = await gradeAttempt(runtime(json(tests)), input({ task: big }));
    expect(r.outcome).toBe('unresolved');
    const f = r.tests!.f2p;
    expect(f).toMatchObject({ total: 52, passed: 25, failed: 25, error: 0, skipped: 0, missing: 2 });
    expect(f.notPassed).toHaveLength(TEST_RESULT_CAPS.names);
    const cutLong = `${long.slice(0, 299)}${CUT_MARK}`;
    const cutWide = `${Array.from(wide).slice(0, 299).join('')}${CUT_MARK}`;
    expect(f.notPassed).toEqual([cutLong, cutWide, ...f2p.filter((_, i) => i % 2 === 0).slice(0, 18)]);
    expect(Array.from(f.notPassed[1]!)).toHaveLength(300);
    // No pass_to_pass list: all zero, nothing to break.
    expect(r.tests!.p2p).toEqual({ total: 0, passed: 0, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] });
    expect(testResultsProblem(r.tests)).toBeNull();
    // Compact: a few KB at most, however long the lists.
    expect(Buffer.byteLength(JSON.stringify(r.tests))).toBeLessThan(4000);
  });

  it('summarizeTests agrees with decideOutcome on every listed name, and never keeps a name the parser printed', () => {
    const output = JSON.stringify({
      tests: [
        { name: 't::fix_a', status: 'FAILED' },
        { name: 'sk-ant-api03-secret printed by a test', status: 'FAILED' },
      ],
    });
    const d = decideOutcome(output, task.failToPass, task.passToPass);
    const s = summarizeTests(d, task.failToPass, task.passToPass);
    if (!s.tests) throw new Error('expected results');
    expect(s.tests.f2p.passed + s.tests.p2p.passed).toBe(0);
    expect(s.tests.f2p.failed + s.tests.p2p.failed).toBe(d.failed.length);
    expect(s.tests.f2p.missing + s.tests.p2p.missing).toBe(d.missing.length);
    expect(JSON.stringify(s.tests)).not.toContain('secret');
    expect(s.tests.ran).toBe(2);
  });

  it('the stored shape is validated: counts that do not add up, or names past the caps, are refused', () => {
    const ok = {
      ran: 1,
      f2p: { total: 1, passed: 0, failed: 1, error: 0, skipped: 0, missing: 0, notPassed: ['a'] },
      p2p: { total: 0, passed: 0, failed: 0, error: 0, skipped: 0, missing: 0, notPassed: [] },
    };
    expect(testResultsProblem(ok)).toBeNull();
    expect(testResultsProblem({ ...ok, f2p: { ...ok.f2p, passed: 1 } })).toBe(
      'f2p: expected passed + failed + error + skipped + missing (2) to equal total (1)',
    );
    expect(testResultsProblem({ ...ok, f2p: { ...ok.f2p, notPassed: [] } })).toBe(
      'f2p: notPassed: expected 1 name(s) (the first 20 of the 1 that did not pass), got 0',
    );
    expect(testResultsProblem({ ...ok, f2p: { ...ok.f2p, notPassed: ['x'.repeat(301)] } })).toBe('f2p: notPassed[0]: expected at most 300 characters');
    expect(testResultsProblem({ ...ok, ran: -1 })).toBe('ran: expected an integer >= 0');
    expect(testResultsProblem({ ...ok, p2p: null })).toBe('p2p: expected an object');
  });
});
