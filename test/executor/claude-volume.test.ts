/**
 * The real Claude Code binary (~380 MB, from node_modules) streamed into a named volume once, then run read-only from
 * a fixture task container (glibc from the Debian base), with no host path shared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { KEEP_ALIVE } from '../../src/executor/runtime.ts';
import { ensureFixtureImages, type FixtureImages } from '../helpers/images.ts';
import { removeLabelled, testLabels } from '../helpers/docker.ts';

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve('@anthropic-ai/claude-code-linux-x64/package.json'));
const binary = path.join(pkgDir, 'claude');
const version = (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;

const runtime = new DockerRuntime();
const labels = testLabels('claude-volume');
const volume = `agentdrift-test-claude-${version}-${randomUUID().slice(0, 8)}`;
let images: FixtureImages;

beforeAll(async () => {
  images = await ensureFixtureImages();
}, 15 * 60_000);

afterAll(async () => {
  await removeLabelled(labels);
  await runtime.removeVolume(volume);
});

describe('Claude Code in a tool volume', () => {
  it('streams the binary into the volume and runs it read-only in a task container', async () => {
    expect(statSync(binary).size).toBeGreaterThan(100 * 1024 * 1024);
    await runtime.ensureToolVolume(volume, { claude: { sourcePath: binary, mode: 0o755 } }, { helperImage: images.base, contentKey: `claude-code-${version}`, labels });
    const task = images.tasks[0]!;
    const c = await runtime.createContainer({
      image: task.image,
      labels,
      entrypoint: KEEP_ALIVE,
      networkMode: 'none',
      mounts: [{ volume, target: '/opt/agentdrift/bin' }],
    });
    try {
      await runtime.start(c);
      const size = await runtime.exec(c, ['stat', '-c', '%s %a', '/opt/agentdrift/bin/claude']);
      expect(size.stdout.trim()).toBe(`${statSync(binary).size} 755`);
      const v = await runtime.exec(c, ['/opt/agentdrift/bin/claude', '--version'], {
        env: { DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', HOME: '/tmp' },
        timeoutMs: 60_000,
      });
      expect(v.exitCode, v.stderr).toBe(0);
      expect(v.stdout).toContain(version);
      const w = await runtime.exec(c, ['sh', '-c', 'rm /opt/agentdrift/bin/claude']);
      expect(w.exitCode).not.toBe(0);
    } finally {
      await runtime.remove(c);
    }
  });
});
