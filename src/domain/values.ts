/**
 * Small value helpers every room shares: time units and how absent numbers and instants are presented.
 */

export const DAY_MS = 86_400_000;

/**
 * An instant in epoch milliseconds as ISO 8601, or null; null too for a value that is no instant (outside the range
 * of a Date, or not a number: only a store written by hand holds one), where toISOString would throw.
 */
export function isoOrNull(ms: number | null): string | null {
  if (ms === null) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A number for JSON: NaN and infinities become null (JSON has no representation for them). */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
