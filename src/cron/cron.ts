/**
 * Schedule arithmetic from any instant (so the scheduler's clock can be injected): the next slot after an instant,
 * the last slot at or before one, the slots between two instants, the schedule's period, the start of a day in a
 * time zone, and calendar days there (what the statistics windows count in).
 *
 * node-cron stays the one authority on what an expression means: config validation uses it, its parser gives the
 * fields, and every candidate instant is confirmed with its matcher (`task.match`, evaluated in the schedule's time
 * zone). croner does the slot arithmetic in wall time: a croner schedule in UTC, built from node-cron's parsed fields
 * (so both read the expression alike), names the wall times in order (`nextRun`); a day token croner would read
 * otherwise is given to it as `*`, which only adds candidates the matcher then drops. Each wall time becomes an instant
 * here ({@link wallToInstant}), so the time-zone rules stay ours and node-cron's, not croner's (which runs a fixed-time
 * job right after a gap and an interval job on both passes of a repeated hour): a wall time the clocks skip never
 * fires, one that occurs twice fires once. croner would OR a day of month with a day of week; `domAndDow` makes it
 * AND them, as node-cron does.
 */
import { Cron } from 'croner';
import cron, { type ParsedFields, type ScheduledTask } from 'node-cron';
import { DAY_MS } from '../domain/values.ts';

