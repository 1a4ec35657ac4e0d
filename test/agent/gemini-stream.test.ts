import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildGeminiInvocation, estimateGeminiCostUsd, GEMINI_MAX_ARGV_PROMPT_BYTES, geminiInstalledVersion, geminiToolVolumeFiles, parseGeminiVersion } from '../../src/agent/gemini-cli.ts';
import { apiStatusOf, parseGeminiStream } from '../../src/agent/gemini-stream.ts';
import type { InvocationOptions } from '../../src/agent/types.ts';

const fixture = (name: string): string => readFileSync(`test/fixtures/agent/gemini/${name}`, 'utf8');

describe('Gemini CLI stream-json parser, on streams captured from the real CLI 0.61.0', () => {
  it('a completed run: model, turns, tool calls by name, tokens by type, duration', () => {
    const r = parseGeminiStream(fixture('fix-0.61.0.jsonl'), '0.61.0');
    expect(r).toMatchObject({
      cliVersion: '0.61.0',
      model: 'gemini-2.5-pro',
      outcome: 'completed',
      errorSubtype: null,
      isError: false,
      turns: 3,
      toolCalls: 2,
      toolCallsByName: { run_shell_command: 1, replace: 1 },
      inputTokens: 3200,
      cacheReadTokens: 3100,
      outputTokens: 110,
      thoughtsTokens: 15,
      totalTokens: 6425,
      durationMs: 132,
      resultText: 'Done.',
      totalsFromResult: true,
      events: 9,
      garbageLines: 0,
    });
  });

  it('an API error ending the run: agent_error with the HTTP status, the API status name and the message', () => {
    const r = parseGeminiStream(fixture('api-error-400-0.61.0.jsonl'));
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'api_error', apiErrorStatus: 400, apiErrorType: 'INVALID_ARGUMENT', toolCalls: 1 });
    expect(r.errorMessage).toContain('API key not valid');
  });

  it('a stream cut before its result (killed, crashed) is no_result; garbage lines are counted, never thrown', () => {
    const cut = fixture('fix-0.61.0.jsonl').split('\n').slice(0, 5).join('\n');
    const r = parseGeminiStream(`${cut}\nnot json\n[1]\n`);
    expect(r).toMatchObject({ outcome: 'agent_error', errorSubtype: 'no_result', toolCalls: 1, turns: 1, garbageLines: 2, totalsFromResult: false, model: 'gemini-2.5-pro' });
    expect(parseGeminiStream('')).toMatchObject({ events: 0, errorSubtype: 'no_result' });
  });

  it('a captured real run of 72 turns and 71 tool calls (190 KB): counts, thoughts and the side model tokens', () => {
    const text = fixture('read-70-files-0.61.0.jsonl');
    expect(text.length).toBeGreaterThan(150_000);
    const r = parseGeminiStream(text.split('\n'));
    // The script: 70 files read by turns of shell (cat), read_file, shell (grep), then write_file and a closing text;
    // 24 of the turns thought 30 tokens; the CLI's one side call (gemini-3-flash-preview) counts too.
    expect(r).toMatchObject({
      outcome: 'completed',
      model: 'gemini-2.5-pro',
      turns: 72,
      toolCalls: 71,
      toolCallsByName: { run_shell_command: 47, read_file: 23, write_file: 1 },
      thoughtsTokens: 24 * 30,
      outputTokens: 2302,
      cacheReadTokens: 2357900,
      inputTokens: 2454550 - 2357900,
      resultText: 'All files read.',
    });
  });

  it('a real-size stream (the captured run repeated to several MB) parses in one pass with the counts added up', () => {
    const lines = fixture('fix-0.61.0.jsonl').trim().split('\n');
    const body = lines.slice(1, -1);
    const many: string[] = [lines[0]!];
    for (let i = 0; i < 4000; i++) for (const l of body) many.push(l.replace(/"tool_id":"([^"]+)"/g, `"tool_id":"$1-${i}"`));
    many.push(lines.at(-1)!);
    const text = many.join('\n');
    expect(text.length).toBeGreaterThan(2_000_000);
    const r = parseGeminiStream(text);
    expect(r.toolCalls).toBe(8000);
    expect(r.toolCallsByName).toEqual({ run_shell_command: 4000, replace: 4000 });
    expect(r.outcome).toBe('completed');
  });

  it('finds the HTTP status in the CLI error texts', () => {
    expect(apiStatusOf('[API Error: {"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}]')).toBe(429);
    expect(apiStatusOf('got status: 500 Internal Server Error')).toBe(500);
    expect(apiStatusOf('nothing here')).toBeNull();
  });
});

