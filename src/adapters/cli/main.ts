/**
 * The agentdrift command line. Every command takes --config FILE (or AGENTDRIFT_CONFIG); with neither and no
 * ./agentdrift.yaml, the embedded defaults are in force. Errors print one clear message and exit non-zero.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { App, Wiring } from '../app.ts';
import { VERSION } from '../version.ts';
import { logAgentCredentials } from '../../agent/credentials.ts';
import { createLogger } from '../log.ts';
import { ConfigError, loadConfig, trackNamed, UnknownTrackError } from '../../config/index.ts';
import { ImportError } from '../../core/history/format.ts';
import { ATTEMPT_PHASES, FINISHED_RUN_STATES, type AttemptPhase } from '../../domain/types.ts';
import { exportHistory, importHistoryFile } from '../../core/history/import.ts';
import { WINDOWS } from '../../core/figures/windows.ts';
import { BaselineError, P0_RULE, p0Problem, type BaselineRequest } from '../../core/baselines/baseline.ts';
import { baselineSummary, setBaseline } from '../../core/baselines/service.ts';
import type { AttemptTimings } from '../../core/runner/attempt.ts';
import { startServer } from '../http/server.ts';
import { daemonUrl, healthcheckCommand } from './healthcheck.ts';
import { failRunIfUnsettled, guardUnsettled } from './unsettled.ts';

class UsageError extends Error {}
class DataDirError extends Error {}

interface GlobalOptions {
  config?: string;
}

function openContext(wiring: Wiring, cmd: Command, opts: { quiet?: boolean } = {}): App {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const loaded = loadConfig({ path: g.config });
  const log = createLogger(opts.quiet ? 'warn' : loaded.config.logLevel);
  try {
    return wiring.openApp(loaded, log);
  } catch (e) {
    // A dataDir that cannot be created or written, or a file there that is not a database: say which, in one line.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') throw new DataDirError(`dataDir ${loaded.config.dataDir}: cannot open the store there: ${(e as Error).message} (${code})`);
    throw e;
  }
}

export function buildProgram(wiring: Wiring): Command {
  const program = new Command('agentdrift')
    .description('Tells you, with statistics you can trust, when a coding agent got worse.')
    .version(VERSION)
    .option('-c, --config <file>', 'configuration file (default: $AGENTDRIFT_CONFIG, else ./agentdrift.yaml, else embedded defaults)')
    .showHelpAfterError();

  program
    .command('daemon')
    .description('run the daemon: HTTP API, /metrics and the schedule of every track')
    .action(async (_o, cmd: Command) => {
      const ctx = openContext(wiring, cmd);
      logAgentCredentials(ctx.log, ctx.agentCredentials, ctx.config.tracks.map((t) => t.name), process.env);
      const runtime = await wiring.runtime(ctx.config);
      const scheduler = await wiring.scheduler(ctx, runtime);
      const server = await startServer(ctx, { control: scheduler, stop: () => scheduler.stop() });
      try {
        await scheduler.start();
      } catch (e) {
        await server.close();
        throw e;
      }
      await server.closed;
      // Everything stored is stored (every write is synchronous and the store is closed). A run that did not stop
      // within the grace period may still hold a socket: do not let it keep the process alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });

  // The container image's HEALTHCHECK (healthcheck.ts); bin/agentdrift.js runs it without loading this module.
  program.addCommand(healthcheckCommand().copyInheritedSettings(program));

  program
    .command('trigger')
    .description('ask a running daemon to start a run of a track now (resuming its unfinished run if it has one)')
    .requiredOption('-t, --track <name>', 'track to run')
    .option('--url <url>', 'the daemon (default: server.host and server.port of the config)')
    .option('--token <token>', 'API token (default: $AGENTDRIFT_API_TOKEN; prefer the variable, arguments show in ps)')
    .action(async (o: { track: string; url?: string; token?: string }, cmd: Command) => {
      const body = await callDaemon(cmd, o, 'POST', `/api/tracks/${encodeURIComponent(o.track)}/runs`);
      console.log(`run ${body.id} of ${body.track} ${body.state} (${body.progress.done}/${body.progress.total ?? '?'} attempts stored)`);
    });

  program
    .command('cancel')
    .description('ask a running daemon to cancel a run: its containers are stopped, finished attempts are kept, it is never resumed')
    .argument('<run-id>', 'the run to cancel')
    .option('--url <url>', 'the daemon (default: server.host and server.port of the config)')
    .option('--token <token>', 'API token (default: $AGENTDRIFT_API_TOKEN; prefer the variable, arguments show in ps)')
    .action(async (id: string, o: { url?: string; token?: string }, cmd: Command) => {
      if (!/^[1-9][0-9]*$/.test(id)) throw new UsageError(`run id: got ${JSON.stringify(id)}; expected a positive integer`);
      const body = await callDaemon(cmd, o, 'POST', `/api/runs/${id}/cancel`);
      console.log(`run ${body.id} of ${body.track} ${body.state}; ${body.progress.done} finished attempt(s) kept`);
    });

  program
    .command('status')
    .description('show a run as a running daemon sees it: state, attempts done of planned, pass so far, cost, and each attempt\'s phase times and dropped binary files; --follow until it ends')
    .argument('<run-id>', 'the run to show')
    .option('-f, --follow', 'poll until the run has ended (completed, failed, cancelled, budget_exhausted; an interrupted run resumes), printing a line at each change')
    .option('--interval <seconds>', 'with --follow, seconds between polls', '2')
    .option('--url <url>', 'the daemon (default: server.host and server.port of the config)')
    .option('--token <token>', 'API token, sent when given (default: $AGENTDRIFT_API_TOKEN); reading a run needs none')
    .action(async (id: string, o: { follow?: boolean; interval: string; url?: string; token?: string }, cmd: Command) => {
      if (!/^[1-9][0-9]*$/.test(id)) throw new UsageError(`run id: got ${JSON.stringify(id)}; expected a positive integer`);
      const interval = Number(o.interval);
      if (!(interval >= 0.05 && interval <= 3600)) throw new UsageError(`--interval: got ${JSON.stringify(o.interval)}; expected seconds between 0.05 and 3600`);
      let last = '';
      const shown = new Set<number>();
      for (;;) {
        const run = (await callDaemon(cmd, o, 'GET', `/api/runs/${id}`, { tokenRequired: false })) as RunDetailBody;
        const line = statusLine(run);
        if (line !== last) console.log(line);
        last = line;
        // Each attempt once, under the status line, as it is stored.
        for (const a of run.attempts ?? []) {
          if (shown.has(a.id)) continue;
          shown.add(a.id);
          console.log(attemptLine(a));
        }
        if (!o.follow) return;
        // An interrupted run is not over: it resumes (when the daemon starts again, or at the track's next run).
        if ((FINISHED_RUN_STATES as readonly string[]).includes(run.state)) return;
        await new Promise((r) => setTimeout(r, interval * 1000));
      }
    });

  program
    .command('import')
    .description('load past runs from a history file (docs/import-format.md) or a margin results.json')
    .requiredOption('-t, --track <name>', 'track to import into')
    .option('--at <iso>', 'run time of a margin results.json (default: its YYYYMMDD-HHMMSS directory name)')
    .argument('<file>', 'file to import')
    .action((file: string, o: { track: string; at?: string }, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        const r = importHistoryFile(ctx, o.track, file, o.at);
        console.log(`imported ${r.runsStored} run(s), ${r.attemptsStored} attempt(s) into ${o.track} from ${file} (${r.kind} format)` + (r.runsSkipped ? `; ${r.runsSkipped} run(s) already stored, skipped` : ''));
        for (const n of r.notes) console.log(`note: ${n}`);
      } finally {
        ctx.close();
      }
    });

  program
    .command('export')
    .description('write a track\'s history in the import format')
    .requiredOption('-t, --track <name>', 'track to export')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action((o: { track: string; output?: string }, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        const text = `${JSON.stringify(exportHistory(ctx, o.track), null, 1)}\n`;
        if (o.output) writeFileSync(o.output, text);
        else process.stdout.write(text);
      } finally {
        ctx.close();
      }
    });

  program
    .command('metrics')
    .description('print the /metrics exposition once and exit')
    .action(async (_o, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        process.stdout.write(await ctx.exporter.render());
      } finally {
        ctx.close();
      }
    });

  program
    .command('tasks')
    .description('list the tasks of a track\'s suite, or of a dataset file, without running anything; with --flips, each task\'s history instead')
    .option('-t, --track <name>', 'the track whose suite to list')
    .option('--dataset <file>', 'a local parquet or JSONL dataset file to list instead')
    .option('--flips', 'the per-task history from the stored attempts (as GET /api/tracks/:track/tasks): latest outcome, reference, window, push on the CUSUM, flips marked')
    .option('-w, --window <name>', 'with --flips, the window: 1d, 7d or 30d', '7d')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { track?: string; dataset?: string; flips?: boolean; window: string; json?: boolean }, cmd: Command) => {
      if (!o.track === !o.dataset) throw new UsageError('give --track NAME or --dataset FILE');
      if (o.flips) {
        if (!o.track) throw new UsageError('--flips goes with --track NAME: a dataset file has no history');
        const window = WINDOWS.find((w) => w.name === o.window)?.name;
        if (!window) throw new UsageError(`--window: got ${JSON.stringify(o.window)}; expected ${WINDOWS.map((w) => w.name).join(', ')}`);
        // From the store alone: no daemon, no dataset, no frozen suite needed (openApp computed the figures).
        const ctx = openContext(wiring, cmd, { quiet: true });
        try {
          const { presentTaskHistory } = await import('../http/routes/tasks.ts');
          const { formatTaskHistory } = await import('./task-history.ts');
          trackNamed(ctx.config, o.track);
          const body = presentTaskHistory(ctx.figures.snapshot(o.track), window);
          process.stdout.write(o.json ? `${JSON.stringify(body, null, 1)}\n` : formatTaskHistory(body));
        } finally {
          ctx.close();
        }
        return;
      }
      if (cmd.getOptionValueSource('window') !== 'default') throw new UsageError('--window goes with --flips');
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        const { describeTasks, formatTaskJson, formatTaskTable, loadDataset, selectTasks } = await import('../../dataset/index.ts');
        const { datasetDownloadReporter } = await import('../../core/runner/fetch-progress.ts');
        const { fetchLinePrinter } = await import('./progress.ts');
        const source = o.dataset ? { kind: 'file' as const, path: o.dataset } : trackNamed(ctx.config, o.track as string).suite.dataset;
        // The listing goes to stdout; how far a first download has come goes to stderr (and the log).
        const download = datasetDownloadReporter({ log: ctx.log, onFetch: fetchLinePrinter(process.stderr, 2000), reportEveryMs: 0 });
        const loaded = await loadDataset(source, ctx.config.dataDir, { onProgress: download.onProgress });
        download.finish();
        let tasks = loaded.tasks;
        if (o.track) {
          const t = trackNamed(ctx.config, o.track);
          tasks = selectTasks(tasks, { ids: t.suite.ids, exclude: t.suite.exclude, size: t.suite.size, seed: t.suite.seed });
        }
        const rows = describeTasks(tasks, ctx.config.docker.imageRepository);
        process.stdout.write(o.json ? formatTaskJson(rows, loaded.rejected) : formatTaskTable(rows, loaded.rejected));
      } finally {
        ctx.close();
      }
    });

  program
    .command('run')
    .description('run a track once now (resuming its unfinished run if it has one), with a progress bar')
    .requiredOption('-t, --track <name>', 'track to run')
    .option('--tasks <ids>', 'comma-separated task ids of the suite to run (default: the whole suite)')
    .option('--oracle', 'apply the gold patches instead of running the agent, to validate tasks and infrastructure')
    .action(async (o: { track: string; tasks?: string; oracle?: boolean }, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: Boolean(process.stderr.isTTY) });
      const { executeRun } = await import('../../core/runner/run.ts');
      const { progressReporter } = await import('./progress.ts');
      const runtime = await wiring.runtime(ctx.config);
      const abort = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (abort.signal.aborted) process.exit(130);
        console.error(`\n${signal}: stopping; running attempts are killed, finished ones are kept (again to exit at once)`);
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const progress = progressReporter(process.stderr);
      // Should the run's work be left unsettled, the run is marked failed before the process ends (see unsettled.ts).
      let unguard = (): void => undefined;
      const phases = phaseTotals();
      try {
        const r = await executeRun(ctx, runtime, o.track, {
          trigger: o.oracle ? 'oracle' : 'cli',
          holder: o.oracle ? 'agentdrift run --oracle' : 'agentdrift run',
          taskIds: o.tasks ? o.tasks.split(',').map((x) => x.trim()).filter(Boolean) : undefined,
          oracle: o.oracle ?? false,
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
          onFetch: (p) => progress.fetch(p),
          onTimings: (_task, timings) => phases.add(timings),
          onStart: (runId) => {
            unguard = failRunIfUnsettled(ctx.store, runId, (line) => {
              progress.stop();
              console.error(line);
            });
          },
        });
        progress.stop();
        const counted = r.attempted - r.outcomes.infra_error;
        console.log(
          `${r.oracle ? 'oracle run' : `run ${r.runId}`} ${r.state}${r.resumed ? ' (resumed)' : ''}: ${r.attempted} attempt(s), ` +
            `${r.outcomes.resolved}/${counted} resolved, ${r.outcomes.unresolved} unresolved, ${r.outcomes.agent_error} agent errors, ` +
            `${r.outcomes.timeout} timeouts, ${r.outcomes.infra_error} infra errors` + (r.skippedAsDone ? `; ${r.skippedAsDone} already done` : ''),
        );
        const timingLine = phases.line();
        if (timingLine) console.log(timingLine);
        if (r.oracle) {
          const failed = r.oracle.filter((x) => x.outcome !== 'resolved');
          for (const f of failed) console.log(`oracle failed: ${f.taskId}: ${f.outcome} (${f.reason ?? ''})`);
          if (failed.length) console.log(`exclude them from the suite with tracks[].suite.exclude: [${failed.map((f) => f.taskId).join(', ')}]`);
          if (failed.length) process.exitCode = 3;
        }
        if (r.state === 'interrupted') process.exitCode = 130;
      } finally {
        unguard();
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        ctx.close();
      }
    });

  const baseline = program.command('baseline').description('show or set the baseline a track is compared with');
  baseline
    .command('set')
    .description('set a fixed p0, or freeze a reference period per task (a logged change: who, when, why)')
    .requiredOption('-t, --track <name>', 'track')
    .option('--p0 <x>', 'fixed baseline pass rate, strictly between 0 and 1')
    .option('--from <iso>', 'start of the reference period (with --p0: when monitoring starts; default now)')
    .option('--to <iso>', 'end of the reference period')
    .option('--reason <text>', 'why the baseline changes', 'set from the command line')
    .option('--by <name>', 'who changes it', process.env.USER ?? 'cli')
    .action((o: { track: string; p0?: string; from?: string; to?: string; reason: string; by: string }, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        let req: BaselineRequest;
        if (o.p0 !== undefined) {
          if (o.to !== undefined) throw new BaselineError('--to goes with --from for a reference period, not with --p0');
          const p0 = o.p0.trim() === '' ? Number.NaN : Number(o.p0);
          // The API's and the config's rule (0 < p0 < 1), said of the argument as typed.
          if (p0Problem(p0)) throw new BaselineError(`--p0: got ${JSON.stringify(o.p0)}; ${P0_RULE}`);
          req = { p0, from: o.from };
        } else if (o.from !== undefined && o.to !== undefined) {
          req = { from: o.from, to: o.to };
        } else {
          throw new BaselineError('give --p0 X, or --from ISO --to ISO');
        }
        const row = setBaseline(ctx, o.track, req, { by: o.by, reason: o.reason });
        console.log(JSON.stringify(baselineSummary(row), null, 1));
      } finally {
        ctx.close();
      }
    });
  baseline
    .command('list')
    .description('every baseline the track has had, newest (in force) first')
    .requiredOption('-t, --track <name>', 'track')
    .action((o: { track: string }, cmd: Command) => {
      const ctx = openContext(wiring, cmd, { quiet: true });
      try {
        trackNamed(ctx.config, o.track);
        console.log(JSON.stringify(ctx.store.baselines.list(o.track).map(baselineSummary), null, 1));
      } finally {
        ctx.close();
      }
    });

  return program;
}

interface RunStatusBody {
  id: number;
  track: string;
  state: string;
  progress: { done: number; total: number | null };
}

interface RunDetailBody extends RunStatusBody {
  live: boolean;
  costUsd: number;
  reason: string | null;
  progress: { done: number; total: number | null; resolved: number };
  summary: { infraErrors: number };
  attempts?: AttemptStatusBody[];
}

/** What `status` shows of an attempt of GET /api/runs/:id. */
export interface AttemptStatusBody {
  id: number;
  taskId: string;
  sampleIndex: number;
  outcome: string;
  timings: Partial<Record<AttemptPhase, number | null>> | null;
  droppedFiles: string[] | null;
}

