/**
 * The dataset room: SWE-Bench-Pro tasks (rows parsed strictly), their images, the official per-task harness files,
 * task selection and the suite hash. See docs/dataset.md.
 */
export * from './types.ts';
export {
  DEFAULT_DATASET_NAME,
  DEFAULT_DATASET_REVISION,
  DEFAULT_HARNESS_COMMIT,
  DEFAULT_HARNESS_REPO,
  DEFAULT_HUB_BASE_URL,
  DEFAULT_IMAGE_REPOSITORY,
  DEFAULT_RAW_BASE_URL,
  DEFAULT_TEST_SPLIT_PATH,
  defaultDatasetSourceConfig,
} from './sources.ts';
export { ListLiteralError, parsePythonStringList, parseStringList } from './lists.ts';
export { COLUMNS, parseRow, type Column } from './row.ts';
export { computeImageTag, ELEMENT_WEB_EXCEPTION, imageReference } from './image.ts';
export {
  hubCachePath,
  hubFileUrl,
  loadDataset,
  readRowsFromFile,
  rowsToTasks,
  splitJsonl,
  type LoadedDataset,
  type LoadOptions,
  type RawRow,
} from './load.ts';
export type { DownloadProgress, HttpOptions } from './http.ts';
export { DockerfileEnvError, extractDockerfileEnv, parseDockerfileEnv } from './dockerfile.ts';
export {
  HARNESS_FILES,
  harnessCacheDir,
  harnessFileUrl,
  harnessRevision,
  loadHarnessFiles,
  prefetchHarnessFiles,
  type HarnessFiles,
  type PrefetchResult,
} from './harness.ts';
export { allocate, selectTasks, stratifiedSample, suiteHash, type SelectionSpec } from './select.ts';
export { describeTasks, formatTaskJson, formatTaskTable, type TaskDescription } from './describe.ts';

import type { DatasetSourceConfig } from './types.ts';
import { loadDataset, type LoadedDataset, type LoadOptions } from './load.ts';

/** Load the configured dataset (convenience over `loadDataset(config.dataset, config.dataDir, options)`). */
export function loadConfiguredDataset(config: DatasetSourceConfig, options: LoadOptions = {}): Promise<LoadedDataset> {
  return loadDataset(config.dataset, config.dataDir, options);
}
