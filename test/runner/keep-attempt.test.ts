/**
 * What is kept of each attempt (issue 12, part 4c): the candidate patch, compressed beside its transcript and equal to
 * what was graded byte for byte; the binary files dropped from it; and the phase timings, in the attempt record and
 * not only in the benchmark callback. On the memory runtime with the real-size task (test/helpers/kept-attempts.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_STORED_PATCH_BYTES, readStoredPatch } from '../../src/agent/transcript.ts';
import { ATTEMPT_PHASES } from '../../src/domain/types.ts';
import { capturedTranscript } from '../helpers/memory-runner.ts';
import { AGENT_DELAY_MS, agentDiff, KEEP_API_KEY, keepAgent, keptRun, TESTS_MS, type KeptRun } from '../helpers/kept-attempts.ts';

let run: KeptRun | null = null;
afterEach(() => {
  run?.t.cleanup();
  run = null;
});

/** Every file under a directory, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('what is kept of an attempt', { timeout: 120_000 }, () => {
  it('keeps the candidate patch beside the transcript, byte for byte what was graded, with the dropped binary files listed', async () => {
    run = await keptRun({ samples: 1 });
    const { t, w, task } = run;
    const a = run.attempts[0]!;
    expect(a.outcome).toBe('resolved');
    // Real size: the agent's diff carries the whole gold patch of several hundred KB, with two binary files in it.
    const gold = Buffer.from(task.goldPatch, 'utf8');
    expect(gold.length).toBeGreaterThan(300_000);
    expect(agentDiff(task.goldPatch)).not.toBe(task.goldPatch);
    expect(a.patchBytes).toBe(gold.length);

    const stored = await readStoredPatch(a.patchPath!);
    expect(stored.equals(gold)).toBe(true);
    // The very bytes the grading container got.
    expect(w.gradingCalls).toHaveLength(1);
    expect(stored.equals(Buffer.from(w.gradingCalls[0]!.patch, 'utf8'))).toBe(true);
    // Beside the transcript, under the same name stem, gzip-compressed, readable by its owner only.
    expect(path.dirname(a.patchPath!)).toBe(path.dirname(a.transcriptPath!));
    expect(path.basename(a.patchPath!)).toBe(path.basename(a.transcriptPath!).replace(/\.jsonl\.gz$/, '.patch.gz'));
    const file = readFileSync(a.patchPath!);
    expect([...file.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(file.length).toBeLessThan(gold.length / 4);
    expect(statSync(a.patchPath!).mode & 0o777).toBe(0o600);

    // The dropped files, in diff order; the one named with the API key redacted.
    expect(a.droppedFiles).toEqual(['assets/logo.png', 'cache/[REDACTED].bin']);
    const dataDir = t.ctx.config.dataDir;
    for (const f of filesUnder(dataDir)) expect(f).not.toContain(KEEP_API_KEY);
    expect(stored.toString('utf8')).not.toContain(KEEP_API_KEY);
    expect(t.logs.join('')).not.toContain(KEEP_API_KEY);
  });

  it('stores the phase timings of every phase the attempt went through, in order, as the callback saw them', async () => {
    run = await keptRun({ samples: 1 });
    const a = run.attempts[0]!;
    const p = a.phaseTimings!;
    expect(Object.keys(p)).toEqual([...ATTEMPT_PHASES]);
    for (const k of ATTEMPT_PHASES) {
      expect(Number.isInteger(p[k]), k).toBe(true);
      expect(p[k], k).toBeGreaterThanOrEqual(0);
    }
    // What the fake harness's phase markers say: reset 1 ms, apply 1 ms, restoring the tests 48 ms; then the tests.
    expect(p.gradingPrepare).toBe(50);
    expect(p.tests).toBe(TESTS_MS);
    expect(p.agent).toBeGreaterThanOrEqual(AGENT_DELAY_MS - 5);
    // The callback's figures and the record's agree (the record in whole ms).
    const cb = run.callbackTimings.get(0)!;
    expect(Math.abs(cb.agentMs - p.agent!)).toBeLessThanOrEqual(1);
    expect(Math.abs(cb.extractionMs - p.extraction!)).toBeLessThanOrEqual(1);
    expect(Math.abs(cb.agentSetupMs - p.containerStart!)).toBeLessThanOrEqual(1);
    expect(Math.abs(cb.testsMs - p.tests!)).toBeLessThanOrEqual(1);
    expect(Math.abs(cb.gradeSetupMs - (p.gradingStart! + p.gradingPrepare! + p.gradingResults!))).toBeLessThanOrEqual(3);
    // The extraction (the diff, and storing it) is measured on its own, apart from the agent's time.
    expect(cb.extractionMs).toBeGreaterThan(0);
  });

  it('keeps no patch of an attempt that ran past its limit, its dropped files unknown, only the phases it reached', async () => {
    run = await keptRun({ samples: 2, timeoutSeconds: 1 });
    const a = run.attempts[1]!;
    expect(a).toMatchObject({ outcome: 'timeout', patchPath: null, droppedFiles: null, patchBytes: null });
    expect(Object.keys(a.phaseTimings!)).toEqual(['image', 'harness', 'containerStart', 'agent', 'agentTeardown']);
    expect(a.phaseTimings!.agent).toBeGreaterThanOrEqual(900);
    const dir = path.dirname(a.transcriptPath!);
    expect(readdirSync(dir).filter((f) => f.startsWith(path.basename(a.transcriptPath!).replace(/\.jsonl\.gz$/, '')))).toEqual([path.basename(a.transcriptPath!)]);
  });

  it('keeps an empty patch as empty, with nothing dropped', async () => {
    run = await keptRun({ samples: 3 });
    const a = run.attempts[2]!;
    expect(a).toMatchObject({ outcome: 'unresolved', patchBytes: 0, droppedFiles: [] });
    expect((await readStoredPatch(a.patchPath!)).length).toBe(0);
    expect(Object.keys(a.phaseTimings!)).toEqual([...ATTEMPT_PHASES]);
  });

  it('keeps the patch of an attempt that ended in an agent error, which is not graded', async () => {
    run = await keptRun({
      samples: 1,
      agent: keepAgent((_s, gold) => ({ stdout: capturedTranscript('max-turns'), patch: agentDiff(gold) })),
    });
    const a = run.attempts[0]!;
    expect(a.outcome).toBe('agent_error');
    expect(run.w.gradingCalls).toHaveLength(0);
    expect((await readStoredPatch(a.patchPath!)).toString('utf8')).toBe(run.task.goldPatch);
    expect(a.droppedFiles).toEqual(['assets/logo.png', 'cache/[REDACTED].bin']);
    expect(Object.keys(a.phaseTimings!)).toEqual(['image', 'harness', 'containerStart', 'agent', 'extraction', 'agentTeardown']);
  });

  it('keeps the patch and phases of the try that counted when the first try\'s infrastructure failed', async () => {
    let calls = 0;
    run = await keptRun({
      samples: 1,
      retries: 1,
      agent: keepAgent(() => (calls++ === 0 ? { stdout: '', stderr: 'exec: "claude": not runnable here\n', exitCode: 126 } : undefined)),
    });
    const a = run.attempts[0]!;
    expect(a.outcome).toBe('resolved');
    expect(run.w.agentCalls).toHaveLength(2);
    expect(path.basename(a.transcriptPath!)).toMatch(/-0-retry1\.jsonl\.gz$/);
    expect(path.basename(a.patchPath!)).toBe(path.basename(a.transcriptPath!).replace(/\.jsonl\.gz$/, '.patch.gz'));
    expect((await readStoredPatch(a.patchPath!)).toString('utf8')).toBe(run.task.goldPatch);
    // The first try left its transcript, but no patch (the CLI never started).
    expect(readdirSync(path.dirname(a.patchPath!)).sort()).toEqual([path.basename(a.patchPath!), path.basename(a.transcriptPath!).replace('-retry1', ''), path.basename(a.transcriptPath!)].sort());
    expect(a.phaseTimings!.agent).toBeGreaterThanOrEqual(AGENT_DELAY_MS - 5);
    expect(Object.keys(a.phaseTimings!)).toEqual([...ATTEMPT_PHASES]);
  });

  it(`grades a patch larger than ${MAX_STORED_PATCH_BYTES / 1024 / 1024} MiB but does not keep it`, async () => {
    const lines = Math.ceil((MAX_STORED_PATCH_BYTES + 1024 * 1024) / 64);
    const big = `diff --git a/data/big.txt b/data/big.txt\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/data/big.txt\n@@ -0,0 +1,${lines} @@\n${'+'.padEnd(63, 'x')}\n`;
    const huge = big.slice(0, big.lastIndexOf('@@\n') + 3) + `${'+'.padEnd(63, 'x')}\n`.repeat(lines);
    run = await keptRun({ samples: 1, agent: keepAgent((_s, gold) => ({ stdout: capturedTranscript('fix-success'), patch: gold + huge })) });
    const a = run.attempts[0]!;
    expect(a.patchBytes).toBeGreaterThan(MAX_STORED_PATCH_BYTES);
    expect(run.w.gradingCalls[0]!.patch.length).toBe(a.patchBytes);
    expect(a).toMatchObject({ patchPath: null, droppedFiles: [] });
    expect(readdirSync(path.dirname(a.transcriptPath!)).filter((f) => f.endsWith('.patch.gz'))).toEqual([]);
    expect(a.phaseTimings?.extraction).toBeGreaterThanOrEqual(0);
  });
});
