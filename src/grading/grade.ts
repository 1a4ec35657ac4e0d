/**
 * Grades one candidate patch in a fresh container from the task's image, as the official harness does: the entry
 * script of ./script.ts runs the task's tests, output.json is read back and ./outcome.ts decides.
 *
 * - A patch that does not apply still runs the tests (usually `unresolved`), as in the official harness.
 * - The grading timeout, failure to create/start the container, to copy files, or to run the script are
 *   `infra_error` (the runner may retry the attempt).
 * - The container is always removed.
 */
import {
  InfraError,
  KEEP_ALIVE,
  LABEL_ROLE,
  withInfraRetries,
  type ContainerHandle,
  type ContainerRuntime,
  type InfraReason,
} from '../executor/runtime.ts';
import { decideOutcome, type GradingOutput } from './outcome.ts';
import { stripBinaryHunks } from '../domain/patch.ts';
import { buildGradingScript, parseMarkers, WORKSPACE } from './script.ts';
import { summarizeTests } from './summary.ts';
import type { TestResults } from '../domain/test-results.ts';

/** What grading needs of a task (a dataset `Task` has these fields). */
export interface GradingTask {
  instanceId: string;
  baseCommit: string;
  beforeRepoSetCmd: string;
  selectedTestFiles: readonly string[];
  failToPass: readonly string[];
  passToPass: readonly string[];
}

/** The task's harness files: run_script.sh, parser.py, and the ENV settings of its Dockerfiles. */
export interface GradingFiles {
  runScript: string;
  parser: string;
  env: Readonly<Record<string, string>>;
}

export interface GradingLimits {
  cpus?: number;
  memoryBytes?: number;
  pidsLimit?: number;
  /** Default 'none': the tests get no network. */
  networkMode?: string;
}

export interface GradeInput {
  /** Local image reference of the task (make it present first with `ensureImage`). */
  image: string;
  task: GradingTask;
  files: GradingFiles;
  /** The candidate patch (a git diff); binary hunks are dropped before applying. */
  patch: string;
  /** Hard limit for the whole script (reset, apply, tests, parser); the container is killed when it passes. */
  timeoutMs: number;
  /** Labels of the grading container (e.g. `attemptLabels(...)`); role=grading is added. */
  labels?: Record<string, string>;
  limits?: GradingLimits;
  /** Retries of container setup (create, start, copy) on InfraError; default 0. */
  infraRetries?: number;
  /** Aborting kills the container; the result is infra_error 'aborted'. */
  signal?: AbortSignal;
  /** Longest stdout/stderr/log kept (the tail is kept); default 2 MiB each. */
  maxLogBytes?: number;
}

export type GradeOutcome = 'resolved' | 'unresolved' | 'infra_error';

/** Milliseconds spent in each phase; test-run phases come from the script's markers (null when not reached). */
export interface GradeTimings {
  createMs: number;
  startMs: number;
  copyInMs: number;
  /** The whole entry script, as seen from outside. */
  scriptMs: number;
  /** git reset + checkout, apply, and the restore line. */
  prepareMs: number | null;
  /** run_script.sh: the task's own test time. */
  testsMs: number | null;
  /** parser.py. */
  parseMs: number | null;
  copyOutMs: number;
  removeMs: number;
  totalMs: number;
}

export interface GradeResult {
  outcome: GradeOutcome;
  reason: string;
  durationMs: number;
  /** The test run's stdout.log and stderr.log. */
  stdout: string;
  stderr: string;
  /** The entry script's own output (git reset/apply messages, markers). */
  log: string;
  /** output.json as read (null when missing or malformed). */
  output: GradingOutput | null;
  /** Whether `git apply` accepted the patch (null when grading did not get that far). */
  patchApplied: boolean | null;
  missing: string[];
  failed: Array<{ name: string; status: string }>;
  /**
   * The per-test results of the fail_to_pass and pass_to_pass lists (./summary.ts), capped; null when output.json was
   * missing or malformed, or grading did not get that far, with the reason in `testsUnavailable`.
   */
  tests: TestResults | null;
  testsUnavailable: string | null;
  /** Set for infra_error. */
  infraReason?: InfraReason | 'timeout' | 'aborted';
  timings: GradeTimings;
}

