import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BASE_ENV, buildClaudeInvocation, claudeCode, credentialEnv, installedBinaryPath, MAX_ARGV_PROMPT_BYTES } from '../../src/agent/claude-code.ts';
import { buildPrompt } from '../../src/agent/prompt.ts';
import type { InvocationOptions } from '../../src/agent/types.ts';

const base: InvocationOptions = {
  prompt: 'Fix the bug',
  model: 'claude-sonnet-4-5',
  maxTurns: 250,
  maxBudgetUsd: 10,
  credentials: { apiKey: 'sk-ant-secret-key-1' },
};

describe('claude-code invocation', () => {
  it('builds the documented argv, in /app by default', () => {
    const inv = claudeCode.buildInvocation(base);
    expect(inv.argv).toEqual([
      'claude',
      '-p',
      'Fix the bug',
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      '--model',
      'claude-sonnet-4-5',
      '--max-turns',
      '250',
      '--max-budget-usd',
      '10',
      '--no-session-persistence',
    ]);
    expect(inv.cwd).toBe('/app');
    expect(inv.stdin).toBeUndefined();
  });

  it('sets the sandbox/no-update/no-traffic variables and the API key, and lists the key for redaction', () => {
    const inv = buildClaudeInvocation({ ...base, baseUrl: 'http://127.0.0.1:9', binary: '/opt/agentdrift/bin/claude', cwd: '/repo' });
    expect(inv.env).toEqual({
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ANTHROPIC_API_KEY: 'sk-ant-secret-key-1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(inv.argv[0]).toBe('/opt/agentdrift/bin/claude');
    expect(inv.cwd).toBe('/repo');
    expect(inv.redact).toEqual(['sk-ant-secret-key-1']);
  });

  it('passes an OAuth token as CLAUDE_CODE_OAUTH_TOKEN and never also an API key', () => {
    const inv = buildClaudeInvocation({ ...base, credentials: { oauthToken: 'sk-ant-oat01-tok' } });
    expect(inv.env.CLAUDE_CODE_OAUTH_TOKEN).toBe('sk-ant-oat01-tok');
    expect(inv.env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(inv.redact).toEqual(['sk-ant-oat01-tok']);
  });

  it('maps Bedrock settings to CLAUDE_CODE_USE_BEDROCK and AWS_*; every AWS secret is redacted', () => {
    const { env, secrets } = credentialEnv({
      bedrock: { region: 'us-east-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrSECRET', sessionToken: 'FwoSESSION', profile: 'p' },
    });
    expect(env).toEqual({
      CLAUDE_CODE_USE_BEDROCK: '1',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrSECRET',
      AWS_SESSION_TOKEN: 'FwoSESSION',
      AWS_PROFILE: 'p',
    });
    expect(secrets.sort()).toEqual(['AKIAEXAMPLE', 'FwoSESSION', 'wJalrSECRET']);
    const bearer = credentialEnv({ bedrock: { region: 'eu-west-1', bearerToken: 'ABSKbearer' } });
    expect(bearer.env.AWS_BEARER_TOKEN_BEDROCK).toBe('ABSKbearer');
    expect(bearer.secrets).toEqual(['ABSKbearer']);
    expect(() => credentialEnv({ bedrock: { region: 'x', accessKeyId: 'only-half' } })).toThrow(/go together/);
  });

  it('maps Vertex settings to CLAUDE_CODE_USE_VERTEX, project and region', () => {
    const { env, secrets } = credentialEnv({ vertex: { projectId: 'proj', region: 'us-east5', credentialsFile: '/secrets/sa.json' } });
    expect(env).toEqual({
      CLAUDE_CODE_USE_VERTEX: '1',
      ANTHROPIC_VERTEX_PROJECT_ID: 'proj',
      CLOUD_ML_REGION: 'us-east5',
      GOOGLE_APPLICATION_CREDENTIALS: '/secrets/sa.json',
    });
    expect(secrets).toEqual([]);
  });

  it('refuses empty credentials, bad limits, and extraEnv that would override credentials', () => {
    expect(() => buildClaudeInvocation({ ...base, credentials: { apiKey: '  ' } })).toThrow(/apiKey is empty/);
    expect(() => buildClaudeInvocation({ ...base, maxTurns: 0 })).toThrow(/maxTurns/);
    expect(() => buildClaudeInvocation({ ...base, maxTurns: 1.5 })).toThrow(/maxTurns/);
    expect(() => buildClaudeInvocation({ ...base, maxBudgetUsd: 0 })).toThrow(/maxBudgetUsd/);
    expect(() => buildClaudeInvocation({ ...base, model: '' })).toThrow(/model/);
    expect(() => buildClaudeInvocation({ ...base, extraEnv: { ANTHROPIC_API_KEY: 'other' } })).toThrow(/extraEnv may not set/);
    expect(() => buildClaudeInvocation({ ...base, extraEnv: { ANTHROPIC_BASE_URL: 'x' } })).toThrow(/extraEnv may not set/);
  });

  it('extraEnv cannot switch the sandbox variables off', () => {
    const inv = buildClaudeInvocation({ ...base, extraEnv: { IS_SANDBOX: '0', CLAUDE_CODE_MAX_RETRIES: '2' } });
    expect(inv.env.IS_SANDBOX).toBe(BASE_ENV.IS_SANDBOX);
    expect(inv.env.CLAUDE_CODE_MAX_RETRIES).toBe('2');
  });

  it('sends a prompt too long for one argv entry through stdin', () => {
    const long = 'é'.repeat(MAX_ARGV_PROMPT_BYTES / 2 + 1); // over the limit in bytes, under it in characters
    const inv = buildClaudeInvocation({ ...base, prompt: long });
    expect(inv.stdin).toBe(long);
    expect(inv.argv).not.toContain(long);
    expect(inv.argv.slice(0, 3)).toEqual(['claude', '-p', '--output-format']);
  });

  it('knows the version it ships and where its binary is', () => {
    const pkg = JSON.parse(readFileSync('node_modules/@anthropic-ai/claude-code-linux-x64/package.json', 'utf8')) as { version: string };
    expect(claudeCode.version()).toBe(pkg.version);
    expect(claudeCode.parseVersion('2.1.330 (Claude Code)\n')).toBe('2.1.330');
    expect(claudeCode.parseVersion('garbage')).toBeNull();
    expect(existsSync(installedBinaryPath())).toBe(true);
  });

  it('ships a native executable, which no node runs: the daemon only copies it into the tool volume', () => {
    // An ELF file (x86-64) with its own runtime inside: the node the daemon runs on has no say in it, so the
    // package needs no node engine (it declares none) and agentdrift's own engines range is the daemon's alone.
    const head = readFileSync(installedBinaryPath()).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(18)).toBe(62); // e_machine: EM_X86_64
    const pkg = JSON.parse(readFileSync('node_modules/@anthropic-ai/claude-code-linux-x64/package.json', 'utf8')) as { engines?: unknown; scripts?: unknown };
    expect(pkg.engines).toBeUndefined();
    expect(pkg.scripts).toBeUndefined();
  });
});

describe('official prompt', () => {
  it('joins problem statement, requirements and interface exactly as the harness does', () => {
    expect(buildPrompt({ problemStatement: 'P\n', requirements: '- R', interface: 'No new interfaces are introduced' })).toBe(
      'P\n\n\nRequirements:\n- R\n\nNew interfaces introduced:\nNo new interfaces are introduced',
    );
    expect(buildPrompt({ problemStatement: '', requirements: '', interface: '' })).toBe('\n\nRequirements:\n\n\nNew interfaces introduced:\n');
  });
});
