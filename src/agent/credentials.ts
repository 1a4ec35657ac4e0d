/**
 * Whether the agent has credentials, and which kind: the one rule the runner (which refuses an agent run without
 * them), the start-up warning, /readyz and `agentdrift_agent_credentials_present` share. Credentials reach the agent
 * only from the daemon's environment, parsed into {@link Secrets} by the config loader (a track's `agentEnv` may not
 * carry them): so "present" means the secrets hold one complete kind. Names of variables only, never their values.
 */
import type { Logger } from 'pino';
import type { Credentials } from './types.ts';
import type { Secrets } from '../config/index.ts';

/** The agent's credentials, in this order: API key, OAuth token, Bedrock, Vertex (all from the environment). */
export function agentCredentials(secrets: Secrets): Credentials | null {
  if (secrets.anthropicApiKey) return { apiKey: secrets.anthropicApiKey };
  if (secrets.claudeOauthToken) return { oauthToken: secrets.claudeOauthToken };
  if (secrets.bedrock) return { bedrock: secrets.bedrock };
  if (secrets.vertex) return { vertex: secrets.vertex };
  return null;
}

/** What the agent would authenticate with, by the names of the variables; never a value. */
export interface CredentialState {
  present: boolean;
  /** The variables in use, e.g. "ANTHROPIC_API_KEY" or "CLAUDE_CODE_USE_BEDROCK=1 (AWS_REGION, AWS_PROFILE)"; null when absent. */
  source: string | null;
}

/** What to set when there are none: every accepted way, by variable name. */
export const MISSING_CREDENTIALS =
  'no credentials for the agent: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in the environment ' +
  '(or CLAUDE_CODE_USE_BEDROCK=1 with AWS_REGION, or CLAUDE_CODE_USE_VERTEX=1 with ANTHROPIC_VERTEX_PROJECT_ID and CLOUD_ML_REGION)';

export function credentialState(secrets: Secrets): CredentialState {
  const c = agentCredentials(secrets);
  if (!c) return { present: false, source: null };
  if ('apiKey' in c) return { present: true, source: 'ANTHROPIC_API_KEY' };
  if ('oauthToken' in c) return { present: true, source: 'CLAUDE_CODE_OAUTH_TOKEN' };
  if ('bedrock' in c) {
    const b = c.bedrock;
    const names = ['AWS_REGION'];
    if (b.accessKeyId) names.push('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
    if (b.sessionToken) names.push('AWS_SESSION_TOKEN');
    if (b.bearerToken) names.push('AWS_BEARER_TOKEN_BEDROCK');
    if (b.profile) names.push('AWS_PROFILE');
    return { present: true, source: `CLAUDE_CODE_USE_BEDROCK=1 (${names.join(', ')})` };
  }
  return { present: true, source: 'CLAUDE_CODE_USE_VERTEX=1 (ANTHROPIC_VERTEX_PROJECT_ID, CLOUD_ML_REGION)' };
}

/**
 * Near misses in an environment without credentials, by name: a variable set but empty (the loader ignores it), a
 * provider switch set to something other than 1, ANTHROPIC_AUTH_TOKEN (which agentdrift does not pass to the agent).
 */
export function credentialHints(env: NodeJS.ProcessEnv): string[] {
  const hints: string[] = [];
  for (const name of ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']) {
    if (env[name] !== undefined && env[name] === '') hints.push(`${name} is set but empty`);
  }
  for (const name of ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX']) {
    if (env[name] !== undefined && env[name] !== '1') hints.push(`${name} is set, but not to 1`);
  }
  if (env.ANTHROPIC_AUTH_TOKEN) hints.push('ANTHROPIC_AUTH_TOKEN is set, but agentdrift does not pass it to the agent');
  return hints;
}

/**
 * The daemon's start-up line about credentials: a warning naming what to set when there are none (scheduled runs
 * would otherwise fail only when their slot comes), else which variables are in use. Names only.
 */
export function logAgentCredentials(log: Pick<Logger, 'info' | 'warn'>, state: CredentialState, tracks: readonly string[], env: NodeJS.ProcessEnv): void {
  if (state.present) {
    log.info({ credentials: state.source }, 'agent credentials found in the environment');
    return;
  }
  const hints = credentialHints(env);
  log.warn(
    { tracks, ...(hints.length ? { hints } : {}) },
    `${MISSING_CREDENTIALS}; every agent run of ${tracks.join(', ')} fails until they are set and the daemon restarted (oracle runs need none)`,
  );
}
