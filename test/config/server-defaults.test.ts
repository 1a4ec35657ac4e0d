/**
 * AGENTDRIFT_DEFAULT_HOST and AGENTDRIFT_DEFAULT_PORT (issue 10 item 12): defaults for server.host / server.port that
 * apply only where the file does not set the key. The container image sets AGENTDRIFT_DEFAULT_HOST=0.0.0.0, so a
 * mounted file without server.host listens where compose's published port reaches it, and one that says
 * `host: 127.0.0.1` keeps it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.ts';
import { daemonUrl } from '../../src/adapters/cli/healthcheck.ts';

const server = (raw: unknown, env: NodeJS.ProcessEnv) => parseConfig(raw, env).config.server;

describe('server defaults from the environment', () => {
  it('without them: 127.0.0.1:9477', () => {
    expect(server({}, {})).toMatchObject({ host: '127.0.0.1', port: 9477 });
  });

  it('apply where the document has no server.host / server.port (also with no server section at all)', () => {
    expect(server({}, { AGENTDRIFT_DEFAULT_HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', port: 9477 });
    expect(server({ server: { shutdownGraceSeconds: 5 } }, { AGENTDRIFT_DEFAULT_HOST: '0.0.0.0', AGENTDRIFT_DEFAULT_PORT: '9500' })).toMatchObject({
      host: '0.0.0.0',
      port: 9500,
      shutdownGraceSeconds: 5,
    });
  });

  it('never override what the document says', () => {
    const env = { AGENTDRIFT_DEFAULT_HOST: '0.0.0.0', AGENTDRIFT_DEFAULT_PORT: '9500' };
    expect(server({ server: { host: '127.0.0.1' } }, env)).toMatchObject({ host: '127.0.0.1', port: 9500 });
    expect(server({ server: { port: 8080 } }, env)).toMatchObject({ host: '0.0.0.0', port: 8080 });
  });

  it('an empty value is no default', () => {
    expect(server({}, { AGENTDRIFT_DEFAULT_HOST: '', AGENTDRIFT_DEFAULT_PORT: '' })).toMatchObject({ host: '127.0.0.1', port: 9477 });
  });

  it('a bad value is an error naming the variable, even where the file sets the key', () => {
    for (const [env, raw] of [
      [{ AGENTDRIFT_DEFAULT_PORT: 'http' }, {}],
      [{ AGENTDRIFT_DEFAULT_PORT: '70000' }, {}],
      [{ AGENTDRIFT_DEFAULT_PORT: '-1' }, { server: { port: 9477 } }],
      [{ AGENTDRIFT_DEFAULT_HOST: '0.0.0.0 ' }, {}],
    ] as const) {
      const name = Object.keys(env)[0] as string;
      expect(() => parseConfig(raw, env), name).toThrow(ConfigError);
      expect(() => parseConfig(raw, env), name).toThrow(new RegExp(`${name}: got "${(env as Record<string, string>)[name]}"`));
    }
  });

  it('a server section that is not a mapping is still the schema\'s error', () => {
    expect(() => parseConfig({ server: 'x' }, { AGENTDRIFT_DEFAULT_HOST: '0.0.0.0' })).toThrow(/server/);
  });

  it('reach a loaded file the way every command loads it, and the address the commands call', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'agentdrift.yaml');
    writeFileSync(file, 'dataDir: /data\n');
    const { config } = loadConfig({ path: file, env: { AGENTDRIFT_DEFAULT_HOST: '0.0.0.0', AGENTDRIFT_DEFAULT_PORT: '9600' } });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 9600 });
    // A wildcard listen address is reached on the loopback.
    expect(daemonUrl(config)).toBe('http://127.0.0.1:9600');
    expect(daemonUrl({ ...config, server: { ...config.server, host: '::1' } })).toBe('http://[::1]:9600');
  });
});
