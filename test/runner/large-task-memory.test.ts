/**
 * The memory-runtime twin of ./large-task.test.ts: the same real-size task (test/helpers/large-task.ts: a gold patch
 * of several hundred KB over 160 files, the official-size run script and parser, MBs of test output), through the
 * runner, the agent's transcript and patch handling and grading, with the container commands answered by
 * test/helpers/memory-runner.ts. Toy sizes hid a deadlock once; here every byte of the patch, the transcript and the
 * test output goes the whole way. What only a real engine shows (stream demuxing, archive uploads, a stalled engine)
 * stays in ./large-task.test.ts.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readTranscript } from '../../src/agent/transcript.ts';
import { executeRun } from '../../src/core/runner/run.ts';
import { makeContext, tempDir, type TestContext } from '../helpers/context.ts';
import { fixtureConfig, writeFixtureDataset, type FixtureTask } from '../helpers/images.ts';
import { LARGE_MODULES } from '../helpers/large-task.ts';
import {
  capturedEvents,
  harnessStatuses,
  largeTaskWithoutImage,
  memoryWorld,
  unittestOutput,
  type AgentScript,
  type Grader,
} from '../helpers/memory-runner.ts';

const API_KEY = 'sk-ant-test-secret-large-memory-0123456789';
const TRACK = 'fx-large-memory';
/** What tests/test_bulk.py of the large task prints and runs (large-task.ts): 30 000 debug lines, 2000 tests. */
const LOG_LINES = 30_000;
const BULK_TESTS = 2000;

let task: FixtureTask;
let datasetPath: string;
let harnessPath: string;
let t: TestContext | null = null;

beforeAll(async () => {
  task = await largeTaskWithoutImage();
  ({ datasetPath, harnessPath } = await writeFixtureDataset(tempDir('agentdrift-large-memory-'), [task]));
});

afterEach(() => {
  t?.cleanup();
  t = null;
});

function context(): TestContext {
  return makeContext(
    fixtureConfig({
      apiUrl: 'http://127.0.0.1:9',
      datasetPath,
      harnessPath,
      ids: [task.instanceId],
      docker: { infraRetries: 0, gradingTimeoutSeconds: 300, memoryMb: 2048 },
      track: { name: TRACK, model: 'claude-sonnet-4-5', limits: { timeoutSeconds: 300, maxTurns: 10, maxBudgetUsd: 5 } },
    }),
    { ANTHROPIC_API_KEY: API_KEY },
  );
}

