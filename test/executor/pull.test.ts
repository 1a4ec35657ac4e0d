/**
 * ensureImage pulling for real, from a registry served by the test on 127.0.0.1 (the engine speaks plain HTTP to
 * loopback registries), with progress reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { InfraError, type PullProgress } from '../../src/executor/runtime.ts';
import { dockerClient } from '../helpers/docker.ts';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.ts';

const runtime = new DockerRuntime();
let registry: FakeRegistry;
const pulled: string[] = [];

beforeAll(async () => {
  registry = await startFakeRegistry();
});

afterAll(async () => {
  for (const ref of pulled) await dockerClient().getImage(ref).remove({ force: true }).catch(() => undefined);
  await registry.close();
});

describe('ensureImage with pull', () => {
  it('pulls a missing image with progress, then finds it locally without pulling again', async () => {
    const name = `agentdrift/pull-${randomUUID().slice(0, 8)}`;
    const ref = await registry.addImage(name, 'v1', { 'hello.txt': 'hello from the fake registry\n', 'data.bin': Buffer.alloc(300_000, 7) });
    pulled.push(ref);
    const events: PullProgress[] = [];
    expect(await runtime.ensureImage(ref, { pull: true, onProgress: (p) => events.push(p) })).toBe('pulled');
    const info = await dockerClient().getImage(ref).inspect();
    expect(info.RepoTags).toContain(ref);
    const statuses = events.map((e) => e.status);
    expect(statuses.some((s) => /Pull complete|Already exists/.test(s))).toBe(true);
    expect(statuses.some((s) => /Downloaded newer image|Image is up to date/.test(s))).toBe(true);
    expect(events.some((e) => e.id !== undefined)).toBe(true);

    const manifestGets = registry.requests.filter((r) => r.includes('/manifests/')).length;
    expect(await runtime.ensureImage(ref, { pull: true })).toBe('present');
    expect(registry.requests.filter((r) => r.includes('/manifests/')).length).toBe(manifestGets);
  });

  it('a tag the registry does not have is InfraError(pull_failed)', async () => {
    const e = await runtime.ensureImage(`${registry.host}/agentdrift/absent:v9`, { pull: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect((e as InfraError).reason).toBe('pull_failed');
    expect((e as InfraError).message).toMatch(/absent/);
  });

  it('pulls :latest when the reference has no tag', async () => {
    const name = `agentdrift/pull-latest-${randomUUID().slice(0, 8)}`;
    const ref = await registry.addImage(name, 'latest', { 'x.txt': 'x' });
    pulled.push(ref);
    await runtime.ensureImage(`${registry.host}/${name}`, { pull: true });
    expect((await dockerClient().getImage(ref).inspect()).RepoTags).toContain(ref);
  });
});
