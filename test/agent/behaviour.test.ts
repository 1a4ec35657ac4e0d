/**
 * The behaviour extraction (src/agent/behaviour.ts) on transcripts of the real Claude Code CLI (the fixtures captured
 * by test/fixtures/agent/capture.ts, and a live run on the host against the fake API), on a multi-MB synthetic stream
 * of real event shapes with hundreds of tool calls, and the Bash read heuristic.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptBehaviour, extractBehaviour, isReadCommand } from '../../src/agent/behaviour.ts';
import { buildPatchCommand } from '../../src/agent/patch.ts';
import { parseStreamJson } from '../../src/agent/stream.ts';
import { stripBinaryHunks } from '../../src/domain/patch.ts';
import { TOOL_LABELS, toolLabel } from '../../src/domain/behaviour.ts';
import { BEHAVIOUR_ENV, BEHAVIOUR_EXPECTED, behaviourScript } from './behaviour-scenario.ts';
import { runClaudeOnHost, type HostRun } from './host-cli.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../fixtures/agent', `${name}.jsonl`), 'utf8');
const events = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
/** The CLI's own thinking estimate in a transcript, summed independently of the code under test. */
const estimatedThinking = (text: string) => events(text).filter((e) => e.subtype === 'thinking_tokens').reduce((s, e) => s + (e.estimated_tokens_delta as number), 0);
/** git's own count of a patch: files, lines added, lines removed. */
function numstat(patch: string): { files: number; linesAdded: number; linesRemoved: number } {
  const out = spawnSync('git', ['apply', '--numstat', '-'], { input: patch, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`git apply --numstat failed: ${out.stderr}`);
  const rows = out.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  return { files: rows.length, linesAdded: rows.reduce((s, r) => s + Number(r[0]), 0), linesRemoved: rows.reduce((s, r) => s + Number(r[1]), 0) };
}

describe('behaviour of real CLI transcripts (fixtures)', () => {
  it('the behaviour scenario: tools by name, 4 of 5 reads before the first edit, thinking, one retried 529', () => {
    const text = fixture('behaviour');
    const b = extractBehaviour(text);
    expect(b).toEqual({ ...BEHAVIOUR_EXPECTED, thinkingTokens: estimatedThinking(text) });
    expect(b.thinkingTokens).toBeGreaterThan(0);
    // parseStreamJson reads the same in its one pass, and the per-tool counts add up to its tool calls.
    const r = parseStreamJson(text);
    expect(r.behaviour).toEqual(b);
    expect(Object.values(b.toolCalls).reduce((s, n) => s + n, 0)).toBe(r.toolCalls);
    expect(r.apiRetries).toBe(b.apiRetries);
  });

  it('the other captured runs: a fix, API errors, max turns, a killed run', () => {
    expect(extractBehaviour(fixture('fix-success'))).toMatchObject({ toolCalls: { Bash: 2, Edit: 1, Write: 1 }, fileReads: 1, readsBeforeFirstEdit: 1, fileEdits: 2, apiErrors: 0 });
    // The run that ended in an API error: its synthetic message counts, and is no tool call; a 529 retried once first.
    expect(extractBehaviour(fixture('api-500'))).toMatchObject({ toolCalls: {}, apiRetries: 0, apiErrors: 1, readsBeforeFirstEdit: null });
    expect(extractBehaviour(fixture('api-529'))).toMatchObject({ apiRetries: 1, apiErrors: 1 });
    // `ls` twice, no edit: reads, and no first edit.
    expect(extractBehaviour(fixture('max-turns'))).toMatchObject({ toolCalls: { Bash: 2 }, fileReads: 2, fileEdits: 0, readsBeforeFirstEdit: null });
    // Killed after its edit (no result event): what the stream got to.
    expect(extractBehaviour(fixture('killed-mid-run'))).toMatchObject({ toolCalls: { Bash: 1, Edit: 1 }, readsBeforeFirstEdit: 1, fileEdits: 1 });
    for (const name of ['fix-success', 'api-500', 'api-529', 'max-turns', 'max-budget', 'killed-mid-run', 'killed-no-result']) {
      const r = parseStreamJson(fixture(name));
      expect(Object.values(r.behaviour.toolCalls).reduce((s, n) => s + n, 0), name).toBe(r.toolCalls);
      expect(r.behaviour, name).toEqual(extractBehaviour(fixture(name)));
    }
  });

  it('the API\'s thinking count in the result wins over the CLI\'s estimate', () => {
    const text = fixture('behaviour').replace('"thinkingTokens":0', '"thinkingTokens":777');
    expect(extractBehaviour(text).thinkingTokens).toBe(777);
  });
});

describe('behaviour of the real CLI, live (host)', { timeout: 60_000 }, () => {
  let run: HostRun | null = null;
  afterEach(async () => {
    await run?.cleanup();
    run = null;
  });

  it('extracts the scripted behaviour, and the patch size agrees with git apply --numstat', async () => {
    run = await runClaudeOnHost({ script: behaviourScript, extraEnv: BEHAVIOUR_ENV });
    expect(run.exitCode).toBe(0);
    const r = parseStreamJson(run.stdout);
    expect(r.outcome).toBe('completed');
    expect(r.behaviour).toEqual({ ...BEHAVIOUR_EXPECTED, thinkingTokens: estimatedThinking(run.stdout) });
    const base = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: run.repoDir, encoding: 'utf8' }).stdout.trim();
    const [cmd, ...args] = buildPatchCommand(base, run.repoDir);
    const patch = stripBinaryHunks(spawnSync(cmd!, args, { encoding: 'utf8' }).stdout);
    const b = attemptBehaviour(r.behaviour, patch);
    expect({ files: b.patchFiles, linesAdded: b.patchLinesAdded, linesRemoved: b.patchLinesRemoved }).toEqual(numstat(patch));
    expect(b.patchFiles).toBe(2);
    expect(attemptBehaviour(r.behaviour, null)).toMatchObject({ patchFiles: null, patchLinesAdded: null, patchLinesRemoved: null });
  });
});

