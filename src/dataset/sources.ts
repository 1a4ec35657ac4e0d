/**
 * Production defaults of where SWE-Bench-Pro comes from. This is the ONE place that names the public hosts: every
 * URL the room fetches is built from a config value, and these constants are only the values a config starts with.
 * Tests never use them: they point the real download code at a server of their own.
 */
import type { DatasetSourceConfig } from './types.ts';

/** Base URL of the dataset hub; a file is `<base>/datasets/<name>/resolve/<revision>/<path>`. */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';
export const DEFAULT_DATASET_NAME = 'ScaleAI/SWE-bench_Pro';
export const DEFAULT_DATASET_REVISION = 'main';
/** Path of the test split's parquet file inside the dataset repository. */
export const DEFAULT_TEST_SPLIT_PATH = 'data/test-00000-of-00001.parquet';

/** Base URL of raw repository files; a file is `<base>/<owner>/<name>/<commit>/<path>`. */
export const DEFAULT_RAW_BASE_URL = 'https://raw.githubusercontent.com';
export const DEFAULT_HARNESS_REPO = 'scaleapi/SWE-bench_Pro-os';
export const DEFAULT_HARNESS_COMMIT = 'ca10a60a5fcae51e6948ffe1485d4153d421e6c5';

/** Registry repository of the prebuilt task images. */
export const DEFAULT_IMAGE_REPOSITORY = 'jefzda/sweap-images';

/** The configuration a daemon gets when agentdrift.yaml says nothing about the suite's sources. */
export function defaultDatasetSourceConfig(dataDir: string): DatasetSourceConfig {
  return {
    dataset: {
      kind: 'hub',
      baseUrl: DEFAULT_HUB_BASE_URL,
      name: DEFAULT_DATASET_NAME,
      revision: DEFAULT_DATASET_REVISION,
      split: 'test',
      path: DEFAULT_TEST_SPLIT_PATH,
    },
    harness: { kind: 'remote', baseUrl: DEFAULT_RAW_BASE_URL, repo: DEFAULT_HARNESS_REPO, commit: DEFAULT_HARNESS_COMMIT },
    imageRepository: DEFAULT_IMAGE_REPOSITORY,
    dataDir,
  };
}
