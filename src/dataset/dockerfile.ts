/**
 * The `ENV` settings of a task's Dockerfiles, which the official grader exports before running the tests.
 * Pure functions, following the Dockerfile rules:
 * - instructions are case-insensitive; a line ending in `\` continues on the next one; comment lines and blank lines
 *   inside a continuation are dropped; heredoc bodies (`RUN <<EOF … EOF`) are skipped;
 * - `ENV K=V [K2=V2 …]` sets several variables; `ENV K V with spaces` (the legacy form) sets one to the rest of the line;
 * - values lose their quotes: `'…'` is literal, `"…"` keeps `\"`, `\\` and `\$` escapes, a bare `\` escapes the next
 *   character;
 * - `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}` (and the forms without ':') are replaced when VAR was set by an
 *   earlier ENV (in the same or the base Dockerfile) or by an `ARG VAR=default`; within one ENV instruction every
 *   value sees the variables as they were before it, as Docker does.
 * A reference to a variable the Dockerfiles do not define (PATH from the parent image, say) is kept as written, so a
 * shell that exports the value inside the container (grading's `envExports`) resolves it there, as the official
 * harness's `export` lines do.
 */

export class DockerfileEnvError extends Error {
  override name = 'DockerfileEnvError';
}

/** ENV settings of a base Dockerfile followed by an instance Dockerfile (which builds FROM the base image). */
export function extractDockerfileEnv(baseDockerfile: string, instanceDockerfile: string): Record<string, string> {
  const base = parseDockerfileEnv(baseDockerfile);
  return parseDockerfileEnv(instanceDockerfile, base);
}

/**
 * ENV settings of one Dockerfile, on top of `inherited` ones. Keys keep the order in which they were first set.
 * Throws DockerfileEnvError for an ENV instruction that cannot be read (no name, unterminated quote…).
 */
