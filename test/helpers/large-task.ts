/**
 * A fixture task of real size, generated: the toy fixtures (a few lines of patch, a few KB of test output) hid a
 * grading deadlock that the first real SWE-Bench-Pro attempt hit at once. This one has what real tasks have:
 *
 * - a repository of 160 modules (`ledger/mod_NNN.py`) whose `scale_NNN` functions are all wrong;
 * - a gold patch of several hundred KB touching every module (the fix, and a docstring on each helper);
 * - 160 fail-to-pass tests (tests/test_scale.py, restored by the row's last before_repo_set_cmd line), 400 listed
 *   pass-to-pass tests out of 2000 that run (tests/test_bulk.py);
 * - test output of several MB (the code's debug logging, as real suites print), read back by the parser;
 * - a run_script.sh and parser.py of the official ones' size (test/fixtures/large-task/harness/).
 *
 * Generated deterministically into a folder under the fixture cache, then built like the committed fixtures
 * (images.ts): same base image, same git layout, same dataset row format.
 */
import { mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFixtureTaskFrom, fixtureCacheDir, type FixtureTask } from './images.ts';

export const LARGE_MODULES = 160;
const HELPERS = 24;
const BULK_TESTS = 2000;
const LISTED_BULK = 400;
/** Lines of debug logging the bulk tests print (about 3 MB). */
const LOG_LINES = 30_000;

const HARNESS = fileURLToPath(new URL('../fixtures/large-task/harness/', import.meta.url));
const pad = (i: number) => String(i).padStart(3, '0');

function moduleSource(i: number, fixed: boolean): string {
  const n = pad(i);
  const lines = [`"""Module ${n} of the ledger fixture: amounts scaled by the rate of book ${n}."""`, '', `RATE_${n} = ${3 + (i % 5)}`, ''];
  for (let k = 0; k < HELPERS; k++) {
    lines.push(`def helper_${n}_${pad(k)}(amount, entries=None):`);
    if (fixed) {
      lines.push(`    """Book ${n}, rule ${k}: the amount plus ${k}, bounded below by zero, for ledger entries of kind ${k % 7}."""`);
    }
    lines.push(`    total = amount + ${k}`, '    if entries:', '        total += sum(entries)', '    return max(total, 0)', '', '');
  }
  lines.push(`def scale_${n}(amount):`);
  lines.push(`    """The amount in the units of book ${n}."""`);
  lines.push(fixed ? `    return amount * RATE_${n}` : `    return amount * (RATE_${n} - 1)`);
  lines.push('');
  return lines.join('\n');
}

function scaleTests(): string {
  const lines = ['import unittest', '', 'from ledger import ' + Array.from({ length: LARGE_MODULES }, (_, i) => `mod_${pad(i)}`).join(', '), '', '', 'class TestScale(unittest.TestCase):'];
  for (let i = 0; i < LARGE_MODULES; i++) {
    const n = pad(i);
    lines.push(`    def test_mod_${n}(self):`, `        self.assertEqual(mod_${n}.scale_${n}(2), 2 * mod_${n}.RATE_${n})`, '');
  }
  lines.push('', "if __name__ == '__main__':", '    unittest.main()', '');
  return lines.join('\n');
}

function bulkTests(): string {
  return [
    'import sys',
    'import unittest',
    '',
    'from ledger import mod_000',
    '',
    `# The code under test logs at debug level: about ${LOG_LINES} lines reach the captured output, as in real suites.`,
    `for _i in range(${LOG_LINES}):`,
    "    sys.stderr.write(f'DEBUG ledger.books: loaded entry {_i:06d} of book {_i % 160:03d}: amount={_i * 7 % 1000}.00 balance={_i * 13 % 100000}.00 state=posted checksum={_i * 2654435761 % 4294967296:08x}\\n')",
    '',
    '',
    'class TestBulk(unittest.TestCase):',
    '    pass',
    '',
    '',
    'def _make(i):',
    '    def test(self):',
    '        self.assertEqual(mod_000.helper_000_000(i), i)',
    '    return test',
    '',
    '',
    `for _i in range(${BULK_TESTS}):`,
    "    setattr(TestBulk, f'test_case_{_i:04d}', _make(_i))",
    '',
  ].join('\n');
}

/** Writes the task's sources (task.json, solution/, repos/ledger/, harness/) into `root`. */
export function writeLargeTaskSources(root: string): { dir: string; reposDir: string; harnessDir: string } {
  rmSync(root, { recursive: true, force: true });
  const dir = path.join(root, 'task');
  const reposDir = path.join(root, 'repos');
  const repo = path.join(reposDir, 'ledger');
  const solution = path.join(dir, 'solution');
  for (const d of [path.join(repo, 'ledger'), path.join(repo, 'tests'), path.join(solution, 'ledger'), path.join(solution, 'tests')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(repo, 'README.md'), '# ledger\n\nA generated fixture repository of real size.\n');
  writeFileSync(path.join(repo, '.gitignore'), '__pycache__/\n');
  writeFileSync(path.join(repo, 'ledger', '__init__.py'), '');
  writeFileSync(path.join(repo, 'tests', '__init__.py'), '');
  writeFileSync(path.join(repo, 'tests', 'test_bulk.py'), bulkTests());
  for (let i = 0; i < LARGE_MODULES; i++) {
    writeFileSync(path.join(repo, 'ledger', `mod_${pad(i)}.py`), moduleSource(i, false));
    writeFileSync(path.join(solution, 'ledger', `mod_${pad(i)}.py`), moduleSource(i, true));
  }
  writeFileSync(path.join(solution, 'tests', 'test_scale.py'), scaleTests());
  const failToPass = Array.from({ length: LARGE_MODULES }, (_, i) => `tests/test_scale.py::TestScale::test_mod_${pad(i)}`);
  const passToPass = Array.from({ length: LISTED_BULK }, (_, i) => `tests/test_bulk.py::TestBulk::test_case_${String(i * (BULK_TESTS / LISTED_BULK)).padStart(4, '0')}`);
  writeFileSync(
    path.join(dir, 'task.json'),
    JSON.stringify(
      {
        repo: 'agentdrift-fixtures/ledger',
        repoDir: 'ledger',
        instanceSuffix: '-vscale',
        language: 'python',
        problemStatement: '# Every book scales amounts by one rate too few\n\n## Description\n\n`scale_NNN` in each `ledger/mod_NNN.py` multiplies by `RATE_NNN - 1`.',
        requirements: '- `scale_NNN(amount)` must return `amount * RATE_NNN` in every module.\n- Every helper gets a docstring naming its book and rule.',
        interface: 'No new interfaces are introduced.',
        failToPass,
        passToPass,
        selectedTestFiles: ['tests/test_scale.py', 'tests/test_bulk.py'],
        issueCategories: "['major_bug']",
        issueSpecificity: "['edge_case_bug']",
      },
      null,
      2,
    ),
  );
  const harnessDir = path.join(root, 'harness');
  cpSync(HARNESS, harnessDir, { recursive: true });
  return { dir, reposDir, harnessDir };
}

let memo: Promise<FixtureTask> | undefined;

/** The large task, its image built (or reused when nothing it is made of changed). */
export function ensureLargeTask(): Promise<FixtureTask> {
  const root = path.join(fixtureCacheDir(), 'generated', `ledger-scale-${process.pid}`);
  memo ??= ensureFixtureTaskFrom('ledger-scale', writeLargeTaskSources(root))
    .finally(() => rmSync(root, { recursive: true, force: true }))
    .catch((e: unknown) => {
      memo = undefined;
      throw e;
    });
  return memo;
}
