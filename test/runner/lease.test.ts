/**
 * The track lease that keeps two agentdrift processes (the daemon, `agentdrift run`) from running one track at once.
 * Real SQLite; "another process" is a real one: this test's parent (alive) or a child that has exited (dead).
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireTrackLease, otherLiveHolder, TrackBusyError } from '../../src/core/runner/lease.ts';
import type { LeaseHolder } from '../../src/domain/records.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

let t: TestContext | null = null;
afterEach(() => {
  t?.cleanup();
  t = null;
});

const TRACK = 'claude-code';
const respected = () => true;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another process's lease, written the way that process would write it. */
function takenBy(holder: Partial<LeaseHolder>, nowMs = Date.now()): LeaseHolder {
  const h: LeaseHolder = { id: `other-${Math.random()}`, pid: process.ppid, host: hostname(), purpose: 'the daemon', ...holder };
  const r = t!.ctx.store.leases.acquire(TRACK, h, nowMs, respected);
  expect(r.acquired).toBe(true);
  return h;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
}

describe('the track lease', () => {
  it('refuses a second holder while a live process holds it, naming that process, and is free again once released', () => {
    t = makeContext();
    const other = takenBy({ purpose: 'agentdrift run' });
    const error = (() => {
      try {
        acquireTrackLease(t.ctx.store, TRACK, 'the daemon');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(TrackBusyError);
    expect((error as Error).message).toMatch(new RegExp(`^track "${TRACK}" is being run by another agentdrift process \\(agentdrift run, pid ${process.ppid} on ${hostname()}, since \\d{4}-`));
    expect(otherLiveHolder(t.ctx.store, TRACK)).toMatchObject({ id: other.id, purpose: 'agentdrift run' });

    t.ctx.store.leases.release(TRACK, other.id);
    expect(otherLiveHolder(t.ctx.store, TRACK)).toBeNull();
    const mine = acquireTrackLease(t.ctx.store, TRACK, 'the daemon');
    // Our own lease is not "another live holder", and it keeps other holders out.
    expect(otherLiveHolder(t.ctx.store, TRACK)).toBeNull();
    expect(() => acquireTrackLease(t!.ctx.store, TRACK, 'agentdrift run')).toThrow(TrackBusyError);
    mine.release();
    expect(t.ctx.store.leases.current(TRACK)).toBeNull();
    acquireTrackLease(t.ctx.store, TRACK, 'agentdrift run').release();
  });

  it('takes the lease at once from a dead process on this host, or from an earlier process with our own pid', () => {
    t = makeContext();
    takenBy({ pid: deadPid() });
    const a = acquireTrackLease(t.ctx.store, TRACK, 'the daemon');
    expect(t.ctx.store.leases.current(TRACK)?.id).toBe(a.holder.id);
    a.release();

    // A restarted container's daemon is pid 1 again: a lease with our pid that we did not take is stale.
    takenBy({ pid: process.pid });
    const b = acquireTrackLease(t.ctx.store, TRACK, 'the daemon');
    expect(t.ctx.store.leases.current(TRACK)?.id).toBe(b.holder.id);
    b.release();
  });

  it('waits out the time to live of a holder on another host, whose liveness it cannot check', () => {
    t = makeContext();
    const start = Date.parse('2026-11-22T10:00:00Z');
    takenBy({ host: 'elsewhere', pid: 1 }, start);
    let now = start + 59_000;
    expect(() => acquireTrackLease(t!.ctx.store, TRACK, 'the daemon', { now: () => now })).toThrow(TrackBusyError);
    expect(otherLiveHolder(t.ctx.store, TRACK, now)).not.toBeNull();
    now = start + 60_000;
    expect(otherLiveHolder(t.ctx.store, TRACK, now)).toBeNull();
    const lease = acquireTrackLease(t.ctx.store, TRACK, 'the daemon', { now: () => now });
    expect(t.ctx.store.leases.current(TRACK)).toMatchObject({ id: lease.holder.id, acquiredAtMs: now, renewedAtMs: now, pid: process.pid });
    lease.release();
  });

  it('is renewed while held, so it outlives its time to live', async () => {
    t = makeContext();
    const lease = acquireTrackLease(t.ctx.store, TRACK, 'the daemon', { ttlMs: 90 });
    const first = t.ctx.store.leases.current(TRACK)!.renewedAtMs;
    await sleep(250);
    const row = t.ctx.store.leases.current(TRACK)!;
    expect(row.id).toBe(lease.holder.id);
    expect(row.renewedAtMs).toBeGreaterThan(first);
    // Seen from another host (no pid check), it is still held: renewed within the last 90 ms.
    const now = Date.now();
    expect(t.ctx.store.leases.acquire(TRACK, { id: 'x', pid: 1, host: 'elsewhere', purpose: 'p' }, now, (l) => l.renewedAtMs + 90 > now)).toMatchObject({ acquired: false });
    expect(lease.lost.aborted).toBe(false);
    lease.release();
  });

  it('signals the holder that lost its lease to another process', async () => {
    t = makeContext();
    const lease = acquireTrackLease(t.ctx.store, TRACK, 'the daemon', { ttlMs: 60 });
    // Another process found it expired (this one stalled) and took it.
    expect(t.ctx.store.leases.acquire(TRACK, { id: 'thief', pid: 1, host: 'elsewhere', purpose: 'agentdrift run' }, Date.now(), () => false)).toEqual({ acquired: true });
    await sleep(100);
    expect(lease.lost.aborted).toBe(true);
    // Releasing afterwards leaves the new holder's lease alone.
    lease.release();
    expect(t.ctx.store.leases.current(TRACK)?.id).toBe('thief');
  });
});