export function parseDockerfileEnv(text: string, inherited: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = { ...inherited };
  let args: Record<string, string> = {};
  for (const { line, instruction } of logicalLines(text)) {
    const m = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(instruction);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const rest = (m[2] ?? '').trim();
    if (keyword === 'FROM') {
      args = {};
    } else if (keyword === 'ARG') {
      for (const word of splitWords(rest, line)) {
        const eq = word.indexOf('=');
        if (eq > 0) args[word.slice(0, eq)] = processWord(word.slice(eq + 1), { ...args, ...env }, line);
      }
    } else if (keyword === 'ENV') {
      const before = { ...args, ...env };
      for (const [key, value] of envPairs(rest, line)) env[key] = processWord(value, before, line);
    }
  }
  return env;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The raw (still quoted) name/value pairs of one ENV instruction. */
export function envPairs(rest: string, line: number): Array<[string, string]> {
  if (rest === '') throw new DockerfileEnvError(`line ${line}: ENV needs at least one name`);
  const firstWord = /^[^\s=]*/.exec(rest)?.[0] ?? '';
  const afterFirst = rest.slice(firstWord.length);
  if (!afterFirst.startsWith('=')) {
    // Legacy form: ENV NAME value with spaces.
    const value = afterFirst.trim();
    if (value === '') throw new DockerfileEnvError(`line ${line}: ENV ${firstWord} has no value (write ${firstWord}= for an empty one)`);
    if (!NAME.test(firstWord)) throw new DockerfileEnvError(`line ${line}: ENV name ${JSON.stringify(firstWord)} is not a name`);
    return [[firstWord, value]];
  }
  return splitWords(rest, line).map((word) => {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (eq <= 0 || !NAME.test(key)) {
      throw new DockerfileEnvError(`line ${line}: ENV expects NAME=value pairs, got ${JSON.stringify(word)}`);
    }
    return [key, word.slice(eq + 1)];
  });
}

/** Split on whitespace outside quotes, keeping quotes and escapes in the words. */
function splitWords(text: string, line: number): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === null && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    word += c;
    if (c === '\\' && quote !== "'" && i + 1 < text.length) {
      word += text[++i];
    } else if (quote === null && (c === '"' || c === "'")) {
      quote = c;
    } else if (quote !== null && c === quote) {
      quote = null;
    }
  }
  if (quote !== null) throw new DockerfileEnvError(`line ${line}: unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** Remove quotes and escapes, substitute known variables (Docker's word processing). */
export function processWord(word: string, vars: Readonly<Record<string, string>>, line = 0): string {
  let out = '';
  let i = 0;
  const n = word.length;
  while (i < n) {
    const c = word[i] as string;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new DockerfileEnvError(`line ${line}: unterminated ' quote`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new DockerfileEnvError(`line ${line}: unterminated " quote`);
        const d = word[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && ['"', '\\', '$'].includes(word[i + 1] as string)) {
          out += word[i + 1];
          i += 2;
        } else if (d === '$') {
          const [text, next] = variable(word, i, vars, line);
          out += text;
          i = next;
        } else {
          out += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 < n) out += word[i + 1];
      i += 2;
    } else if (c === '$') {
      const [text, next] = variable(word, i, vars, line);
      out += text;
      i = next;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Substitute the reference starting at `word[at] === '$'`; returns the text and the index after the reference. */
function variable(word: string, at: number, vars: Readonly<Record<string, string>>, line: number): [string, number] {
  const next = word[at + 1];
  if (next === '{') {
    const close = matchingBrace(word, at + 1);
    if (close < 0) throw new DockerfileEnvError(`line ${line}: unterminated \${ in ${JSON.stringify(word)}`);
    const inner = word.slice(at + 2, close);
    const original = word.slice(at, close + 1);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner);
    if (!m) return [original, close + 1];
    const name = m[1] as string;
    const op = m[2];
    const known = Object.hasOwn(vars, name);
    const value = known ? (vars[name] as string) : undefined;
    if (op === undefined) return [value ?? original, close + 1];
    if (!known) return [original, close + 1];
    const wordPart = processWord(m[3] ?? '', vars, line);
    const set = op.startsWith(':') ? value !== '' : true;
    if (op.endsWith('-')) return [set ? (value as string) : wordPart, close + 1];
    return [set ? wordPart : '', close + 1];
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(at + 1));
  if (!m) return ['$', at + 1];
  const name = m[0];
  const end = at + 1 + name.length;
  return [Object.hasOwn(vars, name) ? (vars[name] as string) : word.slice(at, end), end];
}

function matchingBrace(word: string, open: number): number {
  let depth = 0;
  for (let i = open; i < word.length; i++) {
    if (word[i] === '\\') {
      i++;
    } else if (word[i] === '{') {
      depth++;
    } else if (word[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Instructions with continuation lines joined; `line` is the 1-based number of the instruction's first line. */
export function logicalLines(text: string): Array<{ line: number; instruction: string }> {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: Array<{ line: number; instruction: string }> = [];
  let current: string | null = null;
  let start = 0;
  let heredocs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (heredocs.length > 0) {
      const body = raw.replace(/^\t+/, '');
      if (body === heredocs[0]) heredocs = heredocs.slice(1);
      continue;
    }
    const trimmed = raw.trim();
    if (current === null) {
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      start = i + 1;
      current = '';
    } else if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }
    const continued = /\\\s*$/.test(raw);
    current += continued ? raw.replace(/\\\s*$/, '') : raw;
    if (!continued) {
      const instruction = current.trim();
      out.push({ line: start, instruction });
      // A heredoc (RUN/COPY/ADD <<EOF) runs until a line holding only its word; "<<" with no such line later is
      // not a heredoc (a shift, or text in quotes) and skips nothing.
      if (/^(RUN|COPY|ADD)\b/i.test(instruction)) {
        for (const m of instruction.matchAll(/<<-?\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g)) {
          const word = m[2] as string;
          if (lines.slice(i + 1).some((l) => l.replace(/^\t+/, '') === word)) heredocs.push(word);
        }
      }
      current = null;
    }
  }
  if (current !== null && current.trim() !== '') out.push({ line: start, instruction: current.trim() });
  return out;
}
