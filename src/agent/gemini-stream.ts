/**
 * Pure parser of the Gemini CLI's `--output-format stream-json` output (JSON lines) into an {@link AgentResult}.
 *
 * Facts about the stream (Gemini CLI 0.61, read in its source packages/core/src/output and confirmed against the real
 * CLI, fixture in test/fixtures/agent/gemini/):
 * - `init` carries `session_id` and `model`; `message` events carry user and assistant text (`delta: true` pieces);
 * - `tool_use` (tool_name, tool_id, parameters) and `tool_result` (tool_id, status, output / error) per tool call;
 * - `error` events (severity warning | error) for non-fatal problems; the final `result` carries `status`
 *   (success | error), `error {type, message}` and `stats`: total_tokens, input_tokens (prompt, cached included),
 *   output_tokens (candidates), cached, input (prompt less cached), duration_ms, tool_calls, models{}.
 * The stream has no CLI version (the caller knows which it mounted) and no thoughts count: the API's totalTokenCount
 * is prompt + candidates + thoughts (+ tool-use prompt), so thoughts are total_tokens - input_tokens - output_tokens.
 * An API error that ends the run: a `result` with status `error` and the API's message (with its HTTP status in the
 * text), or no `result` at all when the CLI died. Turns are the assistant replies: runs of assistant messages and
 * tool calls between two tool results or user messages. Nothing here throws.
 */
import { BehaviourCollector } from './behaviour.ts';
import { isObject, jsonObjects, num, str, type Json, type LineCounts } from './jsonl.ts';
import type { AgentResult } from './types.ts';


/** Gemini token counts beyond the common AgentResult fields. */
export interface GeminiTokens {
  /** Thinking tokens (total - input - output of the result's stats); 0 without stats. */
  thoughtsTokens: number;
  totalTokens: number;
}

/** The HTTP status in an API error message such as `[400 Bad Request]`, `got status: 429` or `"code": 500`. */
export function apiStatusOf(message: string): number | null {
  const m = /\[(\d{3})\b|status(?: code)?:? (\d{3})\b|"code":\s*(\d{3})\b|\b(\d{3}) (?:Bad Request|Unauthorized|Forbidden|Not Found|Too Many Requests|Internal)/i.exec(message);
  const s = m?.[1] ?? m?.[2] ?? m?.[3] ?? m?.[4];
  return s === undefined ? null : Number(s);
}

/** The API's status name (RESOURCE_EXHAUSTED, INVALID_ARGUMENT, ...) in an error message, when it names one. */
function apiStatusName(message: string): string | null {
  return /"status":\s*"([A-Z_]+)"/.exec(message)?.[1] ?? /\b(RESOURCE_EXHAUSTED|INVALID_ARGUMENT|PERMISSION_DENIED|UNAUTHENTICATED|INTERNAL|UNAVAILABLE|NOT_FOUND)\b/.exec(message)?.[1] ?? null;
}

export function parseGeminiStream(input: Iterable<string> | string, cliVersion: string | null = null): AgentResult & GeminiTokens {
  let model: string | null = null;
  let result: Json | null = null;
  let turns = 0;
  let inTurn = false;
  let toolCalls = 0;
  const toolCallsByName: Record<string, number> = {};
  const toolIds = new Set<string>();
  const errors: string[] = [];
  let assistantText = '';
  const behaviour = new BehaviourCollector();

  const counts: LineCounts = { events: 0, garbageLines: 0 };
  for (const ev of jsonObjects(input, counts)) {
    behaviour.event(ev);
    switch (ev.type) {
      case 'init':
        model = str(ev.model) ?? model;
        break;
      case 'message':
        if (ev.role === 'assistant') {
          if (!inTurn) turns += 1;
          inTurn = true;
          assistantText += str(ev.content) ?? '';
        } else {
          inTurn = false;
          assistantText = '';
        }
        break;
      case 'tool_use': {
        const id = str(ev.tool_id);
        if (id !== null) {
          if (toolIds.has(id)) break;
          toolIds.add(id);
        }
        if (!inTurn) turns += 1;
        inTurn = true;
        const name = str(ev.tool_name) ?? 'unknown';
        toolCalls += 1;
        toolCallsByName[name] = (toolCallsByName[name] ?? 0) + 1;
        break;
      }
      case 'tool_result':
        inTurn = false;
        assistantText = '';
        break;
      case 'error':
        if (ev.severity === 'error') errors.push(str(ev.message) ?? 'error');
        break;
      case 'result':
        result = ev;
        break;
    }
  }

  const stats = result && isObject(result.stats) ? result.stats : null;
  const input_ = num(stats?.input_tokens) ?? 0;
  const output = num(stats?.output_tokens) ?? 0;
  const total = num(stats?.total_tokens) ?? input_ + output;
  const cached = num(stats?.cached) ?? 0;
  if (model === null && stats && isObject(stats.models)) model = Object.keys(stats.models)[0] ?? null;

  const resultError = result && isObject(result.error) ? result.error : null;
  const isError = result === null || result.status !== 'success' || resultError !== null;
  const message = resultError ? (str(resultError.message) ?? str(resultError.type)) : errors.length > 0 ? errors.join('; ') : null;
  const status = message === null ? null : apiStatusOf(message);
  let errorSubtype: string | null = null;
  if (result === null) errorSubtype = 'no_result';
  else if (isError) errorSubtype = status !== null ? 'api_error' : (str(resultError?.type) ?? 'error_during_execution');

  return {
    cliVersion,
    model,
    outcome: isError ? 'agent_error' : 'completed',
    errorSubtype,
    apiErrorStatus: isError ? status : null,
    apiErrorType: isError && message !== null ? apiStatusName(message) : null,
    errorMessage: isError ? message : null,
    isError,
    turns,
    toolCalls: Math.max(toolCalls, num(stats?.tool_calls) ?? 0),
    toolCallsByName,
    // input_tokens is the whole prompt (cached included); the common fields split it as Claude Code's do.
    inputTokens: Math.max(0, input_ - cached),
    outputTokens: output,
    cacheReadTokens: cached,
    cacheCreationTokens: 0,
    thoughtsTokens: Math.max(0, total - input_ - output),
    totalTokens: total,
    // The CLI reports no cost: the caller estimates it from the price table.
    costUsd: 0,
    durationMs: num(stats?.duration_ms),
    durationApiMs: null,
    resultText: assistantText === '' ? null : assistantText,
    totalsFromResult: stats !== null,
    apiRetries: 0,
    events: counts.events,
    garbageLines: counts.garbageLines,
    behaviour: behaviour.result(),
  };
}