/**
 * A long session in the CLI's event shapes (taken from the captured fixture): `n` rounds of one tool call each and
 * its result, file contents of `resultBytes`, thinking blocks, retries, subagent calls, repeated events and garbage.
 */
function largeStream(n: number, resultBytes: number) {
  const lines = fixture('behaviour').split('\n').filter(Boolean);
  const init = lines.find((l) => l.includes('"subtype":"init"'))!;
  const result = lines.find((l) => l.startsWith('{') && JSON.parse(l).type === 'result')!.replace(/"num_turns":\d+/, `"num_turns":${n}`);
  const toolTemplate = JSON.parse(lines.find((l) => l.includes('"type":"tool_use"'))!) as { message: { id: string; content: unknown[] }; parent_tool_use_id: string | null };
  const userTemplate = JSON.parse(lines.find((l) => l.includes('"type":"tool_result"'))!) as { message: { content: { tool_use_id: string; content: string }[] } };
  const file = 'x = 1  # padding of a source file\n'.repeat(Math.ceil(resultBytes / 35)).slice(0, resultBytes);
  const out: string[] = [init];
  const expected = { toolCalls: {} as Record<string, number>, fileReads: 0, readsBeforeFirstEdit: null as number | null, fileEdits: 0, thinkingChars: 0, thinkingBlocks: 0, thinkingTokens: 0, apiRetries: 0, apiErrors: 0 };
  const tools: [string, Record<string, unknown>, boolean][] = [
    ['Read', { file_path: '/app/src/module.py' }, true],
    ['Bash', { command: 'cd /app && grep -rn "def handler" src | head -20' }, true],
    ['Bash', { command: "sed -n '10,80p' src/module.py" }, true],
    ['Bash', { command: 'python -m pytest tests/test_module.py -x -q' }, false],
    ['Grep', { pattern: 'handler', path: '/app' }, true],
    ['mcp__github__search_code', { q: 'handler' }, false],
    ['Task', { description: 'explore', prompt: 'find the handler' }, false],
  ];
  const firstEditAt = Math.floor(n / 3);
  for (let i = 0; i < n; i++) {
    const id = `toolu_large_${i}`;
    const msgId = `msg_large_${i}`;
    if (i % 25 === 0) {
      out.push(JSON.stringify({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 10, retry_delay_ms: 500, error_status: 529, error: 'overloaded' }));
      expected.apiRetries++;
    }
    if (i % 10 === 0) {
      const text = `Round ${i}: consider the handler, its callers and the failing test. `.repeat(40 + (i % 7) * 10);
      out.push(JSON.stringify({ ...toolTemplate, message: { ...toolTemplate.message, id: msgId, content: [{ type: 'thinking', thinking: text, signature: `sig_${i}` }] } }));
      expected.thinkingBlocks++;
      expected.thinkingChars += text.length;
    }
    let name: string;
    let input: Record<string, unknown>;
    let read: boolean;
    const edit = i >= firstEditAt && i % 9 === 0;
    if (i === firstEditAt || edit) [name, input, read] = [i % 2 ? 'Write' : 'Edit', { file_path: '/app/src/module.py', old_string: 'a', new_string: 'b' }, false];
    else [name, input, read] = tools[i % tools.length]!;
    // Every 13th call is a subagent's (parent_tool_use_id set): counted all the same.
    const parent = i % 13 === 0 ? 'toolu_large_parent' : null;
    const event = JSON.stringify({ ...toolTemplate, parent_tool_use_id: parent, message: { ...toolTemplate.message, id: msgId, content: [{ type: 'tool_use', id, name, input }] } });
    out.push(event);
    // The same event twice (a replayed line) is counted once.
    if (i % 50 === 7) out.push(event);
    if (name === 'Edit' || name === 'Write') {
      expected.readsBeforeFirstEdit ??= expected.fileReads;
      expected.fileEdits++;
    } else if (read) expected.fileReads++;
    const label = toolLabel(name);
    expected.toolCalls[label] = (expected.toolCalls[label] ?? 0) + 1;
    out.push(JSON.stringify({ ...userTemplate, message: { ...userTemplate.message, content: [{ ...userTemplate.message.content[0], tool_use_id: id, content: file }] } }));
    if (i % 100 === 99) out.push('not json: a line the CLI never writes');
  }
  out.push(result);
  return { text: `${out.join('\n')}\n`, expected };
}

