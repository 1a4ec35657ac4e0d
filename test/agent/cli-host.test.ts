/**
 * The real Claude Code binary, run on the host against the fake Anthropic API in a temporary git repository: proves
 * the fake API, the argv/env of claude-code.ts, the stream parser and the patch command together, without Docker.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeCode } from '../../src/agent/claude-code.ts';
import { buildPatchCommand } from '../../src/agent/patch.ts';
import { stripBinaryHunks } from '../../src/domain/patch.ts';
import { buildPrompt } from '../../src/agent/prompt.ts';
import { readTranscript, storeTranscript } from '../../src/agent/transcript.ts';
import { bash, reply, userText } from '../helpers/fake-anthropic.ts';
import { runClaudeOnHost, TEST_API_KEY, type HostRun } from './host-cli.ts';
import { FIX_TOTALS, fixScript, FIXED_CALC, hangScript, internalErrorScript, loopScript, NEW_TEST, overloadedScript } from './scenarios.ts';

const runs: HostRun[] = [];
afterEach(async () => {
  for (const r of runs.splice(0)) await r.cleanup();
});
async function run(opts: Parameters<typeof runClaudeOnHost>[0]): Promise<HostRun> {
  const r = await runClaudeOnHost(opts);
  runs.push(r);
  return r;
}

describe('real Claude Code CLI against the fake API (host)', { timeout: 60_000 }, () => {
  it('a scripted fix edits the repository; the transcript gives turns, tool calls, tokens and cost; the patch has both files', async () => {
    const prompt = buildPrompt({ problemStatement: 'add() subtracts.', requirements: '- add must add', interface: 'No new interfaces are introduced' });
    let firstPrompt = '';
    const r = await run({
      prompt,
      script: (dir) => {
        const [first, ...rest] = fixScript(dir);
        return [
          (req) => {
            firstPrompt = userText(req.body);
            return typeof first === 'function' ? first(req) : first!;
          },
          ...rest,
        ];
      },
    });
    expect(r.exitCode).toBe(0);
    expect(firstPrompt).toContain(prompt); // the official prompt reaches the model verbatim
    expect(readFileSync(`${r.repoDir}/calc.py`, 'utf8')).toBe(FIXED_CALC);
    expect(readFileSync(`${r.repoDir}/test_calc.py`, 'utf8')).toBe(NEW_TEST);
    // The credentials reached the API, and only the main loop advanced the script.
    expect(r.fake.mainRequests().every((q) => q.headers['x-api-key'] === TEST_API_KEY)).toBe(true);
    expect(r.fake.consumed()).toBe(5);
    expect(r.fake.unscripted()).toBe(0);

    const result = claudeCode.parseTranscript(r.stdout);
    expect(result).toMatchObject({
      cliVersion: claudeCode.version(),
      model: 'claude-sonnet-4-5',
      outcome: 'completed',
      turns: FIX_TOTALS.turns,
      toolCalls: FIX_TOTALS.toolCalls,
      toolCallsByName: FIX_TOTALS.toolCallsByName,
      inputTokens: FIX_TOTALS.inputTokens,
      outputTokens: FIX_TOTALS.outputTokens,
      cacheReadTokens: FIX_TOTALS.cacheReadTokens,
      cacheCreationTokens: FIX_TOTALS.cacheCreationTokens,
      garbageLines: 0,
    });
    expect(result.costUsd).toBeGreaterThan(0);

    const base = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: r.repoDir, encoding: 'utf8' }).stdout.trim();
    const [cmd, ...args] = buildPatchCommand(base, r.repoDir);
    const patch = stripBinaryHunks(spawnSync(cmd!, args, { encoding: 'utf8' }).stdout);
    expect(patch).toContain('+    return a + b');
    expect(patch).toContain('+++ b/test_calc.py');
  });

  it('the API answering 529 ends the run as agent_error (api_error 529)', async () => {
    const r = await run({ script: overloadedScript });
    expect(r.exitCode).not.toBe(0);
    expect(claudeCode.parseTranscript(r.stdout)).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 529 });
  });

  it('the API answering 500 ends the run as agent_error (api_error 500)', async () => {
    const r = await run({ script: internalErrorScript });
    expect(claudeCode.parseTranscript(r.stdout)).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 500 });
  });

  it('--max-turns ends an endless tool loop with error_max_turns', async () => {
    const r = await run({ script: () => loopScript(10), maxTurns: 3 });
    const result = claudeCode.parseTranscript(r.stdout);
    expect(result).toMatchObject({ outcome: 'agent_error', errorSubtype: 'error_max_turns' });
    expect(result.toolCalls).toBe(3);
  });

  it('a hanging API is cut by the runner timeout: no result event, agent_error/no_result', async () => {
    const r = await run({ script: hangScript, timeoutMs: 4000 });
    expect(r.timedOut).toBe(true);
    expect(claudeCode.parseTranscript(r.stdout)).toMatchObject({ outcome: 'agent_error', errorSubtype: 'no_result', cliVersion: claudeCode.version() });
  });

  it('an agent that prints its API key leaks it into stdout, but never into the stored transcript', async () => {
    const r = await run({ script: () => [reply([bash('echo "key=$ANTHROPIC_API_KEY"', 'Print the key')]), reply('printed')] });
    expect(r.stdout).toContain(TEST_API_KEY); // the leak is real, so the redaction below is tested
    const stored = await storeTranscript(r.homeDir, 'leak', r.stdout, r.invocation.redact);
    const text = await readTranscript(stored.path);
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).toContain('key=[REDACTED]');
    expect(claudeCode.parseTranscript(text).outcome).toBe('completed');
    rmSync(stored.path);
  });
});
