/**
 * The Gemini CLI (`@google/gemini-cli`, pinned in package.json) as an {@link Agent}: run headless as its users run it,
 * `gemini -p PROMPT --output-format stream-json --yolo --model MODEL`, with GEMINI_API_KEY and, for a gateway (or the
 * fake API in tests), GOOGLE_GEMINI_BASE_URL; its stream parsed by gemini-stream.ts.
 *
 * Runtime in the task container: the CLI is a node program (its npm package is a self-contained bundle, 449 files,
 * no dependencies needed headless), so the tool volume holds the bundle and a node binary: the daemon's own node
 * (process.execPath; node >= 20 as the CLI requires). That binary must be a portable build, linked only against
 * glibc (>= 2.28), libstdc++ and libgcc_s, as the official and NodeSource builds are (not a distribution's node
 * linked to a shared libnode): every Debian or Ubuntu image has those libraries (apt needs libstdc++), the minbase
 * fixture images included. The node version is part of the volume's content key.
 *
 * Settings: the CLI refuses GOOGLE_GEMINI_BASE_URL on its own ("gateway" auth is not accepted headless), so a system
 * settings file in the volume selects API-key auth (the base URL is still read from the environment) and turns
 * usage statistics and telemetry off; GEMINI_CLI_NO_RELAUNCH keeps it from re-spawning itself, and
 * GEMINI_CLI_TRUST_WORKSPACE trusts /app. Pure apart from `version()` and `toolVolumeFiles()`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { parseGeminiStream } from './gemini-stream.ts';
import type { Agent, AgentResult, Credentials, Invocation, InvocationOptions } from './types.ts';

export const GEMINI_CLI_PACKAGE = '@google/gemini-cli';

/** Prompts longer than this go to stdin (the CLI reads a piped prompt when it has no `-p`). */
export const GEMINI_MAX_ARGV_PROMPT_BYTES = 100_000;

/** Where the files sit inside the tool volume (relative to its mount point). */
export const GEMINI_VOLUME_NODE = 'node';
export const GEMINI_VOLUME_CLI = 'gemini/bundle/gemini.js';
export const GEMINI_VOLUME_SETTINGS = 'gemini/settings.json';

/** The system settings the volume carries. */
export const GEMINI_SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
} as const;

/** Variables carrying credentials or choosing the endpoint: `extraEnv` may not set these. */
export const GEMINI_CREDENTIAL_ENV_NAMES: readonly string[] = [
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'GOOGLE_GEMINI_BASE_URL',
  'GOOGLE_VERTEX_BASE_URL',
  'GOOGLE_GENAI_USE_VERTEXAI',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_PROJECT',
  'GEMINI_CLI_SYSTEM_SETTINGS_PATH',
];

function nonEmpty(value: string, what: string): string {
  if (value.trim() === '') throw new Error(`gemini-cli: ${what} is empty`);
  return value;
}

/** The Gemini API key (GEMINI_API_KEY, or GOOGLE_API_KEY read into the same slot by the credentials rule). */
function apiKeyOf(credentials: Credentials): string {
  if ('apiKey' in credentials) return nonEmpty(credentials.apiKey, 'apiKey');
  throw new Error('gemini-cli: only an API key is supported (GEMINI_API_KEY or GOOGLE_API_KEY)');
}

/** `toolDir`: where the tool volume is mounted (the node binary and the bundle are found there). */
export function buildGeminiInvocation(opts: InvocationOptions, toolDir = '/opt/agentdrift/bin'): Invocation {
  if (!Number.isInteger(opts.maxTurns) || opts.maxTurns < 1) throw new Error(`gemini-cli: maxTurns must be a positive integer, got ${opts.maxTurns}`);
  nonEmpty(opts.model, 'model');
  const key = apiKeyOf(opts.credentials);
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.extraEnv ?? {})) {
    if (GEMINI_CREDENTIAL_ENV_NAMES.includes(k)) throw new Error(`gemini-cli: extraEnv may not set ${k}; use credentials/baseUrl`);
    extra[k] = v;
  }
  const env: Record<string, string> = {
    ...extra,
    GEMINI_CLI_NO_RELAUNCH: 'true',
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    GEMINI_CLI_SYSTEM_SETTINGS_PATH: `${toolDir}/${GEMINI_VOLUME_SETTINGS}`,
    GEMINI_API_KEY: key,
  };
  if (opts.baseUrl !== undefined) env.GOOGLE_GEMINI_BASE_URL = opts.baseUrl;
  const viaStdin = Buffer.byteLength(opts.prompt, 'utf8') > GEMINI_MAX_ARGV_PROMPT_BYTES;
  const argv = [opts.binary ?? `${toolDir}/${GEMINI_VOLUME_NODE}`, `${toolDir}/${GEMINI_VOLUME_CLI}`];
  if (!viaStdin) argv.push('-p', opts.prompt);
  argv.push('--output-format', 'stream-json', '--yolo', '--model', opts.model);
  const inv: Invocation = { argv, env, cwd: opts.cwd ?? '/app', redact: [key] };
  if (viaStdin) inv.stdin = opts.prompt;
  return inv;
}

