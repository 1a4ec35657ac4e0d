/**
 * The list-valued dataset columns are strings holding either a Python list literal (`"['a', 'b']"`) or a JSON list
 * (`'["a", "b"]'`). This file turns both into `string[]` without ever evaluating code: JSON goes through JSON.parse,
 * Python through a small tokenizer that knows only `[`, `]`, `,`, whitespace and string literals. Pure functions.
 */

/** Why a list literal was refused; `offset` is the 0-based character position of the problem. */
export class ListLiteralError extends Error {
  override name = 'ListLiteralError';
  constructor(
    message: string,
    readonly offset: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Parse a JSON list of strings or a Python list literal of strings.
 * JSON is tried first (the two agree on every string json.dumps writes); anything JSON refuses goes to the
 * Python tokenizer, whose error is the one reported.
 */
export function parseStringList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ListLiteralError('empty; expected a list such as [] or ["a", "b"]', 0);
  if (!trimmed.startsWith('[')) {
    throw new ListLiteralError(`expected a list starting with "[", got ${excerpt(trimmed)}`, text.indexOf(trimmed[0] ?? ''));
  }
  let json: unknown;
  let jsonOk = false;
  try {
    json = JSON.parse(trimmed);
    jsonOk = true;
  } catch {
    jsonOk = false;
  }
  if (jsonOk) {
    if (!Array.isArray(json)) throw new ListLiteralError('expected a JSON list');
    json.forEach((item, i) => {
      if (typeof item !== 'string') {
        throw new ListLiteralError(`element ${i} is ${item === null ? 'null' : typeof item}, expected a string`);
      }
    });
    return json as string[];
  }
  return parsePythonStringList(text);
}

/** Parse a Python list literal whose elements are all string literals (no eval). */
export function parsePythonStringList(text: string): string[] {
  const p = new PythonListParser(text);
  return p.parse();
}

class PythonListParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): string[] {
    this.skipSpace();
    this.expect('[');
    const items: string[] = [];
    this.skipSpace();
    if (this.peek() === ']') {
      this.pos++;
      this.finish();
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.stringConcat(items.length));
      this.skipSpace();
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        this.skipSpace();
        if (this.peek() === ']') {
          this.pos++;
          break;
        }
        continue;
      }
      if (c === ']') {
        this.pos++;
        break;
      }
      if (c === undefined) this.fail('unterminated list: missing "]"');
      this.fail(`expected "," or "]" after element ${items.length - 1}, got ${JSON.stringify(c)}`);
    }
    this.finish();
    return items;
  }

  /** One element: a string literal, or several adjacent ones (Python concatenates `'a' 'b'`). */
  private stringConcat(index: number): string {
    if (!this.atStringStart()) {
      const c = this.peek();
      if (c === undefined) this.fail('unterminated list: missing "]"');
      this.fail(`element ${index} is not a string literal (starts with ${JSON.stringify(c)})`);
    }
    let value = this.stringLiteral();
    for (;;) {
      const save = this.pos;
      this.skipSpace();
      if (this.atStringStart()) {
        value += this.stringLiteral();
      } else {
        this.pos = save;
        return value;
      }
    }
  }

  private atStringStart(): boolean {
    let i = this.pos;
    while (i < this.src.length && i - this.pos < 2 && /[rRuUbBfF]/.test(this.src[i] ?? '')) i++;
    const q = this.src[i];
    return q === "'" || q === '"';
  }

  private stringLiteral(): string {
    const start = this.pos;
    let prefix = '';
    while (/[A-Za-z]/.test(this.peek() ?? '')) prefix += this.src[this.pos++];
    const p = prefix.toLowerCase();
    if (p.includes('b')) this.fail('bytes literals are not strings', start);
    if (p.includes('f')) this.fail('f-strings are not literals', start);
    if (p !== '' && p !== 'r' && p !== 'u') this.fail(`unknown string prefix ${JSON.stringify(prefix)}`, start);
    const raw = p === 'r';
    const q = this.src[this.pos] as string;
    const triple = this.src.startsWith(q.repeat(3), this.pos);
    const delim = triple ? q.repeat(3) : q;
    this.pos += delim.length;
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated string literal', start);
      if (this.src.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        return out;
      }
      const c = this.src[this.pos] as string;
      if (!triple && (c === '\n' || c === '\r')) this.fail('line break inside a single-quoted string literal', this.pos);
      if (c === '\\') {
        out += raw ? this.rawEscape() : this.escape();
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  /** In a raw string a backslash stays, and only stops the next character from closing the string. */
  private rawEscape(): string {
    const next = this.src[this.pos + 1];
    if (next === undefined) this.fail('unterminated string literal', this.pos);
    this.pos += 2;
    return '\\' + next;
  }

  private escape(): string {
    const at = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) this.fail('unterminated string literal', at);
    this.pos += 2;
    switch (c) {
      case '\n':
        return '';
      case '\r':
        if (this.src[this.pos] === '\n') this.pos++;
        return '';
      case '\\':
        return '\\';
      case "'":
        return "'";
      case '"':
        return '"';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'x':
        return this.hexEscape(2, at);
      case 'u':
        return this.hexEscape(4, at);
      case 'U':
        return this.hexEscape(8, at);
      case 'N':
        this.fail('named unicode escapes (\\N{...}) are not supported', at);
      // eslint-disable-next-line no-fallthrough
      default:
        if (/[0-7]/.test(c)) {
          let digits = c;
          while (digits.length < 3 && /[0-7]/.test(this.peek() ?? '')) digits += this.src[this.pos++];
          return String.fromCodePoint(parseInt(digits, 8));
        }
        // Python keeps an unknown escape as it is: '\d' is backslash + d.
        return '\\' + c;
    }
  }

  private hexEscape(n: number, at: number): string {
    const digits = this.src.slice(this.pos, this.pos + n);
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) {
      this.fail(`truncated \\${this.src[at + 1]} escape: expected ${n} hex digits`, at);
    }
    const code = parseInt(digits, 16);
    if (code > 0x10ffff) this.fail(`escape \\${this.src[at + 1]}${digits} is beyond the last code point`, at);
    this.pos += n;
    return String.fromCodePoint(code);
  }

  private skipSpace(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] as string;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
        this.pos++;
      } else if (c === '\\' && (this.src[this.pos + 1] === '\n' || this.src[this.pos + 1] === '\r')) {
        this.pos += 2;
      } else {
        break;
      }
    }
  }

  private finish(): void {
    this.skipSpace();
    if (this.pos < this.src.length) this.fail(`unexpected text after the list: ${excerpt(this.src.slice(this.pos))}`);
  }

  private expect(c: string): void {
    if (this.src[this.pos] !== c) {
      const got = this.peek();
      this.fail(`expected ${JSON.stringify(c)}, got ${got === undefined ? 'end of text' : JSON.stringify(got)}`);
    }
    this.pos++;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private fail(message: string, at: number = this.pos): never {
    throw new ListLiteralError(`${message} (at character ${at})`, at);
  }
}

/** A short, printable excerpt of a value for an error message. */
export function excerpt(value: string, max = 60): string {
  const cut = value.length > max ? value.slice(0, max) + '…' : value;
  return JSON.stringify(cut);
}
