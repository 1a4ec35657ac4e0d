/**
 * runAgentInContainer's own logic on the in-memory runtime (no engine): the CLI's part is played by an exec handler
 * that prints transcripts captured from the real CLI (test/fixtures/agent/), and the patch extraction by one that
 * prints a diff. What the outcome, the patch, the transcript and the redaction become is decided here; the real CLI in
 * a real container stays under test in ./run-container.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claudeCode, installedBinaryPath, MAX_ARGV_PROMPT_BYTES } from '../../src/agent/claude-code.ts';
import { runAgentInContainer, type RunAgentOptions } from '../../src/agent/run.ts';
import { readTranscript } from '../../src/agent/transcript.ts';
import type { ExecContext, ExecReply } from '../../src/executor/memory.ts';
import { InfraError, KEEP_ALIVE, type ContainerHandle } from '../../src/executor/runtime.ts';
import { capturedEvents, capturedTranscript, RunnerMemoryRuntime } from '../helpers/memory-runner.ts';

const API_KEY = 'sk-ant-api03-MEMORY-SECRET-0123456789';
const IMAGE = 'agentdrift-test-agent:memory';
const BIN_DIR = '/opt/agentdrift/bin';
const VOLUME = `agentdrift-test-agent-claude-${claudeCode.version()}`;
const BASE = '0123456789abcdef0123456789abcdef01234567';
const transcriptDir = mkdtempSync(join(tmpdir(), 'agentdrift-agent-memory-'));

afterAll(() => rmSync(transcriptDir, { recursive: true, force: true }));

const DIFF = ['diff --git a/calc/bounds.py b/calc/bounds.py', '--- a/calc/bounds.py', '+++ b/calc/bounds.py', '@@ -1 +1 @@', '-old', '+new', ''].join('\n');
const BINARY = [
  'diff --git a/logo.png b/logo.png',
  'new file mode 100644',
  'index 0000000..1111111',
  'GIT binary patch',
  'literal 4',
  'zcmZ?wbhPkY',
  '',
  '',
].join('\n');

interface Cli {
  /** What the CLI prints, in chunks as it writes them. */
  stdout: string[];
  stderr?: string;
  exitCode?: number;
  hang?: boolean;
  patch?: string;
  patchFails?: string;
}

/** A started task container with the tool volume, whose CLI and patch extraction behave as `cli` says. */
async function container(
  cli: Cli,
): Promise<{ runtime: RunnerMemoryRuntime; c: ContainerHandle; seen: { argv: readonly string[]; env: Record<string, string>; stdin: string }[] }> {
  const runtime = new RunnerMemoryRuntime().addImage(IMAGE, { '/app/README.md': '# repo\n' });
  await runtime.ensureToolVolume(
    VOLUME,
    { claude: { sourcePath: installedBinaryPath(), mode: 0o755 } },
    { helperImage: IMAGE, contentKey: claudeCode.version() },
  );
  const seen: { argv: readonly string[]; env: Record<string, string>; stdin: string }[] = [];
  runtime.onExec(async (ctx: ExecContext): Promise<ExecReply | undefined> => {
    if (ctx.cmd[0] === '/bin/sh' && ctx.cmd[3] === 'agentdrift-patch') {
      if (cli.patchFails !== undefined) return { exitCode: 128, stderr: cli.patchFails };
      return { exitCode: 0, stdout: ctx.cmd[4] === BASE ? (cli.patch ?? '') : '' };
    }
    if (ctx.cmd[0] !== `${BIN_DIR}/claude` || !ctx.exists(ctx.cmd[0])) return undefined;
    seen.push({ argv: ctx.cmd, env: { ...ctx.env }, stdin: ctx.stdin.toString('utf8') });
    for (const chunk of cli.stdout) {
      ctx.stdout(chunk);
      await new Promise((r) => setImmediate(r));
    }
    if (cli.stderr) ctx.stderr(cli.stderr);
    if (cli.hang) await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
    return { exitCode: cli.exitCode ?? 0 };
  });
  const c = await runtime.createContainer({ image: IMAGE, entrypoint: KEEP_ALIVE, mounts: [{ volume: VOLUME, target: BIN_DIR, readOnly: true }] });
  await runtime.start(c);
  return { runtime, c, seen };
}

let n = 0;
function options(extra: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    prompt: 'Fix the bug.',
    model: 'claude-sonnet-4-5',
    maxTurns: 10,
    maxBudgetUsd: 5,
    credentials: { apiKey: API_KEY },
    baseUrl: 'http://127.0.0.1:9',
    binary: `${BIN_DIR}/claude`,
    baseCommit: BASE,
    timeoutMs: 60_000,
    transcriptDir,
    transcriptName: `attempt-${++n}`,
    ...extra,
  };
}

/** Splits text into chunks of `size` bytes (lines cut in the middle, as pipes deliver them). */
const chunks = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

