/**
 * The throwaway containers that fill a tool volume, against the real Docker Engine: they carry the volume-fill role
 * and the volume's name, one left by a crashed process no longer keeps its volume from being refilled, and one of
 * another process filling the volume right now is waited for rather than removed.
 */
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, TOOL_VOLUME_MARKER } from '../../src/executor/docker/index.ts';
import { KEEP_ALIVE, LABEL_MANAGED, LABEL_ROLE, LABEL_VOLUME, ROLE_VOLUME_FILL, type ContainerHandle } from '../../src/executor/runtime.ts';
import { dockerClient, ensureBusyboxImage, inspectContainer, removeLabelled, testLabels } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const labels = testLabels('volume-fill');
const volumes: string[] = [];
let image: string;

beforeAll(async () => {
  image = await ensureBusyboxImage();
});

afterAll(async () => {
  await removeLabelled(labels);
  for (const v of volumes) {
    await removeLabelled({ [LABEL_VOLUME]: v });
    await runtime.removeVolume(v);
  }
});

const files = { tool: { content: '#!/bin/sh\necho filled\n', mode: 0o755 } };

function newVolume(): string {
  const name = `agentdrift-test-fill-${randomUUID().slice(0, 8)}`;
  volumes.push(name);
  return name;
}

/** What a crashed (or still busy) process leaves: a volume without its completion marker, held by a fill container. */
async function halfFilled(name: string): Promise<ContainerHandle> {
  await dockerClient().createVolume({ Name: name, Labels: { [LABEL_MANAGED]: 'true' } });
  const c = await runtime.createContainer({
    image,
    labels: { ...labels, [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name },
    entrypoint: ['/agentdrift-never-started'],
    networkMode: 'none',
    mounts: [{ volume: name, target: '/v', readOnly: false }],
  });
  await runtime.putFiles(c, '/v', { 'half-copied': 'x' });
  return c;
}

async function toolOutput(name: string): Promise<string> {
  const c = await runtime.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none', mounts: [{ volume: name, target: '/opt/t' }] });
  try {
    await runtime.start(c);
    return (await runtime.exec(c, ['sh', '-c', '/opt/t/tool 2>&1 || true'])).stdout;
  } finally {
    await runtime.remove(c);
  }
}

async function listing(name: string): Promise<string[]> {
  const c = await runtime.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none', mounts: [{ volume: name, target: '/opt/t' }] });
  try {
    await runtime.start(c);
    return (await runtime.exec(c, ['ls', '-a', '/opt/t'])).stdout.split('\n');
  } finally {
    await runtime.remove(c);
  }
}

describe('tool-volume fill containers', { timeout: 60_000 }, () => {
  it('carry the volume-fill role and the name of their volume', async () => {
    const docker = new Docker();
    const created: Record<string, string>[] = [];
    const create = docker.createContainer.bind(docker);
    docker.createContainer = ((o: Docker.ContainerCreateOptions) => {
      created.push(o.Labels ?? {});
      return create(o);
    }) as typeof docker.createContainer;
    const name = newVolume();
    await new DockerRuntime({ docker }).ensureToolVolume(name, files, { helperImage: image });
    expect(created.length).toBeGreaterThan(0);
    for (const l of created) expect(l).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_ROLE]: ROLE_VOLUME_FILL, [LABEL_VOLUME]: name });
    expect(await toolOutput(name)).toBe('filled\n');
  });

  it('one left by a crashed process past the grace age is removed, and the volume is refilled', async () => {
    const name = newVolume();
    const leftover = await halfFilled(name);
    // Without the cleanup the partial volume cannot be removed ("volume is in use") and every fill fails.
    await new DockerRuntime({ volumeFillGraceMs: 0 }).ensureToolVolume(name, files, { helperImage: image });
    expect(await inspectContainer(leftover.id)).toBeNull();
    expect(await toolOutput(name)).toBe('filled\n');
  });

  it('one younger than the grace age (another process filling) is waited for, and its complete volume kept', async () => {
    const name = newVolume();
    const other = await halfFilled(name);
    // The other process completes its fill a little later: marker in, its fill container removed.
    const finishing = (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await runtime.putFiles(other, '/v', { tool: files.tool, [TOOL_VOLUME_MARKER]: JSON.stringify({ key: 'k1' }) });
      await runtime.remove(other);
    })();
    const started = Date.now();
    await new DockerRuntime().ensureToolVolume(name, files, { helperImage: image, contentKey: 'k1' });
    await finishing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    // Not removed and refilled from empty: the other process's volume is the one in use, its files all there.
    expect(await toolOutput(name)).toBe('filled\n');
    expect(await listing(name)).toContain('half-copied');
  });

  it('removeLeftovers with olderThanMs leaves younger containers alone', async () => {
    const mine = testLabels('volume-fill-age');
    const c = await runtime.createContainer({ image, labels: mine, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    try {
      expect(await runtime.removeLeftovers(mine, { olderThanMs: 60_000 })).toBe(0);
      expect(await inspectContainer(c.id)).not.toBeNull();
      expect(await runtime.removeLeftovers(mine, { olderThanMs: 0 })).toBe(1);
      expect(await inspectContainer(c.id)).toBeNull();
    } finally {
      await runtime.remove(c);
    }
  });
});
