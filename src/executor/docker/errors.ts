/**
 * Engine errors as {@link InfraError}s: which failures mean the engine is down, the reason each phase reports, and
 * the deadline every engine call runs under.
 */
import { InfraError, type InfraReason } from '../runtime.ts';

const ENGINE_DOWN_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

interface EngineErrorShape {
  statusCode?: number;
  code?: string;
  message?: string;
  json?: { message?: string } | null;
}

/** The engine's own message of an error (its JSON body's when there is one). */
export function engineMessage(e: unknown): string {
  const err = e as EngineErrorShape;
  const fromJson = err?.json && typeof err.json === 'object' ? err.json.message : undefined;
  return String(fromJson ?? err?.message ?? e);
}

/** The HTTP status of an engine error, if it has one. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as EngineErrorShape)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** True when the error says the engine could not be reached at all. */
export function isEngineDown(e: unknown): boolean {
  const err = e as EngineErrorShape;
  if (typeof err?.code === 'string' && ENGINE_DOWN_CODES.has(err.code)) return true;
  return /connect (ECONNREFUSED|ENOENT|EACCES)|socket hang up/.test(String(err?.message ?? ''));
}

/** Wraps an engine error into an InfraError: engine down wins over the phase's own reason. */
export function toInfraError(e: unknown, reason: InfraReason, what: string): InfraError {
  if (e instanceof InfraError) return e;
  if (isEngineDown(e)) return new InfraError('engine_down', `${what}: Docker Engine not reachable (${engineMessage(e)})`, { cause: e });
  return new InfraError(reason, `${what}: ${engineMessage(e)}`, { cause: e });
}

/**
 * Runs one engine call under a deadline: past `ms` the request is aborted and the call fails with
 * InfraError(`reason`) saying what did not answer. The timer is a normal (ref'd) one on purpose: a call the engine
 * never answers must end in an error, never in a process that runs out of work with the call unsettled.
 */
export async function withDeadline<T>(ms: number, reason: InfraReason, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new InfraError(reason, `${what}: no answer from the Docker Engine within ${formatMs(ms)}`);
      abort.abort(e);
      reject(e);
    }, ms);
  });
  const pending = call(abort.signal);
  // The aborted request rejects after the deadline has already failed the call: that late rejection is expected.
  pending.catch(() => undefined);
  try {
    return await Promise.race([pending, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A duration for a message: whole seconds as "N s", else "N ms". */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
