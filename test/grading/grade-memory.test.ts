/**
 * gradeAttempt's own logic on the in-memory runtime (no engine): the entry script is played by an exec handler that
 * writes output.json and the phase markers the real script prints, and infrastructure failures are injected.
 * The real-container cases stay in ./grade.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRuntime, type ExecContext } from '../../src/executor/memory.ts';
import { gradeAttempt, type GradeInput } from '../../src/grading/grade.ts';
import { MARKER_PREFIX, WORKSPACE } from '../../src/grading/script.ts';

const IMAGE = 'task:memory';
const task = {
  instanceId: 'memory-task',
  baseCommit: 'abc123',
  beforeRepoSetCmd: 'git checkout abc123 -- tests/test_x.py',
  selectedTestFiles: ['tests/test_x.py'],
  failToPass: ['tests/test_x.py::test_fix'],
  passToPass: ['tests/test_x.py::test_old'],
};

function input(extra: Partial<GradeInput> = {}): GradeInput {
  return { image: IMAGE, task, files: { runScript: 'run', parser: 'parse', env: {} }, patch: 'diff --git a/x b/x\n', timeoutMs: 60_000, ...extra };
}

/** A runtime whose entry script passes test_old always and test_fix when the patch contains FIX. */
function runtime(): MemoryRuntime {
  const rt = new MemoryRuntime().addImage(IMAGE);
  rt.onExec((ctx: ExecContext) => {
    if (ctx.cmd[0] !== '/bin/bash' || ctx.cmd[1] !== `${WORKSPACE}/entry.sh`) return undefined;
    const patch = ctx.readFile(`${WORKSPACE}/patch.diff`)?.toString() ?? '';
    const mark = (phase: string) => ctx.stderr(`${MARKER_PREFIX} phase=${phase} t=${1000 + phase.length}\n`);
    for (const p of ['start', 'reset']) mark(p);
    ctx.stderr(`${MARKER_PREFIX} patch=applied\n`);
    mark('tests');
    const tests = [
      { name: 'tests/test_x.py::test_old', status: 'PASSED' },
      { name: 'tests/test_x.py::test_fix', status: patch.includes('FIX') ? 'PASSED' : 'FAILED' },
    ];
    ctx.writeFile(`${WORKSPACE}/stdout.log`, 'ran 2 tests\n');
    mark('parse');
    ctx.writeFile(`${WORKSPACE}/output.json`, JSON.stringify({ tests }));
    mark('done');
    return { exitCode: 0 };
  });
  return rt;
}

describe('gradeAttempt on the memory runtime', () => {
  it('grades from output.json and removes its container', async () => {
    const rt = runtime();
    const fixed = await gradeAttempt(rt, input({ patch: 'diff --git a/x b/x\n+FIX\n' }));
    expect(fixed).toMatchObject({ outcome: 'resolved', patchApplied: true, stdout: 'ran 2 tests\n' });
    const broken = await gradeAttempt(rt, input());
    expect(broken.outcome).toBe('unresolved');
    expect(broken.failed).toEqual([{ name: 'tests/test_x.py::test_fix', status: 'FAILED' }]);
    expect(rt.containers.size).toBe(0);
  });

  it('an injected copy failure is infra_error without retries, and graded after one retry', async () => {
    const rt = runtime();
    rt.failNext('putFiles', 'copy_failed');
    const failed = await gradeAttempt(rt, input());
    expect(failed).toMatchObject({ outcome: 'infra_error', infraReason: 'copy_failed' });
    rt.failNext('putFiles', 'copy_failed');
    const retried = await gradeAttempt(rt, input({ patch: '+FIX\n', infraRetries: 1 }));
    expect(retried.outcome).toBe('resolved');
    expect(rt.containers.size).toBe(0);
  });

  it('a container that dies under the script is infra_error exec_failed; a script past the timeout is infra_error timeout', async () => {
    const crashing = new MemoryRuntime().addImage(IMAGE);
    crashing.onExec((ctx) => {
      crashing.exitContainer(ctx.container, 137, { oomKilled: true });
      return { exitCode: 137 };
    });
    const died = await gradeAttempt(crashing, input());
    expect(died).toMatchObject({ outcome: 'infra_error', infraReason: 'exec_failed' });
    expect(died.reason).toMatch(/out of memory/);

    const hanging = new MemoryRuntime().addImage(IMAGE);
    hanging.onExec((ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ exitCode: 0 }))));
    const late = await gradeAttempt(hanging, input({ timeoutMs: 50 }));
    expect(late).toMatchObject({ outcome: 'infra_error', infraReason: 'timeout' });
    expect(hanging.containers.size).toBe(0);
  });

  it('a missing task image is infra_error image_missing', async () => {
    const r = await gradeAttempt(new MemoryRuntime(), input());
    expect(r).toMatchObject({ outcome: 'infra_error', infraReason: 'image_missing' });
  });
});
