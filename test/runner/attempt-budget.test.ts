/**
 * The per-attempt budget reaches the agent: `budget.perAttemptUsd` caps `--max-budget-usd` of the Claude Code command
 * an attempt runs (with `limits.maxBudgetUsd`, the smaller of the two wins). The container runtime is the in-memory one
 * with nothing to run commands: each is recorded and fails as a program not found does (exit 127); the invocation is
 * built by the real agent code.
 */
import { trackNamed } from '../../src/config/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeCode } from '../../src/agent/index.ts';
import { imageReference, loadDataset } from '../../src/dataset/index.ts';
import { runAttempt } from '../../src/core/runner/attempt.ts';
import { HARNESS_CLONE, PY_ID, TASKS_JSONL } from '../dataset/helpers.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { RunnerMemoryRuntime } from '../helpers/memory-runner.ts';

let t: TestContext | null = null;

afterEach(() => {
  t?.cleanup();
  t = null;
});

/** The value of `--max-budget-usd` in the agent command the attempt ran. */
async function budgetArgument(track: Record<string, unknown>): Promise<string> {
  t = makeContext({ tracks: [{ name: 'b', ...track }], docker: { infraRetries: 0 } }, { ANTHROPIC_API_KEY: 'sk-ant-test-0123456789' });
  const { tasks } = await loadDataset({ kind: 'file', path: TASKS_JSONL }, t.ctx.config.dataDir);
  const task = tasks.find((x) => x.instanceId === PY_ID)!;
  const runtime = new RunnerMemoryRuntime().addImage(imageReference(task.imageTag, t.ctx.config.docker.imageRepository));
  const execs: string[][] = [];
  // Records every command and leaves it to the runtime, which has no handler to run it.
  runtime.onExec((ctx) => void execs.push([...ctx.cmd]));
  const out = await runAttempt(
    { runtime, agent: claudeCode, config: t.ctx.config, credentials: { apiKey: 'sk-ant-test-0123456789' }, log: t.ctx.log },
    { track: trackNamed(t.ctx.config, 'b'), runId: 1, task, sample: 0, harness: { kind: 'local', path: HARNESS_CLONE }, oracle: false },
  );
  // The stand-in CLI never starts: an infrastructure failure, after the one agent command.
  expect(out.attempt.outcome).toBe('infra_error');
  const agent = execs.filter((argv) => argv.includes('--max-budget-usd'));
  expect(agent).toHaveLength(1);
  const argv = agent[0]!;
  expect(argv[0]).toBe('/opt/agentdrift/bin/claude');
  return argv[argv.indexOf('--max-budget-usd') + 1]!;
}

describe('the per-attempt budget', () => {
  it('is the agent\'s --max-budget-usd when it is below limits.maxBudgetUsd', async () => {
    expect(await budgetArgument({ limits: { maxBudgetUsd: 10 }, budget: { perAttemptUsd: 2.5 } })).toBe('2.5');
  });

  it('does not raise limits.maxBudgetUsd: the smaller of the two wins', async () => {
    expect(await budgetArgument({ limits: { maxBudgetUsd: 3 }, budget: { perAttemptUsd: 20 } })).toBe('3');
  });

  it('leaves limits.maxBudgetUsd in force when unset', async () => {
    expect(await budgetArgument({ limits: { maxBudgetUsd: 4 }, budget: { dailyUsd: 100 } })).toBe('4');
  });
});
