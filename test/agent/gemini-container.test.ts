/**
 * The real Gemini CLI (the pinned package's bundle, run by the daemon's node from a read-only tool volume) inside a
 * real fixture task container, scripted by the fake Gemini API on 127.0.0.1 through host networking.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geminiCli, geminiContentKey, geminiInstalledVersion, geminiToolVolumeFiles } from '../../src/agent/gemini-cli.ts';
import { buildPrompt } from '../../src/agent/prompt.ts';
import { runAgentInContainer, type RunAgentOptions } from '../../src/agent/run.ts';
import type { Agent } from '../../src/agent/types.ts';
import { KEEP_ALIVE, LABEL_ROLE, type ContainerHandle } from '../../src/executor/runtime.ts';
import type { DockerRuntime } from '../../src/executor/docker/index.ts';
import { dockerRuntime, removeLabelled, testLabels } from '../helpers/docker.ts';
import { apiError, functionResponses, hang, replace, reply, shell, startFakeGemini, userText, type FakeGemini, type GeminiTurn } from '../helpers/fake-gemini.ts';
import { ensureFixtureImages, fixtureTask, type FixtureTask } from '../helpers/images.ts';

const API_KEY = 'AIzaSy-GEMINI-CONTAINER-SECRET-0123456789';
const BIN_DIR = '/opt/agentdrift/bin';
const VOLUME = `agentdrift-test-agent-gemini-${geminiInstalledVersion()}`;
const agent = geminiCli as unknown as Agent;

let runtime: DockerRuntime;
let task: FixtureTask;
const labels = testLabels('agent-gemini');
const transcriptDir = mkdtempSync(join(tmpdir(), 'agentdrift-gemini-transcripts-'));
const fakes: FakeGemini[] = [];
const containers: ContainerHandle[] = [];

beforeAll(async () => {
  runtime = dockerRuntime();
  const images = await ensureFixtureImages();
  task = fixtureTask(images, 'calc-clamp');
  await runtime.ensureToolVolume(VOLUME, geminiToolVolumeFiles(), { helperImage: images.base, contentKey: geminiContentKey() });
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

async function fake(script: GeminiTurn[]): Promise<FakeGemini> {
  const f = await startFakeGemini(script);
  fakes.push(f);
  return f;
}

function options(f: FakeGemini, over: Partial<RunAgentOptions> = {}): RunAgentOptions {
  return {
    prompt: buildPrompt(task),
    model: 'gemini-2.5-pro',
    maxTurns: 30,
    maxBudgetUsd: 5,
    credentials: { apiKey: API_KEY },
    baseUrl: f.url,
    baseCommit: task.baseCommit,
    timeoutMs: 90_000,
    transcriptDir,
    transcriptName: `gemini-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    ...over,
  };
}

const BUG = '    if value > high:\n        return low';
const FIX = '    if value > high:\n        return high';

describe('the real Gemini CLI in a task container', { timeout: 120_000 }, () => {
  it('a scripted fix: completed, tokens by type, turns, tool calls, and the patch; the key is in no transcript', async () => {
    let firstPrompt = '';
    const f = await fake([
      (req) => {
        firstPrompt = userText(req.body);
        return reply(['Reading the code.', shell('cat calc/bounds.py')], { promptTokenCount: 2000, candidatesTokenCount: 40, thoughtsTokenCount: 25 });
      },
      reply([replace('/app/calc/bounds.py', BUG, FIX)], { promptTokenCount: 2100, candidatesTokenCount: 60, cachedContentTokenCount: 1500 }),
      reply([shell('python3 -c "from calc.bounds import clamp; print(clamp(42, 0, 10))"; echo "k=$GEMINI_API_KEY"')], {
        promptTokenCount: 2300,
        candidatesTokenCount: 35,
        cachedContentTokenCount: 1700,
      }),
      reply('clamp now returns the upper bound.', { promptTokenCount: 2400, candidatesTokenCount: 10, cachedContentTokenCount: 1800 }),
    ]);
    const run = await runAgentInContainer(runtime, await startContainer(), agent, options(f));
    expect(firstPrompt).toContain(buildPrompt(task));
    expect(f.mainRequests().every((r) => r.headers['x-goog-api-key'] === API_KEY)).toBe(true);
    expect(run.exitCode).toBe(0);
    expect(run.result).toMatchObject({
      cliVersion: geminiInstalledVersion(),
      model: 'gemini-2.5-pro',
      outcome: 'completed',
      errorSubtype: null,
      turns: 4,
      toolCalls: 3,
      toolCallsByName: { run_shell_command: 2, replace: 1 },
      inputTokens: 2000 + 2100 + 2300 + 2400 - (1500 + 1700 + 1800),
      cacheReadTokens: 1500 + 1700 + 1800,
      outputTokens: 40 + 60 + 35 + 10,
      thoughtsTokens: 25,
      resultText: 'clamp now returns the upper bound.',
    });
    expect(run.result.durationMs).toBeGreaterThan(0);
    // The shell tool really ran in the container, on the edited file.
    const out = JSON.stringify(functionResponses(f.mainRequests()[3]!.body));
    expect(out).toContain('10');
    expect(run.patch).toContain('-        return low');
    expect(run.patch).toContain('+        return high');
    const transcript = gunzipSync(readFileSync(run.transcriptPath)).toString('utf8');
    expect(transcript).toContain('k=[REDACTED]');
    expect(transcript).not.toContain(API_KEY);
    expect(run.stderrTail).not.toContain(API_KEY);
  });

  it('a wrong fix: completed with a patch that does not fix the bug', async () => {
    const f = await fake([
      reply([replace('/app/calc/bounds.py', BUG, '    if value > high:\n        return value')]),
      reply('Done.'),
    ]);
    const run = await runAgentInContainer(runtime, await startContainer(), agent, options(f));
    expect(run.result.outcome).toBe('completed');
    expect(run.patch).toContain('+        return value');
    expect(run.patch).not.toContain('+        return high');
  });

  it('an API error that ends the run is an agent_error naming the status and the reason', async () => {
    const f = await fake([reply([shell('ls')]), apiError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', Infinity)]);
    const run = await runAgentInContainer(runtime, await startContainer(), agent, options(f));
    expect(run.result).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 400, apiErrorType: 'INVALID_ARGUMENT', toolCalls: 1 });
    expect(run.result.errorMessage).toContain('API key not valid');
    expect(run.timedOut).toBe(false);
  });

  it('a hanging API with a short timeout: timed out, container killed, no patch', async () => {
    const f = await fake([reply([shell('touch /app/started.txt')]), hang()]);
    const run = await runAgentInContainer(runtime, await startContainer(), agent, options(f, { timeoutMs: 8000 }));
    expect(run.timedOut).toBe(true);
    expect(run.result).toMatchObject({ outcome: 'timeout', errorSubtype: 'timeout', toolCalls: 1 });
    expect(run.patch).toBeNull();
  });
});
