/**
 * The runner's world on the in-memory runtime (src/executor/memory.ts): fixture tasks without an engine, and exec
 * handlers that answer the very commands an attempt runs, with what the real programs print:
 *
 * - the Claude Code CLI (`/opt/agentdrift/bin/claude -p <prompt> --output-format stream-json ...`, from the tool
 *   volume mounted read-only): a stream-json transcript on stdout, by default one captured from the real CLI
 *   (test/fixtures/agent/*.jsonl), and the change it leaves in the work tree;
 * - the patch extraction (`/bin/sh -c <script> agentdrift-patch <base> /app`): the diff of that change;
 * - the grading entry script (`/bin/bash /workspace/entry.sh`): the official steps as the fixture harness plays
 *   them (reset to the base commit, `git apply`, the restore line, run_script.sh, parser.py), with the phase markers
 *   on stderr, unittest's verbose output in stdout.log and the parser's output.json.
 *
 * A test scripts what the agent does per attempt ({@link AgentScript}) and, when it needs to, what the tests do
 * ({@link Grader}); everything the handlers saw is recorded for assertions.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPrompt } from '../../src/agent/prompt.ts';
import { TOOL_DIR } from '../../src/core/runner/attempt.ts';
import { MemoryRuntime, type ExecContext, type MemoryContainer, type MemoryRuntimeOptions } from '../../src/executor/memory.ts';
import { LABEL_ATTEMPT, LABEL_ROLE, type ContainerSpec, type EnsureToolVolumeOptions, type ToolFile } from '../../src/executor/runtime.ts';
import { MARKER_PREFIX, restoreTestsLine, shellQuote, WORKSPACE } from '../../src/grading/script.ts';
import { prepareFixtureTask, type FixtureTask } from './images.ts';
import { writeLargeTaskSources } from './large-task.ts';

const AGENT_FIXTURES = fileURLToPath(new URL('../fixtures/agent/', import.meta.url));

/** Transcripts captured from the real CLI against the fake API (test/fixtures/agent/capture.ts). */
export type CapturedTranscript = 'fix-success' | 'api-529' | 'api-500' | 'max-turns' | 'max-budget' | 'killed-no-result' | 'killed-mid-run';

export function capturedTranscript(name: CapturedTranscript): string {
  return readFileSync(path.join(AGENT_FIXTURES, `${name}.jsonl`), 'utf8');
}