export interface Schedule {
  cron: string;
  timezone: string;
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const offsets = new Map<string, Map<number, number>>();
const QUARTER = 900_000;

/**
 * The time zone's offset from UTC at an instant, in ms. Cached per quarter hour: offsets are whole quarter hours
 * and change only at quarter-hour instants in current time zone data.
 */
function offsetMs(ms: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  let cache = offsets.get(timeZone);
  if (!cache) offsets.set(timeZone, (cache = new Map()));
  const bucket = Math.floor(ms / QUARTER);
  let off = cache.get(bucket);
  if (off === undefined) {
    const at = bucket * QUARTER;
    const out: Record<string, number> = {};
    for (const p of formatter(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') out[p.type] = Number(p.value);
    off = Date.UTC(out.year!, out.month! - 1, out.day!, out.hour! % 24, out.minute!, out.second!) - at;
    if (cache.size > 50_000) cache.clear();
    cache.set(bucket, off);
  }
  return off;
}

/** The wall-clock time of an instant in a time zone. */
export function wallTime(ms: number, timeZone: string): WallTime {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMs(ms, timeZone));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

const asUtc = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
const same = (a: WallTime, b: WallTime) => asUtc(a) === asUtc(b);

/**
 * The instant a wall-clock time names in a time zone. In a gap (clocks moved forward) the instant after the gap;
 * in an overlap (clocks moved back) one of the two, the one node-cron picks too: the pass whose offset is in force
 * at the wall time read as UTC, so the first pass west of UTC (New York's 01:30 is 05:30Z, not 06:30Z) and the second
 * east of it (Paris's 02:30 is 01:30Z, not 00:30Z).
 */
export function wallToInstant(w: WallTime, timeZone: string): number {
  const guess = asUtc(w);
  const c1 = guess - offsetMs(guess, timeZone);
  const c2 = guess - offsetMs(c1, timeZone);
  const hits = [c1, c2].filter((c) => same(wallTime(c, timeZone), w));
  if (hits.length) return Math.min(...hits);
  return Math.max(c1, c2);
}

/** The instant the calendar day holding `ms` begins, in the time zone. */
export function startOfDay(ms: number, timeZone: string): number {
  const w = wallTime(ms, timeZone);
  return wallToInstant({ year: w.year, month: w.month, day: w.day, hour: 0, minute: 0, second: 0 }, timeZone);
}

/**
 * The calendar day an instant falls on in the time zone, as a day number (days since 1970-01-01 of the date the wall
 * clock shows there). Day numbers of consecutive calendar dates differ by 1 whatever the length of the days between
 * (23 or 25 hours across a clock change), so windows of days compare these numbers, never spans of milliseconds.
 */
/** The largest instant a Date holds (ECMAScript: 8.64e15 ms either side of the epoch). */
const MAX_DATE_MS = 8.64e15;

export function calendarDay(ms: number, timeZone: string): number {
  // An instant past what a Date can hold (only a store written by hand holds one) has no wall time: its UTC day.
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return Math.floor(ms / DAY_MS);
  const w = wallTime(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day) / DAY_MS;
}

/** A day number's date, YYYY-MM-DD. */
export function calendarDate(day: number): string {
  if (!(Math.abs(day * DAY_MS) <= MAX_DATE_MS)) return `day ${day}`;
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The instant a calendar day (a {@link calendarDay} number) begins in the time zone (after the gap, if its midnight is skipped). */
export function startOfCalendarDay(day: number, timeZone: string): number {
  if (!(Math.abs(day * DAY_MS) <= MAX_DATE_MS - DAY_MS)) return day * DAY_MS;
  const d = new Date(day * DAY_MS);
  return wallToInstant({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
}

/** nextAfter looks this many calendar days ahead, from the day holding the instant. */
const MAX_DAYS = 366 * 100;

/**
 * croner's six-field pattern for node-cron's parsed fields. Day numbers and the last day of the month (L) mean the
 * same to both; a day field with any other token (L-3, 15W, LW, 5L, 1#2) becomes `*`, more candidates, not fewer.
 */
function cronerPattern(f: ParsedFields): string {
  const day = (xs: (number | string)[], alsoSame: string[]) => (xs.every((x) => typeof x === 'number' || alsoSame.includes(x)) ? xs.join(',') : '*');
  return [f.second.join(','), f.minute.join(','), f.hour.join(','), day(f.dayOfMonth, ['L']), f.month.join(','), day(f.dayOfWeek, [])].join(' ');
}

/** One schedule, ready for repeated questions. Call dispose() when done (it holds a node-cron matcher). */
export class CronSchedule {
  private readonly task: ScheduledTask;
  /** The wall times the expression names, as if they were UTC instants (no clock changes in between). */
  private readonly wallSlots: Cron;

  constructor(readonly schedule: Schedule) {
    const fields = cron.parse(schedule.cron);
    this.task = cron.createTask(schedule.cron, () => undefined, { timezone: schedule.timezone });
    this.wallSlots = new Cron(cronerPattern(fields), { utcOffset: 0, paused: true, mode: '6-part', domAndDow: true });
  }

  dispose(): void {
    this.wallSlots.stop();
    void this.task.destroy();
  }

  /** Whether the schedule fires at this instant (whole seconds). */
  matches(ms: number): boolean {
    return this.task.match(new Date(ms));
  }

  /**
   * The first instant strictly after `afterMs` at which the schedule fires; null if none within a century. Wall
   * times that do not exist (clocks moved forward) never fire; in an hour that repeats (clocks moved back) a slot
   * fires once, at the instant {@link wallToInstant} names.
   */
  nextAfter(afterMs: number): number | null {
    const tz = this.schedule.timezone;
    const bound = wallTime(afterMs, tz);
    const endDay = Date.UTC(bound.year, bound.month - 1, bound.day + MAX_DAYS);
    let at = new Date(asUtc(bound));
    for (;;) {
      const next = this.wallSlots.nextRun(at);
      if (next === null || next.getTime() >= endDay) return null;
      const wall = { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: next.getUTCHours(), minute: next.getUTCMinutes(), second: next.getUTCSeconds() };
      const ts = wallToInstant(wall, tz);
      if (ts > afterMs && same(wallTime(ts, tz), wall) && this.matches(ts)) return ts;
      at = next;
    }
  }

  /**
   * The last instant at or before `ms` at which the schedule fires; null if none within 30 years. Walked forward with
   * nextAfter from ever earlier instants rather than with croner's `previousRuns` (exclusive of its date, and
   * croner's own rules in a repeated hour), so it always agrees with nextAfter.
   */
  lastAtOrBefore(ms: number): number | null {
    for (const back of [60_000, 3_600_000, DAY_MS, 8 * DAY_MS, 32 * DAY_MS, 367 * DAY_MS, 5 * 367 * DAY_MS, 30 * 367 * DAY_MS]) {
      let s = this.nextAfter(ms - back);
      if (s === null || s > ms) continue;
      let last = s;
      while ((s = this.nextAfter(s)) !== null && s <= ms) last = s;
      return last;
    }
    return null;
  }

  /** How many slots fall in (fromMs, toMs], counting at most `cap`; and the last of them. */
  slotsBetween(fromMs: number, toMs: number, cap = 1000): { count: number; capped: boolean; first: number | null; last: number | null } {
    const last = this.lastAtOrBefore(toMs);
    if (last === null || last <= fromMs) return { count: 0, capped: false, first: null, last: null };
    const first = this.nextAfter(fromMs) as number;
    let count = 1;
    let s = first;
    while (s < last) {
      if (count >= cap) return { count, capped: true, first, last };
      s = this.nextAfter(s) as number;
      count++;
    }
    return { count, capped: false, first, last };
  }

  /**
   * The schedule's period in seconds: the longest gap between consecutive slots among the next `samples` after
   * `fromMs` (a weekday schedule's period is the weekend's three days). Null if it fires less than twice.
   */
  periodSeconds(fromMs: number, samples = 64): number | null {
    let prev = this.nextAfter(fromMs);
    if (prev === null) return null;
    let longest = 0;
    for (let i = 0; i < samples; i++) {
      const next = this.nextAfter(prev);
      if (next === null) break;
      longest = Math.max(longest, next - prev);
      prev = next;
      if (next - fromMs > 400 * DAY_MS) break;
    }
    return longest ? longest / 1000 : null;
  }
}

/** The next `count` instants the schedule fires after `from` (default: now). */
export function nextRuns(schedule: Schedule, count = 1, from = Date.now()): Date[] {
  const s = new CronSchedule(schedule);
  try {
    const out: Date[] = [];
    let t = from;
    for (let i = 0; i < count; i++) {
      const n = s.nextAfter(t);
      if (n === null) break;
      out.push(new Date(n));
      t = n;
    }
    return out;
  } finally {
    s.dispose();
  }
}
