/**
 * Pure parser of Claude Code's `--output-format stream-json --verbose` output into an {@link AgentResult}.
 *
 * Facts about the stream (Claude Code 2.x, confirmed against the real CLI, fixtures in test/fixtures/agent/):
 * - `system`/`init` carries `model` and `claude_code_version`; `system`/`api_retry` one retry of an API call;
 * - one `assistant` event per content block: a message with two blocks (text + tool_use) arrives as two events with
 *   the same `message.id`, each carrying the usage known when streaming began (output_tokens is not final there);
 * - an API error that ends the run arrives as an `assistant` event of model `<synthetic>` with
 *   `is_api_error_message`, then a `result` with `is_error: true` and `api_error_status` (subtype may be `success`);
 * - the final `result` carries subtype, is_error, num_turns, durations, total_cost_usd, `usage` (main loop) and
 *   `modelUsage` (per model, every call); after a budget stop `usage` is all zeros while `modelUsage` is not.
 * Totals come from `result` when there is one (modelUsage summed, else usage); without it they are summed from the assistant messages (one count per
 * message id, the largest value seen), which undercounts output tokens.
 * Lines that are not JSON objects are counted in `garbageLines`; nothing here throws.
 * Every event also goes to a BehaviourCollector (behaviour.ts): tool calls by tool, reads before the first edit,
 * thinking, API errors and retries, read in the same pass.
 */
import { BehaviourCollector } from './behaviour.ts';
import { isObject, jsonObjects, num, str, type Json, type LineCounts } from './jsonl.ts';
import type { AgentResult } from './types.ts';


interface MessageUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

/**
 * Token totals of a result event: the sum of `modelUsage` over every model when present (it covers subagents and side
 * calls, matches total_cost_usd, and stays filled when a budget stop zeroes `usage`), else `usage`; null when neither.
 */
function resultTotals(r: Json): MessageUsage | null {
  if (isObject(r.modelUsage)) {
    const models = Object.values(r.modelUsage).filter(isObject);
    if (models.length > 0) {
      const t: MessageUsage = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
      for (const m of models) {
        t.input += num(m.inputTokens) ?? 0;
        t.output += num(m.outputTokens) ?? 0;
        t.cacheRead += num(m.cacheReadInputTokens) ?? 0;
        t.cacheCreation += num(m.cacheCreationInputTokens) ?? 0;
      }
      return t;
    }
  }
  if (isObject(r.usage)) {
    const u = r.usage;
    return {
      input: num(u.input_tokens) ?? 0,
      output: num(u.output_tokens) ?? 0,
      cacheRead: num(u.cache_read_input_tokens) ?? 0,
      cacheCreation: num(u.cache_creation_input_tokens) ?? 0,
    };
  }
  return null;
}

