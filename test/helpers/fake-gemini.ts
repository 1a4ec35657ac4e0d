/**
 * A fake Gemini API (generativelanguage v1beta) on 127.0.0.1 that scripts the real Gemini CLI.
 *
 * A script is a list of turns. Each main-loop request of the CLI (`:streamGenerateContent` with function
 * declarations) consumes the next turn and is answered as SSE (`?alt=sse`, `data: <GenerateContentResponse>` frames);
 * side requests (`:generateContent` without tools: next-speaker checks, loop detection, `:countTokens`) are answered
 * with a short text and never advance the script. Every request is recorded for assertions.
 *
 * Turns: a message (text and/or functionCall parts with usage numbers), an error (HTTP status with the API's
 * `{error: {code, message, status}}` body, `times` times), a hang (never answered; later main requests hang too), or a
 * function of the request returning one of these.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback.ts';

export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  cachedContentTokenCount: number;
  thoughtsTokenCount: number;
}

export type GeminiPart = { text: string; thought?: boolean } | { functionCall: { name: string; args: Record<string, unknown>; id?: string } };

export interface GeminiMessageTurn {
  kind: 'message';
  parts: GeminiPart[];
  usage: GeminiUsage;
}

export interface GeminiErrorTurn {
  kind: 'error';
  status: number;
  /** The API's status name, e.g. RESOURCE_EXHAUSTED, INTERNAL, PERMISSION_DENIED. */
  statusName: string;
  message: string;
  times: number;
}

export interface GeminiHangTurn {
  kind: 'hang';
}

export type GeminiStaticTurn = GeminiMessageTurn | GeminiErrorTurn | GeminiHangTurn;
export type GeminiTurn = GeminiStaticTurn | ((req: GeminiRequest) => GeminiStaticTurn);

export interface GeminiBody {
  contents?: { role?: string; parts?: Record<string, unknown>[] }[];
  tools?: { functionDeclarations?: { name: string }[] }[];
  [key: string]: unknown;
}

export interface GeminiRequest {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: GeminiBody | null;
  /** The model in the path (`/v1beta/models/<model>:<method>`). */
  model: string | null;
  role: 'main' | 'side' | 'other';
  turnIndex: number | null;
}

