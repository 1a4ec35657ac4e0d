/**
 * The candidate patch: the diff of the repository (default `/app`) in the attempt container against the task's base
 * commit, including files the agent created, with binary hunks dropped (SWE-Bench-Pro's harness applies text patches
 * with `git apply`). Pure builders; the runner executes the command in the container.
 *
 * The command stages the whole work tree into a temporary index (a copy of the repository's index, so unchanged files
 * are not hashed again) and diffs that index against the base commit: new untracked files are included, ignored files
 * are not, and the agent's own index, commits and branches do not matter. The repository is not modified.
 */
import { splitBinaryHunks } from '../domain/patch.ts';

/** A base commit or other plain revision; rejects anything a shell or git could read as an option. */
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;

const SCRIPT = [
  'set -e',
  'cd "$2"',
  'g() { git -c safe.directory="*" -c core.quotepath=false -c core.autocrlf=false -c core.safecrlf=false -c diff.noprefix=false -c diff.mnemonicPrefix=false -c diff.renames=true "$@"; }',
  'idx="${TMPDIR:-/tmp}/agentdrift-patch-index.$$"',
  'rm -f "$idx"',
  'real="$(g rev-parse --git-path index)"',
  'if [ -f "$real" ]; then cp "$real" "$idx"; fi',
  'export GIT_INDEX_FILE="$idx"',
  'trap \'rm -f "$idx"\' EXIT',
  'g add -A . >/dev/null',
  'g diff --cached --no-color --no-ext-diff --no-textconv --binary --full-index "$1" --',
].join('\n');

/** The argv that prints the candidate patch on stdout (exit code non-zero when it could not be made). */
export function buildPatchCommand(baseCommit: string, repoDir = '/app'): string[] {
  if (!REVISION.test(baseCommit) || baseCommit.includes('..')) {
    throw new Error(`patch: refusing base commit ${JSON.stringify(baseCommit)}`);
  }
  if (!repoDir.startsWith('/')) throw new Error(`patch: repository directory must be absolute, got ${repoDir}`);
  return ['/bin/sh', '-c', SCRIPT, 'agentdrift-patch', baseCommit, repoDir];
}

/** The files whose sections `stripBinaryHunks` (../domain/patch.ts) drops, in diff order. */
export function listBinaryFiles(diff: string): string[] {
  return splitBinaryHunks(diff).dropped;
}
