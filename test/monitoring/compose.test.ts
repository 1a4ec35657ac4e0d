/**
 * docker-compose.yml, Dockerfile and .dockerignore. Compose validates the file (`docker compose config`, or
 * `docker-compose config` from Debian's docker-compose package); the images cannot be pulled on the test machines,
 * so the stack is not started here: its Prometheus and Alertmanager parts run from Debian's packages in the other
 * monitoring tests. What ties the files together (names, ports, mount points) is checked below.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../helpers/prometheus.ts';
import { parseConfig } from '../../src/config/index.ts';
import { readRepo } from './tools.ts';

/** The compose command available here: `docker compose` (plugin) or `docker-compose` (v1). */
function composeCommand(): string[] | undefined {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (plugin.status === 0) return ['docker', 'compose'];
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (v1.status === 0) return ['docker-compose'];
  return undefined;
}

function composeConfig(env: Record<string, string>, file = 'docker-compose.yml', cwd = REPO): { status: number | null; out: string } {
  const cmd = composeCommand();
  if (!cmd) {
    throw new Error(
      'neither `docker compose` nor `docker-compose` is installed: install Debian\'s docker-compose package ' +
        '(apt-get install -y --no-install-recommends docker-compose) to validate docker-compose.yml',
    );
  }
  // A clean environment: no secret of the caller's shell can end up in the output.
  const r = spawnSync(cmd[0] as string, [...cmd.slice(1), '--file', file, '--project-directory', '.', 'config', '--quiet'], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

type Service = {
  build?: unknown;
  image?: string;
  volumes?: string[];
  ports?: string[];
  group_add?: string[];
  command?: string[];
  environment?: string[] | Record<string, string>;
};

const compose = parse(readRepo('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const mounts = (s: Service) => Object.fromEntries((s.volumes ?? []).map((v) => v.split(':')).map(([from, to]) => [from, to]));

describe('docker-compose.yml', () => {
  it('is valid for compose', () => {
    const r = composeConfig({ DOCKER_GID: '999' });
    expect(r.status, r.out).toBe(0);
  });

  it('an invalid file is rejected (the validation is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-compose-'));
    try {
      writeFileSync(join(dir, 'docker-compose.yml'), readRepo('docker-compose.yml').replace('restart: unless-stopped', 'restart: unless-stopped\n    imagee: typo'));
      const r = composeConfig({ DOCKER_GID: '999' }, 'docker-compose.yml', dir);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('imagee');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without the Docker socket\'s group, and says how to get it', () => {
    const r = composeConfig({});
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('DOCKER_GID');
    expect(r.out).toContain('stat -c %g /var/run/docker.sock');
  });

  it('runs agentdrift, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agentdrift', 'alertmanager', 'grafana', 'prometheus']);
  });

  it('mounts the Docker socket and the data volume into agentdrift, in the socket\'s group', () => {
    const a = svc('agentdrift');
    expect(a.build).toBe('.');
    expect(mounts(a)['/var/run/docker.sock']).toBe('/var/run/docker.sock');
    expect(mounts(a)['agentdrift-data']).toBe('/data');
    expect(Object.keys(compose.volumes)).toContain('agentdrift-data');
    expect(a.group_add).toEqual([expect.stringMatching(/^\$\{DOCKER_GID:\?/)]);
    // Secrets pass through from the shell, never written in the file.
    expect(a.environment).toEqual(expect.arrayContaining(['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'AGENTDRIFT_API_TOKEN']));
  });

  it('gives Prometheus the shipped config and rules where prometheus.yml looks for them', () => {
    const p = svc('prometheus');
    const m = mounts(p);
    expect(m['./prometheus/prometheus.yml']).toBe('/etc/prometheus/prometheus.yml');
    expect(p.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const cfg = parse(readRepo('prometheus/prometheus.yml')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(cfg.rule_files).toEqual(['rules/agentdrift.rules.yml']);
    expect(m['./prometheus/rules']).toBe('/etc/prometheus/rules');
    // The scrape target and the Alertmanager are the compose services, on the ports they listen on.
    expect(cfg.scrape_configs.find((j) => j.job_name === 'agentdrift')?.static_configs[0]?.targets).toEqual(['agentdrift:9477']);
    expect(cfg.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);
    // The image's config leaves the port at its default, which the image exposes.
    expect(readRepo('Dockerfile')).not.toMatch(/' {2}port: /);
    expect(parseConfig({}, {}).config.server.port).toBe(9477);
    expect(readRepo('Dockerfile')).toMatch(/^EXPOSE 9477$/m);
  });

  it('gives Alertmanager the shipped config', () => {
    const a = svc('alertmanager');
    expect(mounts(a)['./prometheus/alertmanager.yml']).toBe('/etc/alertmanager/alertmanager.yml');
    expect(a.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
  });

  it('pins every image to a version, Prometheus to one with keep_firing_for (>= 2.42)', () => {
    for (const name of ['prometheus', 'alertmanager', 'grafana']) {
      expect(svc(name).image, name).toMatch(/^[a-z0-9/_-]+:v?\d+\.\d+\.\d+$/);
    }
    const [, minor] = /prom\/prometheus:v2\.(\d+)\./.exec(svc('prometheus').image ?? '') ?? [];
    expect(Number(minor)).toBeGreaterThanOrEqual(42);
  });

  it('publishes every port on loopback only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });
});

describe('Dockerfile', () => {
  const text = readRepo('Dockerfile');
  const froms = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1], stage: m[2] }));

  it('builds in two stages: a build stage runs npm ci, npm run build and prunes dev dependencies, node:20-bookworm-slim runs dist/', () => {
    expect(froms.length).toBe(2);
    expect(froms[0]?.stage).toBe('build');
    expect(froms[1]?.image).toBe('node:20-bookworm-slim');
    const build = text.slice(0, text.search(/^FROM\s+node:20-bookworm-slim/m));
    expect(build).toMatch(/^RUN npm ci\b/m);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/COPY --from=build \/app\/dist/);
  });

  it('runs as a non-root user with /data as a volume and AGENTDRIFT_CONFIG set', () => {
    const runtime = text.slice(text.search(/^FROM\s+node:20-bookworm-slim/m));
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]/m);
    expect(runtime).toMatch(/AGENTDRIFT_CONFIG=\/etc\/agentdrift\/agentdrift.yaml/);
    expect(runtime).toMatch(/'dataDir: \/data'/);
    // Listening on all interfaces is the image's default for any config without server.host, the image's own or a
    // mounted one (test/cli/healthcheck.test.ts runs a daemon with these ENV lines).
    expect(runtime).toMatch(/^\s+AGENTDRIFT_DEFAULT_HOST=0\.0\.0\.0$/m);
    expect(runtime).not.toMatch(/' {2}host: /);
    // node's own flags (the daemon's small young generation, as npm start runs it) may stand before the script.
    expect(runtime).toMatch(/^ENTRYPOINT \["node", (?:"--[a-z-]+=\d+", )*"bin\/agentdrift.js"\]/m);
    expect(runtime).toContain('"--max-semi-space-size=2"');
  });

  it('gets the Claude Code CLI from an exact version in package.json, the one package-lock.json resolves', () => {
    // The native linux-x64 glibc binary itself (what task images run), not the npm wrapper that installs it for a
    // Node user (it declares node >= 22 and runs an install script; the daemon never runs the CLI under its node).
    const pkg = JSON.parse(readRepo('package.json')) as { dependencies: Record<string, string>; optionalDependencies: Record<string, string> };
    const pinned = pkg.optionalDependencies['@anthropic-ai/claude-code-linux-x64'];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies['@anthropic-ai/claude-code']).toBeUndefined();
    const lock = JSON.parse(readRepo('package-lock.json')) as { packages: Record<string, { version?: string; engines?: unknown; hasInstallScript?: boolean }> };
    const entry = lock.packages['node_modules/@anthropic-ai/claude-code-linux-x64'];
    expect(entry?.version).toBe(pinned);
    expect(entry?.engines).toBeUndefined();
    expect(entry?.hasInstallScript).toBeUndefined();
    expect(lock.packages['node_modules/@anthropic-ai/claude-code']).toBeUndefined();
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, local data, secrets and history out of the build context', () => {
    const lines = readRepo('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'data', '.env', 'agentdrift.yaml']));
    // ...but not what the build needs.
    for (const needed of ['src', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(lines).not.toContain(needed);
  });
});