export function parseStreamJson(input: Iterable<string> | string): AgentResult {
  let cliVersion: string | null = null;
  let initModel: string | null = null;
  let messageModel: string | null = null;
  let apiRetries = 0;
  let result: Json | null = null;
  let lastApiError: { status: number | null; type: string | null } | null = null;

  const usageById = new Map<string, MessageUsage>();
  const mainMessageIds = new Set<string>();
  const toolUseIds = new Set<string>();
  const toolCallsByName: Record<string, number> = {};
  let toolCalls = 0;
  let anonymousMessages = 0;
  const behaviour = new BehaviourCollector();

  const counts: LineCounts = { events: 0, garbageLines: 0 };
  for (const ev of jsonObjects(input, counts)) {
    behaviour.event(ev);
    const type = ev.type;

    if (type === 'system') {
      if (ev.subtype === 'init') {
        cliVersion = str(ev.claude_code_version) ?? cliVersion;
        initModel = str(ev.model) ?? initModel;
      } else if (ev.subtype === 'api_retry') {
        apiRetries += 1;
      }
      continue;
    }

    if (type === 'result') {
      result = ev;
      continue;
    }

    if (type !== 'assistant' || !isObject(ev.message)) continue;
    const msg = ev.message;
    const model = str(msg.model);
    const synthetic = model === '<synthetic>' || ev.is_api_error_message === true;
    if (synthetic) {
      if (ev.is_api_error_message === true) {
        lastApiError = { status: num(ev.api_error_status), type: str(ev.api_error_type) };
      }
      continue;
    }
    if (model && !messageModel) messageModel = model;

    let id = str(msg.id);
    if (id === null) {
      anonymousMessages += 1;
      id = `anonymous-${anonymousMessages}`;
    }
    if (ev.parent_tool_use_id === null || ev.parent_tool_use_id === undefined) mainMessageIds.add(id);

    if (isObject(msg.usage)) {
      const u = msg.usage;
      const prev = usageById.get(id) ?? { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
      usageById.set(id, {
        input: Math.max(prev.input, num(u.input_tokens) ?? 0),
        output: Math.max(prev.output, num(u.output_tokens) ?? 0),
        cacheRead: Math.max(prev.cacheRead, num(u.cache_read_input_tokens) ?? 0),
        cacheCreation: Math.max(prev.cacheCreation, num(u.cache_creation_input_tokens) ?? 0),
      });
    }

    if (Array.isArray(msg.content)) {
      for (const block of msg.content) {
        if (!isObject(block) || block.type !== 'tool_use') continue;
        const toolId = str(block.id);
        if (toolId !== null) {
          if (toolUseIds.has(toolId)) continue;
          toolUseIds.add(toolId);
        }
        const name = str(block.name) ?? 'unknown';
        toolCalls += 1;
        toolCallsByName[name] = (toolCallsByName[name] ?? 0) + 1;
      }
    }
  }

  const summed: MessageUsage = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
  for (const u of usageById.values()) {
    summed.input += u.input;
    summed.output += u.output;
    summed.cacheRead += u.cacheRead;
    summed.cacheCreation += u.cacheCreation;
  }

  const base = {
    cliVersion,
    model: initModel ?? messageModel,
    toolCalls,
    toolCallsByName,
    apiRetries,
    events: counts.events,
    garbageLines: counts.garbageLines,
    behaviour: behaviour.result(),
  };

  if (result === null) {
    return {
      ...base,
      outcome: 'agent_error',
      errorSubtype: 'no_result',
      apiErrorStatus: lastApiError?.status ?? null,
      apiErrorType: lastApiError?.type ?? null,
      errorMessage: null,
      isError: true,
      turns: mainMessageIds.size,
      inputTokens: summed.input,
      outputTokens: summed.output,
      cacheReadTokens: summed.cacheRead,
      cacheCreationTokens: summed.cacheCreation,
      costUsd: 0,
      durationMs: null,
      durationApiMs: null,
      resultText: null,
      totalsFromResult: false,
    };
  }

  const r = result;
  const totals = resultTotals(r) ?? summed;
  const subtype = str(r.subtype);
  const apiErrorStatus = num(r.api_error_status) ?? (r.is_error === true ? (lastApiError?.status ?? null) : null);
  const apiErrorType = str(r.api_error_type) ?? (r.is_error === true ? (lastApiError?.type ?? null) : null);
  const isError = r.is_error === true || (subtype !== null && subtype !== 'success');

  let errorSubtype: string | null = null;
  if (subtype !== null && subtype !== 'success') errorSubtype = subtype;
  else if (isError && apiErrorStatus !== null) errorSubtype = 'api_error';
  else if (isError) errorSubtype = str(r.terminal_reason) ?? 'error_during_execution';

  const errors = Array.isArray(r.errors) ? r.errors.filter((e): e is string => typeof e === 'string') : [];
  const resultText = str(r.result);
  let errorMessage: string | null = errors.length > 0 ? errors.join('; ') : null;
  if (errorMessage === null && isError && resultText !== null) errorMessage = resultText;

  return {
    ...base,
    outcome: isError ? 'agent_error' : 'completed',
    errorSubtype,
    apiErrorStatus,
    apiErrorType,
    errorMessage,
    isError,
    turns: num(r.num_turns) ?? mainMessageIds.size,
    inputTokens: totals.input,
    outputTokens: totals.output,
    cacheReadTokens: totals.cacheRead,
    cacheCreationTokens: totals.cacheCreation,
    costUsd: num(r.total_cost_usd) ?? num(r.cost_usd) ?? 0,
    durationMs: num(r.duration_ms),
    durationApiMs: num(r.duration_api_ms),
    resultText,
    totalsFromResult: true,
  };
}