/** `0.61.0` (what `gemini --version` prints) -> `0.61.0`. */
export function parseGeminiVersion(output: string): string | null {
  return /(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/.exec(output)?.[1] ?? null;
}

function packageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${GEMINI_CLI_PACKAGE}/package.json`));
  } catch {
    throw new Error(`gemini-cli: ${GEMINI_CLI_PACKAGE} is not installed; run npm ci`);
  }
}

export function geminiInstalledVersion(): string {
  return (JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

export type VolumeFile = { sourcePath: string; mode?: number } | { content: string; mode?: number };

/** Every file of the tool volume: the node binary, the CLI's bundle and package.json, the settings. */
export function geminiToolVolumeFiles(nodeBinary: string = process.execPath): Record<string, VolumeFile> {
  const dir = packageDir();
  const files: Record<string, VolumeFile> = {
    [GEMINI_VOLUME_NODE]: { sourcePath: nodeBinary, mode: 0o755 },
    'gemini/package.json': { sourcePath: join(dir, 'package.json') },
    [GEMINI_VOLUME_SETTINGS]: { content: `${JSON.stringify(GEMINI_SETTINGS, null, 2)}\n` },
  };
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files[`gemini/${relative(dir, p)}`] = { sourcePath: p, mode: statSync(p).mode & 0o111 ? 0o755 : 0o644 };
    }
  };
  walk(join(dir, 'bundle'));
  return files;
}

/** The volume's content key: the CLI's version and the node's. */
export function geminiContentKey(nodeVersion: string = process.version): string {
  return `gemini-cli-${geminiInstalledVersion()}-node-${nodeVersion}`;
}

export const geminiCli = {
  name: 'gemini-cli' as const,
  version: geminiInstalledVersion,
  parseVersion: parseGeminiVersion,
  buildInvocation: (opts: InvocationOptions): Invocation => buildGeminiInvocation(opts),
  parseTranscript(lines: Iterable<string> | string): AgentResult {
    // The stream names no version: the one mounted is the installed package's (the volume is keyed by it).
    return parseGeminiStream(lines, geminiInstalledVersion());
  },
} satisfies Omit<Agent, 'name'> & { name: 'gemini-cli' };

/** Prices of one model in USD per million tokens, by token type (a row of the configurable price table). */
export interface GeminiTokenPrices {
  input: number;
  /** Cached prompt tokens (context caching); the input price when the table has none. */
  cached?: number;
  /** Output tokens; thinking tokens are billed as output by the Gemini API. */
  output: number;
}

/**
 * Estimated cost of a Gemini CLI attempt (the CLI reports none): uncached input, cached input, and output plus
 * thoughts at their prices per million tokens. Marked as an estimate by the caller.
 */
export function estimateGeminiCostUsd(tokens: { inputTokens: number; cacheReadTokens: number; outputTokens: number; thoughtsTokens: number }, prices: GeminiTokenPrices): number {
  for (const [k, v] of Object.entries(prices)) {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new Error(`gemini-cli: price ${k} must be a non-negative number, got ${String(v)}`);
  }
  const perToken = (usdPerMTok: number): number => usdPerMTok / 1_000_000;
  return (
    tokens.inputTokens * perToken(prices.input) +
    tokens.cacheReadTokens * perToken(prices.cached ?? prices.input) +
    (tokens.outputTokens + tokens.thoughtsTokens) * perToken(prices.output)
  );
}
