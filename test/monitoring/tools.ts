/** Running the command-line tools of the monitoring tests (promtool, amtool, compose) and reading the shipped files. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from '../helpers/prometheus.ts';

export interface RunResult {
  status: number | null;
  out: string;
}

/** Runs a tool; throws (with the Debian package to install) when it is not on PATH. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, encoding: 'utf8', timeout: 120_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    const pkg = { promtool: 'prometheus', amtool: 'prometheus-alertmanager', prometheus: 'prometheus', 'prometheus-alertmanager': 'prometheus-alertmanager' }[cmd];
    throw new Error(`${cmd} is not installed${pkg ? ` (Debian package ${pkg}; scripts/test-all.sh installs it)` : ''}`);
  }
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

export function readRepo(path: string): string {
  return readFileSync(join(REPO, path), 'utf8');
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
}

export function shippedRules(): { alerts: AlertRule[]; records: RecordingRule[] } {
  const doc = parse(readRepo('prometheus/rules/agentdrift.rules.yml')) as { groups: { rules: (AlertRule | RecordingRule)[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  return {
    alerts: rules.filter((r): r is AlertRule => 'alert' in r),
    records: rules.filter((r): r is RecordingRule => 'record' in r),
  };
}

/** GitHub-style anchor of a Markdown heading. */
export function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function markdownAnchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1] as string)));
}
