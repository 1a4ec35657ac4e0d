import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPatchCommand, listBinaryFiles } from '../../src/agent/patch.ts';
import { stripBinaryHunks } from '../../src/domain/patch.ts';

const TEXT_SECTION = `diff --git a/calc.py b/calc.py
index 1111111..2222222 100644
--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
`;
const GIT_BINARY = `diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000000000000000000000000000000000000..88768efdf77ec78c9a995f94881793be6a41752b
GIT binary patch
literal 5
McmZQzOv=my00M6TI{*Lx

literal 0
HcmV?d00001

`;
const PLAIN_BINARY = `diff --git a/data.bin b/data.bin
index 3333333..4444444 100644
Binary files a/data.bin and b/data.bin differ
`;
const NEW_FILE = `diff --git a/test_calc.py b/test_calc.py
new file mode 100644
index 0000000..5555555
--- /dev/null
+++ b/test_calc.py
@@ -0,0 +1 @@
+GIT binary patch is only text here
`;

describe('stripBinaryHunks on agent diffs, and listBinaryFiles', () => {
  it('drops the sections of binary files and keeps text sections byte for byte', () => {
    const diff = TEXT_SECTION + GIT_BINARY + NEW_FILE + PLAIN_BINARY;
    expect(stripBinaryHunks(diff)).toBe(TEXT_SECTION + NEW_FILE);
    expect(listBinaryFiles(diff)).toEqual(['logo.png', 'data.bin']);
  });

  it('leaves a diff without binary files unchanged, and empty stays empty', () => {
    expect(stripBinaryHunks(TEXT_SECTION + NEW_FILE)).toBe(TEXT_SECTION + NEW_FILE);
    expect(stripBinaryHunks('')).toBe('');
    expect(stripBinaryHunks(GIT_BINARY)).toBe('');
  });

  it('keeps CRLF text sections intact', () => {
    const crlf = TEXT_SECTION.replace(/\n/g, '\r\n');
    expect(stripBinaryHunks(crlf + PLAIN_BINARY)).toBe(crlf);
  });
});

describe('buildPatchCommand', () => {
  it('passes the base commit and directory as arguments, never inside the script', () => {
    const argv = buildPatchCommand('abc123', '/app');
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv.slice(3)).toEqual(['agentdrift-patch', 'abc123', '/app']);
    expect(argv[2]).not.toContain('abc123');
  });

  it('refuses revisions that a shell or git would read as something else', () => {
    for (const bad of ['', '-p', '--output=/etc/x', 'a b', 'a;rm -rf /', '$(id)', 'a..b', 'x\ny']) {
      expect(() => buildPatchCommand(bad)).toThrow(/refusing base commit/);
    }
    expect(() => buildPatchCommand('abc', 'relative/dir')).toThrow(/absolute/);
  });
});

describe('the patch command on a real git repository', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function repo(): { dir: string; base: string; git: (...a: string[]) => string } {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-patch-'));
    dirs.push(dir);
    const git = (...a: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: dir, encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(dir, 'calc.py'), 'def add(a, b):\n    return a - b\n');
    writeFileSync(join(dir, 'gone.txt'), 'bye\n');
    writeFileSync(join(dir, '.gitignore'), 'build/\n');
    git('add', '.');
    git('commit', '-qm', 'base');
    return { dir, base: git('rev-parse', 'HEAD').trim(), git };
  }

  function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
    const [cmd, ...args] = argv;
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('includes edits, deletions, new untracked files and committed work; excludes ignored files; touches nothing', () => {
    const { dir, base, git } = repo();
    writeFileSync(join(dir, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    unlinkSync(join(dir, 'gone.txt'));
    writeFileSync(join(dir, 'new_test.py'), 'def test_x():\n    pass\n');
    writeFileSync(join(dir, 'logo.bin'), Buffer.from([0, 1, 2, 3, 255]));
    execFileSync('mkdir', ['-p', join(dir, 'build')]);
    writeFileSync(join(dir, 'build', 'out.txt'), 'ignored\n');
    // The agent committed one file on a branch of its own: the patch is still against the base commit.
    writeFileSync(join(dir, 'committed.txt'), 'c\n');
    git('checkout', '-qb', 'agent-work');
    git('add', 'committed.txt');
    git('commit', '-qm', 'agent commit');
    const statusBefore = git('status', '--porcelain');

    const r = run(buildPatchCommand(base, dir));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('+    return a + b');
    expect(r.stdout).toContain('deleted file mode');
    expect(r.stdout).toContain('+++ b/new_test.py');
    expect(r.stdout).toContain('+++ b/committed.txt');
    expect(r.stdout).toContain('GIT binary patch');
    expect(r.stdout).not.toContain('build/out.txt');
    expect(git('status', '--porcelain')).toBe(statusBefore); // the agent's index is not modified

    // Binary hunks dropped, the rest applies cleanly to a fresh checkout of the base commit.
    const patch = stripBinaryHunks(r.stdout);
    expect(listBinaryFiles(r.stdout)).toEqual(['logo.bin']);
    const fresh = repo();
    writeFileSync(join(fresh.dir, 'patch.diff'), patch);
    execFileSync('git', ['apply', '-v', 'patch.diff'], { cwd: fresh.dir, stdio: 'pipe' });
    expect(fresh.git('status', '--porcelain').split('\n').sort().join('\n')).toBe(
      ['', ' D gone.txt', ' M calc.py', '?? committed.txt', '?? new_test.py', '?? patch.diff'].join('\n'),
    );
  });

  it('prints nothing when the work tree equals the base commit', () => {
    const { dir, base } = repo();
    const r = run(buildPatchCommand(base, dir));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('fails (non-zero) for an unknown base commit instead of printing a wrong patch', () => {
    const { dir } = repo();
    const r = run(buildPatchCommand('0123456789abcdef0123456789abcdef01234567', dir));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
  });

  it('works in a repository owned by another user (git safe.directory)', () => {
    const { dir, base } = repo();
    writeFileSync(join(dir, 'calc.py'), 'changed\n');
    // The tests run as root (CI container): hand the repository to nobody, as images built by another user do.
    execFileSync('chown', ['-R', '65534:65534', dir]);
    const r = run(buildPatchCommand(base, dir));
    expect(r.stderr).not.toMatch(/dubious ownership/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('+changed');
  });
});