describe('behaviour of a long session (synthetic, real event shapes)', () => {
  it('counts hundreds of tool calls in a multi-MB stream exactly, in one pass', () => {
    const { text, expected } = largeStream(900, 8 * 1024);
    expect(text.length).toBeGreaterThan(7 * 1024 * 1024);
    const started = performance.now();
    const r = parseStreamJson(text);
    const ms = performance.now() - started;
    // The result event of the fixture reports no thinking count (the fake API has none): the estimate is 0 here.
    expect(r.behaviour).toEqual(expected);
    expect(r.toolCalls).toBe(900);
    expect(r.garbageLines).toBe(9);
    expect(expected.fileEdits).toBeGreaterThan(30);
    expect(expected.readsBeforeFirstEdit).toBeGreaterThan(150);
    expect(r.behaviour.toolCalls.other).toBeGreaterThan(100);
    expect(Object.keys(r.behaviour.toolCalls).every((k) => (TOOL_LABELS as readonly string[]).includes(k))).toBe(true);
    // A lines iterable (how a stored transcript is read back) gives the same.
    expect(extractBehaviour(text.split('\n'))).toEqual(expected);
    expect(ms).toBeLessThan(10_000);
  });
});

describe('Bash commands that only look at files', () => {
  it.each([
    'cat calc.py',
    'cd /app && grep -rn "def add" . | head -20',
    "sed -n '1,40p' src/a.py",
    'ls -la',
    'find . -name "*.py" -not -path "./.git/*"',
    'find . -name "*.py" -exec grep -l "add" {} \\;',
    'git show HEAD:calc.py',
    'git -C /app grep -n add',
    'rg -n "a|b" src 2>/dev/null',
    'wc -l src/*.py 2>&1',
    'echo ---; tail -n 50 log.txt',
    'grep foo < input.txt',
    'LC_ALL=C sort_key=1 grep -c x file',
    'ls | xargs grep -l add',
    '/usr/bin/head -5 a.py',
  ])('read: %s', (command) => expect(isReadCommand(command)).toBe(true));

  it.each([
    'python -m pytest -q',
    "sed -i 's/-/+/' calc.py",
    "sed -ni 's/x/y/p' calc.py",
    'cat > calc.py <<EOF\nx\nEOF',
    'cat a.py > b.py',
    'grep x a.py >> out.txt',
    'cat a.py | tee b.py',
    'find . -name "*.pyc" -delete',
    'find . -exec rm {} \\;',
    'git log --oneline | head -3',
    'git apply fix.patch',
    'cd /app',
    'echo hello',
    'ls &> out.txt',
    'cat a.py && python a.py',
    "awk -i inplace '{print}' a.txt",
  ])('not a read: %s', (command) => expect(isReadCommand(command)).toBe(false));

  it('quotes hide operators: a | inside a pattern does not split the command', () => {
    expect(isReadCommand('grep -E "foo|rm -rf" a.py')).toBe(true);
    expect(isReadCommand("grep 'a; python x' a.py")).toBe(true);
  });
});
