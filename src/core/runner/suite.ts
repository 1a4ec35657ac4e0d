/**
 * A track's suite: the dataset rows it draws from, the harness files of each task, and the frozen selection. The
 * selection is frozen into the store the first time; a changed selection (ids, size, seed, exclusions, dataset or
 * harness revision) is a new suite with a new hash, and that change is logged.
 */
import type { Logger } from 'pino';
import type { TrackConfig } from '../../config/index.ts';
import { harnessRevision, loadDataset, selectTasks, suiteHash, type DatasetSource, type DownloadProgress, type HarnessSource, type RejectedRow, type Task } from '../../dataset/index.ts';
import type { Store } from '../../store/store.ts';

export interface Suite {
  hash: string;
  tasks: Task[];
  harness: HarnessSource;
  datasetRevision: string;
  harnessCommit: string;
  rejected: RejectedRow[];
}

export function datasetSource(track: TrackConfig): DatasetSource {
  return track.suite.dataset;
}

export function harnessSource(track: TrackConfig): HarnessSource {
  return track.suite.harness;
}

export interface SuiteOptions {
  dataDir: string;
  log: Logger;
  /** Progress of the dataset download, when the dataset is not in the cache yet. */
  onProgress?: (p: DownloadProgress) => void;
}

/** Loads the dataset, selects the track's tasks and freezes the selection in the store. */
export async function resolveSuite(store: Store, track: TrackConfig, opts: SuiteOptions): Promise<Suite> {
  const loaded = await loadDataset(datasetSource(track), opts.dataDir, opts.onProgress ? { onProgress: opts.onProgress } : {});
  const harness = harnessSource(track);
  const harnessCommit = await harnessRevision(harness);
  const tasks = selectTasks(loaded.tasks, { ids: track.suite.ids, exclude: track.suite.exclude, size: track.suite.size, seed: track.suite.seed });
  const hash = suiteHash(tasks.map((t) => t.instanceId), loaded.revision, harnessCommit);
  const row = store.tracks.ensure({ name: track.name, agent: track.agent, model: track.model });
  if (row.suiteHash !== hash) {
    if (row.suiteHash) opts.log.warn({ track: track.name, from: row.suiteHash.slice(0, 12), to: hash.slice(0, 12) }, 'the suite changed: a new suite hash from now on');
    store.suites.freeze(track.name, { hash, taskIds: tasks.map((t) => t.instanceId), datasetRevision: loaded.revision, harnessCommit });
  }
  return { hash, tasks, harness, datasetRevision: loaded.revision, harnessCommit, rejected: loaded.rejected };
}
