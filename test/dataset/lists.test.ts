import { describe, expect, it } from 'vitest';
import { ListLiteralError, parsePythonStringList, parseStringList } from '../../src/dataset/lists.ts';

describe('parseStringList: JSON lists', () => {
  it('reads a JSON list of strings, with JSON escapes', () => {
    expect(parseStringList('["a", "b c", "\\u00e9\\n"]')).toEqual(['a', 'b c', 'é\n']);
  });
  it('reads an empty JSON list, with surrounding whitespace', () => {
    expect(parseStringList('  [ ]\n')).toEqual([]);
  });
  it('refuses a JSON list with a non-string element, naming its position and type', () => {
    expect(() => parseStringList('["a", 3]')).toThrow(/element 1 is number, expected a string/);
    expect(() => parseStringList('["a", null]')).toThrow(/element 1 is null/);
  });
});

describe('parseStringList: Python literals', () => {
  it('reads single-quoted strings', () => {
    expect(parseStringList("['TestMetadata', 'TestFFMpeg', 'TestTagLib']")).toEqual(['TestMetadata', 'TestFFMpeg', 'TestTagLib']);
  });
  it('reads mixed quote styles, as Python repr writes a string holding a quote', () => {
    expect(parseStringList(`["it's", 'say "hi"']`)).toEqual(["it's", 'say "hi"']);
  });
  it('reads the empty list and a trailing comma', () => {
    expect(parseStringList('[]')).toEqual([]);
    expect(parseStringList("['a',]")).toEqual(['a']);
    expect(parseStringList("[\n  'a',\n  'b'\n]")).toEqual(['a', 'b']);
  });
  it('decodes escapes like Python does', () => {
    expect(parsePythonStringList(String.raw`['a\'b', 'c\\d', 'e\nf', 'tab\t', '\x41\u00e9\U0001F600', '\101', '\d']`)).toEqual([
      "a'b",
      'c\\d',
      'e\nf',
      'tab\t',
      'Aé😀',
      'A',
      '\\d',
    ]);
  });
  it('keeps backslashes in raw strings and accepts the u prefix', () => {
    expect(parsePythonStringList(String.raw`[r'a\nb', u'c', R"d\"e"]`)).toEqual(['a\\nb', 'c', 'd\\"e']);
  });
  it('reads triple-quoted strings and concatenates adjacent literals', () => {
    expect(parsePythonStringList(`['''a'b''', 'c' "d"]`)).toEqual(["a'b", 'cd']);
  });
  it('prefers JSON when both readings exist, so JSON escapes mean what json.dumps meant', () => {
    expect(parseStringList('["a\\u0041"]')).toEqual(['aA']);
  });
});

describe('parseStringList: refusals', () => {
  const refuse = (text: string, pattern: RegExp) => {
    let error: unknown;
    try {
      parseStringList(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ListLiteralError);
    expect((error as Error).message).toMatch(pattern);
  };
  it('refuses empty text', () => refuse('   ', /empty; expected a list/));
  it('refuses a bare comma-separated string', () => refuse('TestA, TestB', /expected a list starting with "\["/));
  it('refuses code instead of strings (never evaluates)', () => refuse("[__import__('os').system('x')]", /element 0 is not a string literal/));
  it('refuses numbers and None', () => {
    refuse("['a', 1]", /element 1 is not a string literal/);
    refuse('[None]', /element 0 is not a string literal/);
  });
  it('refuses a tuple, a dict and a nested list', () => {
    refuse("('a', 'b')", /expected a list/);
    refuse("{'a': 'b'}", /expected a list/);
    refuse("[['a']]", /element 0 is not a string literal/);
  });
  it('refuses an unterminated string or list', () => {
    refuse("['a", /unterminated string literal/);
    refuse("['a'", /unterminated list/);
    refuse("['a', ", /unterminated list/);
  });
  it('refuses a missing comma and text after the list', () => {
    refuse("['a' ; 'b']", /expected "," or "\]" after element 0/);
    refuse("['a'] + ['b']", /unexpected text after the list/);
  });
  it('refuses bytes, f-strings and unknown prefixes', () => {
    refuse("[b'a']", /bytes literals are not strings/);
    refuse("[f'{x}']", /f-strings are not literals/);
    refuse("[ur'a']", /unknown string prefix/);
  });
  it('refuses bad escapes', () => {
    refuse(String.raw`['\x4']`, /truncated \\x escape/);
    refuse(String.raw`['\N{BULLET}']`, /named unicode escapes/);
    refuse(String.raw`['\U00110000']`, /beyond the last code point/);
  });
  it('refuses a line break inside a single-quoted string', () => refuse("['a\nb']", /line break inside/));
  it('gives the character position of the problem', () => {
    try {
      parsePythonStringList("['a', 7]");
      expect.unreachable();
    } catch (e) {
      expect((e as ListLiteralError).offset).toBe(6);
    }
  });
});
