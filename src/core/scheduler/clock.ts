/**
 * The scheduler's time: an injectable clock (tests drive days of schedule in milliseconds) and a wait bounded by it.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers accept at most 2^31 - 1 ms; a longer wait wakes early and re-arms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS)),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Whether `p` settles within `ms` of the clock (true) or the wait ran out first (false); a rejection of `p` is thrown. */
export async function within(clock: Clock, p: Promise<unknown>, ms: number): Promise<boolean> {
  let handle: unknown = null;
  const timeout = new Promise<false>((r) => (handle = clock.setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clock.clearTimeout(handle);
  }
}
