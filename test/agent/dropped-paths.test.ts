/**
 * splitBinaryHunks (src/domain/patch.ts) names the binary files it drops from a candidate patch as they are on disk,
 * whatever git makes of the name: plain, with spaces (even one that looks like ` b/`), non-ASCII, C-quoted (a tab, a
 * quote, a backslash), deleted, renamed. The diffs come from real git, through the very command the runner uses.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPatchCommand } from '../../src/agent/patch.ts';
import { splitBinaryHunks, stripBinaryHunks } from '../../src/domain/patch.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const BIN = Buffer.from([0, 1, 2, 3, 0xff, 0x89]);

function repo(files: Record<string, Buffer | string>): { dir: string; base: string; put: (f: string, c: Buffer | string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-dropped-'));
  dirs.push(dir);
  const put = (f: string, c: Buffer | string) => {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), c);
  };
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  for (const [f, c] of Object.entries(files)) put(f, c);
  git('add', '-A');
  git('commit', '-qm', 'base');
  return { dir, base: git('rev-parse', 'HEAD').trim(), put };
}

function candidate(dir: string, base: string): string {
  const [cmd, ...args] = buildPatchCommand(base, dir);
  const r = spawnSync(cmd!, args, { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('the binary files dropped from a real diff', () => {
  it('are named as on disk: spaces, a lookalike " b/", non-ASCII, tab, quote and backslash', () => {
    const { dir, base, put } = repo({ 'calc.py': 'x = 1\n' });
    const names = ['assets/logo.png', 'docs/sp ace \u00e4\u00df.bin', 'x b/y.bin', 'q/tab\tname.bin', 'q/quo"te.bin', 'q/back\\slash.bin', 'q/\u65e5\u672c.bin'];
    for (const n of names) put(n, BIN);
    put('calc.py', 'x = 2\n');
    const diff = candidate(dir, base);
    // git quotes the names with a tab, a quote or a backslash.
    expect(diff).toContain('diff --git "a/q/tab\\tname.bin" "b/q/tab\\tname.bin"');
    const { patch, dropped } = splitBinaryHunks(diff);
    expect([...dropped].sort()).toEqual([...names].sort());
    expect(patch).toBe(stripBinaryHunks(diff));
    expect(patch).toMatch(/^diff --git a\/calc\.py b\/calc\.py\n/);
    expect(patch.match(/^diff --git /gm)).toHaveLength(1);
  });

  it('name a deleted binary file, a changed one and a renamed one by their new path', () => {
    const { dir, base, put } = repo({ 'old/blob.bin': Buffer.concat([BIN, Buffer.alloc(4000, 7)]), 'gone.bin': BIN, 'same.bin': BIN, 'a.txt': 'a\n' });
    mkdirSync(join(dir, 'new dir'));
    execFileSync('git', ['mv', 'old/blob.bin', 'new dir/blob.bin'], { cwd: dir });
    unlinkSync(join(dir, 'gone.bin'));
    put('same.bin', Buffer.concat([BIN, BIN]));
    const diff = candidate(dir, base);
    expect(diff).toContain('rename to new dir/blob.bin');
    const { patch, dropped } = splitBinaryHunks(diff);
    // A pure rename has no binary content: git applies it, so it stays in the patch.
    expect(dropped.sort()).toEqual(['gone.bin', 'same.bin']);
    expect(patch).toContain('rename to new dir/blob.bin');

    // A rename with changed content carries it.
    put('new dir/blob.bin', Buffer.concat([BIN, Buffer.alloc(4000, 7), BIN]));
    const changed = splitBinaryHunks(candidate(dir, base));
    expect(changed.dropped.sort()).toEqual(['gone.bin', 'new dir/blob.bin', 'same.bin']);
    expect(changed.patch).toBe('');
  });

  it('is nothing for a text-only diff, which comes back byte for byte', () => {
    const { dir, base, put } = repo({ 'a.txt': 'a\n' });
    put('a.txt', 'b\r\nc\n');
    put('new file.txt', 'n\n');
    const diff = candidate(dir, base);
    expect(splitBinaryHunks(diff)).toEqual({ patch: diff, dropped: [] });
    expect(splitBinaryHunks('')).toEqual({ patch: '', dropped: [] });
  });
});
