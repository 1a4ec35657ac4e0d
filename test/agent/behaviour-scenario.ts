/**
 * A scripted agent whose behaviour is known exactly (test/agent/behaviour*.test.ts and the fixture capture): one API
 * call retried (529), two thinking blocks, five file reads (Read, `ls`, a `grep | head` pipeline, the Grep tool, and a
 * Read after the edit) of which four come before the first edit, a Bash command that is not a read (`git log`), an
 * Edit and a Write, and a closing check. The CLI 2.1.x offers no Grep tool: it answers that call with an error, and
 * the call still counts (as a tool call and a read).
 */
import { bash, edit, overloaded, reply, thinking, toolUse, write, type Turn } from '../helpers/fake-anthropic.ts';
import { NEW_TEST } from './scenarios.ts';

export const THINKING = [
  'Before changing anything I should read calc.py and see which functions exist; the bug report says add() is wrong — maybe a sign error. 🔧 ✓',
  'The bug is the minus sign in add(): replace it with a plus, then add a test.',
] as const;

export function behaviourScript(repoDir: string): Turn[] {
  return [
    overloaded(1),
    reply([thinking(THINKING[0]), 'I will look around first.', toolUse('Read', { file_path: `${repoDir}/calc.py` })], { input_tokens: 1000, output_tokens: 80 }),
    reply([bash('ls -la', 'List files')], { input_tokens: 1100, output_tokens: 20 }),
    reply([bash('grep -n "def " calc.py | head -5', 'Find the functions')], { input_tokens: 1200, output_tokens: 20 }),
    reply([toolUse('Grep', { pattern: 'return', path: repoDir })], { input_tokens: 1300, output_tokens: 20 }),
    reply([bash('git log --oneline | head -3', 'Recent commits')], { input_tokens: 1400, output_tokens: 20 }),
    reply([thinking(THINKING[1]), edit(`${repoDir}/calc.py`, 'return a - b', 'return a + b')], { input_tokens: 1500, output_tokens: 60 }),
    reply([toolUse('Read', { file_path: `${repoDir}/calc.py` })], { input_tokens: 1600, output_tokens: 20 }),
    reply([write(`${repoDir}/test_calc.py`, NEW_TEST)], { input_tokens: 1700, output_tokens: 60 }),
    reply([bash('git status --short', 'Show changed files')], { input_tokens: 1800, output_tokens: 20 }),
    reply('Fixed `add` and added a test.', { input_tokens: 1900, output_tokens: 12 }),
  ];
}

/** Environment for the run: one retry, so the 529 is retried once and the script goes on. */
export const BEHAVIOUR_ENV = { CLAUDE_CODE_MAX_RETRIES: '1' };

/** What the extraction must find in the transcript of {@link behaviourScript} (thinking tokens are the CLI's estimate). */
export const BEHAVIOUR_EXPECTED = {
  toolCalls: { Read: 2, Bash: 4, Grep: 1, Edit: 1, Write: 1 },
  fileReads: 5,
  readsBeforeFirstEdit: 4,
  fileEdits: 2,
  thinkingBlocks: 2,
  thinkingChars: [...THINKING[0]].length + [...THINKING[1]].length,
  apiRetries: 1,
  apiErrors: 0,
};
