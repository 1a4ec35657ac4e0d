/**
 * Runs the real Claude Code binary on the host (child_process) against a fake Anthropic API, in a temporary git
 * repository holding the buggy calc.py. Used by the host tests and by the fixture capture.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeCode, installedBinaryPath } from '../../src/agent/claude-code.ts';
import type { Credentials, Invocation } from '../../src/agent/types.ts';
import { startFakeAnthropic, type FakeAnthropic, type Turn } from '../helpers/fake-anthropic.ts';
import { BUGGY_CALC } from './scenarios.ts';

export interface HostRunOptions {
  script: (repoDir: string) => Turn[];
  prompt?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  timeoutMs?: number;
  credentials?: Credentials;
  extraEnv?: Record<string, string>;
}

export interface HostRun {
  repoDir: string;
  homeDir: string;
  invocation: Invocation;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
  fake: FakeAnthropic;
  /** Removes the temporary directories and stops the fake API. */
  cleanup(): Promise<void>;
}

export const TEST_API_KEY = 'sk-ant-api03-TESTSECRET-d0n0tl0g-0123456789abcdef';

export function makeCalcRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-agent-repo-'));
  writeFileSync(join(dir, 'calc.py'), BUGGY_CALC);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'base');
  return dir;
}

export async function runClaudeOnHost(opts: HostRunOptions): Promise<HostRun> {
  const repoDir = makeCalcRepo();
  const homeDir = mkdtempSync(join(tmpdir(), 'agentdrift-agent-home-'));
  const fake = await startFakeAnthropic(opts.script(repoDir));
  const invocation = claudeCode.buildInvocation({
    prompt: opts.prompt ?? 'Fix the add function in calc.py.',
    model: 'claude-sonnet-4-5',
    maxTurns: opts.maxTurns ?? 20,
    maxBudgetUsd: opts.maxBudgetUsd ?? 5,
    credentials: opts.credentials ?? { apiKey: TEST_API_KEY },
    baseUrl: fake.url,
    binary: installedBinaryPath(),
    cwd: repoDir,
    extraEnv: { CLAUDE_CODE_MAX_RETRIES: '0', ...opts.extraEnv },
  });
  const [cmd, ...args] = invocation.argv;
  const child = spawn(cmd!, args, {
    cwd: invocation.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: homeDir, ...invocation.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(invocation.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return {
    repoDir,
    homeDir,
    invocation,
    stdout,
    stderr,
    exitCode,
    timedOut,
    fake,
    cleanup: async () => {
      await fake.close();
      rmSync(repoDir, { recursive: true, force: true });
      rmSync(homeDir, { recursive: true, force: true });
    },
  };
}