function tail(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const buf = Buffer.from(s);
  return `[... ${buf.length - max} bytes cut ...]\n${buf.subarray(buf.length - max).toString('utf8')}`;
}

export async function gradeAttempt(runtime: ContainerRuntime, input: GradeInput): Promise<GradeResult> {
  const t0 = Date.now();
  const maxLog = input.maxLogBytes ?? 2 * 1024 * 1024;
  const timings: GradeTimings = {
    createMs: 0,
    startMs: 0,
    copyInMs: 0,
    scriptMs: 0,
    prepareMs: null,
    testsMs: null,
    parseMs: null,
    copyOutMs: 0,
    removeMs: 0,
    totalMs: 0,
  };
  const base = {
    stdout: '',
    stderr: '',
    log: '',
    output: null,
    patchApplied: null,
    missing: [],
    failed: [],
    tests: null,
    testsUnavailable: 'grading did not reach the test results',
  };
  // Totals are set once the container is gone (removal is part of the cost).
  const finish = (r: Omit<GradeResult, 'durationMs' | 'timings'>): GradeResult => ({ ...r, durationMs: Date.now() - t0, timings });

  let script: string;
  try {
    script = buildGradingScript({
      env: input.files.env,
      baseCommit: input.task.baseCommit,
      beforeRepoSetCmd: input.task.beforeRepoSetCmd,
      selectedTests: input.task.selectedTestFiles,
    });
  } catch (e) {
    // A task the grader cannot express is not the candidate's fault, nor retryable.
    return finish({ ...base, outcome: 'infra_error', infraReason: 'create_failed', reason: `cannot build the grading script: ${(e as Error).message}` });
  }
  const patch = stripBinaryHunks(input.patch);

  let container: ContainerHandle | undefined;
  const remove = async () => {
    if (!container) return;
    const r0 = Date.now();
    await runtime.remove(container, { force: true }).catch(() => undefined);
    timings.removeMs += Date.now() - r0;
    container = undefined;
  };

  let result: GradeResult;
  try {
    result = await grade();
  } finally {
    await remove();
  }
  timings.totalMs = Date.now() - t0;
  result.durationMs = timings.totalMs;
  return result;

  async function grade(): Promise<GradeResult> {
    try {
      await withInfraRetries(
        async () => {
          await remove();
          timings.createMs = timings.startMs = timings.copyInMs = 0;
          let t = Date.now();
          container = await runtime.createContainer({
            image: input.image,
            labels: { ...input.labels, [LABEL_ROLE]: 'grading' },
            entrypoint: KEEP_ALIVE,
            cmd: [],
            workingDir: '/',
            networkMode: input.limits?.networkMode ?? 'none',
            ...(input.limits?.cpus !== undefined ? { cpus: input.limits.cpus } : {}),
            ...(input.limits?.memoryBytes !== undefined ? { memoryBytes: input.limits.memoryBytes } : {}),
            ...(input.limits?.pidsLimit !== undefined ? { pidsLimit: input.limits.pidsLimit } : {}),
          });
          timings.createMs = Date.now() - t;
          t = Date.now();
          await runtime.start(container);
          timings.startMs = Date.now() - t;
          t = Date.now();
          await runtime.putFiles(container, WORKSPACE, {
            'patch.diff': patch,
            'run_script.sh': input.files.runScript,
            'parser.py': input.files.parser,
            'entry.sh': script,
          });
          timings.copyInMs = Date.now() - t;
        },
        input.infraRetries ?? 0,
      );
    } catch (e) {
      if (e instanceof InfraError) return finish({ ...base, outcome: 'infra_error', infraReason: e.reason, reason: e.message });
      throw e;
    }
    const c = container as unknown as ContainerHandle;

    let exec;
    const s0 = Date.now();
    try {
      exec = await runtime.exec(c, ['/bin/bash', `${WORKSPACE}/entry.sh`], {
        timeoutMs: input.timeoutMs,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (e) {
      if (e instanceof InfraError) return finish({ ...base, outcome: 'infra_error', infraReason: e.reason, reason: e.message });
      throw e;
    }
    timings.scriptMs = Date.now() - s0;
    const markers = parseMarkers(exec.stderr);
    const p = markers.phases;
    const span = (a: string, b: string) => {
      const d = (p[b] ?? NaN) - (p[a] ?? NaN);
      return Number.isFinite(d) ? Math.max(0, d) : null;
    };
    timings.prepareMs = span('reset', 'tests');
    timings.testsMs = span('tests', 'parse');
    timings.parseMs = span('parse', 'done');
    const log = tail(`${exec.stdout}${exec.stdout && !exec.stdout.endsWith('\n') ? '\n' : ''}${exec.stderr}`, maxLog);

    if (exec.timedOut || exec.aborted) {
      const why = exec.timedOut ? `grading timed out after ${Math.round(input.timeoutMs / 1000)} s` : 'grading aborted';
      return finish({ ...base, log, patchApplied: markers.patchApplied, outcome: 'infra_error', infraReason: exec.timedOut ? 'timeout' : 'aborted', reason: why });
    }

    if (!('done' in markers.phases) && exec.exitCode !== 90) {
      // The script did not reach its end: killed from inside (the official harness would find no output.json), or the
      // container itself died under us (killed, OOM, engine trouble), which says nothing about the candidate. A
      // container being killed can still look alive for a moment: watch it briefly.
      try {
        for (let i = 0; i < 20; i++) {
          const state = await runtime.inspect(c);
          if (!state?.running) {
            const why = !state ? 'it was removed' : state.oomKilled ? 'out of memory' : `${state.status}, exit code ${state.exitCode}`;
            return finish({ ...base, log, patchApplied: markers.patchApplied, outcome: 'infra_error', infraReason: 'exec_failed', reason: `the grading container stopped before the script ended (${why})` });
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch (e) {
        if (e instanceof InfraError) return finish({ ...base, log, outcome: 'infra_error', infraReason: e.reason, reason: e.message });
        throw e;
      }
    }

    const r0 = Date.now();
    let outputRaw: Buffer | null;
    let stdout: Buffer | null;
    let stderr: Buffer | null;
    try {
      const files = await runtime.getFiles(c, WORKSPACE, ['output.json', 'stdout.log', 'stderr.log']);
      outputRaw = files['output.json'] ?? null;
      stdout = files['stdout.log'] ?? null;
      stderr = files['stderr.log'] ?? null;
    } catch (e) {
      if (e instanceof InfraError) return finish({ ...base, log, outcome: 'infra_error', infraReason: e.reason, reason: e.message });
      throw e;
    }
    timings.copyOutMs = Date.now() - r0;

    const decision = decideOutcome(outputRaw, input.task.failToPass, input.task.passToPass);
    const summary = summarizeTests(decision, input.task.failToPass, input.task.passToPass);
    let reason = decision.reason;
    // No change at all is not a patch that failed to apply: say so. It can never be a fix, so it is unresolved
    // even on a task whose tests would pass unchanged (graded all the same, as the official harness does).
    const empty = patch.trim() === '';
    if (empty) reason = `empty patch: the candidate changes nothing; ${reason}`;
    else if (markers.patchApplied === false) reason = `patch did not apply; ${reason}`;
    if (!('done' in markers.phases) && exec.exitCode === 90) reason = `no /app in the image; ${reason}`;
    return finish({
      outcome: decision.resolved && !empty ? 'resolved' : 'unresolved',
      reason,
      stdout: tail(stdout?.toString('utf8') ?? '', maxLog),
      stderr: tail(stderr?.toString('utf8') ?? '', maxLog),
      log,
      output: decision.output,
      patchApplied: markers.patchApplied,
      missing: decision.missing,
      failed: decision.failed,
      tests: summary.tests,
      testsUnavailable: summary.tests ? null : summary.unavailable,
    });
  }
}
