/**
 * DockerRuntime against the real Docker Engine, with a local busybox image (nothing is pulled).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import {
  InfraError,
  KEEP_ALIVE,
  LABEL_ATTEMPT,
  LABEL_MANAGED,
  LABEL_RUN,
  LABEL_TRACK,
  attemptLabels,
  withInfraRetries,
  type ContainerHandle,
} from '../../src/executor/runtime.ts';
import { dockerClient, ensureBusyboxImage, inspectContainer, removeLabelled, testLabels } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const labels = testLabels('executor');
let image: string;

beforeAll(async () => {
  image = await ensureBusyboxImage();
});

afterAll(async () => {
  await removeLabelled(labels);
});

async function running(extra: Partial<Parameters<DockerRuntime['createContainer']>[0]> = {}): Promise<ContainerHandle> {
  const c = await runtime.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none', ...extra });
  await runtime.start(c);
  return c;
}

describe('DockerRuntime basics', () => {
  it('pings the engine', async () => {
    await expect(runtime.ping()).resolves.toBeUndefined();
  });

  it('runs commands with their real exit codes and separate stdout and stderr', async () => {
    const c = await running();
    try {
      const ok = await runtime.exec(c, ['sh', '-c', 'echo out; echo err >&2; exit 0']);
      expect(ok).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false });
      const four = await runtime.exec(c, ['sh', '-c', 'printf partial; exit 4']);
      expect(four.exitCode).toBe(4);
      expect(four.stdout).toBe('partial');
      expect(four.stderr).toBe('');
    } finally {
      await runtime.remove(c);
    }
  });

  it('passes env, working directory and user to exec, and stdin when given', async () => {
    const c = await running({ env: { FROM_CREATE: 'created' }, workingDir: '/tmp' });
    try {
      const r = await runtime.exec(c, ['sh', '-c', 'echo "$FROM_CREATE $FROM_EXEC $(pwd) $(id -u)"'], {
        env: { FROM_EXEC: "it's exec" },
        workingDir: '/etc',
        user: '65534',
      });
      expect(r.stdout).toBe("created it's exec /etc 65534\n");
      const big = 'x'.repeat(200_000) + '\nend\n';
      const cat = await runtime.exec(c, ['sh', '-c', 'cat | wc -c'], { stdin: big });
      expect(cat.exitCode).toBe(0);
      expect(cat.stdout.trim()).toBe(String(Buffer.byteLength(big)));
    } finally {
      await runtime.remove(c);
    }
  });

  it('keeps large interleaved output intact', async () => {
    const c = await running();
    try {
      const r = await runtime.exec(c, ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done']);
      const outLines = r.stdout.trimEnd().split('\n');
      const errLines = r.stderr.trimEnd().split('\n');
      expect(outLines).toHaveLength(3000);
      expect(errLines).toHaveLength(3000);
      expect(outLines[2999]).toBe('line 2999');
      expect(errLines[1234]).toBe('err 1234');
    } finally {
      await runtime.remove(c);
    }
  });

  it('keeps several MB of stdout intact while stderr is written alongside, and the callbacks see the same bytes', async () => {
    const c = await running();
    try {
      const size = 6 * 1024 * 1024;
      let streamed = 0;
      const script = `(i=0; while [ $i -lt 2000 ]; do echo "err $i" >&2; i=$((i+1)); done) & yes 0123456789abcdef | head -c ${size}; wait`;
      const r = await runtime.exec(c, ['sh', '-c', script], { onStdout: (b) => (streamed += b.length) });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.length).toBe(size);
      expect(streamed).toBe(size);
      expect(r.stdout === '0123456789abcdef\n'.repeat(Math.ceil(size / 17)).slice(0, size)).toBe(true);
      const errLines = r.stderr.trimEnd().split('\n');
      expect(errLines).toHaveLength(2000);
      expect(errLines[1999]).toBe('err 1999');
    } finally {
      await runtime.remove(c);
    }
  });

  it('streams output to callbacks as it arrives', async () => {
    const c = await running();
    try {
      const seen: string[] = [];
      const r = await runtime.exec(c, ['sh', '-c', 'echo one; sleep 0.2; echo two'], { onStdout: (b) => seen.push(b.toString()) });
      expect(seen.join('')).toBe('one\ntwo\n');
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(r.stdout).toBe('one\ntwo\n');
    } finally {
      await runtime.remove(c);
    }
  });

  it('kills the whole container when an exec exceeds its timeout; remove then leaves nothing', async () => {
    const c = await running();
    const r = await runtime.exec(c, ['sh', '-c', 'echo started; sleep 60'], { timeoutMs: 800 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.stdout).toBe('started\n');
    expect(r.durationMs).toBeLessThan(10_000);
    const info = await inspectContainer(c.id);
    expect(info?.State.Running).toBe(false);
    await runtime.remove(c);
    expect(await inspectContainer(c.id)).toBeNull();
  });

  it('kills the container when the abort signal fires', async () => {
    const c = await running();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await runtime.exec(c, ['sleep', '60'], { signal: ac.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    expect((await inspectContainer(c.id))?.State.Running).toBe(false);
    await runtime.remove(c);
  });

  it('puts files (nested, text and binary, with modes) and gets them back', async () => {
    const c = await running();
    try {
      const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
      await runtime.putFiles(c, '/workspace', {
        'patch.diff': 'diff --git a/x b/x\n',
        'deep/er/data.bin': binary,
        'run.sh': { content: '#!/bin/sh\necho ran "$@"\n', mode: 0o755 },
      });
      expect((await runtime.getFile(c, '/workspace/patch.diff'))?.toString()).toBe('diff --git a/x b/x\n');
      expect((await runtime.getFile(c, '/workspace/deep/er/data.bin'))?.equals(binary)).toBe(true);
      const ran = await runtime.exec(c, ['/workspace/run.sh', 'ok']);
      expect(ran.stdout).toBe('ran ok\n');
      expect(await runtime.getFile(c, '/workspace/nope.json')).toBeNull();
      // A file the container itself wrote.
      await runtime.exec(c, ['sh', '-c', 'echo "{\\"tests\\":[]}" > /workspace/output.json']);
      expect((await runtime.getFile(c, '/workspace/output.json'))?.toString()).toBe('{"tests":[]}\n');
      await expect(runtime.putFiles(c, '/workspace', { '../escape': 'x' })).rejects.toThrow(/relative/);
      // Several files in one archive: all of them, or only the named ones; nothing for a missing folder.
      const all = await runtime.getFiles(c, '/workspace/');
      expect(Object.keys(all).sort()).toEqual(['deep/er/data.bin', 'output.json', 'patch.diff', 'run.sh']);
      expect(all['deep/er/data.bin']?.equals(binary)).toBe(true);
      const some = await runtime.getFiles(c, '/workspace', ['output.json', 'missing.log']);
      expect(Object.keys(some)).toEqual(['output.json']);
      expect(some['output.json']?.toString()).toBe('{"tests":[]}\n');
      expect(await runtime.getFiles(c, '/no/such/dir')).toEqual({});
    } finally {
      await runtime.remove(c);
    }
  });

  it('applies labels, resource limits, network mode, entrypoint and command', async () => {
    const attempt = attemptLabels({ track: labels[LABEL_TRACK]!, run: 7, attempt: 'a-1', role: 'agent' });
    const c = await runtime.createContainer({
      image,
      labels: attempt,
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['sleep 30'],
      cpus: 1.5,
      memoryBytes: 256 * 1024 * 1024,
      pidsLimit: 64,
      networkMode: 'none',
    });
    try {
      const info = await inspectContainer(c.id);
      expect(info?.Config.Labels).toMatchObject({
        [LABEL_MANAGED]: 'true',
        [LABEL_TRACK]: labels[LABEL_TRACK],
        [LABEL_RUN]: '7',
        [LABEL_ATTEMPT]: 'a-1',
        'agentdrift.role': 'agent',
      });
      expect(info?.HostConfig.NanoCpus).toBe(1_500_000_000);
      expect(info?.HostConfig.Memory).toBe(256 * 1024 * 1024);
      expect(info?.HostConfig.PidsLimit).toBe(64);
      expect(info?.HostConfig.NetworkMode).toBe('none');
      expect(info?.Config.Entrypoint).toEqual(['/bin/sh', '-c']);
      expect(info?.Config.Cmd).toEqual(['sleep 30']);
      await runtime.start(c);
      // The pids limit is real: a fork bomb-ish loop cannot exceed it.
      const r = await runtime.exec(c, ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done 2>/dev/null; echo $(ls /proc | grep -c "^[0-9]")']);
      expect(Number(r.stdout.trim())).toBeLessThanOrEqual(64);
    } finally {
      await runtime.remove(c);
    }
  });

  it('kill and remove are idempotent; inspect reports the state', async () => {
    const c = await running();
    expect(await runtime.inspect(c)).toEqual({ running: true, status: 'running', exitCode: null, oomKilled: false });
    await runtime.kill(c);
    expect(await runtime.inspect(c)).toMatchObject({ running: false, status: 'exited', exitCode: 137 });
    await runtime.kill(c);
    await runtime.remove(c);
    await runtime.remove(c);
    expect(await inspectContainer(c.id)).toBeNull();
    expect(await runtime.inspect(c)).toBeNull();
  });

  it('removes leftovers by label and leaves other containers alone', async () => {
    const mine = testLabels('leftovers');
    const other = testLabels('leftovers-other');
    const a = await runtime.createContainer({ image, labels: mine, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    await runtime.start(a);
    const b = await runtime.createContainer({ image, labels: mine, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    const keep = await runtime.createContainer({ image, labels: other, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    try {
      expect(await runtime.removeLeftovers(mine)).toBe(2);
      expect(await inspectContainer(a.id)).toBeNull();
      expect(await inspectContainer(b.id)).toBeNull();
      expect(await inspectContainer(keep.id)).not.toBeNull();
      expect(await runtime.removeLeftovers(mine)).toBe(0);
    } finally {
      await runtime.remove(keep);
    }
  });
});

describe('DockerRuntime infrastructure errors', () => {
  const missing = `agentdrift-test-missing-${randomUUID().slice(0, 8)}:none`;

  it('a missing image without pulling is InfraError(image_missing)', async () => {
    const e = await runtime.ensureImage(missing, { pull: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect((e as InfraError).reason).toBe('image_missing');
    const created = await runtime.createContainer({ image: missing, labels }).catch((x: unknown) => x);
    expect((created as InfraError).reason).toBe('image_missing');
  });

  it('a present image needs no pull', async () => {
    await expect(runtime.ensureImage(image, { pull: false })).resolves.toBe('present');
  });

  it('a failed pull (registry on a closed loopback port) is InfraError(pull_failed)', async () => {
    const e = await runtime.ensureImage('127.0.0.1:9/agentdrift/none:1', { pull: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect((e as InfraError).reason).toBe('pull_failed');
  });

  it('a missing image stays an infra error after the configured retries', async () => {
    let calls = 0;
    const retried: number[] = [];
    const e = await withInfraRetries(
      async () => {
        calls++;
        return runtime.createContainer({ image: missing, labels });
      },
      2,
      { delayMs: () => 10, onRetry: (_err, n) => retried.push(n) },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect((e as InfraError).reason).toBe('image_missing');
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('a start failure is InfraError(start_failed)', async () => {
    const c = await runtime.createContainer({ image, labels, entrypoint: ['/no/such/binary'], networkMode: 'none' });
    try {
      const e = await runtime.start(c).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InfraError);
      expect((e as InfraError).reason).toBe('start_failed');
    } finally {
      await runtime.remove(c);
    }
  });

  it('a create failure (name taken) is InfraError(create_failed)', async () => {
    const name = `agentdrift-test-${randomUUID().slice(0, 8)}`;
    const c = await runtime.createContainer({ image, labels, name, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    try {
      const e = await runtime.createContainer({ image, labels, name, entrypoint: KEEP_ALIVE, networkMode: 'none' }).catch((x: unknown) => x);
      expect((e as InfraError).reason).toBe('create_failed');
    } finally {
      await runtime.remove(c);
    }
  });

  it('an engine that does not answer is InfraError(engine_down) for ping and create', async () => {
    const down = new DockerRuntime({ socketPath: `/tmp/agentdrift-no-engine-${randomUUID()}.sock`, pingTimeoutMs: 2000 });
    const p = await down.ping().catch((x: unknown) => x);
    expect((p as InfraError).reason).toBe('engine_down');
    const c = await down.createContainer({ image, labels }).catch((x: unknown) => x);
    expect((c as InfraError).reason).toBe('engine_down');
  });

  it('exec in a stopped container is InfraError(exec_failed)', async () => {
    const c = await runtime.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
    try {
      const e = await runtime.exec(c, ['true']).catch((x: unknown) => x);
      expect((e as InfraError).reason).toBe('exec_failed');
    } finally {
      await runtime.remove(c);
    }
  });
});

describe('tool volumes', () => {
  it('fills a named volume once, mounts it read-only, and refills it for new content', async () => {
    const name = `agentdrift-test-tool-${randomUUID().slice(0, 8)}`;
    const docker = dockerClient();
    try {
      await runtime.ensureToolVolume(
        name,
        { 'bin/tool': { content: '#!/bin/sh\necho tool v1\n', mode: 0o755 }, 'README': { content: 'one' } },
        { helperImage: image, contentKey: 'v1', labels },
      );
      const created1 = ((await docker.getVolume(name).inspect()) as { CreatedAt?: string }).CreatedAt;
      // Same key again, from this runtime and from a fresh one that must read the volume's marker (concurrently,
      // too): nothing is refilled, the volume is the same one.
      const other = new DockerRuntime();
      await Promise.all([
        runtime.ensureToolVolume(name, { 'bin/tool': { content: 'ignored' } }, { helperImage: image, contentKey: 'v1' }),
        other.ensureToolVolume(name, { 'bin/tool': { content: 'ignored' } }, { helperImage: image, contentKey: 'v1' }),
        other.ensureToolVolume(name, { 'bin/tool': { content: 'ignored' } }, { helperImage: image, contentKey: 'v1' }),
      ]);
      expect(((await docker.getVolume(name).inspect()) as { CreatedAt?: string }).CreatedAt).toBe(created1);

      const c = await running({ mounts: [{ volume: name, target: '/opt/agentdrift' }] });
      try {
        expect((await runtime.exec(c, ['/opt/agentdrift/bin/tool'])).stdout).toBe('tool v1\n');
        const w = await runtime.exec(c, ['sh', '-c', 'echo x > /opt/agentdrift/new']);
        expect(w.exitCode).not.toBe(0);
        expect(w.stderr).toMatch(/read-only/i);
      } finally {
        await runtime.remove(c);
      }

      await runtime.ensureToolVolume(name, { 'bin/tool': { content: '#!/bin/sh\necho tool v2\n', mode: 0o755 } }, { helperImage: image, contentKey: 'v2', labels });
      const c2 = await running({ mounts: [{ volume: name, target: '/opt/agentdrift' }] });
      try {
        expect((await runtime.exec(c2, ['/opt/agentdrift/bin/tool'])).stdout).toBe('tool v2\n');
        // Refilled from empty: the old file is gone.
        expect((await runtime.exec(c2, ['ls', '/opt/agentdrift'])).stdout.split('\n')).not.toContain('README');
      } finally {
        await runtime.remove(c2);
      }
    } finally {
      await runtime.removeVolume(name);
    }
  });

  it('refills a volume that was removed behind its back, and one left without a completion marker', async () => {
    const name = `agentdrift-test-tool-${randomUUID().slice(0, 8)}`;
    const files = { tool: { content: '#!/bin/sh\necho filled\n', mode: 0o755 } };
    const check = async () => {
      const c = await running({ mounts: [{ volume: name, target: '/opt/t' }] });
      try {
        return (await runtime.exec(c, ['sh', '-c', '/opt/t/tool 2>&1 || true'])).stdout;
      } finally {
        await runtime.remove(c);
      }
    };
    try {
      await runtime.ensureToolVolume(name, files, { helperImage: image });
      // Removed by someone else and re-created empty (as the engine does for a missing volume mount).
      await dockerClient().getVolume(name).remove();
      await new Promise((r) => setTimeout(r, 1100)); // creation times have a one-second resolution
      await dockerClient().createVolume({ Name: name });
      await runtime.ensureToolVolume(name, files, { helperImage: image });
      expect(await check()).toBe('filled\n');
      // A fresh runtime that finds an empty volume (no marker) fills it.
      await runtime.removeVolume(name);
      await dockerClient().createVolume({ Name: name });
      await new DockerRuntime().ensureToolVolume(name, files, { helperImage: image });
      expect(await check()).toBe('filled\n');
    } finally {
      await runtime.removeVolume(name);
    }
  });

  it('an unreadable source file is InfraError(volume_failed)', async () => {
    const e = await runtime
      .ensureToolVolume(`agentdrift-test-tool-${randomUUID().slice(0, 8)}`, { x: { sourcePath: '/no/such/file' } }, { helperImage: image })
      .catch((x: unknown) => x);
    expect((e as InfraError).reason).toBe('volume_failed');
  });
});
