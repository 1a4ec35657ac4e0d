/**
 * The scripted agent of the end-to-end tests (as in test/runner/run.test.ts): for each attempt the fake Anthropic API
 * has the real Claude Code CLI apply the task's gold patch with one Bash call, then say it is done.
 */
import { bash, reply, type RecordedRequest, type StaticTurn } from '../helpers/fake-anthropic.ts';
import type { FixtureTask } from '../helpers/images.ts';

export function taskOf(tasks: readonly FixtureTask[], req: RecordedRequest): FixtureTask {
  const first = JSON.stringify(req.body?.messages?.[0]?.content ?? '');
  const task = tasks.find((x) => first.includes(JSON.stringify(x.problemStatement.slice(0, 60)).slice(1, -1)));
  if (!task) throw new Error('the fake API got a prompt of no fixture task');
  return task;
}

/** Whether the conversation already holds a tool result (the CLI may append system notes after it). */
export function afterToolResult(req: RecordedRequest): boolean {
  return (req.body?.messages ?? []).some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'tool_result'));
}

export const applyGold = (task: FixtureTask) => `cd /app && git apply <<'AGENTDRIFT_PATCH'\n${task.goldPatch}\nAGENTDRIFT_PATCH`;

/** Enough turns for `attempts` attempts that each fix their task. */
export function fixingAgent(tasks: readonly FixtureTask[], attempts = 100): ((req: RecordedRequest) => StaticTurn)[] {
  const turn = (req: RecordedRequest): StaticTurn =>
    afterToolResult(req)
      ? reply('Done.', { input_tokens: 2000, output_tokens: 10, cache_read_input_tokens: 1500 })
      : reply([bash(applyGold(taskOf(tasks, req)), 'Apply the change')], { input_tokens: 1000, output_tokens: 200, cache_creation_input_tokens: 1500 });
  return Array.from({ length: attempts * 2 }, () => turn);
}
