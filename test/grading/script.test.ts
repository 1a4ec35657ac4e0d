import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildGradingScript,
  envExports,
  envValueWord,
  parseMarkers,
  restoreTestsLine,
  shellQuote,
} from '../../src/grading/script.ts';
import { stripBinaryHunks } from '../../src/domain/patch.ts';

function bash(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
}

const TEXT_SECTION = `diff --git a/src/a.py b/src/a.py
index 1111111..2222222 100644
--- a/src/a.py
+++ b/src/a.py
@@ -1,2 +1,2 @@
-x = 1
+x = 2
 y = 3
`;
const BINARY_GIT_SECTION = `diff --git a/img/logo.png b/img/logo.png
new file mode 100644
index 0000000000000000000000000000000000000000..3333333333333333333333333333333333333333
GIT binary patch
literal 12
TcmZ?wbhEHb6krfw00000

literal 0
HcmV?d00001

`;
const BINARY_PLAIN_SECTION = `diff --git a/data.bin b/data.bin
index 4444444..5555555 100644
Binary files a/data.bin and b/data.bin differ
`;
const NEW_FILE_SECTION = `diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..6666666
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+GIT binary patch
+Binary files a and b differ
`;

describe('stripBinaryHunks', () => {
  it('drops git binary patches and "Binary files differ" sections, keeping text sections byte for byte', () => {
    const patch = TEXT_SECTION + BINARY_GIT_SECTION + NEW_FILE_SECTION + BINARY_PLAIN_SECTION;
    expect(stripBinaryHunks(patch)).toBe(TEXT_SECTION + NEW_FILE_SECTION);
  });

  it('keeps a text section whose added lines only look like binary markers', () => {
    expect(stripBinaryHunks(NEW_FILE_SECTION)).toBe(NEW_FILE_SECTION);
  });

  it('leaves a patch without binary content unchanged, and adds a missing final newline', () => {
    expect(stripBinaryHunks(TEXT_SECTION)).toBe(TEXT_SECTION);
    expect(stripBinaryHunks(TEXT_SECTION.trimEnd())).toBe(TEXT_SECTION);
  });

  it('gives an empty patch for an empty or all-binary patch', () => {
    expect(stripBinaryHunks('')).toBe('');
    expect(stripBinaryHunks(BINARY_GIT_SECTION + BINARY_PLAIN_SECTION)).toBe('');
  });

  it('keeps text before the first file section (git apply ignores it)', () => {
    const mail = 'From abc Mon Sep 17 00:00:00 2001\nSubject: fix\n\n';
    expect(stripBinaryHunks(mail + BINARY_PLAIN_SECTION + TEXT_SECTION)).toBe(mail + TEXT_SECTION);
  });

  it('handles CRLF line ends in binary markers', () => {
    const crlf = BINARY_PLAIN_SECTION.replace(/\n/g, '\r\n');
    expect(stripBinaryHunks(TEXT_SECTION + crlf)).toBe(TEXT_SECTION);
  });

  it('produces a patch git apply accepts after stripping', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-strip-'));
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('mkdir', ['-p', path.join(dir, 'src')]);
    writeFileSync(path.join(dir, 'src/a.py'), 'x = 1\ny = 3\n');
    writeFileSync(path.join(dir, 'patch.diff'), stripBinaryHunks(BINARY_PLAIN_SECTION + TEXT_SECTION + BINARY_GIT_SECTION));
    execFileSync('git', ['apply', '-v', 'patch.diff'], { cwd: dir, stdio: 'pipe' });
    expect(readFileSync(path.join(dir, 'src/a.py'), 'utf8')).toBe('x = 2\ny = 3\n');
  });
});

describe('shell quoting', () => {
  it('shellQuote survives any content through a real bash', () => {
    const nasty = `it's "quoted" $(touch /tmp/pwned) \`id\` $HOME \\ ; | & \n newline`;
    expect(bash(`printf %s ${shellQuote(nasty)}`)).toBe(nasty);
  });

  it('env values keep variable references but no command substitution', () => {
    const out = bash(
      [
        ...envExports({
          BASE: '/opt/base',
          WITH_REF: '/app:$BASE:${BASE}/bin',
          DEFAULTED: '${UNSET_VAR:-fallback}',
          LITERAL: `a "b" \\c \`id\` $(echo injected) $ 5$`,
          EMPTY_REF: '/app:$PYTHONPATH',
        }),
        'printf "%s|" "$WITH_REF" "$DEFAULTED" "$LITERAL" "$EMPTY_REF"',
      ].join('\n'),
    );
    expect(out).toBe(`/app:/opt/base:/opt/base/bin|fallback|a "b" \\c \`id\` $(echo injected) $ 5$|/app:|`);
  });

  it('rejects names bash cannot export', () => {
    expect(() => envExports({ 'BAD-NAME': 'x' })).toThrow(/BAD-NAME/);
    expect(() => envExports({ '1X': 'x' })).toThrow();
  });

  it('envValueWord double-quotes', () => {
    expect(envValueWord('plain')).toBe('"plain"');
  });
});