/** The debug logging test_bulk.py prints when it is imported, line for line as its Python writes it. */
function bulkDebugLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < LOG_LINES; i++) {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const checksum = ((i * 2654435761) % 4294967296).toString(16).padStart(8, '0');
    lines.push(
      `DEBUG ledger.books: loaded entry ${pad(i, 6)} of book ${pad(i % 160, 3)}: ` +
        `amount=${(i * 7) % 1000}.00 balance=${(i * 13) % 100000}.00 state=posted checksum=${checksum}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The harness on the large task: every scale test and all 2000 bulk tests run, after the import-time debug log;
 * test_mod_NNN passes once the patch holds the gold fix of ledger/mod_NNN.py.
 */
const largeGrader: Grader = (call) => {
  const statuses = harnessStatuses(call.task, call.patch);
  const sections = call.task.goldPatch.split(/(?=^diff --git )/m);
  for (const name of call.task.failToPass) {
    const n = /test_mod_(\d{3})$/.exec(name)![1];
    const fix = sections.find((x) => x.startsWith(`diff --git a/ledger/mod_${n}.py `))!;
    statuses[name] = call.patch.includes(fix) ? 'PASSED' : 'FAILED';
  }
  for (let i = 0; i < BULK_TESTS; i++) statuses[`tests/test_bulk.py::TestBulk::test_case_${String(i).padStart(4, '0')}`] = 'PASSED';
  return { statuses, stdout: unittestOutput(statuses, bulkDebugLog()), testsMs: 9000 };
};

/**
 * The CLI writing the fix with its Write tool (too long for one command line) and applying it with Bash, as in
 * ./large-task.test.ts: the captured transcript of a real fix, its Write event carrying the whole gold patch.
 */
function largeFixTranscript(patch: string): string {
  const ev = capturedEvents('fix-success');
  const [init, , bashUse, bashResult, , , writeUse, writeResult, , , done, result] = ev;
  const withInput = (e: Record<string, unknown>, input: Record<string, unknown>) => {
    const m = structuredClone(e) as { message: { content: { input?: Record<string, unknown> }[] } };
    m.message.content[0]!.input = input;
    return m;
  };
  const lines = [
    init,
    withInput(writeUse!, { file_path: '/app/.fix.diff', content: patch }),
    writeResult,
    withInput(bashUse!, { command: 'cd /app && git apply .fix.diff && rm .fix.diff', description: 'Apply the change' }),
    bashResult,
    done,
    { ...result, num_turns: 3, result: 'Applied the fix to every module.' },
  ];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

describe('a task of real size on the memory runtime', { timeout: 120_000 }, () => {
  it('is as large as real tasks are', () => {
    expect(Buffer.byteLength(task.goldPatch)).toBeGreaterThan(300_000);
    expect(task.goldPatch.match(/^diff --git /gm)?.length).toBe(LARGE_MODULES);
    expect(task.runScript.length + task.parser.length).toBeGreaterThan(6_000);
    expect(task.failToPass.length + task.passToPass.length).toBe(560);
    expect(Buffer.byteLength(bulkDebugLog())).toBeGreaterThan(3_000_000);
  });

  it('an oracle run grades the gold patch resolved, with MBs of test output, its tail kept in the grading log', async () => {
    const w = memoryWorld({ tasks: [task], grader: largeGrader });
    t = context();
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test', oracle: true });
    expect(r.oracle).toEqual([
      { taskId: task.instanceId, outcome: 'resolved', reason: 'all 560 listed tests passed', gradingLogPath: expect.stringContaining('/oracle-') },
    ]);
    // The whole patch reached the grading container.
    expect(w.gradingCalls.map((g) => g.patch)).toEqual([task.goldPatch]);
    const log = gunzipSync(readFileSync(r.oracle![0]!.gradingLogPath!)).toString('utf8');
    // 3.5 MB of stdout.log: the tail (2 MiB) is kept, the cut said.
    expect(log).toMatch(/\[\.\.\. \d+ bytes cut \.\.\.\]/);
    expect(log).toContain('test_case_1999 (tests.test_bulk.TestBulk');
    expect(log).toContain('Ran 2160 tests in');
  });

  it('an agent run that writes the several-hundred-KB fix is graded resolved, its whole transcript stored', async () => {
    const transcript = largeFixTranscript(task.goldPatch);
    const agent: AgentScript = (c) => ({ stdout: transcript, patch: c.task.goldPatch });
    const w = memoryWorld({ tasks: [task], agent, grader: largeGrader });
    t = context();
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    expect(r).toMatchObject({ state: 'completed', attempted: 1 });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a?.reason).not.toMatch(/infra/);
    expect(a).toMatchObject({ outcome: 'resolved', toolCalls: 2, turns: 3, patchBytes: Buffer.byteLength(task.goldPatch) });
    expect(a!.patchBytes).toBeGreaterThan(300_000);
    expect(Buffer.byteLength(transcript)).toBeGreaterThan(1_000_000);
    expect(await readTranscript(a!.transcriptPath!)).toBe(transcript);
    expect(w.gradingCalls.map((g) => g.patch)).toEqual([task.goldPatch]);
    const log = gunzipSync(readFileSync(a!.gradingLogPath!)).toString('utf8');
    expect(log).toContain('# outcome: resolved');
    expect(log).toContain('test_case_1999 (tests.test_bulk.TestBulk');
    expect(t.logs.join('')).not.toContain(API_KEY);
  });

  it("a patch that misses one of the 160 modules is unresolved, naming that module's test", async () => {
    // The gold patch without its last file section.
    const sections = task.goldPatch.split(/(?=^diff --git )/m);
    const partial = sections.slice(0, -1).join('');
    const agent: AgentScript = () => ({ stdout: largeFixTranscript(partial), patch: partial });
    const w = memoryWorld({ tasks: [task], agent, grader: largeGrader });
    t = context();
    const r = await executeRun(t.ctx, w.runtime, TRACK, { trigger: 'test' });
    const [a] = t.ctx.store.attempts.ofRun(r.runId!);
    expect(a).toMatchObject({ outcome: 'unresolved', patchBytes: Buffer.byteLength(partial) });
    expect(sections.at(-1)).toMatch(/^diff --git a\/ledger\/mod_159\.py /);
    expect(a!.reason).toMatch(/^1 of 560 listed tests did not pass; .*tests\/test_scale\.py::TestScale::test_mod_159/);
  });
});
