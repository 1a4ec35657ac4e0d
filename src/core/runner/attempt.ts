/**
 * One attempt of one task: the agent in the task's own container, its candidate patch, then grading in a fresh
 * container from the same image, as SWE-Bench-Pro's harness grades. Returns the attempt record to store.
 *
 * Outcomes: `timeout` when the agent ran past its limit (container killed, not graded); `agent_error` when the agent
 * ended in error (max turns, budget, API errors; not graded); `resolved` / `unresolved` from grading;
 * `infra_error` when the infrastructure failed (engine, image, harness files, containers, grading timeout) after
 * the configured retries. An aborted attempt (shutdown, cancel) throws AttemptAborted and is not stored, so a
 * resumed run attempts it again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { attemptBehaviour, buildPrompt, installedBinaryPath, runAgentInContainer, type Agent, type AgentRun, type Credentials } from '../../agent/index.ts';
import type { Config, TrackConfig } from '../../config/index.ts';
import { imageReference, loadHarnessFiles, type HarnessSource, type Task } from '../../dataset/index.ts';
import { attemptLabels, InfraError, KEEP_ALIVE, withInfraRetries, type ContainerRuntime } from '../../executor/runtime.ts';
import { gradeAttempt, type GradeResult } from '../../grading/grade.ts';
import { ATTEMPT_PHASES, type AttemptInput, type AttemptPhase, type PhaseTimings } from '../../domain/types.ts';
import { imagePullReporter, type FetchProgress } from './fetch-progress.ts';

export const TOOL_DIR = '/opt/agentdrift/bin';

export class AttemptAborted extends Error {
  constructor() {
    super('attempt aborted');
    this.name = 'AttemptAborted';
  }
}

export interface AttemptDeps {
  runtime: ContainerRuntime;
  agent: Agent;
  config: Config;
  credentials: Credentials | null;
  log: Logger;
  /** Progress of image pulls (throttled; the pulls are logged at info as well). */
  onFetch?: ((p: FetchProgress) => void) | undefined;
  /** Called with the image reference when the attempt pulled its image (the store records agentdrift's pulls). */
  onImagePulled?: ((ref: string) => void) | undefined;
}

export interface AttemptPlan {
  track: TrackConfig;
  runId: number;
  task: Task;
  sample: number;
  harness: HarnessSource;
  /** Apply the gold patch instead of running the agent. */
  oracle: boolean;
  /**
   * Folder name of the attempt's grading log under grading/<track>/: the run id for stored runs; an oracle run (which
   * has no run id) passes its own, so one oracle run never writes over another's logs. Default: the run id.
   */
  logFolder?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Phase timings (ms) of agentdrift's own work, for the overhead benchmark (and `agentdrift run`'s summary line). The
 * attempt record keeps the finer {@link PhaseTimings} (`phaseTimings`).
 */
export interface AttemptTimings {
  imageMs: number;
  harnessMs: number;
  agentSetupMs: number;
  /** The agent CLI's run, its transcript stored and parsed (not the patch extraction). */
  agentMs: number;
  /** The candidate patch's extraction in the agent container, and storing it. */
  extractionMs: number;
  agentTeardownMs: number;
  gradeSetupMs: number;
  testsMs: number;
  gradeTeardownMs: number;
}

export interface AttemptOutcome {
  attempt: AttemptInput;
  agentVersion: string | null;
  modelId: string | null;
  timings: AttemptTimings;
}

/** Like KEEP_ALIVE, but PID 1 exits after `seconds`, which stops the container and everything in it. */
export function selfStopping(seconds: number): string[] {
  const [shell, flag, script] = KEEP_ALIVE as [string, string, string];
  return [shell, flag, `(sleep ${Math.ceil(seconds)}; kill -TERM $$) & ${script}`];
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 150);

export function toolVolumeName(agent: Agent): string {
  return `agentdrift-${agent.name}-${agent.version()}`;
}