describe('restoreTestsLine', () => {
  it('takes the last non-empty line', () => {
    expect(restoreTestsLine('git reset --hard abc\ngit clean -fd \ngit checkout def -- t/a.py t/b.py\n\n')).toBe('git checkout def -- t/a.py t/b.py');
  });
  it('rejects an empty command', () => {
    expect(() => restoreTestsLine(' \n \n')).toThrow(/no command/);
  });
});

describe('buildGradingScript', () => {
  const script = buildGradingScript({
    env: { LANG: 'C.UTF-8', MODE: "it's" },
    baseCommit: 'abc123',
    beforeRepoSetCmd: 'git reset --hard abc123\ngit checkout sol -- tests/test_x.py',
    selectedTests: ['tests/test_x.py', "tests/it's.py"],
  });

  it('runs the official steps in order', () => {
    const order = [
      'export LANG="C.UTF-8"',
      `export MODE="it's"`,
      "cd '/app'",
      "git reset --hard 'abc123'",
      "git checkout 'abc123'",
      "git apply -v '/workspace/patch.diff'",
      'git checkout sol -- tests/test_x.py',
      `bash '/workspace/run_script.sh' 'tests/test_x.py,tests/it'\\''s.py' > '/workspace/stdout.log' 2> '/workspace/stderr.log'`,
      `"$PY" '/workspace/parser.py' '/workspace/stdout.log' '/workspace/stderr.log' '/workspace/output.json'`,
    ];
    let at = -1;
    for (const piece of order) {
      const i = script.indexOf(piece);
      expect(i, piece).toBeGreaterThan(at);
      at = i;
    }
    // Only the last line of before_repo_set_cmd runs.
    expect(script).not.toContain('git reset --hard abc123\n');
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
  });

  it('runs run_script.sh without argument when no tests are selected', () => {
    const s = buildGradingScript({ env: {}, baseCommit: 'a', beforeRepoSetCmd: 'true', selectedTests: [] });
    expect(s).toContain(`bash '/workspace/run_script.sh' > '/workspace/stdout.log'`);
  });

  it('runs end to end in a scratch repository with a real bash, continuing after a patch that does not apply', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-grading-script-'));
    const app = path.join(dir, 'app');
    const ws = path.join(dir, 'ws');
    execFileSync('mkdir', ['-p', app, ws]);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd: app, encoding: 'utf8' }).trim();
    git('init', '-q');
    writeFileSync(path.join(app, 'value.txt'), 'base\n');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    const baseCommit = git('rev-parse', 'HEAD');
    writeFileSync(path.join(ws, 'patch.diff'), 'this is not a patch\n');
    writeFileSync(path.join(ws, 'run_script.sh'), 'echo "args=$1 mode=$MODE"; cat value.txt; echo oops >&2\n');
    writeFileSync(path.join(ws, 'parser.py'), 'import sys, json\njson.dump({"tests": [{"name": open(sys.argv[1]).read().split()[0], "status": "PASSED"}]}, open(sys.argv[3], "w"))\n');
    const s = buildGradingScript({
      env: { MODE: 'strict' },
      baseCommit,
      beforeRepoSetCmd: `echo ignored\necho restored > value.txt`,
      selectedTests: ['a', 'b'],
      workspace: ws,
      appDir: app,
    });
    writeFileSync(path.join(ws, 'entry.sh'), s);
    const run = spawnSync('bash', [path.join(ws, 'entry.sh')], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const markers = parseMarkers(run.stderr);
    expect(markers.patchApplied).toBe(false);
    expect(Object.keys(markers.phases)).toEqual(['start', 'reset', 'apply', 'restore-tests', 'tests', 'parse', 'done']);
    expect(readFileSync(path.join(ws, 'stdout.log'), 'utf8')).toBe('args=a,b mode=strict\nrestored\n');
    expect(readFileSync(path.join(ws, 'stderr.log'), 'utf8')).toBe('oops\n');
    expect(JSON.parse(readFileSync(path.join(ws, 'output.json'), 'utf8'))).toEqual({ tests: [{ name: 'args=a,b', status: 'PASSED' }] });
  });
});

describe('parseMarkers', () => {
  it('reads phase times and the patch status', () => {
    const m = parseMarkers('noise\n##agentdrift phase=reset t=1000\n##agentdrift patch=failed\n##agentdrift phase=tests t=1500\nerror: x\n');
    expect(m).toEqual({ phases: { reset: 1000, tests: 1500 }, patchApplied: false });
    expect(parseMarkers('').patchApplied).toBeNull();
    // An image whose date cannot print milliseconds still marks the phases it reached.
    const noDate = parseMarkers('##agentdrift phase=tests t=\n##agentdrift phase=done t=%3N\n');
    expect(Object.keys(noDate.phases)).toEqual(['tests', 'done']);
    expect(noDate.phases.tests).toBeNaN();
  });
});
