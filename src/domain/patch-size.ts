/**
 * The size of a candidate patch (files, lines added, lines removed), as the behaviour of an attempt records it
 * (src/domain/behaviour.ts). Pure.
 */
/** The size of a candidate patch: its files, and the lines its hunks add and remove. */
export interface PatchSize {
  files: number;
  linesAdded: number;
  linesRemoved: number;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * The size of a git diff, as `git apply --numstat` counts it: one file per `diff --git` section (a plain unified diff
 * without those headers: one per `+++ ` header), and the `+` / `-` lines of each hunk, read by the hunk header's line
 * counts, so a removed line that starts with `--` or an added one that starts with `++` is counted and never taken
 * for a file header. A binary section (none are left after stripBinaryHunks) counts as a file with no lines.
 */
export function patchSize(patch: string): PatchSize {
  let files = 0;
  let plainHeaders = 0;
  let linesAdded = 0;
  let linesRemoved = 0;
  let oldLeft = 0;
  let newLeft = 0;
  let from = 0;
  while (from < patch.length) {
    let to = patch.indexOf('\n', from);
    if (to < 0) to = patch.length;
    const line = patch.charCodeAt(to - 1) === 13 ? patch.slice(from, to - 1) : patch.slice(from, to);
    from = to + 1;
    if (oldLeft > 0 || newLeft > 0) {
      const c = line[0];
      if (c === '+') {
        linesAdded++;
        newLeft--;
        continue;
      }
      if (c === '-') {
        linesRemoved++;
        oldLeft--;
        continue;
      }
      // "\ No newline at end of file" is a line of neither side.
      if (c === '\\') continue;
      if (c === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        continue;
      }
      // A hunk cut short: what follows is headers again.
      oldLeft = newLeft = 0;
    }
    if (line.startsWith('diff --git ')) files++;
    else if (line.startsWith('+++ ')) plainHeaders++;
    else {
      const m = HUNK.exec(line);
      if (m) {
        oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        newLeft = m[2] === undefined ? 1 : Number(m[2]);
      }
    }
  }
  return { files: files || plainHeaders, linesAdded, linesRemoved };
}
