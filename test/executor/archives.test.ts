/**
 * Archives of real size through the real engine, both ways, and engine calls that never answer.
 *
 * The first real SWE-Bench-Pro attempt hung because putFiles awaited each tar entry before the upload began reading
 * the pack: past about 16 KiB nothing confirmed the entries and the process ran out of work with the call unsettled
 * (exit code 13). These tests move several MB (many files, and one large file) in and out, and point the runtime at a
 * stuck engine (test/helpers/stalling-engine.ts) to see every such call end in an InfraError with a reason.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { InfraError, KEEP_ALIVE, type ContainerHandle } from '../../src/executor/runtime.ts';
import { ensureBusyboxImage, removeLabelled, testLabels } from '../helpers/docker.ts';
import { stallingEngine } from '../helpers/stalling-engine.ts';

const runtime = new DockerRuntime();
const labels = testLabels('archives');
let image: string;

beforeAll(async () => {
  image = await ensureBusyboxImage();
});

afterAll(async () => {
  await removeLabelled(labels);
});

/** Deterministic bytes that do not compress to nothing (a sha256 chain). */
function bytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Source-like text of about `size` bytes (what a patch or a test log is made of). */
function text(seed: string, size: number): string {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const line = `${seed} line ${i}: const value_${i} = compute(${i}, "${createHash('md5').update(`${seed}${i}`).digest('hex')}");`;
    lines.push(line);
    n += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function running(rt: DockerRuntime = runtime): Promise<ContainerHandle> {
  const c = await rt.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
  await rt.start(c);
  return c;
}

describe('archives of several MB', () => {
  it('copies 400 files and one 8 MB file in, and reads them back byte for byte', async () => {
    const files: Record<string, string | Buffer> = {};
    for (let i = 0; i < 400; i++) files[`src/module_${i % 20}/file_${i}.js`] = text(`f${i}`, 6_000 + (i % 7) * 1_000);
    files['big/blob.bin'] = bytes('blob', 8 * 1024 * 1024);
    const total = Object.values(files).reduce((n, f) => n + Buffer.byteLength(f), 0);
    expect(total).toBeGreaterThan(10 * 1024 * 1024);

    const c = await running();
    try {
      await runtime.putFiles(c, '/work', files);
      // The engine's own view: every file is there with its content.
      const sums = await runtime.exec(c, ['sh', '-c', 'cd /work && find . -type f | sort | xargs sha256sum']);
      expect(sums.exitCode).toBe(0);
      const inside = new Map(
        sums.stdout
          .trim()
          .split('\n')
          .map((l) => {
            const [h, p] = l.split(/\s+/) as [string, string];
            return [p.replace(/^\.\//, ''), h];
          }),
      );
      expect(inside.size).toBe(401);
      for (const [p, f] of Object.entries(files)) expect(inside.get(p), p).toBe(sha(f));

      // Out again: the whole tree in one archive, and the large file alone.
      const back = await runtime.getFiles(c, '/work');
      expect(Object.keys(back).length).toBe(401);
      for (const [p, f] of Object.entries(files)) expect(sha(back[p] as Buffer), p).toBe(sha(f));
      const blob = await runtime.getFile(c, '/work/big/blob.bin');
      expect(blob?.length).toBe(8 * 1024 * 1024);
      expect(sha(blob as Buffer)).toBe(sha(files['big/blob.bin'] as Buffer));
    } finally {
      await runtime.remove(c);
    }
  });

  it('reads a test log of several MB written inside the container', async () => {
    const c = await running();
    try {
      const made = await runtime.exec(c, ['sh', '-c', 'mkdir -p /ws && i=0; while [ $i -lt 60000 ]; do echo "PASSED tests/test_$i.py::test_case_$i - ok"; i=$((i+1)); done > /ws/stdout.log; wc -c < /ws/stdout.log']);
      const size = Number(made.stdout.trim());
      expect(size).toBeGreaterThan(2_500_000);
      const files = await runtime.getFiles(c, '/ws', ['stdout.log']);
      expect(files['stdout.log']?.length).toBe(size);
      expect(files['stdout.log']?.toString('utf8').split('\n')[59_999]).toBe('PASSED tests/test_59999.py::test_case_59999 - ok');
    } finally {
      await runtime.remove(c);
    }
  });
});

describe('a stuck engine', () => {
  it('an upload the engine never answers fails with copy_failed and a reason, within the deadline', async () => {
    const engine = await stallingEngine([{ method: 'PUT', path: /^\/containers\/[^/]+\/archive/ }]);
    const stuck = new DockerRuntime({ socketPath: engine.socketPath, callTimeoutMs: 3_000, transferTimeoutMs: 1_500 });
    try {
      const c = await running(stuck);
      try {
        const err = await stuck.putFiles(c, '/w', { 'patch.diff': text('patch', 300_000) }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InfraError);
        expect((err as InfraError).reason).toBe('copy_failed');
        expect((err as InfraError).message).toMatch(/copying 1 file\(s\) into .*: no answer from the Docker Engine within 1.5 s|within 1500 ms/);
        expect(engine.stalled.length).toBe(1);
      } finally {
        await runtime.remove(c);
      }
    } finally {
      await engine.close();
    }
  });

  it('an archive whose body stops midway fails with copy_failed', async () => {
    const engine = await stallingEngine([{ method: 'GET', path: /^\/containers\/[^/]+\/archive/, mode: 'midway' }]);
    const stuck = new DockerRuntime({ socketPath: engine.socketPath, callTimeoutMs: 3_000, transferTimeoutMs: 1_500 });
    try {
      const c = await running(stuck);
      try {
        await stuck.putFiles(c, '/w', { 'big.bin': bytes('x', 2 * 1024 * 1024) });
        const err = await stuck.getFiles(c, '/w').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InfraError);
        expect((err as InfraError).reason).toBe('copy_failed');
        expect((err as InfraError).message).toMatch(/reading the archive of \/w: the archive did not arrive within/);
      } finally {
        await runtime.remove(c);
      }
    } finally {
      await engine.close();
    }
  });

  it('a control call the engine never answers fails with its own reason', async () => {
    const engine = await stallingEngine([{ method: 'POST', path: /^\/containers\/create/ }]);
    const stuck = new DockerRuntime({ socketPath: engine.socketPath, callTimeoutMs: 1_000 });
    try {
      const err = await stuck.createContainer({ image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfraError);
      expect((err as InfraError).reason).toBe('create_failed');
      expect((err as InfraError).message).toMatch(/creating a container from .*: no answer from the Docker Engine within 1 s/);
    } finally {
      await engine.close();
    }
  });
});
