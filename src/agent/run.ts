/**
 * One agent attempt inside an already started task container, through the {@link ContainerRuntime} interface only:
 * run the CLI in the repository with a hard timeout (the runtime kills the container when it passes), store its
 * transcript compressed and redacted, parse it, then extract the candidate patch against the base commit.
 *
 * Nothing secret leaves this function unredacted: the transcript, the parsed texts, the patch and stderr all go
 * through the invocation's redaction list.
 */
import { InfraError, type ContainerHandle, type ContainerRuntime } from '../executor/runtime.ts';
import { splitBinaryHunks } from '../domain/patch.ts';
import { buildPatchCommand } from './patch.ts';
import { makeRedactor } from './redact.ts';
import { storePatch, storeTranscript } from './transcript.ts';
import type { Agent, AgentResult, InvocationOptions } from './types.ts';

export interface RunAgentOptions extends InvocationOptions {
  /** The task's base commit: the patch is the diff of the repository against it. */
  baseCommit: string;
  /** Hard limit of the agent's run; when it passes the container is killed and the attempt is a timeout. */
  timeoutMs: number;
  /** Directory of the attempt's transcript (created when missing). */
  transcriptDir: string;
  /** File name stem of the transcript (sanitised), e.g. `<run>-<task>-<sample>`. */
  transcriptName: string;
  /** Repository in the container (default: the invocation's cwd, `/app`). */
  repoDir?: string;
  /** Limit of the patch extraction (default 120 s). */
  patchTimeoutMs?: number;
  /** Aborting kills the container (daemon shutdown); the result then has `aborted: true`. */
  signal?: AbortSignal;
  /** Live stdout of the CLI, redacted (e.g. to show progress); called with whole lines. */
  onLine?: (line: string) => void;
}

export interface AgentRun {
  result: AgentResult;
  transcriptPath: string;
  /** Size of the compressed transcript file. */
  transcriptBytes: number;
  /** The candidate patch (binary files dropped, redacted); null when it could not be extracted (see patchError). */
  patch: string | null;
  patchBytes: number | null;
  /** Binary files the agent changed, left out of the patch (redacted paths). */
  droppedBinaryFiles: string[];
  /** The patch as stored beside the transcript (`<transcriptName>.patch.gz`); null when none, or over MAX_STORED_PATCH_BYTES. */
  patchPath: string | null;
  /** Wall time of the patch's extraction and storing; null when there was none (timeout, abort). */
  extractionMs: number | null;
  /** Why there is no patch: the agent timed out or was aborted (container killed), or the extraction failed. */
  patchError: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** Exit code of the CLI (null when killed). */
  exitCode: number | null;
  /** Last part of the CLI's stderr, redacted (diagnostics). */
  stderrTail: string;
  /** Wall time of the agent's run (not the patch extraction). */
  durationMs: number;
}

const STDERR_TAIL_CHARS = 4000;

function tail(text: string, chars: number): string {
  return text.length <= chars ? text : text.slice(text.length - chars);
}

/** Splits chunks into whole lines for `onLine` (the last partial line is flushed at the end). */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    },
    end() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

export async function runAgentInContainer(
  runtime: ContainerRuntime,
  container: ContainerHandle,
  agent: Agent,
  opts: RunAgentOptions,
): Promise<AgentRun> {
  const inv = agent.buildInvocation(opts);
  const redactor = makeRedactor(inv.redact);
  const lines = opts.onLine ? lineSplitter((l) => opts.onLine?.(redactor(l))) : null;

  const exec = await runtime.exec(container, inv.argv, {
    env: inv.env,
    workingDir: inv.cwd,
    timeoutMs: opts.timeoutMs,
    // Always give the CLI a stdin that ends, or `claude -p` waits for piped input.
    stdin: inv.stdin ?? '',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(lines ? { onStdout: (b: Buffer) => lines.push(b) } : {}),
  });
  lines?.end();

  const stdout = redactor(exec.stdout);
  const stderrTail = redactor(tail(exec.stderr, STDERR_TAIL_CHARS));
  const stored = await storeTranscript(opts.transcriptDir, opts.transcriptName, stdout, []);
  const parsed = agent.parseTranscript(stdout);

  if (!exec.timedOut && !exec.aborted && parsed.events === 0 && exec.exitCode !== 0) {
    // The CLI never started (binary missing or not runnable in this image): infrastructure, not the agent.
    throw new InfraError(
      'exec_failed',
      `${agent.name} did not start (exit ${String(exec.exitCode)}): ${tail(stderrTail, 500).trim() || 'no output'}`,
    );
  }

  const result: AgentResult = exec.timedOut ? { ...parsed, outcome: 'timeout', errorSubtype: 'timeout', isError: true } : parsed;

  let patch: string | null = null;
  let patchError: string | null = null;
  let droppedBinaryFiles: string[] = [];
  let patchPath: string | null = null;
  let extractionMs: number | null = null;
  if (exec.timedOut || exec.aborted) {
    patchError = exec.timedOut ? 'agent timed out; container killed' : 'aborted; container killed';
  } else {
    const t0 = performance.now();
    const cmd = buildPatchCommand(opts.baseCommit, opts.repoDir ?? inv.cwd);
    const pr = await runtime.exec(container, cmd, { timeoutMs: opts.patchTimeoutMs ?? 120_000 });
    if (pr.exitCode === 0) {
      const split = splitBinaryHunks(pr.stdout);
      droppedBinaryFiles = split.dropped.map(redactor);
      patch = redactor(split.patch);
      patchPath = (await storePatch(opts.transcriptDir, opts.transcriptName, patch))?.path ?? null;
    } else {
      patchError = redactor(
        `patch extraction failed (exit ${String(pr.exitCode)}${pr.timedOut ? ', timed out' : ''}): ${tail(pr.stderr, 500).trim()}`,
      );
    }
    extractionMs = performance.now() - t0;
  }

  return {
    result,
    transcriptPath: stored.path,
    transcriptBytes: stored.bytes,
    patch,
    patchBytes: patch === null ? null : Buffer.byteLength(patch, 'utf8'),
    droppedBinaryFiles,
    patchPath,
    extractionMs,
    patchError,
    timedOut: exec.timedOut,
    aborted: exec.aborted,
    exitCode: exec.exitCode,
    stderrTail,
    durationMs: exec.durationMs,
  };
}
