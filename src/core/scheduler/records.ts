/**
 * Cost by calendar day in a schedule's time zone: the day arithmetic of the scheduler over the store's spend query
 * (the spend query itself, and all its SQL, is in store/attempts.ts).
 */
import type { Store } from '../../store/store.ts';
import { startOfDay, wallTime } from '../../cron/cron.ts';

export interface DayCost {
  /** The calendar day in the time zone, YYYY-MM-DD. */
  day: string;
  fromMs: number;
  toMs: number;
  costUsd: number;
  attempts: number;
}

/**
 * The cost and count of the track's attempts by the day they ended, in the time zone (the days the daily budget
 * counts), for the `days` calendar days up to and including today; oldest first, days without attempts included.
 */
export function costByDay(store: Store, track: string, timeZone: string, nowMs: number, days: number): DayCost[] {
  const out: DayCost[] = [];
  let fromMs = startOfDay(nowMs, timeZone);
  // Today counts every attempt ended since it began, as the budget guard and costToday do.
  let queryTo = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < days; i++) {
    const w = wallTime(fromMs, timeZone);
    const day = `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
    // A day is 23 to 25 hours long: 36 hours after its start is always within the next day.
    const toMs = startOfDay(fromMs + 36 * 3_600_000, timeZone);
    out.push({ day, fromMs, toMs, ...store.attempts.costBetween(track, fromMs, queryTo) });
    queryTo = fromMs;
    fromMs = startOfDay(fromMs - 1, timeZone);
  }
  return out.reverse();
}