export async function runAttempt(deps: AttemptDeps, plan: AttemptPlan): Promise<AttemptOutcome> {
  const { runtime, config } = deps;
  const { task, track } = plan;
  const startedAt = new Date();
  const timings: AttemptTimings = { imageMs: 0, harnessMs: 0, agentSetupMs: 0, agentMs: 0, extractionMs: 0, agentTeardownMs: 0, gradeSetupMs: 0, testsMs: 0, gradeTeardownMs: 0 };
  // The phases the attempt went through, in whole ms, for its record.
  const phases: PhaseTimings = {};
  const took = (phase: AttemptPhase, ms: number) => void (phases[phase] = Math.max(0, Math.round(ms)));
  const base: Omit<AttemptInput, 'outcome' | 'reason' | 'endedAt'> = {
    taskId: task.instanceId,
    sampleIndex: plan.sample,
    // From the frozen suite's task: what the breakdown by repository and language groups the attempt under.
    repository: task.repo,
    language: task.language,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0,
    turns: 0,
    toolCalls: 0,
    agentDurationMs: null,
    gradingDurationMs: null,
    patchBytes: null,
    transcriptPath: null,
    gradingLogPath: null,
    startedAt: startedAt.toISOString(),
  };
  const finish = (outcome: AttemptInput['outcome'], reason: string | null, extra: Partial<AttemptInput> = {}, reported: { v: string | null; m: string | null } = { v: null, m: null }): AttemptOutcome => ({
    attempt: { ...base, ...extra, phaseTimings: orderedPhases(phases), outcome, reason, endedAt: new Date().toISOString() },
    agentVersion: reported.v,
    modelId: reported.m,
    timings,
  });
  const retries = config.docker.infraRetries;
  const onRetry = (e: InfraError, n: number) => deps.log.warn({ task: task.instanceId, sample: plan.sample, retry: n, reason: e.reason, err: e.message }, 'infrastructure failed; retrying');
  const image = imageReference(task.imageTag, config.docker.imageRepository);
  const labels = attemptLabels({ track: track.name, run: plan.runId, attempt: `${task.instanceId}#${plan.sample}` });
  const limits = { cpus: config.docker.cpus, memoryBytes: config.docker.memoryMb * 1024 * 1024, pidsLimit: config.docker.pidsLimit };

  try {
    let t = performance.now();
    const pull = imagePullReporter(image, { log: deps.log, onFetch: deps.onFetch });
    const got = await withInfraRetries(() => runtime.ensureImage(image, { pull: config.docker.pull, onProgress: pull.onProgress }), retries, { onRetry });
    if (got === 'pulled') deps.onImagePulled?.(image);
    pull.finish();
    timings.imageMs = performance.now() - t;
    took('image', timings.imageMs);
    t = performance.now();
    let files;
    try {
      files = await loadHarnessFiles(task.instanceId, plan.harness, config.dataDir);
    } catch (e) {
      return finish('infra_error', `harness files: ${(e as Error).message}`);
    }
    timings.harnessMs = performance.now() - t;
    took('harness', timings.harnessMs);

    let patch: string;
    let agentRun: AgentRun | null = null;
    if (plan.oracle) {
      patch = task.patch;
    } else {
      // A retry's phases replace those of the try whose infrastructure failed.
      const fresh = (n: number) => {
        for (const k of ['containerStart', 'agent', 'extraction', 'agentTeardown'] as const) delete phases[k];
        return agentAttempt(deps, plan, image, labels, limits, timings, took, n);
      };
      agentRun = await withInfraRetries(fresh, retries, { onRetry });
      if (agentRun.aborted) throw new AttemptAborted();
      const r = agentRun.result;
      const usage: Partial<AttemptInput> = {
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        cacheReadTokens: r.cacheReadTokens,
        cacheCreationTokens: r.cacheCreationTokens,
        costUsd: r.costUsd,
        turns: r.turns,
        toolCalls: r.toolCalls,
        // The CLI's own account (the result event's duration_ms) when it ended by itself; the exec's wall time when
        // there is no result (killed at the timeout, crashed). The API share is the result's duration_api_ms.
        agentDurationMs: Math.round(r.durationMs ?? agentRun.durationMs),
        agentApiDurationMs: r.durationApiMs === null ? null : Math.round(r.durationApiMs),
        patchBytes: agentRun.patchBytes,
        transcriptPath: agentRun.transcriptPath,
        // What git apply cannot take, left out of the patch; unknown when no patch was extracted.
        droppedFiles: agentRun.patch === null ? null : agentRun.droppedBinaryFiles,
        patchPath: agentRun.patchPath,
        // What the agent did (tool calls, reads before the first edit, thinking, API errors) and its patch's size.
        behaviour: attemptBehaviour(r.behaviour, agentRun.patch),
      };
      const reported = { v: r.cliVersion, m: r.model };
      if (agentRun.timedOut) return finish('timeout', `agent ran past ${track.limits.timeoutSeconds} s; container killed`, usage, reported);
      if (r.outcome === 'agent_error') {
        const why = [r.errorSubtype ?? 'agent error', r.apiErrorStatus ? `HTTP ${r.apiErrorStatus}` : null, (r.errorMessage ?? r.resultText)?.slice(0, 300) ?? null];
        return finish('agent_error', why.filter(Boolean).join(': '), usage, reported);
      }
      if (agentRun.patch === null) return finish('infra_error', agentRun.patchError ?? 'no patch', usage, reported);
      patch = agentRun.patch;
      Object.assign(base, usage);
    }

    const g = await gradeAttempt(runtime, {
      image,
      task,
      files,
      patch,
      timeoutMs: config.docker.gradingTimeoutSeconds * 1000,
      labels: { ...labels },
      limits: { ...limits, networkMode: config.docker.gradingNetworkMode },
      infraRetries: retries,
      ...(plan.signal ? { signal: plan.signal } : {}),
    });
    if (g.infraReason === 'aborted') throw new AttemptAborted();
    timings.gradeSetupMs = g.timings.createMs + g.timings.startMs + g.timings.copyInMs + (g.timings.prepareMs ?? 0) + (g.timings.parseMs ?? 0) + g.timings.copyOutMs;
    timings.testsMs = g.timings.testsMs ?? g.timings.scriptMs;
    timings.gradeTeardownMs = g.timings.removeMs;
    took('gradingStart', g.timings.createMs + g.timings.startMs + g.timings.copyInMs);
    if (g.timings.prepareMs !== null) took('gradingPrepare', g.timings.prepareMs);
    took('tests', timings.testsMs);
    took('gradingResults', (g.timings.parseMs ?? 0) + g.timings.copyOutMs);
    took('gradingTeardown', g.timings.removeMs);
    const logPath = storeGradingLog(config.dataDir, track.name, plan.logFolder ?? String(plan.runId), task.instanceId, plan.sample, g);
    const reported = { v: agentRun?.result.cliVersion ?? null, m: agentRun?.result.model ?? null };
    const graded = { gradingDurationMs: Math.round(g.durationMs), gradingLogPath: logPath, patchBytes: Buffer.byteLength(patch), tests: g.tests };
    return finish(g.outcome, g.reason, graded, reported);
  } catch (e) {
    if (e instanceof AttemptAborted) throw e;
    if (plan.signal?.aborted) throw new AttemptAborted();
    if (e instanceof InfraError) return finish('infra_error', `${e.reason}: ${e.message}`);
    throw e;
  }
}

