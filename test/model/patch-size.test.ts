/**
 * patchSize (src/domain/patch-size.ts) against git's own count (`git apply --numstat`) on candidate patches made by the
 * runner's patch command in real repositories: edits whose lines start with `--` or `++`, new, deleted and renamed
 * files, a missing final newline, CRLF lines, a name with spaces, a binary file (dropped first), and a large patch.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPatchCommand } from '../../src/agent/patch.ts';
import { stripBinaryHunks } from '../../src/domain/patch.ts';
import { patchSize } from '../../src/domain/patch-size.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function repo(files: Record<string, string | Buffer>): { dir: string; base: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-patch-size-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' }).toString();
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'base');
  return { dir, base: git('rev-parse', 'HEAD').trim() };
}

function candidatePatch(dir: string, base: string): string {
  const [cmd, ...args] = buildPatchCommand(base, dir);
  const out = spawnSync(cmd!, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(out.stderr);
  return stripBinaryHunks(out.stdout);
}

function numstat(patch: string): { files: number; linesAdded: number; linesRemoved: number } {
  const out = spawnSync('git', ['apply', '--numstat', '-'], { input: patch, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`git apply --numstat: ${out.stderr}`);
  const rows = out.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  return { files: rows.length, linesAdded: rows.reduce((s, r) => s + Number(r[0]), 0), linesRemoved: rows.reduce((s, r) => s + Number(r[1]), 0) };
}

describe('patchSize', () => {
  it('agrees with git apply --numstat on tricky edits', () => {
    const sql = ['-- a SQL comment', 'SELECT 1;', '++counter;', '--- not a header', '+++ nor this', 'end'].join('\n') + '\n';
    const { dir, base } = repo({
      'query.sql': sql,
      'gone.txt': 'one\ntwo\nthree\n',
      'moved.py': Array.from({ length: 40 }, (_, i) => `line_${i} = ${i}`).join('\n') + '\n',
      'crlf.txt': 'a\r\nb\r\nc\r\n',
      'no newline.txt': 'last line without newline',
      'logo.bin': Buffer.from([0, 1, 2, 3, 255, 0, 7]),
    });
    // Remove the `--` and `+++` lines, add lines that start with `++` and `---`.
    writeFileSync(join(dir, 'query.sql'), ['SELECT 1;', '++counter;', '---- still not a header', '++ plus plus', 'end'].join('\n') + '\n');
    unlinkSync(join(dir, 'gone.txt'));
    renameSync(join(dir, 'moved.py'), join(dir, 'renamed.py'));
    writeFileSync(join(dir, 'renamed.py'), Array.from({ length: 40 }, (_, i) => `line_${i} = ${i === 20 ? 'changed' : i}`).join('\n') + '\n');
    writeFileSync(join(dir, 'crlf.txt'), 'a\r\nB\r\nc\r\nd\r\n');
    writeFileSync(join(dir, 'no newline.txt'), 'last line without newline, changed');
    writeFileSync(join(dir, 'logo.bin'), Buffer.from([9, 9, 0, 255]));
    writeFileSync(join(dir, 'new.md'), '# New\n\ntext\n');
    const patch = candidatePatch(dir, base);
    expect(patch).toContain('rename from moved.py');
    expect(patch).not.toContain('logo.bin');
    const size = patchSize(patch);
    expect(size).toEqual(numstat(patch));
    expect(size.files).toBe(6);
  });

  it('agrees on a large patch (200 files, thousands of lines)', () => {
    const files: Record<string, string> = {};
    for (let f = 0; f < 200; f++) files[`m${f}.py`] = Array.from({ length: 300 }, (_, i) => `v${i} = ${i} * ${f}`).join('\n') + '\n';
    const { dir, base } = repo(files);
    for (let f = 0; f < 200; f++) {
      const lines = files[`m${f}.py`]!.split('\n');
      for (let i = f % 7; i < 300; i += 11) lines[i] = `-- ${lines[i]} changed`;
      lines.splice(150, 0, ...Array.from({ length: f % 13 }, (_, k) => `++ inserted ${k}`));
      writeFileSync(join(dir, `m${f}.py`), lines.join('\n'));
    }
    const patch = candidatePatch(dir, base);
    expect(patch.length).toBeGreaterThan(1_000_000);
    const size = patchSize(patch);
    expect(size).toEqual(numstat(patch));
    expect(size.files).toBe(200);
    expect(size.linesAdded).toBeGreaterThan(5000);
  });

  it('an empty patch has no files; a plain unified diff counts its +++ headers', () => {
    expect(patchSize('')).toEqual({ files: 0, linesAdded: 0, linesRemoved: 0 });
    const plain = '--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n same\n';
    expect(patchSize(plain)).toEqual({ files: 1, linesAdded: 1, linesRemoved: 1 });
    // Hunk headers without counts mean one line.
    expect(patchSize('diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n')).toEqual({ files: 1, linesAdded: 1, linesRemoved: 1 });
  });
});
