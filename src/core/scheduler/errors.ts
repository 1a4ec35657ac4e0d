/** Why the scheduler refuses a trigger or a cancel (the HTTP API maps each to its status code). */
import type { RunRow } from '../../domain/types.ts';
import type { TrackBusyError } from '../runner/lease.ts';

/** A run could not start because one of the track is going on. */
export class RunBusyError extends Error {
  constructor(
    readonly track: string,
    readonly runId: number | null,
  ) {
    super(`a run of track "${track}" is going on${runId === null ? ' (being set up)' : ` (run ${runId})`}; cancel it or wait for it to end`);
    this.name = 'RunBusyError';
  }
}

/** The run cannot be cancelled: it has ended already. */
export class RunEndedError extends Error {
  constructor(readonly run: RunRow) {
    super(`run ${run.id} has already ended (${run.state})`);
    this.name = 'RunEndedError';
  }
}

/** The run is going on in another agentdrift process (an `agentdrift run`): it can only be stopped there. */
export class RunElsewhereError extends Error {
  constructor(
    readonly run: RunRow,
    readonly busy: TrackBusyError,
  ) {
    super(`run ${run.id} is not this daemon's: ${busy.message}`);
    this.name = 'RunElsewhereError';
  }
}

/** The scheduler is stopping (shutdown): no new work. */
export class SchedulerStoppingError extends Error {
  constructor() {
    super('the daemon is shutting down: no new runs');
    this.name = 'SchedulerStoppingError';
  }
}
