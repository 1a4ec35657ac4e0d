/**
 * Route schemas are written once in zod: TypeScript types come from z.infer, Fastify gets the JSON Schema (fast
 * serialisation and the OpenAPI document at /docs), and requests are validated by the zod schema itself
 * (validation.ts): zod's numbers are finite, so `?days=Infinity` or a body's 1e400 is a 400, where Ajv's coercion let
 * them through.
 */
import { z } from 'zod';

/** The zod schema each JSON Schema handed to Fastify was made from: the validator compiler looks it up. */
const zodOf = new WeakMap<object, z.ZodType>();

export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  zodOf.set(rest, schema);
  return rest;
}

/** The zod schema a route's JSON Schema came from (jsonSchema), if it did. */
export function zodSchemaOf(json: unknown): z.ZodType | undefined {
  return typeof json === 'object' && json !== null ? zodOf.get(json) : undefined;
}

export const errorBody = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  problems: z.array(z.string()).optional(),
  /** The run the error is about (a run going on, a run that failed to start). */
  runId: z.number().int().optional(),
});

export const trackParams = z.object({ track: z.string().min(1).max(64) });
