/**
 * How a request is checked before a handler sees it, for every route in one place:
 *  - params, querystring and body are validated by the route's own zod schema (the one its JSON Schema was made from,
 *    schema.ts), not by Ajv: Ajv's type coercion turned `?days=Infinity` or `1e400` into a number that passed
 *    `integer` and `maximum` (the daemon then spun forever), and turned a body's "0.5" into 0.5. zod's numbers are
 *    finite, its integers safe integers, and a body is never coerced (only a route's z.coerce fields are);
 *  - a JSON body nested deeper than MAX_JSON_DEPTH is refused as a 400 before it is parsed (100k levels overflowed the
 *    stack further on, a 500).
 * A refusal names the field: `days: Invalid input: expected number, received Infinity`.
 */
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { zodSchemaOf } from './schema.ts';

/** Deeper than any accepted document (the import formats nest about 5 levels), far from the stack's limit. */
export const MAX_JSON_DEPTH = 64;

/** A request part that does not match its route's schema: a 400 naming each bad field. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  constructor(
    readonly part: string,
    readonly problems: string[],
  ) {
    super(`invalid ${part}: ${problems[0] ?? 'does not match the schema'}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
    this.name = 'RequestValidationError';
  }
}

/** `runs[0].attempts[2].costUsd`; the part's name for the whole of it. */
export function fieldPath(part: string, path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || part;
}

export function problemsOf(part: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    // An unknown key is reported on its object: name the key itself.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${fieldPath(part, [...issue.path, k])}: not a known field`).join('; ');
    return `${fieldPath(part, issue.path)}: ${issue.message}`;
  });
}

/** Fastify's validator compiler: each route part is checked by the zod schema its JSON Schema was built from. */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, method, url, httpPart }) => {
  const zod = zodSchemaOf(schema);
  // Every route schema is written in zod (schema.ts); one that is not would go unchecked, so refuse it at start.
  if (!zod) throw new Error(`${method} ${url}: its ${httpPart ?? 'request'} schema was not built with jsonSchema() (src/adapters/http/schema.ts)`);
  const part = httpPart ?? 'request';
  return (data: unknown) => {
    const r = zod.safeParse(data);
    return r.success ? { value: r.data } : { error: new RequestValidationError(part, problemsOf(part, r.error)) };
  };
};

/** Whether a JSON text nests objects and arrays deeper than `max` (a linear scan; strings are skipped whole). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip to the closing quote: the next one not escaped by an odd run of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return false; // unterminated: the parser says so
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

export class BodyTooDeepError extends Error {
  readonly statusCode = 400;
  readonly code = 'AGENTDRIFT_BODY_TOO_DEEP';
  constructor(max: number) {
    super(`body: nested deeper than ${max} levels of objects and arrays`);
    this.name = 'BodyTooDeepError';
  }
}

/**
 * Bodies are JSON only: Fastify's own JSON parser (prototype poisoning refused) behind the depth check; any other
 * content type (text/plain included) is a 415.
 */
export function registerJsonParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
      done(new BodyTooDeepError(MAX_JSON_DEPTH), undefined);
      return;
    }
    parse(req, body as string, done);
  });
}
