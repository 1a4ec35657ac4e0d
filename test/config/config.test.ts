import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.ts';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('starts on documented defaults with no file: one claude-code track, 50 tasks, daily, ./data', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const { config, source } = loadConfig({ cwd: dir, env: {} });
    expect(source).toBeNull();
    expect(config.dataDir).toBe(path.join(dir, 'data'));
    expect(config.tracks).toHaveLength(1);
    const t = config.tracks[0]!;
    expect(t.name).toBe('claude-code');
    expect(t.agent).toBe('claude-code');
    expect(t.suite.size).toBe(50);
    expect(t.suite.dataset.kind).toBe('hub');
    expect(t.schedule).toMatchObject({ cron: '0 3 * * *', timezone: 'UTC' });
    expect(t.baseline).toEqual({ kind: 'auto', days: 14 });
    expect(config.statistics.confidence).toBe(0.95);
  });

  it('reads --config, then AGENTDRIFT_CONFIG, then ./agentdrift.yaml; data dir is relative to the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'agentdrift.yaml'), 'dataDir: implicit\n');
    writeFileSync(path.join(dir, 'other.yaml'), 'dataDir: fromenv\n');
    writeFileSync(path.join(dir, 'flag.yaml'), 'dataDir: fromflag\n');
    expect(loadConfig({ cwd: dir, env: {} }).config.dataDir).toBe(path.join(dir, 'implicit'));
    expect(loadConfig({ cwd: dir, env: { AGENTDRIFT_CONFIG: 'other.yaml' } }).config.dataDir).toBe(path.join(dir, 'fromenv'));
    expect(loadConfig({ cwd: dir, path: 'flag.yaml', env: { AGENTDRIFT_CONFIG: 'other.yaml' } }).config.dataDir).toBe(path.join(dir, 'fromflag'));
  });

  it('a missing explicit file is an error, not a silent fallback to defaults', () => {
    const e = errorOf(() => loadConfig({ path: '/nonexistent/agentdrift.yaml', env: {} }));
    expect(e.message).toContain('/nonexistent/agentdrift.yaml does not exist');
  });

  it('names the key, the value and what was expected for each problem', () => {
    const e = errorOf(() =>
      parseConfig(
        {
          server: { port: 70000 },
          tracks: [
            { name: 'Bad Name', schedule: { cron: '61 * * * *', timezone: 'Mars/Olympus' }, concurrency: 0, sampelsPerTask: 3 },
            { name: 'ok', baseline: { kind: 'fixed', p0: 1.5 } },
            { name: 'ok' },
          ],
        },
        {},
      ),
    );
    const p = e.problems.join('\n');
    expect(p).toContain('server.port: got 70000');
    expect(p).toContain('tracks[0].name: got "Bad Name"; expected lower-case letters');
    expect(p).toContain('tracks[0].schedule.cron: got "61 * * * *"; expected a cron expression');
    expect(p).toContain('tracks[0].schedule.timezone: got "Mars/Olympus"; expected an IANA time zone');
    expect(p).toContain('tracks[0].concurrency: got 0');
    expect(p).toContain('tracks[0].sampelsPerTask: unknown key');
    expect(p).toContain('tracks[1].baseline.p0: got 1.5');
    expect(p).toContain('tracks[2].name: got "ok"; expected a unique track name');
  });

  it('reports YAML syntax errors with the file name', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, 'tracks:\n  - name: a\n   model: [oops\n');
    const e = errorOf(() => loadConfig({ path: f, env: {} }));
    expect(e.message).toContain(`config file ${f} is not valid YAML`);
  });

  it('takes secrets from the environment and keeps them out of the config object', () => {
    const token = 'env-token-0123456789abcdef';
    const { config, secrets } = parseConfig({ server: { apiToken: 'file-token-0123456789' } }, { AGENTDRIFT_API_TOKEN: token, ANTHROPIC_API_KEY: 'sk-test' });
    expect(secrets.apiToken).toBe(token);
    expect(secrets.anthropicApiKey).toBe('sk-test');
    expect(JSON.stringify(config)).not.toContain('token');
  });

  it('never echoes a secret value in an error', () => {
    const e = errorOf(() => parseConfig({ server: { apiToken: 'shortsecret' } }, {}));
    expect(e.message).toContain('server.apiToken: got a secret of 11 characters');
    expect(e.message).not.toContain('shortsecret');
  });

  it('names a credential refused in agentEnv and why, without its value', () => {
    const e = errorOf(() =>
      parseConfig({ tracks: [{ name: 'a', agentEnv: { ANTHROPIC_API_KEY: 'sk-ant-leaked-value', DB_PASSWORD: 'hunter2-leaked', CLAUDE_CODE_MAX_RETRIES: '3' } }] }, {}),
    );
    const p = e.problems.join('\n');
    expect(p).toContain('tracks[0].agentEnv.ANTHROPIC_API_KEY: value not shown; expected no credentials here');
    expect(p).toContain('tracks[0].agentEnv.DB_PASSWORD: value not shown; expected no credentials here');
    expect(e.message).not.toContain('sk-ant-leaked-value');
    expect(e.message).not.toContain('hunter2-leaked');
    expect(p).not.toContain('CLAUDE_CODE_MAX_RETRIES');
  });

  it('rejects a reference baseline whose period is reversed or empty, naming the key, both values and what is expected', () => {
    const reference = (from: string, to: string) => ({ tracks: [{ name: 'a', baseline: { kind: 'reference', from, to } }] });
    const e = errorOf(() => parseConfig(reference('2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z'), {}));
    expect(e.problems).toEqual(['tracks[0].baseline.to: got "2026-01-01T00:00:00Z"; expected an instant after from ("2026-02-01T00:00:00Z"): the reference period runs from "from" to "to"']);
    // Same instant written in two zones is an empty period.
    expect(() => parseConfig(reference('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z'), {})).toThrow(ConfigError);
    const ok = parseConfig(reference('2026-01-01T00:00:00Z', '2026-01-15T00:00:00Z'), {});
    expect(ok.config.tracks[0]!.baseline).toEqual({ kind: 'reference', from: '2026-01-01T00:00:00Z', to: '2026-01-15T00:00:00Z' });
  });

  it('never prints a value under agentEnv, even when the problem is not a credential', () => {
    const e = errorOf(() => parseConfig({ tracks: [{ name: 'a', agentEnv: { 'bad name': 'sk-hidden-1', OTHER: 12345 } }] }, {}));
    const p = e.problems.join('\n');
    expect(p).toContain('tracks[0].agentEnv.bad name: value not shown');
    expect(p).toContain('tracks[0].agentEnv.OTHER: value not shown; Invalid input: expected string');
    expect(p).not.toContain('sk-hidden-1');
    expect(p).not.toContain('12345');
  });
});

