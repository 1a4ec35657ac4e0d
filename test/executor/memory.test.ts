/**
 * What only the memory runtime has: its injectable clock, faults, pulls of offered images, engine down, and the
 * way a test sees its containers. The behaviour it shares with DockerRuntime is in ./contract.ts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRuntime } from '../../src/executor/memory.ts';
import { InfraError, KEEP_ALIVE, LABEL_MANAGED } from '../../src/executor/runtime.ts';

const reasonOf = (e: unknown) => (e instanceof InfraError ? e.reason : `not an InfraError: ${String(e)}`);
const labels = { [LABEL_MANAGED]: 'true', 'agentdrift.track': 't' };

describe('MemoryRuntime', () => {
  it('selects leftovers by age on its own clock', async () => {
    let now = 1_000_000;
    const rt = new MemoryRuntime({ now: () => now }).addImage('img');
    const old = await rt.createContainer({ image: 'img', labels });
    now += 60_000;
    const young = await rt.createContainer({ image: 'img', labels });
    expect(await rt.removeLeftovers(labels, { olderThanMs: 30_000 })).toBe(1);
    expect(rt.container(old)).toBeUndefined();
    expect(rt.container(young)?.labels).toMatchObject(labels);
    expect(await rt.removeLeftovers()).toBe(1);
  });

  it('pulls only offered images, normalizing refs to :latest', async () => {
    const rt = new MemoryRuntime().offerImage('repo/task', { 'app/x': 'x' }, { sizeBytes: 123 });
    expect(reasonOf(await rt.ensureImage('repo/other:1', { pull: true }).catch((e: unknown) => e))).toBe('pull_failed');
    const seen: string[] = [];
    expect(await rt.ensureImage('repo/task:latest', { pull: true, onProgress: (p) => seen.push(p.status) })).toBe('pulled');
    expect(seen.length).toBeGreaterThan(0);
    expect(await rt.ensureImage('repo/task', { pull: false })).toBe('present');
    expect((await rt.diskUsage()).images).toEqual([expect.objectContaining({ refs: ['repo/task:latest'], sizeBytes: 123 })]);
    const c = await rt.createContainer({ image: 'repo/task', entrypoint: KEEP_ALIVE });
    expect((await rt.getFile(c, '/app/x'))?.toString()).toBe('x');
    await rt.remove(c);
    expect(await rt.removeImage('repo/task')).toBe('removed');
    expect(rt.hasImage('repo/task')).toBe(false);
  });

  it('fails the next call of an operation as told, once per failNext; down, every call is engine_down', async () => {
    const rt = new MemoryRuntime().addImage('img');
    rt.failNext('createContainer', 'create_failed').failNext('createContainer', 'engine_down');
    expect(reasonOf(await rt.createContainer({ image: 'img' }).catch((e: unknown) => e))).toBe('create_failed');
    expect(reasonOf(await rt.createContainer({ image: 'img' }).catch((e: unknown) => e))).toBe('engine_down');
    const c = await rt.createContainer({ image: 'img' });
    rt.up = false;
    expect(reasonOf(await rt.ping().catch((e: unknown) => e))).toBe('engine_down');
    expect(reasonOf(await rt.start(c).catch((e: unknown) => e))).toBe('engine_down');
    rt.up = true;
    await rt.start(c);
    expect((await rt.inspect(c))?.running).toBe(true);
  });

  it('an unknown command is exit code 127; a handler sees env, stdin and files and is asked latest first', async () => {
    const rt = new MemoryRuntime().addImage('img', { '/etc/motd': 'hi' });
    rt.onExec((ctx) => (ctx.cmd[0] === 'motd' ? { exitCode: 0, stdout: ctx.readFile('/etc/motd') ?? '' } : undefined));
    const off = rt.onExec((ctx) => (ctx.cmd[0] === 'motd' ? { exitCode: 3, stdout: `${ctx.env.A}${ctx.stdin.toString()}` } : undefined));
    const c = await rt.createContainer({ image: 'img', env: { A: 'a' }, entrypoint: KEEP_ALIVE });
    await rt.start(c);
    expect(await rt.exec(c, ['motd'], { stdin: 'b' })).toMatchObject({ exitCode: 3, stdout: 'ab' });
    off();
    expect(await rt.exec(c, ['motd'])).toMatchObject({ exitCode: 0, stdout: 'hi' });
    expect((await rt.exec(c, ['nope'])).exitCode).toBe(127);
    expect(rt.container(c)?.execs.map((e) => e.cmd[0])).toEqual(['motd', 'motd', 'nope']);
  });

  it('a volume in use is not removed; a kill during an exec ends it with no exit code', async () => {
    const rt = new MemoryRuntime().addImage('img');
    rt.onExec((ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r({ exitCode: 0 }))));
    const c = await rt.createContainer({ image: 'img', entrypoint: KEEP_ALIVE, mounts: [{ volume: 'v', target: '/v' }] });
    await rt.start(c);
    expect(reasonOf(await rt.removeVolume('v').catch((e: unknown) => e))).toBe('volume_failed');
    const pending = rt.exec(c, ['wait']);
    await rt.kill(c);
    expect(await pending).toMatchObject({ exitCode: null, timedOut: false, aborted: false });
    expect(await rt.inspect(c)).toMatchObject({ running: false, exitCode: 137 });
    await rt.remove(c);
    await rt.removeVolume('v');
    expect(rt.volumes.has('v')).toBe(false);
  });
});
