/**
 * The stream-json parser on transcripts captured from the real Claude Code CLI (test/fixtures/agent/capture.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStreamJson } from '../../src/agent/stream.ts';
import { FIX_TOTALS } from './scenarios.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../fixtures/agent', `${name}.jsonl`), 'utf8');

describe('parseStreamJson on real transcripts', () => {
  it('reads a successful fix: version, model, turns, per-tool calls, tokens incl. cache, cost, durations', () => {
    const r = parseStreamJson(fixture('fix-success'));
    expect(r).toMatchObject({
      cliVersion: '2.1.330',
      model: 'claude-sonnet-4-5',
      outcome: 'completed',
      errorSubtype: null,
      isError: false,
      turns: FIX_TOTALS.turns,
      toolCalls: FIX_TOTALS.toolCalls,
      toolCallsByName: FIX_TOTALS.toolCallsByName,
      inputTokens: FIX_TOTALS.inputTokens,
      outputTokens: FIX_TOTALS.outputTokens,
      cacheReadTokens: FIX_TOTALS.cacheReadTokens,
      cacheCreationTokens: FIX_TOTALS.cacheCreationTokens,
      resultText: 'Fixed `add` and added a test.',
      totalsFromResult: true,
      garbageLines: 0,
    });
    expect(r.costUsd).toBeGreaterThan(0);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.durationApiMs).toBeGreaterThanOrEqual(0);
    expect(r.durationApiMs!).toBeLessThanOrEqual(r.durationMs!);
  });

  it('classifies a 529 that outlived the retries as agent_error/api_error and counts the retry', () => {
    const r = parseStreamJson(fixture('api-529'));
    expect(r).toMatchObject({
      outcome: 'agent_error',
      errorSubtype: 'api_error',
      apiErrorStatus: 529,
      apiErrorType: 'overloaded_error',
      isError: true,
      apiRetries: 1,
      toolCalls: 0,
      inputTokens: 0,
      costUsd: 0,
    });
    expect(r.errorMessage).toMatch(/529/);
  });

  it('classifies a 500 as agent_error/api_error', () => {
    const r = parseStreamJson(fixture('api-500'));
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 500, apiErrorType: 'api_error' });
  });

  it('classifies --max-turns as error_max_turns with its message', () => {
    const r = parseStreamJson(fixture('max-turns'));
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'error_max_turns', apiErrorStatus: null, toolCalls: 2 });
    expect(r.toolCallsByName).toEqual({ Bash: 2 });
    expect(r.errorMessage).toMatch(/maximum number of turns/);
    expect(r.inputTokens).toBe(200);
  });

  it('classifies --max-budget-usd as error_max_budget_usd and keeps the tokens the budget stop zeroes in usage', () => {
    const r = parseStreamJson(fixture('max-budget'));
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'error_max_budget_usd' });
    // result.usage is all zeros here; modelUsage still has the one call that was paid for.
    expect(r.inputTokens).toBe(1200);
    expect(r.cacheCreationTokens).toBe(900);
    expect(r.costUsd).toBeGreaterThan(0.001);
  });

  it('a CLI killed before answering has no result: agent_error/no_result, version still known', () => {
    const r = parseStreamJson(fixture('killed-no-result'));
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'no_result', cliVersion: '2.1.330', turns: 0, toolCalls: 0, totalsFromResult: false });
  });

  it('a CLI killed mid-run: totals summed from assistant messages, one count per message id', () => {
    const r = parseStreamJson(fixture('killed-mid-run'));
    expect(r).toMatchObject({
      outcome: 'agent_error',
      errorSubtype: 'no_result',
      totalsFromResult: false,
      turns: 2,
      toolCalls: 2,
      toolCallsByName: { Bash: 1, Edit: 1 },
      // The first message arrived as two events (text, tool_use): counted once.
      inputTokens: 1200 + 1300,
      cacheCreationTokens: 900,
      cacheReadTokens: 900,
      costUsd: 0,
      durationMs: null,
    });
  });

  it('tolerates garbage lines mixed into a real transcript and reports how many', () => {
    const lines = fixture('fix-success').split('\n');
    const noisy = ['npm WARN something', ...lines.slice(0, 3), '{"truncated": ', '[1,2]', 'null', ...lines.slice(3)];
    const r = parseStreamJson(noisy);
    expect(r.garbageLines).toBe(4);
    expect(r.outcome).toBe('completed');
    expect(r.toolCalls).toBe(FIX_TOTALS.toolCalls);
  });
});
