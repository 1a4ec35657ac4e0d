/**
 * The Claude Code CLI as an {@link Agent}: its argv, its environment (credentials included, and listed for
 * redaction), and its stream-json transcript parser. Pure apart from `version()` and `installedBinaryPath()`, which
 * read the installed package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseStreamJson } from './stream.ts';
import type { Agent, AgentResult, Credentials, Invocation, InvocationOptions } from './types.ts';

/**
 * Prompts longer than this go to the CLI's stdin (`claude -p` reads the prompt there) instead of argv: Linux limits
 * one argument to 128 KiB.
 */
export const MAX_ARGV_PROMPT_BYTES = 100_000;

/** Environment variables the runner always sets (sandboxed root run, no updater, no traffic but the API). */
export const BASE_ENV: Readonly<Record<string, string>> = {
  IS_SANDBOX: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
};

/** Every variable that carries credentials or selects a provider: `extraEnv` may not set these. */
export const CREDENTIAL_ENV_NAMES: readonly string[] = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_BEARER_TOKEN_BEDROCK',
  'AWS_PROFILE',
  'ANTHROPIC_VERTEX_PROJECT_ID',
  'CLOUD_ML_REGION',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'ANTHROPIC_BASE_URL',
];

function nonEmpty(value: string, what: string): string {
  if (value.trim() === '') throw new Error(`claude-code: ${what} is empty`);
  return value;
}

/** The environment variables of one kind of credentials, and the values among them that are secret. */
export function credentialEnv(credentials: Credentials): { env: Record<string, string>; secrets: string[] } {
  if ('apiKey' in credentials) {
    const key = nonEmpty(credentials.apiKey, 'apiKey');
    return { env: { ANTHROPIC_API_KEY: key }, secrets: [key] };
  }
  if ('oauthToken' in credentials) {
    const token = nonEmpty(credentials.oauthToken, 'oauthToken');
    return { env: { CLAUDE_CODE_OAUTH_TOKEN: token }, secrets: [token] };
  }
  if ('bedrock' in credentials) {
    const b = credentials.bedrock;
    const env: Record<string, string> = { CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: nonEmpty(b.region, 'bedrock.region') };
    const secrets: string[] = [];
    if (b.accessKeyId !== undefined) {
      env.AWS_ACCESS_KEY_ID = b.accessKeyId;
      secrets.push(b.accessKeyId);
    }
    if (b.secretAccessKey !== undefined) {
      env.AWS_SECRET_ACCESS_KEY = b.secretAccessKey;
      secrets.push(b.secretAccessKey);
    }
    if (b.sessionToken !== undefined) {
      env.AWS_SESSION_TOKEN = b.sessionToken;
      secrets.push(b.sessionToken);
    }
    if (b.bearerToken !== undefined) {
      env.AWS_BEARER_TOKEN_BEDROCK = b.bearerToken;
      secrets.push(b.bearerToken);
    }
    if (b.profile !== undefined) env.AWS_PROFILE = b.profile;
    if ((b.accessKeyId === undefined) !== (b.secretAccessKey === undefined)) {
      throw new Error('claude-code: bedrock.accessKeyId and bedrock.secretAccessKey go together');
    }
    return { env, secrets };
  }
  const v = credentials.vertex;
  const env: Record<string, string> = {
    CLAUDE_CODE_USE_VERTEX: '1',
    ANTHROPIC_VERTEX_PROJECT_ID: nonEmpty(v.projectId, 'vertex.projectId'),
    CLOUD_ML_REGION: nonEmpty(v.region, 'vertex.region'),
  };
  if (v.credentialsFile !== undefined) env.GOOGLE_APPLICATION_CREDENTIALS = v.credentialsFile;
  return { env, secrets: [] };
}

export function buildClaudeInvocation(opts: InvocationOptions): Invocation {
  if (!Number.isInteger(opts.maxTurns) || opts.maxTurns < 1) throw new Error(`claude-code: maxTurns must be a positive integer, got ${opts.maxTurns}`);
  if (!(opts.maxBudgetUsd > 0)) throw new Error(`claude-code: maxBudgetUsd must be positive, got ${opts.maxBudgetUsd}`);
  nonEmpty(opts.model, 'model');

  const { env: credEnv, secrets } = credentialEnv(opts.credentials);
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.extraEnv ?? {})) {
    if (CREDENTIAL_ENV_NAMES.includes(k)) throw new Error(`claude-code: extraEnv may not set ${k}; use credentials/baseUrl`);
    extra[k] = v;
  }
  const env: Record<string, string> = { ...extra, ...BASE_ENV, ...credEnv };
  if (opts.baseUrl !== undefined) env.ANTHROPIC_BASE_URL = opts.baseUrl;

  const viaStdin = Buffer.byteLength(opts.prompt, 'utf8') > MAX_ARGV_PROMPT_BYTES;
  const argv = [opts.binary ?? 'claude', '-p'];
  if (!viaStdin) argv.push(opts.prompt);
  argv.push(
    '--output-format',
    'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
    '--model',
    opts.model,
    '--max-turns',
    String(opts.maxTurns),
    '--max-budget-usd',
    String(opts.maxBudgetUsd),
    '--no-session-persistence',
  );
  const inv: Invocation = { argv, env, cwd: opts.cwd ?? '/app', redact: secrets };
  if (viaStdin) inv.stdin = opts.prompt;
  return inv;
}

/** `2.1.330 (Claude Code)` -> `2.1.330`. */
export function parseClaudeVersion(output: string): string | null {
  const m = /(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/.exec(output);
  return m?.[1] ?? null;
}

/**
 * The package that ships the CLI: the native linux-x64 glibc binary, what task images run. It is a self-contained
 * executable (no Node.js inside the container, and the daemon never runs it under its own node): the daemon only
 * copies it into the tool volume. So the `@anthropic-ai/claude-code` wrapper package is not a dependency: it exists to
 * put `claude` on a Node user's PATH, declares node >= 22 for that, and needs an install script to pick this binary.
 */
export const CLAUDE_CODE_PACKAGE = '@anthropic-ai/claude-code-linux-x64';

function packageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${CLAUDE_CODE_PACKAGE}/package.json`));
  } catch {
    throw new Error(
      `claude-code: ${CLAUDE_CODE_PACKAGE} is not installed; it is the agent binary task containers run (linux x64, glibc), ` +
        'an optional dependency that npm installs only on such a host: run npm ci there',
    );
  }
}

/** Path of the native CLI binary, to copy into the tool volume or run on the host. It needs glibc in the image. */
export function installedBinaryPath(): string {
  return join(packageDir(), 'claude');
}

function installedVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export const claudeCode: Agent = {
  name: 'claude-code',
  version: installedVersion,
  parseVersion: parseClaudeVersion,
  buildInvocation: buildClaudeInvocation,
  parseTranscript(lines: Iterable<string> | string): AgentResult {
    return parseStreamJson(lines);
  },
};
