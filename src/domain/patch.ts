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
  return splitBinaryHunks(patch).patch;
}

/**
 * {@link stripBinaryHunks}, and the paths of the files whose sections it dropped, in diff order: the new path (a
 * rename's or copy's target), as git names it, C-quoted names unquoted.
 */
export function splitBinaryHunks(patch: string): { patch: string; dropped: string[] } {
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
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const s of sections) {
    if (isBinary(s)) dropped.push(sectionPath(s));
    else kept.push(s);
  }
  const out = preamble + kept.join('');
  if (out.trim() === '') return { patch: '', dropped };
  return { patch: out.endsWith('\n') ? out : `${out}\n`, dropped };
}

/**
 * The path a file section of a git diff is about: its `rename to` / `copy to` target, else the path both sides of
 * `diff --git a/P b/P` share (which may hold spaces), else the `b/` side as written.
 */
function sectionPath(section: string): string {
  const lines = section.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines[0] ?? '';
  // The extended header ends where the content starts (---, Binary files, GIT binary patch).
  for (const l of lines.slice(1)) {
    if (l.startsWith('--- ') || l.startsWith('Binary files ') || l === 'GIT binary patch' || l.startsWith('@@')) break;
    const m = /^(?:rename|copy) to (.*)$/.exec(l);
    if (m) return unquote(m[1] as string);
  }
  const rest = first.slice('diff --git '.length);
  if (rest.startsWith('"') || rest.endsWith('"')) {
    const b = /(?:^|\s)("b\/(?:[^"\\]|\\.)*"|b\/\S*)$/.exec(rest);
    if (b) return unquote(b[1] as string).replace(/^b\//, '');
  }
  const n = (rest.length - 5) / 2;
  if (Number.isInteger(n) && n > 0 && rest.startsWith('a/') && rest.slice(2 + n, 5 + n) === ' b/' && rest.slice(2, 2 + n) === rest.slice(5 + n)) return rest.slice(2, 2 + n);
  const i = rest.lastIndexOf(' b/');
  return i >= 0 ? rest.slice(i + 3) : rest;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A git C-quoted name ("sp\303\244ce\ttab") as the bytes it stands for (UTF-8); an unquoted one as it is. */
function unquote(name: string): string {
  if (!(name.length >= 2 && name.startsWith('"') && name.endsWith('"'))) return name;
  const bytes: number[] = [];
  const chars = Array.from(name.slice(1, -1));
  const utf8 = new TextEncoder();
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c !== '\\') {
      bytes.push(...utf8.encode(c));
      continue;
    }
    const oct = chars.slice(i + 1, i + 4).join('');
    if (/^[0-7]{3}$/.test(oct)) {
      bytes.push(parseInt(oct, 8) & 0xff);
      i += 3;
    } else {
      const e = chars[i + 1] ?? '\\';
      bytes.push(ESCAPES[e] ?? e.charCodeAt(0));
      i += 1;
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}