const PHASE_LABELS: Record<AttemptPhase, string> = {
  image: 'image',
  harness: 'harness',
  containerStart: 'container start',
  agent: 'agent',
  extraction: 'extraction',
  agentTeardown: 'agent teardown',
  gradingStart: 'grading start',
  gradingPrepare: 'prepare',
  tests: 'tests',
  gradingResults: 'results',
  gradingTeardown: 'grading teardown',
};

const isControl = (c: string) => {
  const n = c.codePointAt(0) as number;
  return n < 0x20 || (n >= 0x7f && n < 0xa0);
};

/** A name as a terminal can show it: one with control characters is printed quoted, each of them as \uXXXX. */
function printable(s: string): string {
  const chars = [...s];
  if (!chars.some(isControl)) return s;
  return `"${chars.map((c) => (isControl(c) ? `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}` : c === '"' || c === '\\' ? `\\${c}` : c)).join('')}"`;
}

/**
 * One attempt under the status line: `  #12 task#0 resolved, 14.2 s: image 0.0, container start 0.6, agent 9.8, ...;
 * 2 binary file(s) dropped: logo.png, data.bin` (seconds per phase, phases not reached left out).
 */
export function attemptLine(a: AttemptStatusBody): string {
  const head = `  #${a.id} ${printable(a.taskId)}#${a.sampleIndex} ${a.outcome}`;
  let text: string;
  if (!a.timings) {
    text = `${head}: phase times not recorded`;
  } else {
    const reached = ATTEMPT_PHASES.filter((p) => typeof a.timings?.[p] === 'number').map((p) => [p, a.timings?.[p] as number] as const);
    const total = reached.reduce((s, [, ms]) => s + ms, 0);
    const secs = (ms: number) => (ms / 1000).toFixed(1);
    text = `${head}, ${secs(total)} s: ${reached.map(([p, ms]) => `${PHASE_LABELS[p]} ${secs(ms)}`).join(', ')}`;
  }
  const dropped = a.droppedFiles ?? [];
  if (dropped.length) {
    const MAX = 5;
    const names = dropped.slice(0, MAX).map(printable).join(', ');
    text += `; ${dropped.length} binary file(s) dropped: ${names}${dropped.length > MAX ? `, and ${dropped.length - MAX} more` : ''}`;
  }
  return text;
}

