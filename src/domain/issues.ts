/**
 * Turns zod issues into one line each that names the key, the value found and what was expected.
 * Shared by the config loader, the import parser and anything else that validates outside input.
 */
import type { z } from 'zod';

export interface IssueOptions {
  /** Keys whose values are never echoed back (tokens, keys). */
  secretKeys?: ReadonlySet<string>;
  /** Prefix of every path, e.g. "runs[3]". */
  prefix?: string;
}

export function formatPath(p: readonly PropertyKey[], prefix = ''): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), prefix);
}

export function valueAt(raw: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (Array.isArray(v)) return v.length ? 'a list' : 'an empty list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export function describeIssue(issue: z.core.$ZodIssue, raw: unknown, opts: IssueOptions = {}): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatPath([...issue.path, k], opts.prefix));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
  }
  const key = formatPath(issue.path, opts.prefix);
  const value = valueAt(raw, issue.path);
  const secret = opts.secretKeys?.has(String(issue.path.at(-1))) ?? false;
  const got = value === undefined ? 'nothing' : secret ? `a secret of ${String(value).length} characters` : describeValue(value);
  return `${key || '(top level)'}: got ${got}; ${issue.message}`;
}

/** An error about outside input: one message, then one line per problem (config keys, import records, ...). */
export class InputError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = new.target.name;
  }
}
