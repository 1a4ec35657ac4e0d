import { describe, expect, it } from 'vitest';
import { makeRedactor, redact, redactValue, REDACTED } from '../../src/agent/redact.ts';

describe('redact', () => {
  const key = 'sk-ant-api03-AbC"def\\ghi/+=';

  it('replaces every occurrence, also in JSON-escaped, double-escaped and URL-encoded forms', () => {
    const plain = `key=${key} again ${key}`;
    expect(redact(plain, [key])).toBe(`key=${REDACTED} again ${REDACTED}`);
    const json = JSON.stringify({ cmd: `echo ${key}` });
    expect(json).not.toContain(key); // escaped in JSON
    expect(redact(json, [key])).toBe(JSON.stringify({ cmd: `echo ${REDACTED}` }));
    const nested = JSON.stringify({ content: JSON.stringify({ out: key }) });
    expect(redact(nested, [key])).not.toMatch(/AbC/);
    expect(redact(`https://x.invalid/?k=${encodeURIComponent(key)}`, [key])).toBe(`https://x.invalid/?k=${REDACTED}`);
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    expect(redact('tok-123456 and tok-123', ['tok-123', 'tok-123456'])).toBe(`${REDACTED} and ${REDACTED}`);
  });

  it('ignores empty, missing and very short values instead of shredding the text', () => {
    expect(redact('a b c', ['', undefined, null, 'a'])).toBe('a b c');
  });

  it('a bound redactor and deep redaction of objects give the same result', () => {
    const r = makeRedactor(['secret-value']);
    expect(r('x secret-value y')).toBe(`x ${REDACTED} y`);
    expect(redactValue({ a: ['secret-value', 1, null], b: { c: 'secret-value!' } }, ['secret-value'])).toEqual({
      a: [REDACTED, 1, null],
      b: { c: `${REDACTED}!` },
    });
  });
});
