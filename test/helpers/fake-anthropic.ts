/**
 * A fake Anthropic Messages API on 127.0.0.1 that scripts the real Claude Code CLI.
 *
 * A script is a list of turns. Each "main-loop" request of the CLI (one that carries tools and either the first user
 * prompt or a tool_result) consumes the next turn; side requests (title generation, quota checks: no tools) are
 * answered with a short text and never advance the script. Every request is recorded for assertions.
 *
 * Turns:
 * - a message: text and/or tool_use blocks with usage numbers; streamed as SSE when the request has `stream: true`;
 * - an error: an HTTP status with `{type:'error', error:{type, message}}`, answered `times` times (Infinity: forever);
 * - a hang: the request is never answered (for timeouts); every later main request hangs too;
 * - a function of the request returning one of the above (to assert on the prompt text).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback.ts';

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface FakeTextBlock {
  type: 'text';
  text: string;
}

export interface FakeToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** Extended thinking, as the API streams it (thinking_delta, then signature_delta). */
export interface FakeThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export type FakeBlock = FakeTextBlock | FakeToolUseBlock | FakeThinkingBlock;

export interface MessageTurn {
  kind: 'message';
  content: FakeBlock[];
  usage: FakeUsage;
  /** Defaults to 'tool_use' when the content has a tool_use block, else 'end_turn'. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
}

export interface ErrorTurn {
  kind: 'error';
  status: number;
  errorType: string;
  message: string;
  /** How many main requests this error answers before the script advances. Default 1; Infinity: forever. */
  times: number;
}

export interface HangTurn {
  kind: 'hang';
}

export type StaticTurn = MessageTurn | ErrorTurn | HangTurn;
export type Turn = StaticTurn | ((req: RecordedRequest) => StaticTurn);

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or null when the body is empty or not JSON. */
  body: MessagesBody | null;
  /** 'main' requests advance the script; 'side' requests do not; 'other' are non-messages endpoints. */
  role: 'main' | 'side' | 'other';
  /** Index of the scripted turn that answered it (main requests only). */
  turnIndex: number | null;
}

export interface MessagesBody {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  system?: string | { type: string; text?: string }[];
  tools?: { name: string }[];
  messages?: { role: string; content: string | ContentPart[] }[];
  [key: string]: unknown;
}

export interface ContentPart {
  type: string;
  text?: string;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
  [key: string]: unknown;
}

export interface FakeAnthropic {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Main-loop requests only. */
  mainRequests(): RecordedRequest[];
  /** Number of scripted turns consumed so far. */
  consumed(): number;
  /** Main requests that arrived after the script ran out (answered with a closing text). */
  unscripted(): number;
  close(): Promise<void>;
}

const DEFAULT_MODEL = 'claude-fake-1';
let toolIdCounter = 0;

function usage(u: Partial<FakeUsage> = {}): FakeUsage {
  return {
    input_tokens: u.input_tokens ?? 100,
    output_tokens: u.output_tokens ?? 20,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
  };
}

// ---------------------------------------------------------------- script builders

export function text(t: string): FakeTextBlock {
  return { type: 'text', text: t };
}

export function toolUse(name: string, input: Record<string, unknown>, id?: string): FakeToolUseBlock {
  toolIdCounter += 1;
  return { type: 'tool_use', id: id ?? `toolu_fake_${Date.now().toString(36)}_${toolIdCounter}`, name, input };
}

export function bash(command: string, description = 'run a command'): FakeToolUseBlock {
  return toolUse('Bash', { command, description });
}

export function edit(filePath: string, oldString: string, newString: string): FakeToolUseBlock {
  return toolUse('Edit', { file_path: filePath, old_string: oldString, new_string: newString });
}

export function write(filePath: string, content: string): FakeToolUseBlock {
  return toolUse('Write', { file_path: filePath, content });
}

/** A thinking block (the signature is opaque to the CLI, which passes it back to the API as it is). */
export function thinking(t: string): FakeThinkingBlock {
  return { type: 'thinking', thinking: t, signature: `sig_fake_${Buffer.from(t.slice(0, 24)).toString('base64url')}` };
}

/** An assistant turn. Strings become text blocks. */
export function reply(
  content: (FakeBlock | string)[] | FakeBlock | string,
  u: Partial<FakeUsage> = {},
  stopReason?: MessageTurn['stopReason'],
): MessageTurn {
  const list = Array.isArray(content) ? content : [content];
  const blocks = list.map((b) => (typeof b === 'string' ? text(b) : b));
  const turn: MessageTurn = { kind: 'message', content: blocks, usage: usage(u) };
  if (stopReason) turn.stopReason = stopReason;
  return turn;
}

export function apiError(status: number, errorType: string, message: string, times = 1): ErrorTurn {
  return { kind: 'error', status, errorType, message, times };
}

export function overloaded(times = 1): ErrorTurn {
  return apiError(529, 'overloaded_error', 'Overloaded', times);
}

export function internalError(times = 1): ErrorTurn {
  return apiError(500, 'api_error', 'Internal server error', times);
}

