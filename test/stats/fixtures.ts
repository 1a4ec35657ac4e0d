/** Loading the generated reference values (scripts/gen-stats-fixtures.py) and comparing numbers with tolerances. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

export function loadFixture<T>(name: string): { source: string; cases: T[] } & Record<string, unknown> {
  const url = new URL(`../fixtures/stats/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as { source: string; cases: T[] };
}

/** JSON has no NaN or Infinity: the generator writes null for NaN and the string 'Infinity'. */
export function num(v: number | null | string | undefined): number {
  if (v === null || v === undefined) return NaN;
  if (v === 'Infinity') return Infinity;
  return typeof v === 'string' ? Number(v) : v;
}

/**
 * |actual - expected| <= rel * |expected| + abs, NaN only matching NaN, infinities only matching themselves.
 */
export function expectClose(actual: number, expected: number, rel: number, abs: number, label: string): void {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) {
    expect(actual, label).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected);
  if (!(err <= rel * Math.abs(expected) + abs)) {
    expect.fail(`${label}: got ${actual}, expected ${expected} (error ${err.toExponential(2)})`);
  }
}
