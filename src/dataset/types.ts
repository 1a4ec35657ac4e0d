/**
 * Shared declarations of the dataset room: one SWE-Bench-Pro task, where the dataset and the harness files come from,
 * and the errors every part of the room throws. Pure declarations, no I/O.
 */

import type { Language } from '../domain/types.ts';

// One list of languages: the store's CHECK, the import format and the breakdown's groups use the same (domain/types.ts).
export { LANGUAGES, type Language } from '../domain/types.ts';

/** One SWE-Bench-Pro task, parsed strictly from one dataset row. */
export interface Task {
  instanceId: string;
  /** `owner/name` as the dataset spells it. */
  repo: string;
  baseCommit: string;
  /** The gold patch. */
  patch: string;
  testPatch: string;
  problemStatement: string;
  requirements: string;
  interface: string;
  language: Language;
  failToPass: string[];
  passToPass: string[];
  /** Joined by ',' and passed to run_script.sh by the grader; an empty list means "run every test". */
  selectedTestFiles: string[];
  /** Several shell lines; the last one restores the official test files (grading's `restoreTestsLine`). */
  beforeRepoSetCmd: string;
  /** The row's `dockerhub_tag`, or the tag the official rule computes when the row has none. */
  imageTag: string;
  issueCategories?: string;
  issueSpecificity?: string;
}

/** Where the dataset rows come from. */
export type DatasetSource =
  | {
      kind: 'hub';
      /** Base URL of the dataset hub (default in sources.ts). */
      baseUrl: string;
      /** `owner/name` of the dataset, e.g. ScaleAI/SWE-bench_Pro. */
      name: string;
      /** Pinned revision (a commit of the dataset repository is best: a branch name is cached as it was first seen). */
      revision: string;
      split: 'test';
      /** Path of the split's parquet file inside the dataset repository (default in sources.ts). */
      path?: string;
      /** Expected sha256 (hex) of the parquet file; verified when given, recorded otherwise. */
      sha256?: string;
    }
  | {
      kind: 'file';
      /** A local `.parquet` file (recognised by its magic bytes) or a JSONL file, one row object per line. */
      path: string;
    };

/** Where each task's run_script.sh, parser.py and Dockerfiles come from. */
export type HarnessSource =
  | {
      kind: 'remote';
      /** Base URL of raw repository files; a file is `<baseUrl>/<repo>/<commit>/<path>` (default in sources.ts). */
      baseUrl: string;
      /** `owner/name` of the harness repository. */
      repo: string;
      /** Pinned commit (7 to 40 lower-case hex digits). */
      commit: string;
    }
  | {
      kind: 'local';
      /** A local clone (or copy) of the harness repository. */
      path: string;
    };

export interface DatasetSourceConfig {
  dataset: DatasetSource;
  harness: HarnessSource;
  /** Registry repository of the task images, e.g. jefzda/sweap-images; the reference is `<imageRepository>:<tag>`. */
  imageRepository: string;
  /** Root of the daemon's data directory; caches go to `<dataDir>/datasets/...` and `<dataDir>/harness/...`. */
  dataDir: string;
}

/** A row the loader could not turn into a task. */
export interface RejectedRow {
  /** 0-based position of the row: the row number in a parquet file, the line number minus one in a JSONL file. */
  index: number;
  instanceId?: string;
  reason: string;
}

/** A dataset row that breaks the format. */
export class DatasetRowError extends Error {
  override name = 'DatasetRowError';
  constructor(
    readonly instanceId: string | undefined,
    readonly column: string,
    readonly reason: string,
  ) {
    super(`task ${instanceId ?? '(unknown id)'}: column ${column}: ${reason}`);
  }
}

/** A dataset that cannot be read at all (missing file, not parquet nor JSONL, columns absent). */
export class DatasetLoadError extends Error {
  override name = 'DatasetLoadError';
}

/** A downloaded file whose sha256 is not the configured one. */
export class ChecksumMismatchError extends Error {
  override name = 'ChecksumMismatchError';
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for ${url}: expected sha256 ${expected}, got ${actual}`);
  }
}

/** An HTTP download that failed (status, network error, or read timeout). */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly url: string,
    readonly status: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** A harness file that is missing or cannot be fetched for a task. */
export class HarnessError extends Error {
  override name = 'HarnessError';
  constructor(
    readonly instanceId: string,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`task ${instanceId}: harness file ${file}: ${reason}`);
  }
}

/** A task selection that names unknown tasks or asks for an impossible sample. */
export class TaskSelectionError extends Error {
  override name = 'TaskSelectionError';
  constructor(
    message: string,
    readonly unknownIds: readonly string[] = [],
  ) {
    super(message);
  }
}
