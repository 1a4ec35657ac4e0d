/**
 * Another agentdrift process may change the store while the daemon runs (an import, a baseline set, an `agentdrift
 * run` storing attempts from the command line). At each check the daemon asks whether one did: then every track's
 * figures are recomputed, so /metrics never waits for the daemon's next run; else only the operational ones (the
 * day's budget flag falls at midnight). The daemon's own reads and writes do not count as a change.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import type { FiguresRefresh } from '../deps.ts';
import type { Figures } from '../figures/figures.ts';

export interface StoreWatchDeps {
  store: Store;
  figures: FiguresRefresh & Pick<Figures, 'refreshOps'>;
}

/** Recomputes the figures another process's changes touched (all of them), else the operational ones; never throws. */
export function refreshOnStoreChange(deps: StoreWatchDeps, log: Logger): void {
  try {
    if (deps.store.changedByOthers()) {
      log.info('the store was changed by another agentdrift process: recomputing the figures');
      deps.figures.refresh();
    } else {
      deps.figures.refreshOps();
    }
  } catch (e) {
    log.error({ err: (e as Error).message }, 'could not recompute the figures');
  }
}
