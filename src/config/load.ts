/**
 * Reads agentdrift.yaml (or the embedded defaults), applies environment overrides for secrets and validates
 * everything once, at start. A bad file gives a ConfigError naming the key, the value and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, describeIssue, describeValue, formatPath } from '../domain/issues.ts';
import { CREDENTIAL_NAME, configSchema, type Config, type Secrets } from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'agentdrift.yaml';

/** Keys whose values are never echoed back, even in an error: the length is shown, not the value. */
const SECRET_KEYS = new Set(['apiToken']);

/**
 * True when the value at `p` must never appear in an error: anything under a track's agentEnv (where a credential
 * is refused, so one may well have been put there) and any key named like a credential.
 */
function isSecretPath(p: readonly PropertyKey[]): boolean {
  return p.some((k) => k === 'agentEnv') || p.some((k) => typeof k === 'string' && CREDENTIAL_NAME.test(k));
}

function describeConfigIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const last = String(issue.path.at(-1));
  if (issue.code === 'unrecognized_keys' || SECRET_KEYS.has(last) || !isSecretPath(issue.path)) {
    return describeIssue(issue, raw, { secretKeys: SECRET_KEYS });
  }
  return `${formatPath(issue.path)}: value not shown; ${issue.message}`;
}

export class ConfigError extends InputError {}

export interface LoadedConfig {
  config: Config;
  secrets: Secrets;
  /** The file read, or null when the embedded defaults are in force. */
  source: string | null;
}

export interface LoadOptions {
  /** Explicit path (from --config); wins over AGENTDRIFT_CONFIG. */
  path?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Decides which file to read: --config, then AGENTDRIFT_CONFIG, then ./agentdrift.yaml when present, else none. */
export function resolveConfigPath(opts: LoadOptions): { file: string | null; explicit: boolean } {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const given = opts.path ?? env.AGENTDRIFT_CONFIG;
  if (given) return { file: path.resolve(cwd, given), explicit: true };
  const implicit = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  return { file: existsSync(implicit) ? implicit : null, explicit: false };
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const { file } = resolveConfigPath(opts);
  let raw: unknown = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
    raw = parseYaml(readFileSync(file, 'utf8'), file);
  }
  const loaded = parseConfig(raw, env, file ?? 'embedded defaults');
  // Paths in the file are relative to the file (to the working directory for the embedded defaults).
  const base = file ? path.dirname(file) : (opts.cwd ?? process.cwd());
  loaded.config.dataDir = path.resolve(base, loaded.config.dataDir);
  for (const t of loaded.config.tracks) {
    if (t.suite.dataset.kind === 'file') t.suite.dataset.path = path.resolve(base, t.suite.dataset.path);
    if (t.suite.harness.kind === 'local') t.suite.harness.path = path.resolve(base, t.suite.harness.path);
  }
  return { ...loaded, source: file };
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(`config file ${file} is not valid YAML`, doc.errors.map((e) => e.message));
  }
  let value: unknown;
  try {
    // An alias expanding to more than 100 copies is a "billion laughs" document, not a config.
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new ConfigError(`config file ${file} is not a usable YAML document: ${(e as Error).message}`);
  }
  return value ?? {};
}

/**
 * Defaults the environment gives `server.host` and `server.port` when the document does not set them: the file wins,
 * so an explicit `host: 127.0.0.1` stays. The container image sets AGENTDRIFT_DEFAULT_HOST=0.0.0.0, so that a mounted
 * file without `server.host` still listens where the published port reaches it.
 */
export const SERVER_DEFAULT_ENV = { host: 'AGENTDRIFT_DEFAULT_HOST', port: 'AGENTDRIFT_DEFAULT_PORT' } as const;

function withServerDefaults(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, where: string): Record<string, unknown> {
  const server = raw.server ?? {};
  // Anything but a mapping is the schema's to reject, with its own message.
  if (typeof server !== 'object' || server === null || Array.isArray(server)) return raw;
  const given = server as Record<string, unknown>;
  const defaults: Record<string, unknown> = {};
  // A bad value is an error even where the file overrides it: it is a mistake either way.
  const host = env[SERVER_DEFAULT_ENV.host];
  if (host !== undefined && host !== '') {
    if (/\s/.test(host)) throw new ConfigError(`${where}: ${SERVER_DEFAULT_ENV.host}: got ${JSON.stringify(host)}; expected a listen address such as 0.0.0.0`);
    if (given.host === undefined) defaults.host = host;
  }
  const port = env[SERVER_DEFAULT_ENV.port];
  if (port !== undefined && port !== '') {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65_535) throw new ConfigError(`${where}: ${SERVER_DEFAULT_ENV.port}: got ${JSON.stringify(port)}; expected a port number from 0 to 65535`);
    if (given.port === undefined) defaults.port = Number(port);
  }
  return Object.keys(defaults).length ? { ...raw, server: { ...defaults, ...given } } : raw;
}

/** Validates an already-parsed document; pure apart from reading `env`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv, where = 'config'): Omit<LoadedConfig, 'source'> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: expected a mapping of keys at the top level, got ${describeValue(raw)}`);
  }
  const result = configSchema.safeParse(withServerDefaults(raw as Record<string, unknown>, env, where));
  if (!result.success) {
    throw new ConfigError(`${where} is invalid`, result.error.issues.map((i) => describeConfigIssue(i, raw)));
  }
  const config = result.data;
  const secrets: Secrets = {};
  const token = env.AGENTDRIFT_API_TOKEN || config.server.apiToken;
  if (token) {
    if (token.length < 16) throw new ConfigError(`${where}: AGENTDRIFT_API_TOKEN: expected a token of at least 16 characters`);
    secrets.apiToken = token;
  }
  if (env.ANTHROPIC_API_KEY) secrets.anthropicApiKey = env.ANTHROPIC_API_KEY;
  if (env.CLAUDE_CODE_OAUTH_TOKEN) secrets.claudeOauthToken = env.CLAUDE_CODE_OAUTH_TOKEN;
  if (env.ANTHROPIC_BASE_URL) config.anthropic.baseUrl = env.ANTHROPIC_BASE_URL;
  if (env.CLAUDE_CODE_USE_BEDROCK === '1') {
    if (!env.AWS_REGION) throw new ConfigError(`${where}: CLAUDE_CODE_USE_BEDROCK=1 needs AWS_REGION`);
    if (!env.AWS_ACCESS_KEY_ID !== !env.AWS_SECRET_ACCESS_KEY) throw new ConfigError(`${where}: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together`);
    const optional = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN, bearerToken: env.AWS_BEARER_TOKEN_BEDROCK, profile: env.AWS_PROFILE };
    secrets.bedrock = { region: env.AWS_REGION, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v)) };
  }
  if (env.CLAUDE_CODE_USE_VERTEX === '1') {
    if (!env.ANTHROPIC_VERTEX_PROJECT_ID || !env.CLOUD_ML_REGION) throw new ConfigError(`${where}: CLAUDE_CODE_USE_VERTEX=1 needs ANTHROPIC_VERTEX_PROJECT_ID and CLOUD_ML_REGION`);
    secrets.vertex = { projectId: env.ANTHROPIC_VERTEX_PROJECT_ID, region: env.CLOUD_ML_REGION };
  }
  // Secrets never travel inside the config object, which is logged and served.
  delete config.server.apiToken;
  return { config, secrets };
}
