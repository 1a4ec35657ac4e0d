/**
 * Schedule arithmetic on top of node-cron, from any instant (so the scheduler's clock can be injected): the next
 * slot after an instant, the last slot at or before one, the slots between two instants, the schedule's period, and
 * the start of a day in a time zone.
 *
 * node-cron stays the one authority on what an expression means: config validation uses it, and every candidate
 * instant found here is confirmed with its matcher (`task.match`, evaluated in the schedule's time zone). The walk
 * itself (day by day, then the expression's hours, minutes and seconds in order) mirrors node-cron's own, which only
 * works from the real clock.
 */
import cron, { type ParsedFields, type ScheduledTask } from 'node-cron';
import { DAY_MS } from '../model/values.ts';

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
 * in an overlap (clocks moved back) the earlier of the two.
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

const MAX_DAYS = 366 * 100;

const allNumbers = (xs: (number | string)[]): xs is number[] => xs.every((x) => typeof x === 'number');

/** One schedule, ready for repeated questions. Call dispose() when done (it holds a node-cron matcher). */
export class CronSchedule {
  private readonly task: ScheduledTask;
  private readonly fields: ParsedFields;
  private readonly seconds: number[];
  private readonly minutes: number[];
  private readonly hours: number[];

  constructor(readonly schedule: Schedule) {
    this.fields = cron.parse(schedule.cron);
    this.task = cron.createTask(schedule.cron, () => undefined, { timezone: schedule.timezone });
    const asc = (xs: number[]) => [...xs].sort((a, b) => a - b);
    this.seconds = asc(this.fields.second);
    this.minutes = asc(this.fields.minute);
    this.hours = asc(this.fields.hour);
  }

  dispose(): void {
    void this.task.destroy();
  }

  /** Whether the schedule fires at this instant (whole seconds). */
  matches(ms: number): boolean {
    return this.task.match(new Date(ms));
  }

  /** A cheap filter: false only for days on which the schedule surely never fires. */
  private dayMayMatch(year: number, month: number, day: number): boolean {
    const f = this.fields;
    if (!f.month.includes(month)) return false;
    if (allNumbers(f.dayOfMonth) && !f.dayOfMonth.includes(day)) return false;
    if (allNumbers(f.dayOfWeek) && !f.dayOfWeek.includes(new Date(Date.UTC(year, month - 1, day)).getUTCDay())) return false;
    return true;
  }

  /**
   * The first instant strictly after `afterMs` at which the schedule fires; null if none within a century. Wall
   * times that do not exist (clocks moved forward) never fire; in an hour that repeats (clocks moved back) a slot
   * fires once, the first time.
   */
  nextAfter(afterMs: number): number | null {
    const tz = this.schedule.timezone;
    const bound = wallTime(afterMs, tz);
    const boundSecond = bound.hour * 3600 + bound.minute * 60 + bound.second;
    let { year, month, day } = bound;
    for (let i = 0; i < MAX_DAYS; i++) {
      if (this.dayMayMatch(year, month, day)) {
        for (const hour of this.hours) {
          if (i === 0 && hour < bound.hour) continue;
          for (const minute of this.minutes) {
            if (i === 0 && hour * 3600 + minute * 60 + 59 <= boundSecond) continue;
            for (const second of this.seconds) {
              if (i === 0 && hour * 3600 + minute * 60 + second <= boundSecond) continue;
              const wall = { year, month, day, hour, minute, second };
              const ts = wallToInstant(wall, tz);
              if (ts > afterMs && same(wallTime(ts, tz), wall) && this.matches(ts)) return ts;
            }
          }
        }
      }
      const d = new Date(Date.UTC(year, month - 1, day + 1));
      year = d.getUTCFullYear();
      month = d.getUTCMonth() + 1;
      day = d.getUTCDate();
    }
    return null;
  }

  /** The last instant at or before `ms` at which the schedule fires; null if none within 30 years. */
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
