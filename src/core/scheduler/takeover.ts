/**
 * What a daemon that stopped left behind, taken over at start, and the containers of a run that is over.
 *
 * - A track another live agentdrift process (an `agentdrift run`) is running now is its business: its run is not
 *   stale, its containers are not leftovers.
 * - Runs stored as `running` of every other track were left by a daemon that died: they become `interrupted` (and
 *   resume). Their tracks' containers are leftovers: no run of them goes on.
 * - Images agentdrift pulled that no configured suite uses any more (the config changed while it was down) go.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import type { LeaseRow } from '../../domain/records.ts';
import { LABEL_MANAGED, LABEL_RUN, LABEL_TRACK, type ContainerRuntime } from '../../executor/runtime.ts';
import type { Store } from '../../store/store.ts';
import { otherLiveHolder } from '../runner/lease.ts';
import { removeUnusedImages } from '../runner/images.ts';

export interface TakeoverDeps {
  config: Config;
  store: Store;
}

/** The tracks another live agentdrift process is running now, with the lease it holds. */
export function tracksHeldElsewhere(deps: TakeoverDeps): Map<string, LeaseRow> {
  const elsewhere = new Map<string, LeaseRow>();
  for (const t of deps.config.tracks) {
    const holder = otherLiveHolder(deps.store, t.name);
    if (holder) elsewhere.set(t.name, holder);
  }
  return elsewhere;
}

/** Marks the run each track's dead daemon left `running` interrupted (it resumes now); tracks held elsewhere aside. */
export function interruptStaleRuns(deps: TakeoverDeps, log: Logger, elsewhere: ReadonlyMap<string, LeaseRow>): void {
  for (const t of deps.config.tracks) {
    const holder = elsewhere.get(t.name);
    if (holder) {
      log.warn({ track: t.name, holder }, 'another agentdrift process is running this track; its run is left alone');
      continue;
    }
    const stale = deps.store.runs.latest(t.name, ['running']);
    if (stale) {
      deps.store.runs.finish(stale.id, 'interrupted', 'the daemon stopped during the run (crash or kill); resumes now');
      log.warn({ track: t.name, run: stale.id }, 'a run was left running by a daemon that stopped; it resumes now');
    }
  }
}

/**
 * Removes the containers of the configured tracks (none of their runs goes on), but not those of tracks held
 * elsewhere; other tracks' containers (another daemon on the same engine) are not ours to touch.
 */
export async function removeLeftoverContainers(
  deps: TakeoverDeps,
  runtime: ContainerRuntime,
  log: Logger,
  elsewhere: ReadonlyMap<string, LeaseRow>,
): Promise<void> {
  for (const t of deps.config.tracks) {
    if (elsewhere.has(t.name)) continue;
    try {
      const n = await runtime.removeLeftovers({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: t.name });
      if (n) log.info({ track: t.name, removed: n }, 'removed containers left by an earlier daemon');
    } catch (e) {
      log.warn({ track: t.name, err: (e as Error).message }, 'could not remove leftover containers');
    }
  }
}

/** Removes the images agentdrift pulled that no configured suite uses; a failure is logged, never thrown. */
export async function removeUnusedImagesAtStart(deps: TakeoverDeps, runtime: ContainerRuntime, log: Logger): Promise<void> {
  try {
    await removeUnusedImages(deps.store, runtime, deps.config, log);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not remove unused images');
  }
}

/** Removes the containers of one run (or of the track's run being set up, runId null); a failure is logged. */
export async function removeRunContainers(runtime: ContainerRuntime, log: Logger, track: string, runId: number | null): Promise<void> {
  const labels: Record<string, string> = { [LABEL_MANAGED]: 'true', [LABEL_TRACK]: track };
  if (runId !== null) labels[LABEL_RUN] = String(runId);
  try {
    const n = await runtime.removeLeftovers(labels);
    if (n) log.info({ track, run: runId, removed: n }, 'removed the run\'s containers');
  } catch (e) {
    log.warn({ track, run: runId, err: (e as Error).message }, 'could not remove the run\'s containers');
  }
}
