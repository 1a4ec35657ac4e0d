/**
 * The slots of each track: one timer per track on its cron expression and time zone, armed for the next slot and
 * published (agentdrift_next_run_timestamp_seconds), and the record of slots that did not run.
 *
 * - When a slot comes, the track is marked covered up to it and the slot is handed on (run it, or record it skipped:
 *   run-control.ts).
 * - A timer that fires late while the daemon runs (host suspended, event loop blocked) hands on its own slot late and
 *   records the slots it passed over as missed; the start-up records the slots missed while the daemon was down. Both
 *   go through {@link recordMissedSlots}, the one place missed slots are recorded.
 */
import type { Logger } from 'pino';
import type { TrackConfig } from '../../config/index.ts';
import type { CronSchedule } from '../../cron/cron.ts';
import type { Store } from '../../store/store.ts';
import type { Figures } from '../figures/figures.ts';
import { MAX_TIMER_MS, type Clock } from './clock.ts';

/** What the slots need: the store (schedule marks, missed slots) and the figures (each track's schedule, ops). */
export interface SlotDeps {
  store: Store;
  figures: Pick<Figures, 'schedule' | 'refreshOps'>;
}

/** Slots that did not run: how many (at least, when capped), the first and the last. */
export interface MissedSlots {
  count: number;
  capped: boolean;
  first: number;
  last: number;
}

/** Why slots did not run: the end of the stored reason, and the warning logged (with fields of its own). */
export interface MissedCause {
  /** Follows "N scheduled run(s) from <first> to <last>" in the stored reason. */
  why: string;
  message: string;
  fields: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Records the track's slots after `afterMs` up to `now` as missed (agentdrift_scheduler_missed_runs_total and the
 * last miss), marks the track covered up to `now` and logs the cause. Nothing is written when no slot was missed.
 */
export function recordMissedSlots(
  store: Store,
  log: Logger,
  schedule: CronSchedule,
  track: string,
  afterMs: number,
  now: number,
  cause: MissedCause,
): MissedSlots | null {
  const between = schedule.slotsBetween(afterMs, now);
  if (between.count === 0) return null;
  const missed: MissedSlots = { count: between.count, capped: between.capped, first: between.first as number, last: between.last as number };
  const reason = `${missed.capped ? 'at least ' : ''}${missed.count} scheduled run(s) from ${iso(missed.first)} to ${iso(missed.last)} ${cause.why}`;
  store.schedule.recordMissed(track, { count: missed.count, fromMs: missed.first, toMs: missed.last, at: now, reason });
  store.schedule.setCoveredUntil(track, now);
  log.warn({ track, missed: missed.count, from: iso(missed.first), to: iso(missed.last), ...cause.fields }, cause.message);
  return missed;
}

export interface SlotTimersOptions {
  deps: SlotDeps;
  clock: Clock;
  log: Logger;
  /** Whether the scheduler runs: a timer of one stopping does nothing, and none is armed then. */
  running(): boolean;
  /** A slot came (the track is covered up to it): run the track, or record the slot skipped. */
  onSlot(track: string, slot: number): void;
}

export class SlotTimers {
  private readonly deps: SlotDeps;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly running: () => boolean;
  private readonly onSlot: (track: string, slot: number) => void;
  private readonly timers = new Map<string, unknown>();
  private readonly next = new Map<string, number | null>();

  constructor(opts: SlotTimersOptions) {
    this.deps = opts.deps;
    this.clock = opts.clock;
    this.log = opts.log;
    this.running = opts.running;
    this.onSlot = opts.onSlot;
  }

  nextRunMs(track: string): number | null {
    return this.next.get(track) ?? null;
  }

  /** Each armed track's next slot (ISO), for the start-up log. */
  nextSlots(): Record<string, string | null> {
    return Object.fromEntries([...this.next].map(([k, v]) => [k, v === null ? null : iso(v)]));
  }

  /**
   * At start: records the slots missed while the daemon was down (since the track was last covered) and marks the
   * track covered up to now. Whether a slot was missed (with `schedule.catchUp`, the most recent one runs now).
   */
  recordDowntime(track: TrackConfig, now: number): boolean {
    const { store } = this.deps;
    const covered = store.schedule.coveredUntil(track.name);
    const catchUp = track.schedule.catchUp;
    const then = catchUp ? 'the most recent one runs now (schedule.catchUp)' : 'not caught up (schedule.catchUp is false)';
    const missed =
      covered === null
        ? null
        : recordMissedSlots(store, this.log, this.deps.figures.schedule(track.name), track.name, covered, now, {
            why: `missed while the daemon was down; ${then}`,
            message: 'scheduled runs missed while the daemon was down',
            fields: { catchUp },
          });
    if (!missed) store.schedule.setCoveredUntil(track.name, now);
    return missed !== null;
  }

  /** Sets the track's timer for its next slot and publishes it. */
  arm(track: string): void {
    const old = this.timers.get(track);
    if (old !== undefined) this.clock.clearTimeout(old);
    this.timers.delete(track);
    if (!this.running()) return;
    const now = this.clock.now();
    const next = this.deps.figures.schedule(track).nextAfter(now);
    this.next.set(track, next);
    if (next !== null) this.wait(track, next);
    this.deps.figures.refreshOps();
  }

  /** Clears every track's timer (shutdown). */
  clear(): void {
    for (const h of this.timers.values()) this.clock.clearTimeout(h);
    this.timers.clear();
  }

  private wait(track: string, slot: number): void {
    const delay = Math.max(0, slot - this.clock.now());
    this.timers.set(
      track,
      this.clock.setTimeout(() => {
        if (!this.running()) return;
        // A long wait is cut into timer-sized pieces; a timer may also fire a little early.
        const now = this.clock.now();
        if (now < slot) return this.wait(track, slot);
        try {
          this.deps.store.schedule.setCoveredUntil(track, slot);
          this.onSlot(track, slot);
        } catch (e) {
          this.log.error({ track, err: (e as Error).message }, 'could not handle a scheduled slot');
        }
        try {
          this.recordPassedOver(track, slot, now);
        } catch (e) {
          this.log.error({ track, err: (e as Error).message }, 'could not record the slots passed over');
        }
        this.arm(track);
      }, Math.min(delay, MAX_TIMER_MS)),
    );
  }

  /**
   * A timer that fired late (the host was suspended, the event loop blocked) has passed over the slots after its own
   * up to now: they are recorded missed, as the start-up records the slots missed while the daemon was down. The
   * timer's own slot has run (or been skipped); the next one armed is the first after now.
   */
  private recordPassedOver(track: string, slot: number, now: number): void {
    const lateS = Math.round((now - slot) / 1000);
    const late = `the timer of the slot at ${iso(slot)} fired ${lateS} s late (host suspended or event loop blocked)`;
    recordMissedSlots(this.deps.store, this.log, this.deps.figures.schedule(track), track, slot, now, {
      why: `passed over: ${late}; that slot ran late, these did not run`,
      message: 'scheduled runs passed over while the timer was late',
      fields: { slot: iso(slot), lateMs: now - slot },
    });
  }
}
