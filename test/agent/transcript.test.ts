import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readTranscript, storeTranscript, transcriptFileName } from '../../src/agent/transcript.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('transcript storage', () => {
  it('stores gzip-compressed, redacted, in a new sub-directory, and reads back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agentdrift-transcripts-'));
    dirs.push(root);
    const secret = 'sk-ant-TRANSCRIPT-SECRET';
    const lines = [JSON.stringify({ type: 'user', content: `env says ${secret}` }), JSON.stringify({ type: 'result', n: 1 })];
    const stored = await storeTranscript(join(root, 'track', 'run-1'), 'attempt 7/task:x', lines, [secret]);
    expect(stored.path).toBe(join(root, 'track', 'run-1', 'attempt_7_task_x.jsonl.gz'));
    expect(stored.bytes).toBe(statSync(stored.path).size);
    const raw = gunzipSync(readFileSync(stored.path)).toString('utf8');
    expect(raw).not.toContain(secret);
    expect(raw).toContain('[REDACTED]');
    expect(raw.split('\n')).toHaveLength(3); // two lines, each newline-terminated
    expect(stored.rawBytes).toBe(Buffer.byteLength(raw));
    expect(await readTranscript(stored.path)).toBe(raw);
    expect(readdirSync(join(root, 'track', 'run-1'))).toEqual(['attempt_7_task_x.jsonl.gz']); // no temp file left
  });

  it('compresses: a repetitive transcript gets much smaller', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agentdrift-transcripts-'));
    dirs.push(root);
    const text = `${JSON.stringify({ type: 'assistant', message: { content: 'x'.repeat(200) } })}\n`.repeat(500);
    const stored = await storeTranscript(root, 'big', text, []);
    expect(stored.rawBytes).toBe(Buffer.byteLength(text));
    expect(stored.bytes).toBeLessThan(stored.rawBytes / 20);
  });

  it('file names cannot escape the directory', () => {
    expect(transcriptFileName('../../etc/passwd')).toBe('__.._etc_passwd.jsonl.gz');
    expect(transcriptFileName('a/b\\c')).toBe('a_b_c.jsonl.gz');
    expect(transcriptFileName('..')).toBe('_.jsonl.gz');
    expect(() => transcriptFileName('')).toThrow();
  });
});