export interface FakeGemini {
  /** Base URL for GOOGLE_GEMINI_BASE_URL, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  requests: GeminiRequest[];
  mainRequests(): GeminiRequest[];
  consumed(): number;
  unscripted(): number;
  close(): Promise<void>;
}

function usage(u: Partial<GeminiUsage> = {}): GeminiUsage {
  return {
    promptTokenCount: u.promptTokenCount ?? 100,
    candidatesTokenCount: u.candidatesTokenCount ?? 20,
    cachedContentTokenCount: u.cachedContentTokenCount ?? 0,
    thoughtsTokenCount: u.thoughtsTokenCount ?? 0,
  };
}

export function call(name: string, args: Record<string, unknown>): GeminiPart {
  return { functionCall: { name, args } };
}

/** The CLI's shell tool. */
export function shell(command: string, description = 'run a command'): GeminiPart {
  return call('run_shell_command', { command, description });
}

/** The CLI's edit tool (exact replacement of old_string by new_string). */
export function replace(filePath: string, oldString: string, newString: string, instruction = 'fix'): GeminiPart {
  return call('replace', { file_path: filePath, old_string: oldString, new_string: newString, instruction });
}

export function writeFile(filePath: string, content: string): GeminiPart {
  return call('write_file', { file_path: filePath, content });
}

export function thought(t: string): GeminiPart {
  return { text: t, thought: true };
}

export function reply(content: (GeminiPart | string)[] | GeminiPart | string, u: Partial<GeminiUsage> = {}): GeminiMessageTurn {
  const list = Array.isArray(content) ? content : [content];
  return { kind: 'message', parts: list.map((p) => (typeof p === 'string' ? { text: p } : p)), usage: usage(u) };
}

export function apiError(status: number, statusName: string, message: string, times = 1): GeminiErrorTurn {
  return { kind: 'error', status, statusName, message, times };
}

export function hang(): GeminiHangTurn {
  return { kind: 'hang' };
}

/** Text of every user text part (what the agent was asked). */
export function userText(body: GeminiBody | null): string {
  const out: string[] = [];
  for (const c of body?.contents ?? []) {
    if (c.role !== 'user') continue;
    for (const p of c.parts ?? []) if (typeof p.text === 'string') out.push(p.text);
  }
  return out.join('\n');
}

/** functionResponse parts of the last user content: the tools' outputs the CLI sends back. */
export function functionResponses(body: GeminiBody | null): { name: string; response: Record<string, unknown> }[] {
  const last = [...(body?.contents ?? [])].reverse().find((c) => c.role === 'user');
  const out: { name: string; response: Record<string, unknown> }[] = [];
  for (const p of last?.parts ?? []) {
    const fr = p.functionResponse as { name?: string; response?: Record<string, unknown> } | undefined;
    if (fr) out.push({ name: fr.name ?? '', response: fr.response ?? {} });
  }
  return out;
}

function responseObject(turn: GeminiMessageTurn, model: string, final: boolean): Record<string, unknown> {
  const u = turn.usage;
  return {
    candidates: [{ content: { role: 'model', parts: turn.parts }, index: 0, ...(final ? { finishReason: 'STOP' } : {}) }],
    usageMetadata: {
      promptTokenCount: u.promptTokenCount,
      candidatesTokenCount: u.candidatesTokenCount,
      ...(u.cachedContentTokenCount ? { cachedContentTokenCount: u.cachedContentTokenCount } : {}),
      ...(u.thoughtsTokenCount ? { thoughtsTokenCount: u.thoughtsTokenCount } : {}),
      totalTokenCount: u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount,
    },
    modelVersion: model,
    responseId: `resp_fake_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function streamTurn(res: ServerResponse, turn: GeminiMessageTurn, model: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // Thought parts and text first, in one frame each, then the final frame with the function calls and the usage.
  const early = turn.parts.filter((p) => 'text' in p);
  const late = turn.parts.filter((p) => !('text' in p));
  if (early.length > 0 && late.length > 0) {
    res.write(`data: ${JSON.stringify(responseObject({ ...turn, parts: early }, model, false))}\r\n\r\n`);
    res.write(`data: ${JSON.stringify(responseObject({ ...turn, parts: late }, model, true))}\r\n\r\n`);
  } else {
    res.write(`data: ${JSON.stringify(responseObject(turn, model, true))}\r\n\r\n`);
  }
  res.end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeGemini(script: GeminiTurn[]): Promise<FakeGemini> {
  const requests: GeminiRequest[] = [];
  let next = 0;
  let errorAnswered = 0;
  let hanging = false;
  let unscripted = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: GeminiBody | null = null;
    try {
      body = raw ? (JSON.parse(raw) as GeminiBody) : null;
    } catch {
      body = null;
    }
    const m = /^\/v1(?:beta|alpha)?\/models\/([^:]+):(\w+)$/.exec(path);
    const rec: GeminiRequest = { method: req.method ?? 'GET', path, url, headers: { ...req.headers }, body, model: m?.[1] ?? null, role: 'other', turnIndex: null };
    requests.push(rec);
    if (!m || req.method !== 'POST') {
      sendJson(res, 404, { error: { code: 404, message: `no route ${req.method} ${path}`, status: 'NOT_FOUND' } });
      return;
    }
    const [, model = 'gemini-fake', method] = m;
    if (method === 'countTokens') {
      sendJson(res, 200, { totalTokens: Math.max(1, Math.ceil(raw.length / 4)) });
      return;
    }
    const hasTools = (body?.tools ?? []).some((t) => (t.functionDeclarations ?? []).length > 0);
    if (method !== 'streamGenerateContent' || !hasTools) {
      rec.role = 'side';
      const side = reply('{"reasoning": "the model answered", "next_speaker": "user"}', { promptTokenCount: 10, candidatesTokenCount: 3 });
      if (method === 'streamGenerateContent') streamTurn(res, side, model);
      else sendJson(res, 200, responseObject(side, model, true));
      return;
    }
    rec.role = 'main';
    if (hanging) return;
    const entry = script[next];
    if (entry === undefined) {
      unscripted += 1;
      streamTurn(res, reply('Script exhausted.', { promptTokenCount: 1, candidatesTokenCount: 1 }), model);
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
        sendJson(res, turn.status, { error: { code: turn.status, message: turn.message, status: turn.statusName } });
        return;
      case 'message':
        next += 1;
        streamTurn(res, turn, model);
        return;
    }
  };

  const server = await listenOnLoopback(handle, (res, err) => sendJson(res, 500, { error: { code: 500, message: String(err), status: 'INTERNAL' } }));
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
