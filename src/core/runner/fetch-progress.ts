/**
 * Progress of what a run fetches before it can attempt a task: the dataset file (downloaded once per revision) and
 * each task image (pulled when absent). Both come in one event per chunk or layer; here they are logged at info and
 * passed to the caller's callback, each at most once per interval (plus the first and the last event), so neither the
 * daemon's log nor a progress display gets one line per chunk.
 */
import type { Logger } from 'pino';
import type { DownloadProgress } from '../../dataset/index.ts';
import { PullTracker, type PullProgress, type PullSummary } from '../../executor/index.ts';

export type FetchProgress =
  | ({ kind: 'image'; image: string; done: boolean } & PullSummary)
  | { kind: 'dataset'; url: string; bytesDone: number; bytesTotal: number | null; done: boolean };

export interface FetchReporting {
  log: Logger;
  onFetch?: ((p: FetchProgress) => void) | undefined;
  /** Least time between two log lines of one fetch (default 5 s). */
  logEveryMs?: number;
  /** Least time between two callbacks of one fetch (default 500 ms). */
  reportEveryMs?: number;
  now?: () => number;
}

const mb = (n: number | null) => (n === null ? null : Math.round(n / 1e5) / 10);

/** Whether an event is due: the first one, a forced one (the last), or one at least `everyMs` after the previous. */
export function throttle(everyMs: number, now: () => number): (force?: boolean) => boolean {
  let last: number | null = null;
  return (force = false) => {
    const t = now();
    if (!force && last !== null && t - last < everyMs) return false;
    last = t;
    return true;
  };
}

function reporter(r: FetchReporting, line: (p: FetchProgress) => [Record<string, unknown>, string]) {
  const now = r.now ?? Date.now;
  const logDue = throttle(r.logEveryMs ?? 5000, now);
  const reportDue = throttle(r.reportEveryMs ?? 500, now);
  return (p: FetchProgress) => {
    if (logDue(p.done)) {
      const [fields, msg] = line(p);
      r.log.info(fields, msg);
    }
    if (r.onFetch && reportDue(p.done)) r.onFetch(p);
  };
}

/** The ensureImage `onProgress` of one image, and `finish()` to call once it is present (reports the end of a pull). */
export function imagePullReporter(image: string, r: FetchReporting): { onProgress: (e: PullProgress) => void; finish: () => void } {
  const tracker = new PullTracker();
  const startedAt = (r.now ?? Date.now)();
  let pulled = false;
  const report = reporter(r, (p) => {
    const s = p as Extract<FetchProgress, { kind: 'image' }>;
    const fields = { image, layersDone: s.layersDone, layers: s.layers, mbDone: mb(s.bytesDone), mbTotal: mb(s.bytesTotal) };
    return p.done ? [{ ...fields, seconds: Math.round(((r.now ?? Date.now)() - startedAt) / 100) / 10 }, 'image pulled'] : [fields, 'pulling image'];
  });
  return {
    onProgress(e) {
      pulled = true;
      report({ kind: 'image', image, done: false, ...tracker.update(e) });
    },
    finish() {
      if (pulled) report({ kind: 'image', image, done: true, ...tracker.summary() });
    },
  };
}

/** The loadDataset `onProgress`, and `finish()` to call once the dataset is loaded. */
export function datasetDownloadReporter(r: FetchReporting): { onProgress: (p: DownloadProgress) => void; finish: () => void } {
  let last: Extract<FetchProgress, { kind: 'dataset' }> | null = null;
  const report = reporter(r, (p) => {
    const s = p as Extract<FetchProgress, { kind: 'dataset' }>;
    return [{ url: s.url, mbDone: mb(s.bytesDone), mbTotal: mb(s.bytesTotal) }, s.done ? 'dataset downloaded' : 'downloading the dataset'];
  });
  return {
    onProgress(p) {
      // Complete is said once, by finish(): the file is checked and parsed after its last byte.
      last = { kind: 'dataset', url: p.url, bytesDone: p.receivedBytes, bytesTotal: p.totalBytes, done: false };
      report(last);
    },
    finish() {
      if (last) report({ ...last, done: true });
      last = null;
    },
  };
}
