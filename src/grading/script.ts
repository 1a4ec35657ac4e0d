/**
 * The entry script of a grading container, following the official SWE-Bench-Pro harness step by step. Pure functions.
 * The patch clean-up it needs (binary hunks stripped) is `stripBinaryHunks` of ../model/patch.ts, shared with the agent
 * room.
 *
 * Steps (see the harness notes): export the Dockerfiles' ENV settings; `cd /app; git reset --hard <base>;
 * git checkout <base>`; `git apply -v patch.diff` (binary hunks stripped first; a failure does not stop grading);
 * the LAST line of before_repo_set_cmd (restores the official test files over anything the candidate changed);
 * `bash run_script.sh <tests joined by ','> > stdout.log 2> stderr.log`; `python parser.py stdout.log stderr.log
 * output.json`.
 *
 * Between steps the script prints marker lines (`##agentdrift phase=<name> t=<epoch ms>`) on its stderr, from which
 * the grader reads how long each step took and whether the patch applied.
 */

export const WORKSPACE = '/workspace';
export const APP_DIR = '/app';
export const MARKER_PREFIX = '##agentdrift';

export interface GradingScriptInput {
  /** ENV settings of the task's Dockerfiles, in order; `$NAME` / `${NAME...}` references expand in the container. */
  env: Readonly<Record<string, string>>;
  baseCommit: string;
  /** All lines of the row's before_repo_set_cmd; only the last non-empty one runs. */
  beforeRepoSetCmd: string;
  /** Passed to run_script.sh joined by ','; an empty list runs it without argument (every test). */
  selectedTests: readonly string[];
  workspace?: string;
  appDir?: string;
}

/** A word in single quotes for bash: safe for any content. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new TypeError('a shell word cannot hold a NUL character');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:+word}, ${NAME+word} with a plain word (no quotes, $, `, \ or }).
const BRACED_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+][^}$`"\\]*)?\}/;
const PLAIN_REF = /^\$[A-Za-z_][A-Za-z0-9_]*/;

/**
 * A Dockerfile ENV value as a double-quoted bash word in which variable references (`$NAME`, `${NAME}`,
 * `${NAME:-word}`, `${NAME:+word}`) still expand, as Docker would expand them, while every other special character
 * (`"`, `\`, backquote, `$(`, a lone `$`) is literal: no command can be smuggled in through a value.
 */
export function envValueWord(value: string): string {
  if (value.includes('\0')) throw new TypeError('an environment value cannot hold a NUL character');
  let out = '';
  for (let i = 0; i < value.length; ) {
    const rest = value.slice(i);
    if (rest[0] === '$') {
      const ref = BRACED_REF.exec(rest) ?? PLAIN_REF.exec(rest);
      if (ref) {
        out += ref[0];
        i += ref[0].length;
        continue;
      }
      out += '\\$';
      i++;
      continue;
    }
    const ch = rest[0] as string;
    out += ch === '"' || ch === '\\' || ch === '`' ? `\\${ch}` : ch;
    i++;
  }
  return `"${out}"`;
}

/** `export NAME="value"` lines; throws on a name bash cannot export. */
export function envExports(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new TypeError(`cannot export environment variable ${JSON.stringify(name)}`);
    return `export ${name}=${envValueWord(value)}`;
  });
}

/** The last non-empty line of before_repo_set_cmd (the one that restores the official test files). */
export function restoreTestsLine(beforeRepoSetCmd: string): string {
  const lines = beforeRepoSetCmd.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) throw new TypeError('before_repo_set_cmd has no command line');
  return last;
}

/** The bash entry script of a grading container (see the module comment). */
export function buildGradingScript(input: GradingScriptInput): string {
  const ws = input.workspace ?? WORKSPACE;
  const app = input.appDir ?? APP_DIR;
  const q = shellQuote;
  const file = (name: string) => q(`${ws}/${name}`);
  const tests = input.selectedTests.length ? ` ${q(input.selectedTests.join(','))}` : '';
  return [
    '#!/bin/bash',
    '# agentdrift grading entry script: the official SWE-Bench-Pro harness steps.',
    `mark() { echo "${MARKER_PREFIX} phase=$1 t=$(date +%s%3N 2>/dev/null)" >&2; }`,
    'mark start',
    ...envExports(input.env),
    'mark reset',
    `cd ${q(app)} || { echo "${MARKER_PREFIX} error=no-app-dir" >&2; exit 90; }`,
    `git reset --hard ${q(input.baseCommit)}`,
    `git checkout ${q(input.baseCommit)}`,
    'mark apply',
    `if git apply -v ${file('patch.diff')}; then echo "${MARKER_PREFIX} patch=applied" >&2; else echo "${MARKER_PREFIX} patch=failed" >&2; fi`,
    'mark restore-tests',
    restoreTestsLine(input.beforeRepoSetCmd),
    'mark tests',
    `bash ${file('run_script.sh')}${tests} > ${file('stdout.log')} 2> ${file('stderr.log')}`,
    'mark parse',
    'if command -v python >/dev/null 2>&1; then PY=python; else PY=python3; fi',
    `"$PY" ${file('parser.py')} ${file('stdout.log')} ${file('stderr.log')} ${file('output.json')}`,
    'status=$?',
    'mark done',
    'exit $status',
    '',
  ].join('\n');
}

export interface ScriptMarkers {
  /**
   * Epoch milliseconds of each phase start, by name (start, reset, apply, restore-tests, tests, parse, done); NaN
   * for a phase that was reached when the image's `date` cannot print milliseconds.
   */
  phases: Record<string, number>;
  /** Whether `git apply` succeeded; null when the script never got that far. */
  patchApplied: boolean | null;
}

/** Reads the marker lines out of the entry script's stderr. */
export function parseMarkers(stderr: string): ScriptMarkers {
  const phases: Record<string, number> = {};
  let patchApplied: boolean | null = null;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith(MARKER_PREFIX)) continue;
    const phase = /phase=([\w-]+) t=(\S*)/.exec(line);
    if (phase) phases[phase[1] as string] = /^\d+$/.test(phase[2] as string) ? Number(phase[2]) : NaN;
    const patch = /patch=(applied|failed)/.exec(line);
    if (patch) patchApplied = patch[1] === 'applied';
  }
  return { phases, patchApplied };
}
