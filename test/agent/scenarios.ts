/**
 * Scripts for the fake Anthropic API shared by the agent tests and the fixture capture: a tiny Python repository with
 * a bug (`add` subtracts), and the turns of an agent that fixes it, fails, or never answers.
 */
import { bash, edit, hang, internalError, overloaded, reply, write, type Turn } from '../helpers/fake-anthropic.ts';

export const BUGGY_CALC = 'def add(a, b):\n    return a - b\n';
export const FIXED_CALC = 'def add(a, b):\n    return a + b\n';
export const NEW_TEST = 'from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n';

/** Fixes calc.py with Edit, adds a test with Write, checks with Bash; usage numbers are distinctive on purpose. */
export function fixScript(repoDir: string): Turn[] {
  return [
    reply(['I will read the code first.', bash('cat calc.py', 'Show calc.py')], {
      input_tokens: 1200,
      output_tokens: 40,
      cache_creation_input_tokens: 900,
    }),
    reply([edit(`${repoDir}/calc.py`, 'return a - b', 'return a + b')], {
      input_tokens: 1300,
      output_tokens: 50,
      cache_read_input_tokens: 900,
    }),
    reply([write(`${repoDir}/test_calc.py`, NEW_TEST)], {
      input_tokens: 1400,
      output_tokens: 60,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 100,
    }),
    reply([bash('git status --short', 'Show changed files')], { input_tokens: 1500, output_tokens: 30, cache_read_input_tokens: 1100 }),
    reply('Fixed `add` and added a test.', { input_tokens: 1600, output_tokens: 12, cache_read_input_tokens: 1200 }),
  ];
}

/** Expected totals of {@link fixScript} as the CLI's result event reports them. */
export const FIX_TOTALS = {
  turns: 5,
  toolCalls: 4,
  toolCallsByName: { Bash: 2, Edit: 1, Write: 1 },
  inputTokens: 1200 + 1300 + 1400 + 1500 + 1600,
  outputTokens: 40 + 50 + 60 + 30 + 12,
  cacheReadTokens: 900 + 1000 + 1100 + 1200,
  cacheCreationTokens: 900 + 100,
};

/** Keeps calling a tool so that --max-turns ends the run. */
export function loopScript(n: number): Turn[] {
  return Array.from({ length: n }, () => reply([bash('ls', 'List files')], { input_tokens: 100, output_tokens: 20 }));
}

export const overloadedScript = (): Turn[] => [overloaded(Infinity)];
export const internalErrorScript = (): Turn[] => [internalError(Infinity)];
export const hangScript = (): Turn[] => [hang()];