describe('runAgentInContainer on the memory runtime', () => {
  it('a completed fix: the result from the stream, the transcript stored whole, the patch without its binary hunks', async () => {
    const text = capturedTranscript('fix-success');
    const { runtime, c, seen } = await container({ stdout: chunks(text, 1000), patch: DIFF + BINARY });
    const run = await runAgentInContainer(runtime, c, claudeCode, options());
    expect(run.result).toMatchObject({
      outcome: 'completed',
      turns: 5,
      toolCalls: 4,
      inputTokens: 7000,
      outputTokens: 192,
      costUsd: 0.02889,
      cliVersion: '2.1.330',
    });
    expect(run).toMatchObject({
      timedOut: false,
      aborted: false,
      exitCode: 0,
      patch: DIFF,
      patchBytes: Buffer.byteLength(DIFF),
      droppedBinaryFiles: ['logo.png'],
      patchError: null,
    });
    expect(await readTranscript(run.transcriptPath)).toBe(text);
    // The CLI runs with the invocation's env and an stdin that ends (empty: the prompt is in argv).
    expect(seen[0]!.argv.slice(0, 3)).toEqual([`${BIN_DIR}/claude`, '-p', 'Fix the bug.']);
    expect(seen[0]!.env).toMatchObject({ ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', IS_SANDBOX: '1' });
    expect(seen[0]!.stdin).toBe('');
  });

  it("an API error ends as agent_error from the CLI's own account, and the patch is still taken", async () => {
    const { runtime, c } = await container({ stdout: [capturedTranscript('api-529')], exitCode: 1 });
    const run = await runAgentInContainer(runtime, c, claudeCode, options());
    expect(run.result).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 529 });
    expect(run).toMatchObject({ exitCode: 1, patch: '', patchBytes: 0, patchError: null });
  });

  it('past its time limit: timed out, the container killed, no patch taken, what it printed kept', async () => {
    const text = capturedTranscript('killed-mid-run');
    const { runtime, c } = await container({ stdout: [text], hang: true, patch: DIFF });
    const run = await runAgentInContainer(runtime, c, claudeCode, options({ timeoutMs: 100 }));
    expect(run).toMatchObject({
      timedOut: true,
      aborted: false,
      exitCode: null,
      patch: null,
      patchBytes: null,
      patchError: 'agent timed out; container killed',
    });
    expect(run.result).toMatchObject({ outcome: 'timeout', errorSubtype: 'timeout', isError: true, turns: 2, toolCalls: 2 });
    expect(run.durationMs).toBeGreaterThanOrEqual(100);
    expect(await readTranscript(run.transcriptPath)).toBe(text);
    expect(await runtime.inspect(c)).toMatchObject({ running: false, exitCode: 137 });
  });

  it('aborted (daemon shutdown): the container killed, no patch, aborted said', async () => {
    const abort = new AbortController();
    const { runtime, c } = await container({ stdout: [capturedTranscript('killed-no-result')], hang: true });
    setTimeout(() => abort.abort(), 20);
    const run = await runAgentInContainer(runtime, c, claudeCode, options({ signal: abort.signal }));
    expect(run).toMatchObject({ timedOut: false, aborted: true, patch: null, patchError: 'aborted; container killed' });
    expect(run.result.outcome).toBe('agent_error');
  });

  it('a CLI that cannot start is an infrastructure error naming what it said, not an agent error', async () => {
    const { runtime, c } = await container({ stdout: [] });
    const err = await runAgentInContainer(runtime, c, claudeCode, options({ binary: `${BIN_DIR}/missing-claude` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).reason).toBe('exec_failed');
    expect((err as Error).message).toBe(`claude-code did not start (exit 127): exec: "${BIN_DIR}/missing-claude": executable file not found in $PATH`);
  });

  it('a key the agent prints is redacted in the transcript, the live lines, the parsed texts, stderr and the patch', async () => {
    const ev = capturedEvents('fix-success');
    const leak = structuredClone(ev[3]) as { message: { content: { content: string }[] } };
    leak.message.content[0]!.content = `key=${API_KEY}`;
    const result = { ...ev.at(-1), result: `I saw ${API_KEY}` };
    const text = `${[...ev.slice(0, 3), leak, ...ev.slice(4, -1), result].map((e) => JSON.stringify(e)).join('\n')}\n`;
    const patch = `${DIFF}diff --git a/leak.txt b/leak.txt\nnew file mode 100644\n--- /dev/null\n+++ b/leak.txt\n@@ -0,0 +1 @@\n+${API_KEY}\n`;
    // Chunks cut lines (and the key) in the middle: the live lines are whole and redacted all the same.
    const { runtime, c } = await container({ stdout: chunks(text, 7), stderr: `debug: using ${API_KEY}\n`, patch });
    const live: string[] = [];
    const run = await runAgentInContainer(runtime, c, claudeCode, options({ onLine: (l) => live.push(l) }));
    const stored = await readTranscript(run.transcriptPath);
    expect(stored).not.toContain(API_KEY);
    expect(stored).toContain('key=[REDACTED]');
    expect(run.result.resultText).toBe('I saw [REDACTED]');
    expect(JSON.stringify(run.result)).not.toContain(API_KEY);
    expect(run.patch).toContain('+++ b/leak.txt\n@@ -0,0 +1 @@\n+[REDACTED]\n');
    expect(run.stderrTail).toBe('debug: using [REDACTED]\n');
    expect(live).toEqual(stored.split('\n').filter((l) => l !== ''));
  });

  it("a prompt too long for one argv entry goes to the CLI's stdin", async () => {
    const prompt = `Fix it.\n${'x'.repeat(MAX_ARGV_PROMPT_BYTES)}`;
    const { runtime, c, seen } = await container({ stdout: [capturedTranscript('fix-success')] });
    await runAgentInContainer(runtime, c, claudeCode, options({ prompt }));
    expect(seen[0]!.argv).not.toContain(prompt);
    expect(seen[0]!.argv[2]).toBe('--output-format');
    expect(seen[0]!.stdin).toBe(prompt);
  });

  it('a patch that cannot be extracted leaves no patch and says why, redacted', async () => {
    const { runtime, c } = await container({ stdout: [capturedTranscript('fix-success')], patchFails: `fatal: not a git repository (${API_KEY})\n` });
    const run = await runAgentInContainer(runtime, c, claudeCode, options());
    expect(run).toMatchObject({ patch: null, patchBytes: null, patchError: 'patch extraction failed (exit 128): fatal: not a git repository ([REDACTED])' });
    expect(run.result.outcome).toBe('completed');
  });
});
