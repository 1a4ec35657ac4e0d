/**
 * A command whose work is left unsettled must say so, not vanish.
 *
 * Node ends a process once nothing is left to wait on, even while an awaited promise can never settle (a stream
 * nobody reads, a callback never called): the CLI then exited with code 13 and printed nothing, and a run stayed
 * `running` with its lease held by a dead process. {@link guardUnsettled} watches the command's top-level promise:
 * when the event loop empties with it still pending, it prints one line saying so, runs the hooks the command
 * registered (a run marks itself failed), and exits with code 70 (EX_SOFTWARE).
 */

/** Exit code of a command whose work was left unsettled: EX_SOFTWARE, an internal error. */
export const EXIT_UNSETTLED = 70;

export const UNSETTLED_REASON = 'the command stopped with its work unsettled (an awaited operation could never finish); this is a bug in agentdrift';

import type { Store } from '../../store/store.ts';

const hooks = new Set<(reason: string) => void>();

/** Registers what to do if the command is left unsettled (e.g. mark its run failed); returns the unregister call. */
export function onUnsettled(hook: (reason: string) => void): () => void {
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

/** Resolves or rejects with `work`; if the process runs out of work first, reports it (see the module comment). */
export function guardUnsettled<T>(work: Promise<T>, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<T> {
  const onBeforeExit = () => {
    write(`agentdrift: internal error: ${UNSETTLED_REASON}`);
    for (const hook of [...hooks]) {
      try {
        hook(UNSETTLED_REASON);
      } catch (e) {
        write(`agentdrift: while reporting it: ${(e as Error).message}`);
      }
    }
    process.exit(EXIT_UNSETTLED);
  };
  process.once('beforeExit', onBeforeExit);
  return work.finally(() => process.off('beforeExit', onBeforeExit));
}

/** While registered: should the command be left unsettled, the run is stored `failed` with the reason. */
export function failRunIfUnsettled(store: Store, runId: number, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): () => void {
  return onUnsettled((reason) => {
    if (store.runs.finish(runId, 'failed', `failed: ${reason}`)) write(`agentdrift: run ${runId} is marked failed`);
  });
}
