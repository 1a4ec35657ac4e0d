/**
 * Patches as the official SWE-Bench-Pro harness handles them, shared by the agent room (the patch recorded) and the
 * grading room (the patch applied), so both see the same bytes. Pure.
 */

/**
 * Drops every file section of a git diff that carries binary content (`GIT binary patch` or `Binary files … differ`),
 * as the official harness does before `git apply`; other sections are kept byte for byte. A non-empty result always
 * ends with a newline (git apply rejects a last line without one).
 */
export function stripBinaryHunks(patch: string): string {
  const starts: number[] = [];
  const header = /^diff --git /gm;
  for (let m = header.exec(patch); m; m = header.exec(patch)) starts.push(m.index);
  const preamble = patch.slice(0, starts[0] ?? patch.length);
  const sections = starts.map((from, i) => patch.slice(from, starts[i + 1] ?? patch.length));
  const isBinary = (section: string) =>
    section.split('\n').some((l) => {
      const t = l.replace(/\r$/, '');
      return t === 'GIT binary patch' || /^Binary files .* differ$/.test(t);
    });
  const out = preamble + sections.filter((s) => !isBinary(s)).join('');
  if (out.trim() === '') return '';
  return out.endsWith('\n') ? out : `${out}\n`;
}