/** One line of `agentdrift status`: state, attempts stored of planned, pass so far (infra errors not counted), cost. */
export function statusLine(run: RunDetailBody): string {
  const { done, total, resolved } = run.progress;
  const counted = done - run.summary.infraErrors;
  const pass = counted > 0 ? `${resolved}/${counted} (${((100 * resolved) / counted).toFixed(0)}%)` : '-';
  const why = run.state !== 'running' && run.state !== 'completed' && run.reason ? ` (${run.reason})` : '';
  return `run ${run.id} of ${run.track} ${run.state}${run.live ? ' (live)' : ''}: ${done}/${total ?? '?'} attempts, pass so far ${pass}, cost ${run.costUsd.toFixed(2)} USD${why}`;
}

/** Phase timings of a run's attempts, summed, and the summary line `run` prints of them (mean seconds per attempt). */
export function phaseTotals(): { add(t: AttemptTimings): void; line(): string | null } {
  const sums: AttemptTimings = { imageMs: 0, harnessMs: 0, agentSetupMs: 0, agentMs: 0, extractionMs: 0, agentTeardownMs: 0, gradeSetupMs: 0, testsMs: 0, gradeTeardownMs: 0 };
  const names: [keyof AttemptTimings, string][] = [
    ['imageMs', 'image'],
    ['harnessMs', 'harness'],
    ['agentSetupMs', 'agent setup'],
    ['agentMs', 'agent'],
    ['extractionMs', 'patch extraction'],
    ['agentTeardownMs', 'agent teardown'],
    ['gradeSetupMs', 'grading setup'],
    ['testsMs', 'tests'],
    ['gradeTeardownMs', 'grading teardown'],
  ];
  let n = 0;
  return {
    add(t) {
      n++;
      for (const [k] of names) sums[k] += Number.isFinite(t[k]) ? t[k] : 0;
    },
    line() {
      if (n === 0) return null;
      const parts = names.map(([k, label]) => `${label} ${(sums[k] / n / 1000).toFixed(1)} s`);
      return `phases, mean of ${n} attempt(s): ${parts.join(', ')}`;
    },
  };
}

