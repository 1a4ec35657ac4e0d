/**
 * agentdrift's own overhead per attempt in Docker, with the fixture task images (built locally on first use).
 *
 * 1. Attempt container: create (with the Claude Code tool volume mounted read-only, as the runner does), start,
 *    copy a file in, one exec round trip, read a file back, remove.
 * 2. Grading: gradeAttempt with the gold patch; its phases come from the entry script's markers, so the task's own
 *    test time (run_script.sh) is separated from agentdrift's overhead.
 * 3. Oracle pipeline of 20 fixture tasks (attempt container applying the gold patch and extracting the candidate
 *    diff, then grading) at concurrency 1 and 2: wall time.
 *
 * Run alone: `node --import tsx bench/executor.ts`, or through `npm run bench executor`.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DockerRuntime } from '../src/executor/docker/index.ts';
import { attemptLabels, KEEP_ALIVE, LABEL_TRACK, type ContainerRuntime } from '../src/executor/runtime.ts';
import { gradeAttempt, type GradeResult } from '../src/grading/grade.ts';
import { ensureFixtureImages, manyFixtureTasks, type FixtureTask } from '../test/helpers/images.ts';

const SAMPLES = 10;
const TOOL_DIR = '/opt/agentdrift/bin';

interface Stat {
  median: number;
  p90: number;
  mean: number;
}

function stat(xs: readonly number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? NaN;
  return { median: q(0.5), p90: q(0.9), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

function row(name: string, xs: readonly number[]): string {
  const { median, p90, mean } = stat(xs);
  return `  ${name.padEnd(34)} ${median.toFixed(0).padStart(7)} ${p90.toFixed(0).padStart(7)} ${mean.toFixed(0).padStart(7)}`;
}

const HEADER = `  ${'phase (ms)'.padEnd(34)} ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'mean'.padStart(7)}`;

async function toolVolume(runtime: ContainerRuntime, helperImage: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('@anthropic-ai/claude-code-linux-x64/package.json'));
  const version = (require(path.join(dir, 'package.json')) as { version: string }).version;
  const name = `agentdrift-bench-claude-code-${version}`;
  const t = performance.now();
  await runtime.ensureToolVolume(name, { claude: { sourcePath: path.join(dir, 'claude'), mode: 0o755 } }, { helperImage, contentKey: `claude-code-${version}` });
  console.log(`tool volume ${name}: ready in ${(performance.now() - t).toFixed(0)} ms (filled once per CLI version)`);
  return name;
}

interface AttemptPhases {
  create: number;
  start: number;
  copyIn: number;
  exec: number;
  copyOut: number;
  remove: number;
}

/** One attempt container's life, without any agent work: what the runner pays around the agent. */
async function attemptContainer(runtime: DockerRuntime, task: FixtureTask, volume: string, track: string, i: number): Promise<AttemptPhases> {
  const p: AttemptPhases = { create: 0, start: 0, copyIn: 0, exec: 0, copyOut: 0, remove: 0 };
  let t = performance.now();
  const c = await runtime.createContainer({
    image: task.image,
    labels: attemptLabels({ track, run: 'bench', attempt: i, role: 'agent' }),
    entrypoint: KEEP_ALIVE,
    workingDir: '/app',
    networkMode: 'none',
    cpus: 2,
    memoryBytes: 2 * 1024 ** 3,
    pidsLimit: 1024,
    mounts: [{ volume, target: TOOL_DIR }],
  });
  p.create = performance.now() - t;
  try {
    t = performance.now();
    await runtime.start(c);
    p.start = performance.now() - t;
    t = performance.now();
    await runtime.putFiles(c, '/tmp/agentdrift', { 'prompt.txt': task.problemStatement });
    p.copyIn = performance.now() - t;
    t = performance.now();
    const r = await runtime.exec(c, ['git', 'rev-parse', 'HEAD'], { workingDir: '/app', timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw new Error(`exec failed: ${r.stderr}`);
    p.exec = performance.now() - t;
    t = performance.now();
    await runtime.getFile(c, '/tmp/agentdrift/prompt.txt');
    p.copyOut = performance.now() - t;
  } finally {
    t = performance.now();
    await runtime.remove(c, { force: true });
    p.remove = performance.now() - t;
  }
  return p;
}

/** Oracle attempt: apply the gold patch in an attempt container, extract the diff as the agent room does, grade it. */
async function oracleAttempt(runtime: DockerRuntime, task: FixtureTask, volume: string, track: string, i: number): Promise<GradeResult> {
  const labels = attemptLabels({ track, run: 'bench-oracle', attempt: i });
  const c = await runtime.createContainer({
    image: task.image,
    labels: { ...labels, 'agentdrift.role': 'agent' },
    entrypoint: KEEP_ALIVE,
    workingDir: '/app',
    networkMode: 'none',
    mounts: [{ volume, target: TOOL_DIR }],
  });
  let patch: string;
  try {
    await runtime.start(c);
    await runtime.putFiles(c, '/tmp/agentdrift', { 'gold.diff': task.goldPatch });
    const r = await runtime.exec(c, ['bash', '-c', `git apply /tmp/agentdrift/gold.diff && git add -A && git diff --cached --binary ${task.baseCommit}`], {
      workingDir: '/app',
      timeoutMs: 60_000,
    });
    if (r.exitCode !== 0) throw new Error(`oracle apply failed: ${r.stderr}`);
    patch = r.stdout;
  } finally {
    await runtime.remove(c, { force: true });
  }
  return gradeAttempt(runtime, {
    image: task.image,
    task,
    files: { runScript: task.runScript, parser: task.parser, env: task.env },
    patch,
    timeoutMs: 300_000,
    labels,
  });
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

export async function benchExecutor(): Promise<void> {
  const runtime = new DockerRuntime();
  await runtime.ping();
  const track = `bench-${process.pid}`;
  const t0 = performance.now();
  const images = await ensureFixtureImages({ log: (s) => console.log(`[fixtures] ${s}`) });
  console.log(`fixture images: ${images.tasks.length} tasks ready in ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    const volume = await toolVolume(runtime, images.base);
    const task = images.tasks[0] as FixtureTask;

    // Warm-up: first container of an image pays for layer setup once.
    await attemptContainer(runtime, task, volume, track, -1);

    const attempts: AttemptPhases[] = [];
    for (let i = 0; i < SAMPLES; i++) attempts.push(await attemptContainer(runtime, task, volume, track, i));
    const attemptTotal = attempts.map((a) => a.create + a.start + a.copyIn + a.exec + a.copyOut + a.remove);
    console.log(`\nattempt container around the agent (${SAMPLES} samples, ${task.name}, tool volume mounted):`);
    console.log(HEADER);
    for (const k of ['create', 'start', 'copyIn', 'exec', 'copyOut', 'remove'] as const) {
      console.log(row(k === 'exec' ? 'exec round trip (git rev-parse)' : k, attempts.map((a) => a[k])));
    }
    console.log(row('total', attemptTotal));

    const grades: GradeResult[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const g = await gradeAttempt(runtime, {
        image: task.image,
        task,
        files: { runScript: task.runScript, parser: task.parser, env: task.env },
        patch: task.goldPatch,
        timeoutMs: 300_000,
        labels: attemptLabels({ track, run: 'bench-grade', attempt: i }),
      });
      if (g.outcome !== 'resolved') throw new Error(`gold patch of ${task.name} not resolved: ${g.reason}`);
      grades.push(g);
    }
    const tm = grades.map((g) => g.timings);
    const overhead = tm.map((x) => x.totalMs - (x.testsMs ?? 0));
    console.log(`\ngrading (${SAMPLES} samples, gold patch of ${task.name}):`);
    console.log(HEADER);
    console.log(row('create', tm.map((x) => x.createMs)));
    console.log(row('start', tm.map((x) => x.startMs)));
    console.log(row('copy in (patch, scripts)', tm.map((x) => x.copyInMs)));
    console.log(row('reset + apply + restore tests', tm.map((x) => x.prepareMs ?? 0)));
    console.log(row('run_script.sh (task test time)', tm.map((x) => x.testsMs ?? 0)));
    console.log(row('parser.py', tm.map((x) => x.parseMs ?? 0)));
    console.log(row('script total (exec)', tm.map((x) => x.scriptMs)));
    console.log(row('copy out (output.json, logs)', tm.map((x) => x.copyOutMs)));
    console.log(row('remove', tm.map((x) => x.removeMs)));
    console.log(row('total', tm.map((x) => x.totalMs)));
    console.log(row('overhead (total - test time)', overhead));

    const perAttempt = stat(attemptTotal).median + stat(overhead).median;
    console.log(
      `\nagentdrift overhead per attempt (attempt container + grading, excluding agent and test time): median ${perAttempt.toFixed(0)} ms` +
        ` (target < 2000 ms: ${perAttempt < 2000 ? 'met' : 'NOT met'})`,
    );

    const twenty = manyFixtureTasks(images.tasks, 20);
    for (const concurrency of [1, 2]) {
      const start = performance.now();
      let resolved = 0;
      await pool(twenty, concurrency, async (t, i) => {
        const g = await oracleAttempt(runtime, t, volume, track, i);
        if (g.outcome === 'resolved') resolved++;
        else console.log(`  ${t.instanceId}: ${g.outcome} (${g.reason})\n${g.log.split('\n').slice(-15).join('\n')}`);
      });
      const s = (performance.now() - start) / 1000;
      console.log(`oracle run of ${twenty.length} fixture tasks at concurrency ${concurrency}: ${s.toFixed(1)} s (${(s / twenty.length).toFixed(2)} s per task), ${resolved}/${twenty.length} resolved`);
    }
  } finally {
    await runtime.removeLeftovers({ 'agentdrift.managed': 'true', [LABEL_TRACK]: track });
  }
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(path.resolve(invokedPath)).href) {
  benchExecutor().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
