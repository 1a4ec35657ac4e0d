/**
 * Replaces secret values (API keys, OAuth tokens, cloud credentials) with [REDACTED] in any string: transcripts,
 * logs, error messages. Pure.
 *
 * A secret is also found in the forms it takes inside JSON text (escaped quotes and backslashes) and URL-encoded,
 * because transcripts are JSON lines and tools may echo a value in a URL.
 */

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not redacted on their own (they would match everywhere); see `redact`. */
export const MIN_SECRET_LENGTH = 4;

function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  out.add(JSON.stringify(secret).slice(1, -1));
  // A JSON string embedded in a JSON string (a tool result holding JSON): escaped twice.
  out.add(JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1));
  try {
    out.add(encodeURIComponent(secret));
  } catch {
    // lone surrogates cannot be URL-encoded; the plain form is still redacted
  }
  return [...out].filter((v) => v.length > 0);
}

/** The distinct forms to replace, longest first so a secret that contains another is replaced whole. */
function patterns(secrets: readonly (string | undefined | null)[]): string[] {
  const all = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) continue;
    for (const v of variants(s)) all.add(v);
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** A redactor bound to a set of secrets (patterns computed once). */
export function makeRedactor(secrets: readonly (string | undefined | null)[]): (text: string) => string {
  const ps = patterns(secrets);
  return (text: string) => {
    let out = text;
    for (const p of ps) if (out.includes(p)) out = out.split(p).join(REDACTED);
    return out;
  };
}

/** Replaces every occurrence of every secret (and its JSON-escaped and URL-encoded forms) with [REDACTED]. */
export function redact(text: string, secrets: readonly (string | undefined | null)[]): string {
  return makeRedactor(secrets)(text);
}

/** Deep-redacts every string inside a JSON-like value (objects, arrays); other values are returned unchanged. */
export function redactValue<T>(value: T, secrets: readonly (string | undefined | null)[]): T {
  const r = makeRedactor(secrets);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return r(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value) as T;
}