export function hang(): HangTurn {
  return { kind: 'hang' };
}

// ---------------------------------------------------------------- request classification

function lastUserMessage(body: MessagesBody): { role: string; content: string | ContentPart[] } | undefined {
  const msgs = body.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m && m.role === 'user') return m;
  }
  return undefined;
}

/** Text of every text part of every user message, joined (what the agent was asked). */
export function userText(body: MessagesBody | null): string {
  if (!body) return '';
  const parts: string[] = [];
  for (const m of body.messages ?? []) {
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') parts.push(m.content);
    else for (const p of m.content) if (p.type === 'text' && typeof p.text === 'string') parts.push(p.text);
  }
  return parts.join('\n');
}

/** tool_result parts of the last user message. */
export function toolResults(body: MessagesBody | null): ContentPart[] {
  if (!body) return [];
  const last = lastUserMessage(body);
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter((p) => p.type === 'tool_result');
}

/** Text of a tool_result part (its content may be a string or a list of text parts). */
export function toolResultText(part: ContentPart): string {
  const c = part.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c
      .map((x: unknown) =>
        x && typeof x === 'object' && 'text' in x && typeof (x as { text: unknown }).text === 'string'
          ? (x as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

function isMainRequest(body: MessagesBody): boolean {
  // The agent loop always offers tools; title generation and quota checks do not.
  return Array.isArray(body.tools) && body.tools.length > 0;
}

// ---------------------------------------------------------------- responses

function messageObject(turn: MessageTurn, model: string): Record<string, unknown> {
  const stop = turn.stopReason ?? (turn.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  return {
    id: `msg_fake_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`,
    type: 'message',
    role: 'assistant',
    model,
    content: turn.content,
    stop_reason: stop,
    stop_sequence: null,
    usage: { ...turn.usage },
  };
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function streamMessage(res: ServerResponse, turn: MessageTurn, model: string): void {
  const msg = messageObject(turn, model);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': `req_fake_${Date.now()}`,
  });
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      ...msg,
      content: [],
      stop_reason: null,
      usage: {
        input_tokens: turn.usage.input_tokens,
        output_tokens: 1,
        cache_read_input_tokens: turn.usage.cache_read_input_tokens,
        cache_creation_input_tokens: turn.usage.cache_creation_input_tokens,
      },
    },
  });
  turn.content.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else if (block.type === 'thinking') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
    } else {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      const json = JSON.stringify(block.input);
      // Split the input in two deltas, as the real API streams it in pieces.
      const cut = Math.floor(json.length / 2);
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: json.slice(0, cut) },
      });
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: json.slice(cut) },
      });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: { output_tokens: turn.usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: ServerResponse, turn: ErrorTurn): void {
  sendJson(res, turn.status, { type: 'error', error: { type: turn.errorType, message: turn.message } });
}

function answerMessage(res: ServerResponse, turn: MessageTurn, body: MessagesBody): void {
  const model = body.model ?? DEFAULT_MODEL;
  if (body.stream) streamMessage(res, turn, model);
  else sendJson(res, 200, messageObject(turn, model));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------- server

export async function startFakeAnthropic(script: Turn[]): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  let next = 0; // index of the next turn
  let errorAnswered = 0; // how often the current error turn has been answered
  let hanging = false;
  let unscripted = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: MessagesBody | null = null;
    if (raw) {
      try {
        body = JSON.parse(raw) as MessagesBody;
      } catch {
        body = null;
      }
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      url,
      headers: { ...req.headers },
      body,
      role: 'other',
      turnIndex: null,
    };
    requests.push(rec);

    if (req.method === 'HEAD' || (req.method === 'GET' && path === '/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(raw.length / 4)) });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.method} ${path}` } });
      return;
    }
    if (!body) {
      sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'body is not JSON' } });
      return;
    }

    if (!isMainRequest(body)) {
      rec.role = 'side';
      answerMessage(res, reply('Fixing a bug', { input_tokens: 10, output_tokens: 3 }), body);
      return;
    }
    rec.role = 'main';
    if (hanging) return; // never answered; the socket is destroyed on close()

    const entry = script[next];
    if (entry === undefined) {
      unscripted += 1;
      answerMessage(res, reply('Script exhausted.', { input_tokens: 1, output_tokens: 1 }), body);
      return;
    }
    const turn = typeof entry === 'function' ? entry(rec) : entry;
    rec.turnIndex = next;
    switch (turn.kind) {
      case 'hang':
        hanging = true;
        return;
      case 'error':
        errorAnswered += 1;
        if (errorAnswered >= turn.times) {
          next += 1;
          errorAnswered = 0;
        }
        sendError(res, turn);
        return;
      case 'message':
        next += 1;
        answerMessage(res, turn, body);
        return;
    }
  };

  const server = await listenOnLoopback(handle, (res, err) => sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(err) } }));

  return {
    url: server.url,
    port: server.port,
    requests,
    mainRequests: () => requests.filter((r) => r.role === 'main'),
    consumed: () => next,
    unscripted: () => unscripted,
    close: () => server.close(),
  };
}
