/**
 * One process runs a track at a time. The daemon's scheduler keeps its own runs apart; this lease, kept in the store
 * that every agentdrift process of a data directory shares, also keeps apart the daemon and an `agentdrift run` from
 * the command line (or two of those): without it the second would resume the first's run, attempt the same tasks and
 * remove the first's containers as leftovers.
 *
 * The holder renews the lease every third of its time to live. A holder that stops renewing (it crashed, or was
 * killed) loses the lease once that time has passed; on the same host a dead holder process loses it at once, so a
 * restarted daemon does not wait.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import type { LeaseHolder, LeaseRow } from '../../domain/records.ts';

/** How long a lease lives without renewal. */
export const LEASE_TTL_MS = 60_000;

/** The track is being run by another process. */
export class TrackBusyError extends Error {
  constructor(
    readonly track: string,
    readonly holder: LeaseRow,
  ) {
    super(
      `track "${track}" is being run by another agentdrift process (${holder.purpose}, pid ${holder.pid} on ${holder.host}, ` +
        `since ${new Date(holder.acquiredAtMs).toISOString()}); wait for it to end, or stop it there`,
    );
    this.name = 'TrackBusyError';
  }
}

/** Leases this process holds now (a track's lease is never stale to the process holding it). */
const heldHere = new Set<string>();

const self = { pid: process.pid, host: hostname() };

/** How to revoke each lease this process holds, by store file and track (see {@link revokeTrackLease}). */
const revokers = new Map<string, () => void>();
const leaseKey = (store: Store, track: string) => `${store.file}\0${track}`;

/**
 * Takes back the lease this process holds on the track, from outside the run holding it: for a run that would not
 * stop (a cancel past its grace period), so the track can run again. The run's `lost` signal aborts, so should it
 * ever wake up it stores nothing over what was decided for it. Returns whether there was such a lease.
 */
export function revokeTrackLease(store: Store, track: string): boolean {
  const revoke = revokers.get(leaseKey(store, track));
  if (!revoke) return false;
  revoke();
  return true;
}

/** Whether the holder process is known to be gone: on this host, a pid that is not alive, or our own pid reused. */
export function holderIsGone(l: LeaseRow): boolean {
  if (heldHere.has(l.id)) return false;
  if (l.host !== self.host) return false;
  // Our pid, but not one of our leases: an earlier process with this pid (a restarted container's pid 1).
  if (l.pid === self.pid) return true;
  try {
    process.kill(l.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Whether a lease still binds: renewed within its time to live, and its holder not known to be gone. */
function stillHeld(l: LeaseRow, nowMs: number, ttlMs: number): boolean {
  return l.renewedAtMs + ttlMs > nowMs && !holderIsGone(l);
}

/** The process running the track now, when it is another one that is alive; null when the track is free. */
export function otherLiveHolder(store: Store, track: string, nowMs = Date.now(), ttlMs = LEASE_TTL_MS): LeaseRow | null {
  const l = store.leases.current(track);
  return l && !heldHere.has(l.id) && stillHeld(l, nowMs, ttlMs) ? l : null;
}

export interface TrackLease {
  readonly holder: LeaseHolder;
  /** Aborts when the lease was lost (not renewed in time, and taken by another process). */
  readonly lost: AbortSignal;
  release(): void;
}

export interface LeaseOptions {
  ttlMs?: number;
  now?: () => number;
  log?: Logger;
}

/** Takes the track's lease, or throws {@link TrackBusyError} naming the process that holds it. */
export function acquireTrackLease(store: Store, track: string, purpose: string, opts: LeaseOptions = {}): TrackLease {
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
  const now = opts.now ?? Date.now;
  const holder: LeaseHolder = { id: randomUUID(), pid: self.pid, host: self.host, purpose };
  const nowMs = now();
  const r = store.leases.acquire(track, holder, nowMs, (l) => stillHeld(l, nowMs, ttlMs));
  if (!r.acquired) throw new TrackBusyError(track, r.holder);
  heldHere.add(holder.id);
  const lost = new AbortController();
  const timer = setInterval(() => {
    if (!store.isOpen) return clearInterval(timer);
    let kept: boolean;
    try {
      kept = store.leases.renew(track, holder.id, now());
    } catch (e) {
      // A busy or failing store: try again at the next tick; the lease lives on until its time is up.
      opts.log?.warn({ track, err: (e as Error).message }, 'could not renew the track lease');
      return;
    }
    if (!kept) {
      clearInterval(timer);
      heldHere.delete(holder.id);
      opts.log?.error({ track }, 'the track lease was lost (this process did not renew it in time and another took the track over)');
      lost.abort();
    }
  }, Math.max(10, Math.floor(ttlMs / 3)));
  timer.unref();
  let released = false;
  const key = leaseKey(store, track);
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(timer);
    heldHere.delete(holder.id);
    if (revokers.get(key) === revoke) revokers.delete(key);
    if (store.isOpen) store.leases.release(track, holder.id);
  };
  const revoke = () => {
    release();
    lost.abort();
  };
  revokers.set(key, revoke);
  return { holder, lost: lost.signal, release };
}
