/**
 * Route schemas are written once in zod: TypeScript types come from z.infer, and Fastify gets the JSON Schema
 * (validation, fast serialisation and the OpenAPI document at /docs).
 */
import { z } from 'zod';

export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
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