/** The events of a captured transcript, parsed (to build variants of real events). */
export function capturedEvents(name: CapturedTranscript): Record<string, unknown>[] {
  return capturedTranscript(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The real-size fixture task of large-task.ts (a gold patch of several hundred KB over 160 modules, the official-size
 * run script and parser), without building its image.
 */
let largeMemo: Promise<FixtureTask> | undefined;
export function largeTaskWithoutImage(): Promise<FixtureTask> {
  const root = path.join(tmpdir(), `agentdrift-large-task-${process.pid}`);
  largeMemo ??= prepareFixtureTask('ledger-scale', writeLargeTaskSources(root)).finally(() => rmSync(root, { recursive: true, force: true }));
  return largeMemo;
}

/**
 * MemoryRuntime as the runner meets it. One difference: a tool file given by `sourcePath` (the CLI binary, 380 MB) is
 * checked to be a regular file and then stood in for by a short text naming it, instead of being read whole into
 * memory on every attempt; its name, mode, content key and mount are what the runner asked for.
 */
export class RunnerMemoryRuntime extends MemoryRuntime {
  readonly toolVolumeCalls: { name: string; files: Record<string, ToolFile>; options: EnsureToolVolumeOptions }[] = [];

  override async ensureToolVolume(name: string, files: Record<string, ToolFile>, options: EnsureToolVolumeOptions): Promise<void> {
    this.toolVolumeCalls.push({ name, files, options });
    const stand: Record<string, ToolFile> = {};
    for (const [p, f] of Object.entries(files)) {
      let size: number | null = null;
      if ('sourcePath' in f) {
        try {
          const s = statSync(f.sourcePath);
          if (s.isFile()) size = s.size;
        } catch {
          // left to the memory runtime, which fails it as the engine would (volume_failed)
        }
      }
      stand[p] =
        'sourcePath' in f && size !== null
          ? { content: `stand-in for ${f.sourcePath} (${size} bytes)\n`, ...(f.mode !== undefined ? { mode: f.mode } : {}) }
          : f;
    }
    return super.ensureToolVolume(name, stand, options);
  }
}

/** One invocation of the CLI, as the handler saw it. */
export interface AgentCall {
  task: FixtureTask;
  /** The attempt label of the container: `<instance id>#<sample>`. */
  attempt: string;
  sample: number;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  workingDir: string;
  /** The prompt, from argv or stdin. */
  prompt: string;
  container: MemoryContainer;
  spec: ContainerSpec;
  /** Aborted when the exec is stopped (timeout, abort, kill). */
  signal: AbortSignal;
  /** How many CLI invocations came before this one (over the whole world). */
  index: number;
}

/** What the scripted CLI does in one invocation. */
export interface AgentTurn {
  /** Its stdout (stream-json lines). */
  stdout: string;
  stderr?: string;
  /** Default 0. */
  exitCode?: number;
  /** The diff of the work tree against the base commit afterwards; default '' (changed nothing). */
  patch?: string;
  /** The patch extraction fails with this stderr (exit 128) instead. */
  patchFails?: string;
  /** After writing its stdout, it runs until the exec is stopped (it never ends by itself). */
  hang?: boolean;
  /** Milliseconds it takes before it ends (default 0). */
  delayMs?: number;
}

export type AgentScript = (call: AgentCall) => AgentTurn | Promise<AgentTurn>;

/** The agent that fixes its task: the real CLI's transcript of a fix, and the task's gold patch in the work tree. */
export const fixingAgent: AgentScript = (call) => ({ stdout: capturedTranscript('fix-success'), patch: call.task.goldPatch });

/** One grading script run, as the handler saw it. */
export interface GradingCall {
  task: FixtureTask;
  attempt: string;
  /** /workspace/patch.diff as the grader put it there. */
  patch: string;
  entry: string;
  runScript: string;
  parser: string;
  spec: ContainerSpec;
  container: MemoryContainer;
  signal: AbortSignal;
}

/** What the tests do in one grading run (anything left out: the fixture harness's own behaviour). */
export interface GradingTurn {
  /** Status per test name; default: fail-to-pass PASSED only with the gold patch, pass-to-pass PASSED. */
  statuses?: Record<string, string>;
  /** stdout.log; default unittest's verbose output for the statuses. */
  stdout?: string;
  /** The task's own test time the markers show (default 1200 ms). */
  testsMs?: number;
  /** The tests never end (a grading timeout). */
  hang?: boolean;
}

export type Grader = (call: GradingCall) => GradingTurn | undefined | Promise<GradingTurn | undefined>;

/** `tests/test_x.py::Class::test_y` as unittest -v prints it: `test_y (tests.test_x.Class.test_y) ... ok`. */
export function unittestLine(name: string, status: string): string {
  const [file = '', cls = '', method = ''] = name.split('::');
  const where = `${file.replace(/\.py$/, '').replaceAll('/', '.')}.${cls}.${method}`;
  const word = status === 'PASSED' ? 'ok' : status === 'FAILED' ? 'FAIL' : status === 'ERROR' ? 'ERROR' : 'skipped';
  return `${method} (${where}) ... ${word}`;
}

/** unittest's verbose output for these results, with its summary, as run_script.sh prints it (2>&1). */
export function unittestOutput(statuses: Record<string, string>, preamble = ''): string {
  const names = Object.keys(statuses);
  const failed = names.filter((n) => statuses[n] === 'FAILED');
  const lines = names.map((n) => unittestLine(n, statuses[n] as string));
  const failures = failed.map((n) => `${'='.repeat(70)}\nFAIL: ${unittestLine(n, 'FAILED').replace(/ \.\.\. FAIL$/, '')}\n${'-'.repeat(70)}\nAssertionError\n`);
  const summary = failed.length ? `FAILED (failures=${failed.length})` : 'OK';
  return `${preamble}${lines.join('\n')}\n\n${failures.join('\n')}${'-'.repeat(70)}\nRan ${names.length} tests in 0.042s\n\n${summary}\n`;
}

const normalize = (patch: string) => patch.replace(/\s+$/, '');

/** The fixture harness's results for a patch: the fail-to-pass tests pass only with the gold patch applied. */
export function harnessStatuses(task: FixtureTask, patch: string): Record<string, string> {
  const fixed = normalize(patch) === normalize(task.goldPatch);
  const statuses: Record<string, string> = {};
  for (const n of task.passToPass) statuses[n] = 'PASSED';
  for (const n of task.failToPass) statuses[n] = fixed ? 'PASSED' : 'FAILED';
  return statuses;
}

export interface MemoryWorldOptions extends MemoryRuntimeOptions {
  tasks: readonly FixtureTask[];
  /** 'present' (default): the task images are on the engine; 'offered': a pull brings them; 'none': neither. */
  images?: 'present' | 'offered' | 'none';
  /** What diskUsage reports per task image (default 3 GB). */
  imageSizeBytes?: number;
  agent?: AgentScript;
  grader?: Grader;
}

export interface MemoryWorld {
  runtime: RunnerMemoryRuntime;
  agentCalls: AgentCall[];
  patchCalls: { attempt: string; argv: readonly string[] }[];
  gradingCalls: GradingCall[];
  /** CLI invocations going on right now, and the most there ever were at once. */
  live: { now: number; max: number };
  /** Makes a task's image present (with its repository at /app), of this size for diskUsage. */
  addTaskImage(task: FixtureTask, sizeBytes?: number): void;
  /** Replaces the agent script (for the next invocations). */
  setAgent(script: AgentScript): void;
  setGrader(grader: Grader | undefined): void;
}

const CLAUDE = `${TOOL_DIR}/claude`;

/** A MemoryRuntime holding the tasks' images, whose exec handlers play the CLI, the patch extraction and the grader. */
export function memoryWorld(o: MemoryWorldOptions): MemoryWorld {
  const runtime = new RunnerMemoryRuntime(o);
  const size = o.imageSizeBytes ?? 3e9;
  const byImage = new Map<string, FixtureTask>();
  // What a task image has of the repository: enough for `cd /app` to succeed.
  const imageFiles = (t: FixtureTask) => ({ '/app/.git/HEAD': 'ref: refs/heads/main\n', '/app/README.md': `# ${t.repo}\n` });
  for (const t of o.tasks) {
    if ((o.images ?? 'present') === 'present') runtime.addImage(t.image, imageFiles(t), { sizeBytes: size });
    else if (o.images === 'offered') runtime.offerImage(t.image, imageFiles(t), { sizeBytes: size });
    byImage.set(t.image, t);
  }
  let agent: AgentScript = o.agent ?? fixingAgent;
  let grader: Grader | undefined = o.grader;
  const world: MemoryWorld = {
    runtime,
    agentCalls: [],
    patchCalls: [],
    gradingCalls: [],
    live: { now: 0, max: 0 },
    addTaskImage: (task, sizeBytes = size) => void runtime.addImage(task.image, imageFiles(task), { sizeBytes }),
    setAgent: (s) => void (agent = s),
    setGrader: (g) => void (grader = g),
  };
  /** The change each agent container's work tree holds (by container id). */
  const worktrees = new Map<string, { patch: string; patchFails?: string | undefined }>();
  const taskOf = (c: MemoryContainer): FixtureTask => {
    const t = byImage.get(c.image);
    if (!t) throw new Error(`no fixture task has the image ${c.image}`);
    return t;
  };
  const sampleOf = (attempt: string) => Number(attempt.slice(attempt.lastIndexOf('#') + 1));

  // The CLI, from the tool volume.
  runtime.onExec(async (ctx) => {
    if (ctx.cmd[0] !== CLAUDE) return undefined;
    if (!ctx.exists(CLAUDE)) return { exitCode: 127, stderr: `exec: "${CLAUDE}": stat ${CLAUDE}: no such file or directory\n` };
    const task = taskOf(ctx.container);
    const viaArgv = ctx.cmd[1] === '-p' && ctx.cmd[2] !== undefined && !ctx.cmd[2].startsWith('--');
    const prompt = viaArgv ? (ctx.cmd[2] as string) : ctx.stdin.toString('utf8');
    if (prompt !== buildPrompt(task)) throw new Error(`the CLI got a prompt that is not the official one of ${task.instanceId}`);
    const attempt = ctx.container.labels[LABEL_ATTEMPT] ?? '';
    const call: AgentCall = {
      task,
      attempt,
      sample: sampleOf(attempt),
      argv: ctx.cmd,
      env: ctx.env,
      workingDir: ctx.workingDir,
      prompt,
      container: ctx.container,
      spec: ctx.container.spec,
      signal: ctx.signal,
      index: world.agentCalls.length,
    };
    world.agentCalls.push(call);
    world.live.now++;
    world.live.max = Math.max(world.live.max, world.live.now);
    try {
      const turn = await agent(call);
      ctx.stdout(turn.stdout);
      if (turn.stderr) ctx.stderr(turn.stderr);
      worktrees.set(ctx.container.id, { patch: turn.patch ?? '', patchFails: turn.patchFails });
      if (turn.delayMs) await stopped(ctx, turn.delayMs);
      if (turn.hang) await stopped(ctx);
      return { exitCode: turn.exitCode ?? 0 };
    } finally {
      world.live.now--;
    }
  });

  // The patch extraction (agent/patch.ts): `/bin/sh -c SCRIPT agentdrift-patch <base> <repo>`.
  runtime.onExec((ctx) => {
    if (ctx.cmd[0] !== '/bin/sh' || ctx.cmd[1] !== '-c' || ctx.cmd[3] !== 'agentdrift-patch') return undefined;
    const task = taskOf(ctx.container);
    const [base, repo] = [ctx.cmd[4] ?? '', ctx.cmd[5] ?? ''];
    world.patchCalls.push({ attempt: ctx.container.labels[LABEL_ATTEMPT] ?? '', argv: ctx.cmd });
    if (!ctx.exists(repo)) return { exitCode: 2, stderr: `agentdrift-patch: 2: cd: can't cd to ${repo}\n` };
    if (base !== task.baseCommit) return { exitCode: 128, stderr: `fatal: bad revision '${base}'\n` };
    const tree = worktrees.get(ctx.container.id) ?? { patch: '' };
    if (tree.patchFails !== undefined) return { exitCode: 128, stderr: tree.patchFails };
    return { exitCode: 0, stdout: tree.patch };
  });

  // The grading entry script (grading/script.ts), as the fixture harness plays it.
  runtime.onExec(async (ctx) => {
    if (ctx.cmd[0] !== '/bin/bash' || ctx.cmd[1] !== `${WORKSPACE}/entry.sh`) return undefined;
    const task = taskOf(ctx.container);
    const read = (name: string) => ctx.readFile(`${WORKSPACE}/${name}`)?.toString('utf8') ?? '';
    const call: GradingCall = {
      task,
      attempt: ctx.container.labels[LABEL_ATTEMPT] ?? '',
      patch: read('patch.diff'),
      entry: read('entry.sh'),
      runScript: read('run_script.sh'),
      parser: read('parser.py'),
      spec: ctx.container.spec,
      container: ctx.container,
      signal: ctx.signal,
    };
    world.gradingCalls.push(call);
    let t = Date.now();
    const mark = (phase: string, ms = 1) => {
      ctx.stderr(`${MARKER_PREFIX} phase=${phase} t=${t}\n`);
      t += ms;
    };
    mark('start');
    mark('reset');
    if (!ctx.exists('/app')) {
      ctx.stderr(`${MARKER_PREFIX} error=no-app-dir\n`);
      return { exitCode: 90 };
    }
    // The script must be the official steps for this task, with the harness files the dataset names.
    const expected = [
      `git reset --hard ${shellQuote(task.baseCommit)}`,
      `git apply -v ${shellQuote(`${WORKSPACE}/patch.diff`)}`,
      restoreTestsLine(task.beforeRepoSetCmd),
    ];
    const missing = expected.filter((line) => !call.entry.includes(line));
    if (missing.length) throw new Error(`the grading script of ${task.instanceId} lacks ${JSON.stringify(missing)}`);
    if (call.runScript !== task.runScript || call.parser !== task.parser)
      throw new Error(`the grader was given harness files that are not ${task.instanceId}'s`);
    ctx.stdout(`HEAD is now at ${task.baseCommit.slice(0, 7)} ${task.repo}: state before the fix\n`);
    mark('apply');
    const applies = call.patch.startsWith('diff --git ');
    if (applies) ctx.stdout(`Checking patch ${call.patch.split('\n')[0]?.split(' b/')[1] ?? ''}...\nApplied patch cleanly.\n`);
    else ctx.stderr(call.patch.trim() === '' ? 'error: No valid patches in input (allow with "--allow-empty")\n' : 'error: corrupt patch at line 1\n');
    ctx.stderr(`${MARKER_PREFIX} patch=${applies ? 'applied' : 'failed'}\n`);
    mark('restore-tests', 48);
    const turn = (await grader?.(call)) ?? {};
    const testsMs = turn.testsMs ?? 1200;
    mark('tests', testsMs);
    if (turn.hang) {
      await stopped(ctx);
      return { exitCode: 137 };
    }
    // run_script.sh refuses to run without the instance Dockerfile's ENV (the grader must export it).
    const exported = Object.keys(task.env).every((k) => call.entry.includes(`export ${k}=`));
    const statuses = exported ? (turn.statuses ?? harnessStatuses(task, applies ? call.patch : '')) : {};
    ctx.writeFile(`${WORKSPACE}/stdout.log`, exported ? (turn.stdout ?? unittestOutput(statuses)) : '');
    ctx.writeFile(
      `${WORKSPACE}/stderr.log`,
      exported ? '' : "run_script.sh: FIXTURE_TEST_MODE is '', expected 'strict' (exported from the instance Dockerfile)\n",
    );
    mark('parse', 20);
    ctx.writeFile(`${WORKSPACE}/output.json`, JSON.stringify({ tests: Object.entries(statuses).map(([name, status]) => ({ name, status })) }));
    mark('done');
    return { exitCode: 0 };
  });
  return world;
}

/** Resolves once the exec is stopped (timeout, abort, kill), or after `ms` when given. */
function stopped(ctx: ExecContext, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve();
    const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
    ctx.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The role label of a container spec ('agent', 'grading', ...). */
export const roleOf = (spec: ContainerSpec) => spec.labels?.[LABEL_ROLE];
