/**
 * A run whose attempts show what agentdrift keeps of each (issue 12, part 4c), on the memory runtime
 * (./memory-runner.ts) with the real-size task of ./large-task.ts: the runner, the agent invocation, the patch handling,
 * grading and the store are the real code; the container commands are answered with what the real programs print.
 *
 * Sample 0: the agent leaves the several-hundred-KB fix plus two binary files (one a `GIT binary patch`, one `Binary
 * files ... differ`, named with the agent's API key), so the candidate patch is the gold patch with both dropped.
 * Sample 1: the agent runs past the limit (no patch). Sample 2: the agent changes nothing (an empty patch).
 */
import { executeRun } from '../../src/core/runner/run.ts';
import type { AttemptTimings } from '../../src/core/runner/attempt.ts';
import type { AttemptRow } from '../../src/domain/types.ts';
import { makeContext, tempDir, type TestContext } from './context.ts';
import { fixtureConfig, writeFixtureDataset, type FixtureTask } from './images.ts';
import { capturedTranscript, largeTaskWithoutImage, memoryWorld, type AgentScript, type MemoryWorld } from './memory-runner.ts';

export const KEEP_API_KEY = 'sk-ant-test-secret-keep-attempt-0123456789';
export const KEEP_TRACK = 'fx-keep';
/** How long the fixing agent takes (the agent phase lasts at least this). */
export const AGENT_DELAY_MS = 250;
/** The tests' own time the fake harness's markers show (the `tests` phase). */
export const TESTS_MS = 4321;

/** A binary file the agent added, as `git diff --binary` prints it. */
export const LOGO_SECTION = `diff --git a/assets/logo.png b/assets/logo.png
new file mode 100644
index 0000000000000000000000000000000000000000..88768efdf77ec78c9a995f94881793be6a41752b
GIT binary patch
literal 5
McmZQzOv=my00M6TI{*Lx

literal 0
HcmV?d00001

`;

/** A binary file the agent changed, named with its API key (its name must reach neither the store nor the API). */
export const SECRET_SECTION = `diff --git a/cache/${KEEP_API_KEY}.bin b/cache/${KEEP_API_KEY}.bin
index 3333333..4444444 100644
Binary files a/cache/${KEEP_API_KEY}.bin and b/cache/${KEEP_API_KEY}.bin differ
`;

/** The gold patch with the two binary sections: first, and between two of its file sections. */
export function agentDiff(gold: string): string {
  const sections = gold.split(/(?=^diff --git )/m);
  const half = Math.floor(sections.length / 2);
  return LOGO_SECTION + sections.slice(0, half).join('') + SECRET_SECTION + sections.slice(half).join('');
}

export interface KeptRun {
  t: TestContext;
  w: MemoryWorld;
  task: FixtureTask;
  runId: number;
  /** By sample index. */
  attempts: AttemptRow[];
  /** What the onTimings callback got, by sample index. */
  callbackTimings: Map<number, AttemptTimings>;
}

let dataset: Promise<{ task: FixtureTask; datasetPath: string; harnessPath: string }> | undefined;

function largeDataset() {
  dataset ??= largeTaskWithoutImage().then(async (task) => ({ task, ...(await writeFixtureDataset(tempDir('agentdrift-keep-'), [task])) }));
  return dataset;
}

/** The agent of each sample, as the file comment says; `extra` replaces it for the samples it answers. */
export function keepAgent(extra?: (sample: number, gold: string) => ReturnType<AgentScript> | undefined): AgentScript {
  return (c) => {
    const own = extra?.(c.sample, c.task.goldPatch);
    if (own) return own;
    if (c.sample === 1) return { stdout: capturedTranscript('killed-no-result'), hang: true };
    if (c.sample === 2) return { stdout: capturedTranscript('fix-success'), patch: '' };
    return { stdout: capturedTranscript('fix-success'), patch: agentDiff(c.task.goldPatch), delayMs: AGENT_DELAY_MS };
  };
}

/** Runs the track once with `samples` samples of the large task and returns the stored attempts. */
export async function keptRun(opts: { samples?: number; agent?: AgentScript; timeoutSeconds?: number; retries?: number } = {}): Promise<KeptRun> {
  const { task, datasetPath, harnessPath } = await largeDataset();
  const w = memoryWorld({ tasks: [task], agent: opts.agent ?? keepAgent(), grader: () => ({ testsMs: TESTS_MS }) });
  const t = makeContext(
    fixtureConfig({
      apiUrl: 'http://127.0.0.1:9',
      datasetPath,
      harnessPath,
      ids: [task.instanceId],
      docker: { infraRetries: opts.retries ?? 0, gradingTimeoutSeconds: 300, memoryMb: 2048 },
      track: {
        name: KEEP_TRACK,
        model: 'claude-sonnet-4-5',
        samplesPerTask: opts.samples ?? 3,
        limits: { timeoutSeconds: opts.timeoutSeconds ?? 2, maxTurns: 10, maxBudgetUsd: 5 },
      },
    }),
    { ANTHROPIC_API_KEY: KEEP_API_KEY },
  );
  const callbackTimings = new Map<number, AttemptTimings>();
  let n = 0;
  try {
    const r = await executeRun(t.ctx, w.runtime, KEEP_TRACK, {
      trigger: 'test',
      // The callback does not say the sample; at concurrency 1 it comes right after each insert, in the same order.
      onTimings: (_task, timings) => void callbackTimings.set(n++, timings),
    });
    const stored = t.ctx.store.attempts.ofRun(r.runId!);
    const bySample: AttemptRow[] = [];
    const timingsBySample = new Map<number, AttemptTimings>();
    stored.forEach((a, i) => {
      bySample[a.sampleIndex] = a;
      const x = callbackTimings.get(i);
      if (x) timingsBySample.set(a.sampleIndex, x);
    });
    return { t, w, task, runId: r.runId!, attempts: bySample, callbackTimings: timingsBySample };
  } catch (e) {
    t.cleanup();
    throw e;
  }
}
