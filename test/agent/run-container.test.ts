/**
 * The real Claude Code CLI inside a real fixture task container (SWE-Bench-Pro layout, repository at /app), driven
 * by the fake Anthropic API on 127.0.0.1 through host networking; the binary comes from a read-only named volume.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeCode, installedBinaryPath } from '../../src/agent/claude-code.ts';
import { buildPrompt } from '../../src/agent/prompt.ts';
import { runAgentInContainer, type RunAgentOptions } from '../../src/agent/run.ts';
import { InfraError, KEEP_ALIVE, LABEL_ROLE, type ContainerHandle } from '../../src/executor/runtime.ts';
import type { DockerRuntime } from '../../src/executor/docker/index.ts';
import { dockerRuntime, inspectContainer, removeLabelled, testLabels } from '../helpers/docker.ts';
import { bash, edit, hang, internalError, overloaded, reply, startFakeAnthropic, toolResults, toolResultText, userText, write, type FakeAnthropic, type Turn } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureTask, type FixtureTask } from '../helpers/images.ts';

const API_KEY = 'sk-ant-api03-CONTAINER-SECRET-0123456789';
const BIN_DIR = '/opt/agentdrift/bin';
const VOLUME = `agentdrift-test-agent-claude-${claudeCode.version()}`;

let runtime: DockerRuntime;
let task: FixtureTask;
const labels = testLabels('agent-run');
const transcriptDir = mkdtempSync(join(tmpdir(), 'agentdrift-agent-transcripts-'));
const fakes: FakeAnthropic[] = [];
const containers: ContainerHandle[] = [];

beforeAll(async () => {
  runtime = dockerRuntime();
  const images = await ensureFixtureImages();
  task = fixtureTask(images, 'calc-clamp');
  await runtime.ensureToolVolume(
    VOLUME,
    { claude: { sourcePath: installedBinaryPath(), mode: 0o755 } },
    { helperImage: images.base, contentKey: `claude-code-${claudeCode.version()}` },
  );
}, 15 * 60_000);

afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
  for (const c of containers.splice(0)) await runtime.remove(c, { force: true });
});

afterAll(async () => {
  await removeLabelled(labels);
  rmSync(transcriptDir, { recursive: true, force: true });
});

async function startContainer(): Promise<ContainerHandle> {
  const c = await runtime.createContainer({
    image: task.image,
    labels: { ...labels, [LABEL_ROLE]: 'agent' },
    entrypoint: KEEP_ALIVE,
    networkMode: 'host',
    mounts: [{ volume: VOLUME, target: BIN_DIR, readOnly: true }],
  });
  containers.push(c);
  await runtime.start(c);
  return c;
}

async function fake(script: Turn[]): Promise<FakeAnthropic> {
  const f = await startFakeAnthropic(script);
  fakes.push(f);
  return f;
}

function options(f: FakeAnthropic, over: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    prompt: buildPrompt(task),
    model: 'claude-sonnet-4-5',
    maxTurns: 30,
    maxBudgetUsd: 5,
    credentials: { apiKey: API_KEY },
    baseUrl: f.url,
    binary: `${BIN_DIR}/claude`,
    extraEnv: { CLAUDE_CODE_MAX_RETRIES: '0' },
    baseCommit: task.baseCommit,
    timeoutMs: 90_000,
    transcriptDir,
    transcriptName: `attempt-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    ...over,
  };
}

const BUG = '    if value > high:\n        return low';
const FIX = '    if value > high:\n        return high';

describe('runAgentInContainer with the real CLI in a task container', { timeout: 120_000 }, () => {
  it('a scripted fix: completed, with tokens, turns, tool calls and cost, and a non-empty patch with the new file', async () => {
    let firstPrompt = '';
    const f = await fake([
      (req) => {
        firstPrompt = userText(req.body);
        return reply(['Reading the code.', bash('cat calc/bounds.py', 'Show bounds.py')], {
          input_tokens: 2000,
          output_tokens: 40,
          cache_creation_input_tokens: 1500,
        });
      },
      reply([edit('/app/calc/bounds.py', BUG, FIX)], { input_tokens: 2100, output_tokens: 60, cache_read_input_tokens: 1500 }),
      reply([write('/app/NOTES.md', 'clamp fixed\n')], { input_tokens: 2200, output_tokens: 30, cache_read_input_tokens: 1600 }),
      reply([bash('python3 -c "from calc.bounds import clamp; print(clamp(42, 0, 10))"', 'Check the fix')], {
        input_tokens: 2300,
        output_tokens: 35,
        cache_read_input_tokens: 1700,
      }),
      reply('clamp now returns the upper bound.', { input_tokens: 2400, output_tokens: 10, cache_read_input_tokens: 1800 }),
    ]);
    const c = await startContainer();
    const lines: string[] = [];
    const run = await runAgentInContainer(runtime, c, claudeCode, options(f, { onLine: (l) => lines.push(l) }));

    expect(firstPrompt).toContain(buildPrompt(task));
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(0);
    expect(run.result).toMatchObject({
      cliVersion: claudeCode.version(),
      model: 'claude-sonnet-4-5',
      outcome: 'completed',
      errorSubtype: null,
      turns: 5,
      toolCalls: 4,
      toolCallsByName: { Bash: 2, Edit: 1, Write: 1 },
      inputTokens: 2000 + 2100 + 2200 + 2300 + 2400,
      outputTokens: 40 + 60 + 30 + 35 + 10,
      cacheReadTokens: 1500 + 1600 + 1700 + 1800,
      cacheCreationTokens: 1500,
      resultText: 'clamp now returns the upper bound.',
    });
    expect(run.result.costUsd).toBeGreaterThan(0);
    expect(run.result.durationMs).toBeGreaterThan(0);
    expect(run.durationMs).toBeGreaterThanOrEqual(run.result.durationMs!);
    // The Bash tool really ran in the container, on the edited file.
    const check = f.mainRequests()[4]!;
    // (the CLI appends system reminders after the tool's output)
    expect(toolResults(check.body).map((p) => toolResultText(p).split('\n')[0])).toEqual(['10']);

    expect(run.patchError).toBeNull();
    expect(run.patch).toContain('-        return low');
    expect(run.patch).toContain('+        return high');
    expect(run.patch).toContain('+++ b/NOTES.md');
    expect(run.patchBytes).toBe(Buffer.byteLength(run.patch!));

    expect(existsSync(run.transcriptPath)).toBe(true);
    const transcript = gunzipSync(readFileSync(run.transcriptPath)).toString('utf8');
    expect(transcript.trim().split('\n').length).toBe(lines.filter((l) => l.trim() !== '').length);
    expect(JSON.parse(transcript.split('\n')[0]!)).toMatchObject({ type: 'system', subtype: 'init', cwd: '/app' });
    expect(transcript).not.toContain(API_KEY);
  });

  it('the API answering 529 is an agent_error (api_error 529), with an empty patch', async () => {
    const f = await fake([overloaded(Infinity)]);
    const run = await runAgentInContainer(runtime, await startContainer(), claudeCode, options(f));
    expect(run.result).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 529, apiErrorType: 'overloaded_error' });
    expect(run.timedOut).toBe(false);
    expect(run.patch).toBe('');
    expect(run.patchBytes).toBe(0);
  });

  it('the API answering 500 is an agent_error (api_error 500)', async () => {
    const f = await fake([reply([bash('ls', 'List')]), internalError(Infinity)]);
    const run = await runAgentInContainer(runtime, await startContainer(), claudeCode, options(f));
    expect(run.result).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 500, toolCalls: 1 });
  });

  it('a hanging API with a short timeout: timed out, container killed, no patch; removal leaves nothing', async () => {
    const f = await fake([reply([bash('touch /app/started.txt', 'Touch')]), hang()]);
    const c = await startContainer();
    const t0 = Date.now();
    const run = await runAgentInContainer(runtime, c, claudeCode, options(f, { timeoutMs: 6000 }));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(run.timedOut).toBe(true);
    expect(run.result).toMatchObject({ outcome: 'timeout', errorSubtype: 'timeout', toolCalls: 1, cliVersion: claudeCode.version() });
    expect(run.patch).toBeNull();
    expect(run.patchError).toMatch(/timed out/);
    expect(existsSync(run.transcriptPath)).toBe(true);
    const info = await inspectContainer(c.id);
    expect(info?.State.Running).toBe(false);
    await runtime.remove(c, { force: true });
    expect(await inspectContainer(c.id)).toBeNull();
  });

  it('a CLI that cannot start in the image is an infrastructure error, not an agent error', async () => {
    const f = await fake([]);
    const c = await startContainer();
    const err = await runAgentInContainer(runtime, c, claudeCode, options(f, { binary: `${BIN_DIR}/missing-claude` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).reason).toBe('exec_failed');
    expect(f.requests).toHaveLength(0);
  });

  it('a key the agent prints and writes to a file is redacted in the transcript, the parsed texts and the patch', async () => {
    const f = await fake([
      reply([bash('echo "key=$ANTHROPIC_API_KEY" && printf "%s\\n" "$ANTHROPIC_API_KEY" > /app/leak.txt', 'Leak')]),
      (req) => reply(`I saw ${JSON.stringify(req.body?.messages?.at(-1)).includes(API_KEY) ? API_KEY : 'nothing'}`),
    ]);
    const live: string[] = [];
    const run = await runAgentInContainer(runtime, await startContainer(), claudeCode, options(f, { onLine: (l) => live.push(l) }));
    // The leak is real (the model saw the key in the tool result), so the redaction is put to work.
    expect(JSON.stringify(f.mainRequests()[1]!.body)).toContain(API_KEY);
    const transcript = gunzipSync(readFileSync(run.transcriptPath)).toString('utf8');
    expect(transcript).not.toContain(API_KEY);
    expect(transcript).toContain('key=[REDACTED]');
    expect(run.result.resultText).toBe('I saw [REDACTED]');
    expect(JSON.stringify(run.result)).not.toContain(API_KEY);
    expect(run.patch).toContain('+++ b/leak.txt');
    expect(run.patch).not.toContain(API_KEY);
    expect(run.stderrTail).not.toContain(API_KEY);
    expect(live.some((l) => l.includes('key=[REDACTED]'))).toBe(true);
    expect(live.some((l) => l.includes(API_KEY))).toBe(false);
  });
});
