/**
 * The fake Messages API itself, driven with plain fetch: the SSE event sequence, JSON answers, errors, hangs, side
 * requests that must not advance the script, and request-dependent turns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  apiError,
  bash,
  edit,
  hang,
  overloaded,
  reply,
  startFakeAnthropic,
  toolResults,
  userText,
  type FakeAnthropic,
} from '../helpers/fake-anthropic.ts';

const servers: FakeAnthropic[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(...args: Parameters<typeof startFakeAnthropic>): Promise<FakeAnthropic> {
  const s = await startFakeAnthropic(...args);
  servers.push(s);
  return s;
}

const TOOLS = [{ name: 'Bash' }, { name: 'Edit' }];

function post(fake: FakeAnthropic, body: unknown, path = '/v1/messages?beta=true', signal?: AbortSignal): Promise<Response> {
  const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) };
  if (signal) init.signal = signal;
  return fetch(`${fake.url}${path}`, init);
}

function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
      return { event, data };
    });
}

describe('fake Anthropic Messages API', () => {
  it('listens on 127.0.0.1 with a random port', async () => {
    const a = await start([]);
    const b = await start([]);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.port).not.toBe(b.port);
  });

  it('streams a turn as message_start, blocks with text/input_json deltas, message_delta, message_stop', async () => {
    const toolBlock = edit('/app/x.py', 'a - b', 'a + b');
    const fake = await start([reply(['thinking aloud', toolBlock], { input_tokens: 11, output_tokens: 22, cache_read_input_tokens: 33, cache_creation_input_tokens: 44 })]);
    const res = await post(fake, { model: 'm1', stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'go' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const start0 = events[0]!.data.message as Record<string, unknown>;
    expect(start0).toMatchObject({ role: 'assistant', model: 'm1', content: [], usage: { input_tokens: 11, cache_read_input_tokens: 33, cache_creation_input_tokens: 44 } });
    expect(events[2]!.data.delta).toEqual({ type: 'text_delta', text: 'thinking aloud' });
    expect(events[4]!.data.content_block).toEqual({ type: 'tool_use', id: toolBlock.id, name: 'Edit', input: {} });
    const json = events
      .filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta')
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual(toolBlock.input);
    expect(events[8]!.data).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 22 } });
    expect(fake.consumed()).toBe(1);
  });

  it('answers without stream as one JSON message; end_turn when there is no tool_use', async () => {
    const fake = await start([reply('all done', { output_tokens: 7 })]);
    const res = await post(fake, { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: 'go' }] });
    const msg = (await res.json()) as Record<string, unknown>;
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [{ type: 'text', text: 'all done' }], usage: { output_tokens: 7 } });
  });

  it('answers HEAD / and count_tokens, and records every request', async () => {
    const fake = await start([]);
    expect((await fetch(`${fake.url}/`, { method: 'HEAD' })).status).toBe(200);
    const ct = await post(fake, { model: 'm', messages: [{ role: 'user', content: 'count me please' }] }, '/v1/messages/count_tokens');
    expect(((await ct.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.role}`)).toEqual(['HEAD / other', 'POST /v1/messages/count_tokens other']);
    expect(fake.requests[1]!.headers['x-api-key']).toBe('k');
  });

  it('side requests (no tools) are answered without advancing the script', async () => {
    const fake = await start([reply('main answer')]);
    const side = await post(fake, { model: 'small', max_tokens: 512, messages: [{ role: 'user', content: 'title?' }] });
    expect(((await side.json()) as { content: { text: string }[] }).content[0]!.text).not.toBe('main answer');
    expect(fake.consumed()).toBe(0);
    const main = await post(fake, { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: 'go' }] });
    expect(((await main.json()) as { content: { text: string }[] }).content[0]!.text).toBe('main answer');
    expect(fake.requests.map((r) => r.role)).toEqual(['side', 'main']);
    expect(fake.mainRequests()[0]!.turnIndex).toBe(0);
  });

  it('answers an error turn `times` times with the API error shape, then moves on', async () => {
    const fake = await start([overloaded(2), apiError(500, 'api_error', 'boom'), reply('recovered')]);
    const body = { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: 'go' }] };
    const r1 = await post(fake, body);
    expect(r1.status).toBe(529);
    expect(await r1.json()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect((await post(fake, body)).status).toBe(529);
    const r3 = await post(fake, body);
    expect(r3.status).toBe(500);
    expect(await r3.json()).toEqual({ type: 'error', error: { type: 'api_error', message: 'boom' } });
    expect((await post(fake, body)).status).toBe(200);
    expect(fake.consumed()).toBe(3);
  });

  it('a turn can be a function of the request (to assert the prompt and the tool results)', async () => {
    const seen: string[] = [];
    const fake = await start([
      (req) => {
        seen.push(userText(req.body));
        return reply([bash('echo hi')]);
      },
      (req) => {
        const results = toolResults(req.body);
        seen.push(`${results.length} result(s) for ${String(results[0]?.tool_use_id)}`);
        return reply('done');
      },
    ]);
    await post(fake, { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: [{ type: 'text', text: 'PROMPT-123' }] }] });
    await post(fake, {
      model: 'm',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'PROMPT-123' },
        { role: 'assistant', content: [] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'hi' }] },
      ],
    });
    expect(seen).toEqual(['PROMPT-123', '1 result(s) for toolu_1']);
  });

  it('a hang never answers, and close() still returns promptly', async () => {
    const fake = await start([hang()]);
    const ctrl = new AbortController();
    const pending = post(fake, { model: 'm', tools: TOOLS, stream: true, messages: [{ role: 'user', content: 'go' }] }, undefined, ctrl.signal);
    const outcome = await Promise.race([pending.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('still waiting'), 400))]);
    expect(outcome).toBe('still waiting');
    const t0 = Date.now();
    await fake.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await pending.then(() => 'answered', () => 'failed')).toBe('failed');
    servers.splice(servers.indexOf(fake), 1);
  });

  it('counts main requests that arrive after the script ran out', async () => {
    const fake = await start([reply('only one')]);
    const body = { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: 'go' }] };
    await post(fake, body);
    const extra = await post(fake, body);
    expect(extra.status).toBe(200);
    expect(fake.unscripted()).toBe(1);
  });
});
