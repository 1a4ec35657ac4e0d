/**
 * Run time of 20 fixture tasks at concurrency 1 and 2, and agentdrift's own overhead per attempt (issue 4 target:
 * under 2 s): everything a real attempt does except the agent's own work and the task's tests, i.e. image check,
 * harness files, agent container create/start/remove and CLI volume check, grading container create/start/copy/
 * reset-apply/parse/copy-out/remove. Real Docker Engine, real Claude Code CLI, scripted by the fake API on loopback.
 */
import { DockerRuntime } from '../src/executor/index.ts';
import type { AttemptTimings } from '../src/core/runner/attempt.ts';
import { executeRun } from '../src/core/runner/run.ts';
import { makeContext, tempDir } from '../test/helpers/context.ts';
import { bash, reply, startFakeAnthropic, type RecordedRequest, type StaticTurn } from '../test/helpers/fake-anthropic.ts';
import { ensureFixtureImages, fixtureConfig, manyFixtureTasks, writeFixtureDataset, type FixtureTask } from '../test/helpers/images.ts';

const N = 20;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

export async function benchRunner(): Promise<void> {
  const images = await ensureFixtureImages();
  const tasks = manyFixtureTasks(images.tasks, N);
  const dir = tempDir('agentdrift-bench-run-');
  const { datasetPath, harnessPath } = await writeFixtureDataset(dir, tasks);
  const byPrompt = (req: RecordedRequest): FixtureTask => {
    const first = JSON.stringify(req.body?.messages?.[0]?.content ?? '');
    return tasks.find((t) => first.includes(JSON.stringify(t.problemStatement.slice(0, 60)).slice(1, -1)))!;
  };
  const turn = (req: RecordedRequest): StaticTurn =>
    (req.body?.messages ?? []).some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'tool_result'))
      ? reply('Done.')
      : reply([bash(`cd /app && git apply <<'P'\n${byPrompt(req).goldPatch}\nP`)]);
  const fake = await startFakeAnthropic(Array.from({ length: 10_000 }, () => turn));
  const runtime = new DockerRuntime();
  console.log(`\n== ${N} fixture tasks, scripted agent (real CLI in the task container), real grading ==`);
  try {
    for (const concurrency of [1, 2]) {
      const t = makeContext(
        fixtureConfig({ apiUrl: fake.url, datasetPath, harnessPath, ids: tasks.map((x) => x.instanceId), track: { name: 'bench', concurrency } }),
        { ANTHROPIC_API_KEY: 'sk-bench' },
      );
      const timings: AttemptTimings[] = [];
      const started = performance.now();
      try {
        const r = await executeRun(t.ctx, runtime, 'bench', { trigger: 'bench', onTimings: (_id, x) => timings.push(x) });
        const wall = (performance.now() - started) / 1000;
        const overhead = timings.map((x) => x.imageMs + x.harnessMs + x.agentSetupMs + x.extractionMs + x.agentTeardownMs + x.gradeSetupMs + x.gradeTeardownMs);
        const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        console.log(`concurrency ${concurrency}: ${N} attempts in ${wall.toFixed(1)} s (${(wall / N).toFixed(2)} s/attempt), ${r.outcomes.resolved}/${N} resolved`);
        console.log(`  overhead per attempt (excl. agent and tests): mean ${f(mean(overhead))}, p90 ${f(pct(overhead, 0.9))}   (target < 2 s)`);
        console.log(
          `    agent container setup ${f(mean(timings.map((x) => x.agentSetupMs)))}, teardown ${f(mean(timings.map((x) => x.agentTeardownMs)))}; ` +
            `grading setup+copy+prepare+parse ${f(mean(timings.map((x) => x.gradeSetupMs)))}, teardown ${f(mean(timings.map((x) => x.gradeTeardownMs)))}; ` +
            `image ${f(mean(timings.map((x) => x.imageMs)))}, harness ${f(mean(timings.map((x) => x.harnessMs)))}`,
        );
        console.log(`    not overhead: agent ${f(mean(timings.map((x) => x.agentMs)))}, tests ${f(mean(timings.map((x) => x.testsMs)))}`);
      } finally {
        t.cleanup();
      }
    }
  } finally {
    await fake.close();
    await runtime.removeLeftovers({ 'agentdrift.managed': 'true', 'agentdrift.track': 'bench' });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRunner();