async function agentAttempt(
  deps: AttemptDeps,
  plan: AttemptPlan,
  image: string,
  labels: Record<string, string>,
  limits: { cpus: number; memoryBytes: number; pidsLimit: number },
  timings: AttemptTimings,
  took: (phase: AttemptPhase, ms: number) => void,
  retry: number,
): Promise<AgentRun> {
  const { runtime, config, agent } = deps;
  const { task, track } = plan;
  if (!deps.credentials) throw new Error('no agent credentials');
  let t = performance.now();
  const volume = toolVolumeName(agent);
  await runtime.ensureToolVolume(volume, { claude: { sourcePath: installedBinaryPath(), mode: 0o755 } }, { helperImage: image, contentKey: agent.version() });
  const container = await runtime.createContainer({
    image,
    labels: { ...labels, 'agentdrift.role': 'agent' },
    // PID 1 ends by itself shortly after the attempt's limit, so a container orphaned by a crashed runner stops (and
    // its agent stops spending) even if nobody is left to kill it; a restart removes it.
    entrypoint: selfStopping(track.limits.timeoutSeconds + 300),
    workingDir: '/app',
    ...limits,
    networkMode: config.docker.networkMode,
    mounts: [{ volume, target: TOOL_DIR, readOnly: true }],
  });
  try {
    await runtime.start(container);
    timings.agentSetupMs = performance.now() - t;
    took('containerStart', timings.agentSetupMs);
    t = performance.now();
    const budget = Math.min(track.limits.maxBudgetUsd, track.budget.perAttemptUsd ?? Infinity);
    const run = await runAgentInContainer(runtime, container, agent, {
      prompt: buildPrompt(task),
      model: track.model,
      maxTurns: track.limits.maxTurns,
      maxBudgetUsd: budget,
      credentials: deps.credentials,
      ...(config.anthropic.baseUrl ? { baseUrl: config.anthropic.baseUrl } : {}),
      binary: `${TOOL_DIR}/claude`,
      extraEnv: track.agentEnv,
      baseCommit: task.baseCommit,
      timeoutMs: track.limits.timeoutSeconds * 1000,
      transcriptDir: path.join(config.dataDir, 'transcripts', track.name, String(plan.runId)),
      // storeTranscript makes it a safe file name.
      transcriptName: `${task.instanceId}-${plan.sample}${retry ? `-retry${retry}` : ''}`,
      ...(plan.signal ? { signal: plan.signal } : {}),
    });
    timings.extractionMs = run.extractionMs ?? 0;
    timings.agentMs = performance.now() - t - timings.extractionMs;
    took('agent', timings.agentMs);
    if (run.extractionMs !== null) took('extraction', run.extractionMs);
    return run;
  } finally {
    t = performance.now();
    await runtime.remove(container, { force: true }).catch((e: Error) => deps.log.warn({ err: e.message }, 'could not remove the agent container'));
    timings.agentTeardownMs = performance.now() - t;
    took('agentTeardown', timings.agentTeardownMs);
  }
}

/** The phases in the order they run (ATTEMPT_PHASES), so a stored record reads in that order. */
function orderedPhases(p: PhaseTimings): PhaseTimings {
  return Object.fromEntries(ATTEMPT_PHASES.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
}

function storeGradingLog(dataDir: string, track: string, folder: string, taskId: string, sample: number, g: GradeResult): string {
  const dir = path.join(dataDir, 'grading', track, safe(folder));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${safe(taskId)}-${sample}.log.gz`);
  const text = `# outcome: ${g.outcome} (${g.reason})\n# --- entry script ---\n${g.log}\n# --- stdout.log ---\n${g.stdout}\n# --- stderr.log ---\n${g.stderr}\n`;
  writeFileSync(file, gzipSync(text));
  return file;
}
