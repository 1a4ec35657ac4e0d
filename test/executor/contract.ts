/**
 * The contract every {@link ContainerRuntime} keeps, as one suite: test/executor/contract.test.ts runs it against
 * DockerRuntime (the real engine, a local busybox image) and MemoryRuntime (with the tiny shell of ./memory-shell.ts
 * for the commands used here). What only one of them can show (resource limits, pulls from a registry, engine
 * deadlines) stays in that runtime's own tests.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError, KEEP_ALIVE, type ContainerHandle, type ContainerRuntime, type ContainerSpec } from '../../src/executor/runtime.ts';

export interface ContractSetup {
  runtime: ContainerRuntime;
  /** A present image with /bin/sh that the runtime's exec understands `sh -c`, cat, printf, echo, sleep in. */
  image: string;
  /** Labels unique to this run of the suite (agentdrift.managed=true included). */
  labels: Record<string, string>;
  /** Unique labels for one more test (removeLeftovers must leave others' containers alone). */
  moreLabels(scope: string): Record<string, string>;
  /** Removes what the suite left (containers with `labels`); called once at the end. */
  cleanup?(): Promise<void>;
}

const reasonOf = (e: unknown) => (e instanceof InfraError ? e.reason : `not an InfraError: ${String(e)}`);

export function runtimeContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`ContainerRuntime contract: ${name}`, () => {
    let s: ContractSetup;
    let rt: ContainerRuntime;
    beforeAll(async () => {
      s = await setup();
      rt = s.runtime;
    });
    afterAll(async () => {
      await s?.cleanup?.();
    });

    const running = async (extra: Partial<ContainerSpec> = {}): Promise<ContainerHandle> => {
      const c = await rt.createContainer({ image: s.image, labels: s.labels, entrypoint: KEEP_ALIVE, networkMode: 'none', ...extra });
      await rt.start(c);
      return c;
    };

    it('answers ping; a present image needs no pull, a missing one without pulling is image_missing', async () => {
      await expect(rt.ping()).resolves.toBeUndefined();
      await expect(rt.ensureImage(s.image, { pull: false })).resolves.toBe('present');
      const missing = `agentdrift-test-missing-${randomUUID().slice(0, 8)}:none`;
      expect(reasonOf(await rt.ensureImage(missing, { pull: false }).catch((e: unknown) => e))).toBe('image_missing');
      expect(reasonOf(await rt.createContainer({ image: missing, labels: s.labels }).catch((e: unknown) => e))).toBe('image_missing');
      expect(await rt.removeImage(missing)).toBe('absent');
    });

    it('creates, starts, inspects, kills and removes a container; kill and remove are idempotent', async () => {
      const c = await rt.createContainer({ image: s.image, labels: s.labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      expect(await rt.inspect(c)).toMatchObject({ running: false, status: 'created', oomKilled: false });
      await rt.start(c);
      expect(await rt.inspect(c)).toEqual({ running: true, status: 'running', exitCode: null, oomKilled: false });
      await rt.kill(c);
      expect(await rt.inspect(c)).toMatchObject({ running: false, status: 'exited', exitCode: 137 });
      await rt.kill(c);
      await rt.remove(c);
      await rt.remove(c);
      expect(await rt.inspect(c)).toBeNull();
    });

    it('a start failure is start_failed; a taken name is create_failed; exec in a stopped container is exec_failed', async () => {
      const bad = await rt.createContainer({ image: s.image, labels: s.labels, entrypoint: ['/no/such/binary'], networkMode: 'none' });
      const name = `agentdrift-test-${randomUUID().slice(0, 8)}`;
      const named = await rt.createContainer({ image: s.image, labels: s.labels, name, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      try {
        expect(reasonOf(await rt.start(bad).catch((e: unknown) => e))).toBe('start_failed');
        const dup = await rt.createContainer({ image: s.image, labels: s.labels, name, entrypoint: KEEP_ALIVE, networkMode: 'none' }).catch((e: unknown) => e);
        expect(reasonOf(dup)).toBe('create_failed');
        expect(reasonOf(await rt.exec(named, ['true']).catch((e: unknown) => e))).toBe('exec_failed');
      } finally {
        await rt.remove(bad);
        await rt.remove(named);
      }
    });

    it('removes leftovers by label (all, or only the old enough) and leaves other containers alone', async () => {
      const mine = s.moreLabels('leftovers');
      const other = s.moreLabels('leftovers-other');
      const a = await rt.createContainer({ image: s.image, labels: mine, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      await rt.start(a);
      const b = await rt.createContainer({ image: s.image, labels: mine, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      const keep = await rt.createContainer({ image: s.image, labels: other, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      try {
        // Created just now: not an hour old.
        expect(await rt.removeLeftovers(mine, { olderThanMs: 3600_000 })).toBe(0);
        expect(await rt.removeLeftovers(mine)).toBe(2);
        expect(await rt.inspect(a)).toBeNull();
        expect(await rt.inspect(b)).toBeNull();
        expect(await rt.inspect(keep)).not.toBeNull();
        expect(await rt.removeLeftovers(mine)).toBe(0);
        await expect(rt.removeLeftovers({})).rejects.toThrow(TypeError);
      } finally {
        await rt.remove(keep);
      }
    });

    it('puts files and gets them back: nested, text and binary, one or several, missing ones and folders', async () => {
      const c = await running();
      try {
        const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
        await rt.putFiles(c, '/workspace', {
          'patch.diff': 'diff --git a/x b/x\n',
          'deep/er/data.bin': binary,
          'run.sh': { content: 'echo ran\n', mode: 0o755 },
        });
        expect((await rt.getFile(c, '/workspace/patch.diff'))?.toString()).toBe('diff --git a/x b/x\n');
        expect((await rt.getFile(c, '/workspace/deep/er/data.bin'))?.equals(binary)).toBe(true);
        expect(await rt.getFile(c, '/workspace/nope.json')).toBeNull();
        expect(await rt.getFile(c, '/workspace/deep')).toBeNull();
        expect(await rt.getFile(c, '/no/such/dir/file')).toBeNull();
        await expect(rt.putFiles(c, '/workspace', { '../escape': 'x' })).rejects.toThrow(/relative/);
        await expect(rt.putFiles(c, '/workspace', { '/abs': 'x' })).rejects.toThrow(/relative/);
        // Overwriting keeps one file with the new content.
        await rt.putFiles(c, '/workspace/', { 'patch.diff': 'second\n' });
        expect((await rt.getFile(c, '/workspace/patch.diff'))?.toString()).toBe('second\n');

        const all = await rt.getFiles(c, '/workspace/');
        expect(Object.keys(all).sort()).toEqual(['deep/er/data.bin', 'patch.diff', 'run.sh']);
        expect(all['deep/er/data.bin']?.equals(binary)).toBe(true);
        expect(Object.keys(await rt.getFiles(c, '/workspace/deep'))).toEqual(['er/data.bin']);
        const some = await rt.getFiles(c, '/workspace', ['run.sh', 'missing.log']);
        expect(Object.keys(some)).toEqual(['run.sh']);
        expect(some['run.sh']?.toString()).toBe('echo ran\n');
        expect(await rt.getFiles(c, '/no/such/dir')).toEqual({});
        // A file read as a folder has no files under it.
        expect(await rt.getFiles(c, '/workspace/patch.diff')).toEqual({});
      } finally {
        await rt.remove(c);
      }
    });

    it('copies files in and out of a created container that never ran; a removed one is copy_failed', async () => {
      const c = await rt.createContainer({ image: s.image, labels: s.labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      await rt.putFiles(c, '/data', { 'a.txt': 'a' });
      expect((await rt.getFile(c, '/data/a.txt'))?.toString()).toBe('a');
      await rt.remove(c);
      expect(reasonOf(await rt.putFiles(c, '/data', { 'b.txt': 'b' }).catch((e: unknown) => e))).toBe('copy_failed');
      expect(reasonOf(await rt.getFile(c, '/data/a.txt').catch((e: unknown) => e))).toBe('copy_failed');
      expect(reasonOf(await rt.getFiles(c, '/data').catch((e: unknown) => e))).toBe('copy_failed');
    });

    it('runs commands with their exit codes, separate stdout and stderr, env, working directory and stdin', async () => {
      const c = await running({ env: { FROM_CREATE: 'created' }, workingDir: '/tmp' });
      try {
        expect(await rt.exec(c, ['sh', '-c', 'echo out; echo err >&2; exit 0'])).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false });
        const four = await rt.exec(c, ['sh', '-c', 'printf partial; exit 4']);
        expect(four).toMatchObject({ exitCode: 4, stdout: 'partial', stderr: '' });
        const env = await rt.exec(c, ['sh', '-c', 'echo "$FROM_CREATE $FROM_EXEC"; pwd'], { env: { FROM_EXEC: "it's exec" } });
        expect(env.stdout).toBe("created it's exec\n/tmp\n");
        expect((await rt.exec(c, ['pwd'], { workingDir: '/etc' })).stdout).toBe('/etc\n');
        const cat = await rt.exec(c, ['cat'], { stdin: 'line one\nline two\n' });
        expect(cat).toMatchObject({ exitCode: 0, stdout: 'line one\nline two\n' });
        const streamed: string[] = [];
        const live = await rt.exec(c, ['sh', '-c', 'printf "a\\tb%s\\n" c'], { onStdout: (b) => streamed.push(b.toString()) });
        expect(live.stdout).toBe('a\tbc\n');
        expect(streamed.join('')).toBe('a\tbc\n');
      } finally {
        await rt.remove(c);
      }
    });

    it('sees files both ways: written by putFiles and read by the process, written by the process and read back', async () => {
      const c = await running();
      try {
        await rt.putFiles(c, '/w', { 'in.txt': 'from outside\n' });
        expect(await rt.exec(c, ['cat', '/w/in.txt'])).toMatchObject({ exitCode: 0, stdout: 'from outside\n' });
        const missing = await rt.exec(c, ['cat', '/w/none.txt']);
        expect(missing.exitCode).toBe(1);
        expect(missing.stderr).toMatch(/No such file or directory/);
        expect((await rt.exec(c, ['sh', '-c', 'printf "{\\"tests\\":[]}" > /w/output.json'])).exitCode).toBe(0);
        expect((await rt.getFile(c, '/w/output.json'))?.toString()).toBe('{"tests":[]}');
        expect(Object.keys(await rt.getFiles(c, '/w')).sort()).toEqual(['in.txt', 'output.json']);
      } finally {
        await rt.remove(c);
      }
    });

    it('an exec past its timeout kills the whole container: timedOut, no exit code, output so far', async () => {
      const c = await running();
      try {
        const r = await rt.exec(c, ['sh', '-c', 'echo started; sleep 60'], { timeoutMs: 500 });
        expect(r).toMatchObject({ timedOut: true, aborted: false, exitCode: null, stdout: 'started\n' });
        expect(await rt.inspect(c)).toMatchObject({ running: false });
      } finally {
        await rt.remove(c);
      }
      expect(await rt.inspect(c)).toBeNull();
    });

    it('an aborted exec kills the container: aborted, not timed out', async () => {
      const c = await running();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const r = await rt.exec(c, ['sleep', '60'], { signal: ac.signal });
      expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
      expect((await rt.inspect(c))?.running).toBe(false);
      await rt.remove(c);
    });

    it('fills a tool volume once per content key, mounts it, refills it from empty for another key', async () => {
      const volume = `agentdrift-test-tool-${randomUUID().slice(0, 8)}`;
      try {
        await rt.ensureToolVolume(volume, { 'bin/tool': { content: 'tool v1\n', mode: 0o755 }, README: { content: 'one' } }, { helperImage: s.image, contentKey: 'v1', labels: s.labels });
        // Same key: left as it is (the new content is not written).
        await Promise.all([
          rt.ensureToolVolume(volume, { 'bin/tool': { content: 'ignored' } }, { helperImage: s.image, contentKey: 'v1' }),
          rt.ensureToolVolume(volume, { 'bin/tool': { content: 'ignored' } }, { helperImage: s.image, contentKey: 'v1' }),
        ]);
        const c = await running({ mounts: [{ volume, target: '/opt/agentdrift' }] });
        try {
          expect((await rt.exec(c, ['cat', '/opt/agentdrift/bin/tool'])).stdout).toBe('tool v1\n');
          expect((await rt.getFile(c, '/opt/agentdrift/README'))?.toString()).toBe('one');
          // Read-only mount: the process cannot write there, nor can a copy.
          expect((await rt.exec(c, ['sh', '-c', 'echo x > /opt/agentdrift/new'])).exitCode).not.toBe(0);
          await expect(rt.putFiles(c, '/opt/agentdrift', { new: 'x' })).rejects.toBeInstanceOf(InfraError);
          expect(await rt.getFile(c, '/opt/agentdrift/new')).toBeNull();
        } finally {
          await rt.remove(c);
        }
        await rt.ensureToolVolume(volume, { 'bin/tool': { content: 'tool v2\n', mode: 0o755 } }, { helperImage: s.image, contentKey: 'v2', labels: s.labels });
        const c2 = await running({ mounts: [{ volume, target: '/opt/agentdrift' }] });
        try {
          expect((await rt.getFile(c2, '/opt/agentdrift/bin/tool'))?.toString()).toBe('tool v2\n');
          const files = Object.keys(await rt.getFiles(c2, '/opt/agentdrift'));
          expect(files).toContain('bin/tool');
          expect(files).not.toContain('README');
        } finally {
          await rt.remove(c2);
        }
      } finally {
        await rt.removeVolume(volume);
        await rt.removeVolume(volume);
      }
    });

    it('a tool file it cannot read is volume_failed', async () => {
      const e = await rt
        .ensureToolVolume(`agentdrift-test-tool-${randomUUID().slice(0, 8)}`, { x: { sourcePath: '/no/such/file' } }, { helperImage: s.image })
        .catch((x: unknown) => x);
      expect(reasonOf(e)).toBe('volume_failed');
    });

    it('lists the image in its disk use; an image a container uses is not removed', async () => {
      const usage = await rt.diskUsage();
      expect(usage.images.some((i) => i.refs.includes(s.image))).toBe(true);
      expect(usage.imagesBytes).toBeGreaterThan(0);
      const c = await rt.createContainer({ image: s.image, labels: s.labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      try {
        expect(await rt.removeImage(s.image)).toBe('in_use');
      } finally {
        await rt.remove(c);
      }
    });
  });
}