describe('Gemini CLI invocation', () => {
  const base: InvocationOptions = { prompt: 'Fix the bug', model: 'gemini-2.5-pro', maxTurns: 50, maxBudgetUsd: 5, credentials: { apiKey: 'AIza-secret-1' } };

  it('runs `gemini -p` headless with stream-json and auto-approval, the key and base URL in the environment, the key redacted', () => {
    const inv = buildGeminiInvocation({ ...base, baseUrl: 'http://127.0.0.1:9' });
    expect(inv.argv).toEqual([
      '/opt/agentdrift/bin/node',
      '/opt/agentdrift/bin/gemini/bundle/gemini.js',
      '-p',
      'Fix the bug',
      '--output-format',
      'stream-json',
      '--yolo',
      '--model',
      'gemini-2.5-pro',
    ]);
    expect(inv.env).toEqual({
      GEMINI_CLI_NO_RELAUNCH: 'true',
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: '/opt/agentdrift/bin/gemini/settings.json',
      GEMINI_API_KEY: 'AIza-secret-1',
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(inv.redact).toEqual(['AIza-secret-1']);
    expect(inv.cwd).toBe('/app');
  });

  it('refuses empty keys, other credential kinds, bad limits and extraEnv that would set credentials', () => {
    expect(() => buildGeminiInvocation({ ...base, credentials: { apiKey: ' ' } })).toThrow(/apiKey is empty/);
    expect(() => buildGeminiInvocation({ ...base, credentials: { oauthToken: 'x' } })).toThrow(/only an API key/);
    expect(() => buildGeminiInvocation({ ...base, maxTurns: 0 })).toThrow(/maxTurns/);
    expect(() => buildGeminiInvocation({ ...base, model: '' })).toThrow(/model/);
    expect(() => buildGeminiInvocation({ ...base, extraEnv: { GOOGLE_API_KEY: 'k' } })).toThrow(/extraEnv may not set GOOGLE_API_KEY/);
    expect(buildGeminiInvocation({ ...base, extraEnv: { GEMINI_CLI_NO_RELAUNCH: '', X: '1' } }).env).toMatchObject({ GEMINI_CLI_NO_RELAUNCH: 'true', X: '1' });
  });

  it('sends a prompt too long for argv through stdin', () => {
    const long = 'é'.repeat(GEMINI_MAX_ARGV_PROMPT_BYTES / 2 + 1);
    const inv = buildGeminiInvocation({ ...base, prompt: long });
    expect(inv.stdin).toBe(long);
    expect(inv.argv).not.toContain('-p');
  });

  it('knows its pinned version and ships the whole bundle, the node and the settings in the tool volume', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(geminiInstalledVersion()).toBe(pkg.dependencies['@google/gemini-cli']);
    expect(parseGeminiVersion('0.61.0\n')).toBe('0.61.0');
    const files = geminiToolVolumeFiles('/usr/bin/node');
    expect(files.node).toEqual({ sourcePath: '/usr/bin/node', mode: 0o755 });
    expect(files['gemini/bundle/gemini.js']).toBeDefined();
    expect(Object.keys(files).length).toBeGreaterThan(400);
    expect(JSON.parse((files['gemini/settings.json'] as { content: string }).content)).toMatchObject({ security: { auth: { selectedType: 'gemini-api-key' } } });
  });
});

describe('Gemini credentials in logs', () => {
  it('a logged invocation environment shows neither GEMINI_API_KEY nor GOOGLE_API_KEY', async () => {
    const { createLogger } = await import('../../src/adapters/log.ts');
    const lines: string[] = [];
    const log = createLogger('info', { destination: { write: (l: string) => lines.push(l) } });
    const inv = buildGeminiInvocation({ prompt: 'p', model: 'gemini-2.5-pro', maxTurns: 5, maxBudgetUsd: 1, credentials: { apiKey: 'AIza-log-secret-77' } });
    log.info({ env: { ...inv.env, GOOGLE_API_KEY: 'AIza-google-secret-78' } }, 'agent env');
    expect(lines.join('')).toContain('GEMINI_CLI_NO_RELAUNCH');
    expect(lines.join('')).not.toContain('AIza-log-secret-77');
    expect(lines.join('')).not.toContain('AIza-google-secret-78');
  });
});

describe('Gemini estimated cost', () => {
  it('prices uncached input, cached input and output plus thoughts per million tokens', () => {
    const r = parseGeminiStream(fixture('fix-0.61.0.jsonl'));
    // 3200 uncached at 1.25, 3100 cached at 0.31, 110 output + 15 thoughts at 10 (USD per million tokens)
    expect(estimateGeminiCostUsd(r, { input: 1.25, cached: 0.31, output: 10 })).toBeCloseTo((3200 * 1.25 + 3100 * 0.31 + 125 * 10) / 1e6, 12);
    expect(estimateGeminiCostUsd(r, { input: 2, output: 0 })).toBeCloseTo((6300 * 2) / 1e6, 12);
    expect(() => estimateGeminiCostUsd(r, { input: -1, output: 1 })).toThrow(/price input must be a non-negative number/);
  });
});
