import { describe, expect, it } from 'vitest';
import { parseStreamJson } from '../../src/agent/stream.ts';

const init = { type: 'system', subtype: 'init', model: 'claude-opus-x', claude_code_version: '9.8.7' };
function assistant(id: string, content: unknown[], usage: Record<string, number>, extra: Record<string, unknown> = {}) {
  return { type: 'assistant', message: { id, model: 'claude-opus-x', role: 'assistant', content, usage }, parent_tool_use_id: null, ...extra };
}
const tool = (id: string, name: string) => ({ type: 'tool_use', id, name, input: {} });
const lines = (...evs: unknown[]) => evs.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));

describe('parseStreamJson', () => {
  it('never throws on empty or hopeless input', () => {
    for (const input of ['', '\n\n', 'not json at all\n{', '\u0000\u0001', '"a string"\n42\ntrue']) {
      const r = parseStreamJson(input);
      expect(r.outcome).toBe('agent_error');
      expect(r.errorSubtype).toBe('no_result');
      expect(r.cliVersion).toBeNull();
    }
    expect(parseStreamJson('x\n{\n"s"\n[]').garbageLines).toBe(4);
  });

  it('accepts one string with CRLF line ends, or an iterable whose items hold several lines', () => {
    const evs = lines(init, assistant('m1', [tool('t1', 'Bash')], { input_tokens: 5 }), {
      type: 'result',
      subtype: 'success',
      is_error: false,
      num_turns: 1,
    });
    const a = parseStreamJson(evs.join('\r\n'));
    const b = parseStreamJson([evs.slice(0, 2).join('\n'), evs[2]!]);
    for (const r of [a, b]) {
      expect(r).toMatchObject({ cliVersion: '9.8.7', outcome: 'completed', toolCalls: 1, garbageLines: 0, events: 3 });
    }
  });

  it('prefers the result totals over the assistant messages', () => {
    const r = parseStreamJson(
      lines(init, assistant('m1', [], { input_tokens: 1, output_tokens: 1 }), {
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 7,
        total_cost_usd: 1.25,
        duration_ms: 900,
        duration_api_ms: 400,
        usage: { input_tokens: 50, output_tokens: 60, cache_read_input_tokens: 70, cache_creation_input_tokens: 80 },
        result: 'ok',
      }),
    );
    expect(r).toMatchObject({
      turns: 7,
      costUsd: 1.25,
      durationMs: 900,
      durationApiMs: 400,
      inputTokens: 50,
      outputTokens: 60,
      cacheReadTokens: 70,
      cacheCreationTokens: 80,
      totalsFromResult: true,
      resultText: 'ok',
    });
  });

  it('sums modelUsage over every model when the result has it', () => {
    const r = parseStreamJson(
      lines({
        type: 'result',
        subtype: 'success',
        is_error: false,
        usage: { input_tokens: 1, output_tokens: 1 },
        modelUsage: {
          big: { inputTokens: 100, outputTokens: 10, cacheReadInputTokens: 5, cacheCreationInputTokens: 1 },
          small: { inputTokens: 20, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 3 },
        },
      }),
    );
    expect(r).toMatchObject({ inputTokens: 120, outputTokens: 12, cacheReadTokens: 5, cacheCreationTokens: 4 });
  });

  it('without a result: sums each message once (largest value per id), counts main-loop turns only', () => {
    const r = parseStreamJson(
      lines(
        init,
        assistant('m1', [{ type: 'text', text: 'hi' }], { input_tokens: 100, output_tokens: 1, cache_read_input_tokens: 10 }),
        assistant('m1', [tool('t1', 'Bash')], { input_tokens: 100, output_tokens: 30, cache_read_input_tokens: 10 }),
        assistant('m2', [tool('t2', 'Task')], { input_tokens: 200, output_tokens: 5 }),
        // A subagent's message: its tokens and tool calls count, it is not a turn of the main loop.
        assistant('s1', [tool('t3', 'Read')], { input_tokens: 50, output_tokens: 5 }, { parent_tool_use_id: 't2' }),
      ),
    );
    expect(r).toMatchObject({
      totalsFromResult: false,
      turns: 2,
      inputTokens: 350,
      outputTokens: 40,
      cacheReadTokens: 10,
      toolCalls: 3,
      toolCallsByName: { Bash: 1, Task: 1, Read: 1 },
      model: 'claude-opus-x',
    });
  });

  it('counts a tool_use block repeated under the same id once', () => {
    const r = parseStreamJson(
      lines(assistant('m1', [tool('t1', 'Edit')], { input_tokens: 1 }), assistant('m1', [tool('t1', 'Edit'), tool('t2', 'Edit')], { input_tokens: 1 })),
    );
    expect(r.toolCalls).toBe(2);
    expect(r.toolCallsByName).toEqual({ Edit: 2 });
  });

  it('maps every error subtype and keeps the error messages', () => {
    for (const subtype of ['error_max_turns', 'error_during_execution', 'error_max_budget_usd', 'error_something_new']) {
      const r = parseStreamJson(lines({ type: 'result', subtype, is_error: true, errors: ['first', 'second'] }));
      expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: subtype, isError: true, errorMessage: 'first; second' });
    }
    // A non-success subtype is an error even if is_error is missing.
    expect(parseStreamJson(lines({ type: 'result', subtype: 'error_during_execution' })).outcome).toBe('agent_error');
  });

  it('is_error on a success subtype: api_error with the status, else the terminal reason', () => {
    const api = parseStreamJson(
      lines(
        { type: 'assistant', message: { model: '<synthetic>', content: [{ type: 'text', text: 'API Error' }] }, is_api_error_message: true, api_error_status: 429, api_error_type: 'rate_limit_error' },
        { type: 'result', subtype: 'success', is_error: true, result: 'API Error: 429' },
      ),
    );
    // The status comes from the synthetic message when the result lacks it; the synthetic message is no turn.
    expect(api).toMatchObject({ errorSubtype: 'api_error', apiErrorStatus: 429, apiErrorType: 'rate_limit_error', errorMessage: 'API Error: 429', turns: 0 });
    const other = parseStreamJson(lines({ type: 'result', subtype: 'success', is_error: true, terminal_reason: 'auth_failed' }));
    expect(other).toMatchObject({ outcome: 'agent_error', errorSubtype: 'auth_failed' });
  });

  it('a successful result is completed even when an API error was retried earlier', () => {
    const r = parseStreamJson(
      lines(init, { type: 'system', subtype: 'api_retry', attempt: 1 }, { type: 'system', subtype: 'api_retry', attempt: 2 }, { type: 'result', subtype: 'success', is_error: false }),
    );
    expect(r).toMatchObject({ outcome: 'completed', apiRetries: 2, errorSubtype: null, apiErrorStatus: null });
  });

  it('ignores wrong-typed fields instead of throwing', () => {
    const r = parseStreamJson(
      lines(
        { type: 'system', subtype: 'init', model: 42, claude_code_version: null },
        { type: 'assistant', message: { id: 7, content: 'text', usage: { input_tokens: 'many' } } },
        { type: 'assistant', message: null },
        { type: 'result', subtype: 'success', is_error: false, num_turns: 'x', total_cost_usd: 'free', usage: 'none' },
      ),
    );
    expect(r).toMatchObject({ cliVersion: null, model: null, outcome: 'completed', costUsd: 0, inputTokens: 0, turns: 1 });
  });
});
