import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { CronSchedule, nextRuns, startOfDay, wallToInstant } from '../../src/cron/cron.ts';

const at = (iso: string) => Date.parse(iso);
const isoOf = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function withSchedule<T>(expr: string, timezone: string, fn: (s: CronSchedule) => T): T {
  const s = new CronSchedule({ cron: expr, timezone });
  try {
    return fn(s);
  } finally {
    s.dispose();
  }
}

describe('cron arithmetic from any instant', () => {
  it('agrees with node-cron on the next 30 slots of varied expressions and time zones', () => {
    const cases: [string, string][] = [
      ['0 3 * * *', 'UTC'],
      ['*/5 * * * * *', 'UTC'],
      ['0 3 1 * mon', 'Europe/Paris'],
      ['30 2 * * *', 'America/New_York'],
      ['0 0 L * *', 'Asia/Kolkata'],
      ['15 */2 * * 1-5', 'Australia/Lord_Howe'],
      ['*/7 * * * *', 'America/Sao_Paulo'],
    ];
    for (const [expr, tz] of cases) {
      const task = cron.createTask(expr, () => undefined, { timezone: tz });
      const from = Date.now();
      const expected = task.getNextRuns(30).map((d) => d.getTime());
      void task.destroy();
      const got = nextRuns({ cron: expr, timezone: tz }, 30, from).map((d) => d.getTime());
      expect(got.map(isoOf), `${expr} ${tz}`).toEqual(expected.map(isoOf));
    }
  });

  it('agrees with node-cron on day tokens croner reads otherwise or not at all, and ANDs day of month with day of week', () => {
    const cases: [string, string][] = [
      ['0 0 L-3 * *', 'UTC'],
      ['0 9 15W * *', 'Europe/Paris'],
      ['0 9 LW * *', 'America/New_York'],
      ['0 18 * * 5L', 'Asia/Tokyo'],
      ['0 12 * * 1#2', 'UTC'],
      ['0 0 1,L * *', 'Australia/Lord_Howe'],
      ['0 3 13 * 5', 'UTC'],
      ['0 22-2 * * 7', 'Europe/Paris'],
    ];
    for (const [expr, tz] of cases) {
      const task = cron.createTask(expr, () => undefined, { timezone: tz });
      const from = Date.now();
      const expected = task.getNextRuns(12).map((d) => d.getTime());
      void task.destroy();
      const got = nextRuns({ cron: expr, timezone: tz }, 12, from).map((d) => d.getTime());
      expect(got.map(isoOf), `${expr} ${tz}`).toEqual(expected.map(isoOf));
    }
    // Friday the 13th only (croner alone would take every 13th and every Friday).
    const fridays = nextRuns({ cron: '0 3 13 * 5', timezone: 'UTC' }, 3, at('2026-01-01T00:00:00Z')).map((d) => d.toISOString());
    expect(fridays).toEqual(['2026-02-13T03:00:00.000Z', '2026-03-13T03:00:00.000Z', '2026-11-13T03:00:00.000Z']);
  });

  it('finds the next and the last slot around a given instant, in the schedule\'s time zone', () => {
    withSchedule('0 3 * * *', 'Europe/Paris', (s) => {
      // 03:00 in Paris is 02:00 UTC in winter.
      expect(isoOf(s.nextAfter(at('2026-01-10T01:59:59Z')))).toBe('2026-01-10T02:00:00.000Z');
      expect(isoOf(s.nextAfter(at('2026-01-10T02:00:00Z')))).toBe('2026-01-11T02:00:00.000Z');
      expect(isoOf(s.lastAtOrBefore(at('2026-01-10T02:00:00Z')))).toBe('2026-01-10T02:00:00.000Z');
      expect(isoOf(s.lastAtOrBefore(at('2026-01-10T01:59:59Z')))).toBe('2026-01-09T02:00:00.000Z');
      // Summer: 01:00 UTC.
      expect(isoOf(s.nextAfter(at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T01:00:00.000Z');
    });
  });

  it('never fires at a wall time the clocks skip, and fires once in an hour they repeat', () => {
    // New York: 2026-03-08 02:00 -> 03:00 (no 02:30 that day); 2026-11-01 02:00 -> 01:00 (01:30 twice).
    withSchedule('30 2 * * *', 'America/New_York', (s) => {
      expect(isoOf(s.nextAfter(at('2026-03-07T12:00:00Z')))).toBe('2026-03-09T06:30:00.000Z');
    });
    withSchedule('30 1 * * *', 'America/New_York', (s) => {
      const first = s.nextAfter(at('2026-11-01T00:00:00Z'));
      expect(isoOf(first)).toBe('2026-11-01T05:30:00.000Z');
      expect(isoOf(s.nextAfter(first!))).toBe('2026-11-02T06:30:00.000Z');
    });
  });

  it('east of UTC, a repeated wall time fires once, on the pass wallToInstant names (the second), as node-cron does', () => {
    // Paris: 2026-10-25 03:00 CEST -> 02:00 CET, so 02:30 is 00:30Z and again 01:30Z.
    withSchedule('30 2 * * *', 'Europe/Paris', (s) => {
      const first = s.nextAfter(at('2026-10-24T12:00:00Z'));
      expect(isoOf(first)).toBe('2026-10-25T01:30:00.000Z');
      expect(isoOf(s.nextAfter(first!))).toBe('2026-10-26T01:30:00.000Z');
      expect(isoOf(s.lastAtOrBefore(at('2026-10-25T01:00:00Z')))).toBe('2026-10-24T00:30:00.000Z');
    });
  });

  it('counts the slots between two instants, capped', () => {
    withSchedule('0 3 * * *', 'UTC', (s) => {
      expect(s.slotsBetween(at('2026-01-01T03:00:00Z'), at('2026-01-04T02:59:59Z'))).toEqual({ count: 2, capped: false, first: at('2026-01-02T03:00:00Z'), last: at('2026-01-03T03:00:00Z') });
      expect(s.slotsBetween(at('2026-01-01T03:00:00Z'), at('2026-01-01T23:00:00Z')).count).toBe(0);
    });
    withSchedule('* * * * * *', 'UTC', (s) => {
      expect(s.slotsBetween(at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), 100)).toMatchObject({ count: 100, capped: true, last: at('2026-01-02T00:00:00Z') });
    });
  });

  it('gives the period as the longest gap between slots', () => {
    const from = at('2026-01-05T00:00:00Z');
    expect(withSchedule('0 3 * * *', 'UTC', (s) => s.periodSeconds(from))).toBe(86_400);
    expect(withSchedule('*/4 * * * * *', 'UTC', (s) => s.periodSeconds(from))).toBe(4);
    // Weekdays only: the weekend makes it three days.
    expect(withSchedule('0 3 * * 1-5', 'UTC', (s) => s.periodSeconds(from))).toBe(3 * 86_400);
  });

  it('knows where a day starts in a time zone, across a clock change', () => {
    expect(isoOf(startOfDay(at('2026-03-08T20:00:00Z'), 'America/New_York'))).toBe('2026-03-08T05:00:00.000Z');
    expect(isoOf(startOfDay(at('2026-03-09T03:00:00Z'), 'America/New_York'))).toBe('2026-03-08T05:00:00.000Z');
    expect(isoOf(startOfDay(at('2026-03-09T05:00:00Z'), 'America/New_York'))).toBe('2026-03-09T04:00:00.000Z');
    expect(isoOf(startOfDay(at('2026-06-01T23:30:00Z'), 'Asia/Tokyo'))).toBe('2026-06-01T15:00:00.000Z');
    expect(isoOf(wallToInstant({ year: 2026, month: 6, day: 1, hour: 0, minute: 0, second: 0 }, 'UTC'))).toBe('2026-06-01T00:00:00.000Z');
  });
});
