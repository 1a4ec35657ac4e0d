/**
 * The decoder of Docker's multiplexed output (src/executor/docker/stream.ts), on streams built here byte by byte:
 * what it must keep doing, including where docker-modem's demuxStream would differ (see the comment in stream.ts).
 */
import { describe, expect, it } from 'vitest';
import { DockerStreamDemuxer, demuxAll } from '../../src/executor/docker/stream.ts';

/** One frame: type byte, three zero bytes, big-endian length, payload. */
function frame(type: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Feeds `chunks` to a demuxer and returns the calls it made, in order. */
function decode(chunks: Buffer[]): { calls: ['out' | 'err', string][]; stdout: string; stderr: string } {
  const calls: ['out' | 'err', string][] = [];
  const demux = new DockerStreamDemuxer(
    (b) => calls.push(['out', b.toString('utf8')]),
    (b) => calls.push(['err', b.toString('utf8')]),
  );
  for (const c of chunks) demux.push(c);
  const join = (kind: 'out' | 'err') =>
    calls
      .filter(([k]) => k === kind)
      .map(([, s]) => s)
      .join('');
  return { calls, stdout: join('out'), stderr: join('err') };
}

function cut(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

describe('DockerStreamDemuxer', () => {
  const stream = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n'), frame(2, 'é err two\n'), frame(1, 'end')]);
  const expected: ['out' | 'err', string][] = [
    ['out', 'out one\n'],
    ['err', 'err one\n'],
    ['out', 'out two\n'],
    ['err', 'é err two\n'],
    ['out', 'end'],
  ];

  it('delivers each frame to its stream in order, however the bytes are cut into chunks', () => {
    expect(decode([stream]).calls).toEqual(expected);
    for (const size of [1, 2, 3, 7, 8, 9, 13, 64]) expect(decode(cut(stream, size)).calls).toEqual(expected);
  });

  it('writes type 0 (stdin) and type 1 on stdout, type 2 on stderr', () => {
    const r = decode([Buffer.concat([frame(0, 'in'), frame(1, 'out'), frame(2, 'err')])]);
    expect(r.calls).toEqual([
      ['out', 'in'],
      ['out', 'out'],
      ['err', 'err'],
    ]);
  });

  it('decodes one chunk of 20 000 small frames (a recursive parser would overflow the stack)', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) frames.push(frame(i % 2 === 0 ? 1 : 2, `${i}\n`));
    const r = decode([Buffer.concat(frames)]);
    expect(r.calls).toHaveLength(20_000);
    expect(r.stdout.split('\n')[4999]).toBe('9998');
    expect(r.stderr.split('\n')[4999]).toBe('9999');
  });

  it('keeps a frame of several MB intact across 64 KiB chunks', () => {
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
    const r = decode(cut(Buffer.concat([frame(2, 'before\n'), frame(1, big), frame(2, 'after\n')]), 64 * 1024));
    expect(r.stdout.length).toBe(big.length);
    expect(r.stdout === big.toString('latin1')).toBe(true);
    expect(r.stderr).toBe('before\nafter\n');
  });

  it('delivers nothing of a frame until all of it has arrived; a stream that ends mid-frame leaves it out', () => {
    const whole = frame(1, 'complete');
    const partial = frame(2, 'truncated payload');
    const calls: string[] = [];
    const demux = new DockerStreamDemuxer(
      (b) => calls.push(`out:${b}`),
      (b) => calls.push(`err:${b}`),
    );
    demux.push(Buffer.concat([whole, partial.subarray(0, 5)]));
    expect(calls).toEqual(['out:complete']);
    demux.push(partial.subarray(5, 12));
    expect(calls).toEqual(['out:complete']);
    demux.push(partial.subarray(12));
    expect(calls).toEqual(['out:complete', 'err:truncated payload']);
    // The same stream cut before the last frame's end: only the complete frame comes out.
    expect(decode([Buffer.concat([whole, partial.subarray(0, partial.length - 1)])]).calls).toEqual([['out', 'complete']]);
  });

  it('passes empty frames on as empty chunks', () => {
    expect(decode([Buffer.concat([frame(1, ''), frame(2, 'x'), frame(1, '')])]).calls).toEqual([
      ['out', ''],
      ['err', 'x'],
      ['out', ''],
    ]);
  });
});

describe('demuxAll', () => {
  it('is the stdout text of a whole log, stderr dropped', () => {
    const log = Buffer.concat([frame(1, 'Filesystem 1024-blocks\n'), frame(2, 'df: warning\n'), frame(1, '/dev/sda1 100 50 50 50% /x\n')]);
    expect(demuxAll(log)).toBe('Filesystem 1024-blocks\n/dev/sda1 100 50 50 50% /x\n');
    expect(demuxAll(Buffer.alloc(0))).toBe('');
  });
});
