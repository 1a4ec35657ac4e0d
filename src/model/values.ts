/**
 * Small value helpers every room shares: time units and how absent numbers and instants are presented.
 */

export const DAY_MS = 86_400_000;

/** An instant in epoch milliseconds as ISO 8601, or null. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A number for JSON: NaN and infinities become null (JSON has no representation for them). */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