export { daemonUrl };

/**
 * A request to a running daemon (with the token; for a read, only when there is one); a refusal prints the daemon's
 * message and exits 2.
 */
async function callDaemon(cmd: Command, o: { url?: string; token?: string }, method: string, route: string, opts: { tokenRequired?: boolean } = {}): Promise<RunStatusBody> {
  let base = o.url;
  if (base !== undefined && !(URL.canParse(base) && /^https?:$/.test(new URL(base).protocol))) {
    throw new UsageError(`--url: got ${JSON.stringify(base)}; expected the daemon's http(s) URL, such as http://127.0.0.1:9477`);
  }
  if (!base) base = daemonUrl(loadConfig({ path: cmd.optsWithGlobals<GlobalOptions>().config }).config);
  const token = o.token ?? process.env.AGENTDRIFT_API_TOKEN;
  if (!token && (opts.tokenRequired ?? true)) throw new UsageError('no API token: set AGENTDRIFT_API_TOKEN (or pass --token)');
  const url = new URL(route, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw new UsageError(`no daemon answers at ${url.origin}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(`${url.origin} answered HTTP ${res.status} without JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new UsageError(`the daemon refused (HTTP ${res.status}): ${(body as { message?: string }).message ?? text.slice(0, 200)}`);
  return body as RunStatusBody;
}

/** Errors whose message says all a user needs: printed without a stack trace. */
const KNOWN_ERRORS = new Set(['ListenError', 'RunFailedError', 'RunError', 'DatasetLoadError', 'DatasetRowError', 'TaskSelectionError', 'HarnessError', 'ChecksumMismatchError', 'DownloadError', 'InfraError']);

/** Runs one command line with the parts main.ts wires; the exit code to leave with. */
export async function runCli(argv: string[], wiring: Wiring): Promise<number> {
  const program = buildProgram(wiring).exitOverride();
  try {
    await guardUnsettled(program.parseAsync(argv));
    // A command that finished but has something to say in its exit code (run --oracle with failing tasks: 3; an
    // interrupted run: 130) sets process.exitCode; bin/agentdrift.js assigns what this returns, so pass it on.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof Error && e.name === 'TrackBusyError') {
      // EX_TEMPFAIL: nothing is wrong with the command, the track is busy; a wrapper may try again later.
      console.error(`agentdrift: ${e.message}`);
      return 75;
    }
    if (e instanceof ConfigError || e instanceof ImportError || e instanceof UnknownTrackError || e instanceof BaselineError || e instanceof UsageError || e instanceof DataDirError || (e instanceof Error && KNOWN_ERRORS.has(e.name))) {
      console.error(`agentdrift: ${e.message}`);
      return 2;
    }
    console.error(`agentdrift: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
