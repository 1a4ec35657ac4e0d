/**
 * An attempt's behaviour as the runner stores it, nothing mocked: the real Docker Engine, a fixture task image, the
 * real Claude Code CLI in the task container scripted by the fake Anthropic API on 127.0.0.1, grading in a fresh
 * container. The scripted agent thinks, reads three files (the Read tool, `cat`, `grep`) before it rewrites the
 * buggy file with Write, runs the tests (not a read), and meets one 529 that the CLI retries; the stored row says so,
 * and its patch size is git's own count of the stored patch.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readStoredPatch } from '../../src/agent/index.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { DockerRuntime } from '../../src/executor/index.ts';
import { LABEL_MANAGED } from '../../src/executor/runtime.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { bash, overloaded, reply, startFakeAnthropic, thinking, toolUse, write, type FakeAnthropic, type Turn } from '../helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureConfig, writeFixtureDataset, type FixtureImages } from '../helpers/images.ts';

const API_KEY = 'sk-ant-test-secret-behaviour-0123456789';
const runtime = new DockerRuntime();
const SOLUTION = readFileSync(path.join(import.meta.dirname, '../fixtures/tasks/calc-median/solution/calc/stats.py'), 'utf8');
const THOUGHT = 'median() must average the two middle values for an even length; read stats.py and its tests first.';

let images: FixtureImages;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;
let fake: FakeAnthropic | null = null;

beforeAll(async () => {
  images = await ensureFixtureImages();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-behaviour-run-'), images.tasks));
}, 900_000);

afterEach(async () => {
  t?.cleanup();
  t = null;
  await fake?.close();
  fake = null;
});

afterAll(async () => {
  await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', 'agentdrift.track': 'bx' });
});

function script(): Turn[] {
  return [
    overloaded(1),
    reply([thinking(THOUGHT), 'Reading the module.', toolUse('Read', { file_path: '/app/calc/stats.py' })], { input_tokens: 1000, output_tokens: 90 }),
    reply([bash('cat /app/tests/test_stats.py', 'Show the tests')], { input_tokens: 1100, output_tokens: 20 }),
    reply([bash('cd /app && grep -rn "def median" calc | head -5', 'Find median')], { input_tokens: 1200, output_tokens: 20 }),
    reply([write('/app/calc/stats.py', SOLUTION)], { input_tokens: 1300, output_tokens: 300 }),
    reply([bash('cd /app && python -m pytest -q tests/test_stats.py || true', 'Run the tests')], { input_tokens: 1400, output_tokens: 20 }),
    reply('Fixed median for even lengths.', { input_tokens: 1500, output_tokens: 10 }),
  ];
}

describe('the behaviour of a real attempt', { timeout: 300_000 }, () => {
  it('is stored with the attempt: tools by name, reads before the first edit, thinking, the retry, the patch size', async () => {
    const task = images.tasks.find((x) => x.name === 'calc-median')!;
    fake = await startFakeAnthropic(script());
    t = makeContext(
      fixtureConfig({
        apiUrl: fake.url,
        datasetPath,
        harnessPath,
        ids: [task.instanceId],
        docker: { infraRetries: 0, gradingTimeoutSeconds: 120 },
        track: { name: 'bx', model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 120, maxTurns: 20, maxBudgetUsd: 5 }, agentEnv: { CLAUDE_CODE_MAX_RETRIES: '1' } },
      }),
      { ANTHROPIC_API_KEY: API_KEY },
    );
    const r = await executeRun(t.ctx, runtime, 'bx', { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 1, outcomes: { resolved: 1 } });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a!.toolCalls).toBe(5);
    expect(a!.behaviour).toMatchObject({
      toolCalls: { Read: 1, Bash: 3, Write: 1 },
      fileReads: 3,
      readsBeforeFirstEdit: 3,
      fileEdits: 1,
      thinkingBlocks: 1,
      thinkingChars: THOUGHT.length,
      apiRetries: 1,
      apiErrors: 0,
      patchFiles: 1,
    });
    expect(a!.behaviour!.thinkingTokens).toBeGreaterThan(0);
    // The patch size is git's count of the patch the runner kept and graded.
    const patch = (await readStoredPatch(a!.patchPath!)).toString('utf8');
    const numstat = spawnSync('git', ['apply', '--numstat', '-'], { input: patch, encoding: 'utf8' }).stdout.trim().split('\t');
    expect([a!.behaviour!.patchLinesAdded, a!.behaviour!.patchLinesRemoved]).toEqual([Number(numstat[0]), Number(numstat[1])]);
    expect(a!.behaviour!.patchLinesAdded).toBeGreaterThan(0);
    // The column holds the compact JSON, without secrets; the figures read it back.
    const raw = t.ctx.store.db.prepare('SELECT behaviour FROM attempts WHERE id = ?').get(a!.id) as { behaviour: string };
    expect(JSON.parse(raw.behaviour)).toEqual(a!.behaviour);
    expect(raw.behaviour).not.toContain(API_KEY);
    const w = t.ctx.figures.snapshot('bx').behaviour.find((x) => x.window === '1d')!;
    expect(w).toMatchObject({ attempts: 1, means: { reads_before_first_edit: 3, api_error_turns: 1, patch_files: 1 } });
  });
});