describe('agent credentials from the environment', () => {
  it('maps an API key, an OAuth token, Bedrock or Vertex settings, in that order, and names what is missing', async () => {
    const { agentCredentials } = await import('../../src/agent/credentials.ts');
    const creds = (env: NodeJS.ProcessEnv) => agentCredentials(parseConfig({}, env).secrets);
    expect(creds({})).toBeNull();
    expect(creds({ ANTHROPIC_API_KEY: 'k', CLAUDE_CODE_OAUTH_TOKEN: 't' })).toEqual({ apiKey: 'k' });
    expect(creds({ CLAUDE_CODE_OAUTH_TOKEN: 't' })).toEqual({ oauthToken: 't' });
    expect(creds({ CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' })).toEqual({
      bedrock: { region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SK' },
    });
    expect(creds({ CLAUDE_CODE_USE_VERTEX: '1', ANTHROPIC_VERTEX_PROJECT_ID: 'p', CLOUD_ML_REGION: 'us-east5' })).toEqual({ vertex: { projectId: 'p', region: 'us-east5' } });
    expect(() => creds({ CLAUDE_CODE_USE_BEDROCK: '1' })).toThrow('CLAUDE_CODE_USE_BEDROCK=1 needs AWS_REGION');
    expect(() => creds({ CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'r', AWS_ACCESS_KEY_ID: 'AK' })).toThrow('go together');
    expect(() => creds({ CLAUDE_CODE_USE_VERTEX: '1' })).toThrow('needs ANTHROPIC_VERTEX_PROJECT_ID and CLOUD_ML_REGION');
  });
});
