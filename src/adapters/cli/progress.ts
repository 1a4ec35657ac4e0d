/**
 * The `agentdrift run` progress display: a bar (done/total, pass so far, ETA, and the image being pulled) on a
 * terminal, one line per attempt otherwise (logs, CI). Dataset downloads and image pulls show on the bar's line (or a
 * line of their own before the bar starts); off a terminal they print a line every few seconds and one when done.
 */
import cliProgress from 'cli-progress';
import type { FetchProgress } from '../../core/runner/fetch-progress.ts';
import { throttle } from '../../core/runner/fetch-progress.ts';
import type { RunProgress } from '../../core/runner/run.ts';

const mb = (n: number) => (n / 1e6).toFixed(1);

/** The image reference as shown: its tag (the repository is the same for every task), cut to `max` characters. */
export function shortImage(image: string, max = 48): string {
  const tag = image.slice(image.lastIndexOf(':') + 1) || image;
  return tag.length > max ? `${tag.slice(0, max - 1)}…` : tag;
}

/** One line saying how far a dataset download or an image pull has come. */
export function fetchLine(p: FetchProgress): string {
  const size = p.bytesTotal !== null ? `${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB` : `${mb(p.bytesDone)} MB`;
  if (p.kind === 'dataset') return p.done ? `downloaded the dataset (${size})` : `downloading the dataset: ${size}`;
  const image = shortImage(p.image);
  return p.done ? `pulled ${image} (${p.layers} layers, ${size})` : `pulling ${image}: ${p.layersDone}/${p.layers} layers, ${size}`;
}

/** Prints fetch progress as lines: at most one every `everyMs` per fetch, and always the last one. */
export function fetchLinePrinter(stream: NodeJS.WritableStream, everyMs = 5000, now = Date.now): (p: FetchProgress) => void {
  const due = new Map<string, (force?: boolean) => boolean>();
  return (p) => {
    const key = p.kind === 'image' ? `image ${p.image}` : `dataset ${p.url}`;
    let d = due.get(key);
    if (!d) due.set(key, (d = throttle(everyMs, now)));
    if (d(p.done)) stream.write(`${fetchLine(p)}\n`);
    if (p.done) due.delete(key);
  };
}

export function formatEta(p: RunProgress, now = Date.now()): string {
  if (p.done === 0 || p.done >= p.total) return p.done >= p.total ? '0s' : '?';
  const s = Math.round((((now - p.startedAtMs) / p.done) * (p.total - p.done)) / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function passSoFar(p: RunProgress): string {
  return p.counted ? `${p.resolved}/${p.counted} (${((100 * p.resolved) / p.counted).toFixed(0)}%)` : '-';
}

export interface ProgressReporter {
  update(p: RunProgress): void;
  fetch(p: FetchProgress): void;
  stop(): void;
}

export function progressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  if (!stream.isTTY) {
    return {
      update(p) {
        if (p.last) stream.write(`[${p.done}/${p.total}] ${p.last.taskId}#${p.last.sample}: ${p.last.outcome}; pass so far ${passSoFar(p)}; eta ${formatEta(p)}\n`);
      },
      fetch: fetchLinePrinter(stream),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'run {bar} {value}/{total} | pass {pass} | eta {eta_text}{activity}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  /** What the bar's line shows besides the attempts: the pulls going on, by image. */
  const pulls = new Map<string, string>();
  const activity = () => (pulls.size ? ` | ${[...pulls.values()].join(' | ')}` : '');
  let last: RunProgress | null = null;
  const payload = (p: RunProgress) => ({ pass: passSoFar(p), eta_text: formatEta(p), activity: activity() });
  return {
    update(p) {
      last = p;
      if (!started) {
        bar.start(p.total, p.done, payload(p));
        started = true;
      } else bar.update(p.done, payload(p));
    },
    fetch(p) {
      if (!started || !last) {
        // Before the bar (the dataset download): a line of its own, rewritten in place.
        stream.write(`\r\x1b[K${fetchLine(p)}${p.done ? '\n' : ''}`);
        return;
      }
      const key = p.kind === 'image' ? p.image : p.url;
      if (p.done) pulls.delete(key);
      else pulls.set(key, fetchLine(p));
      bar.update(last.done, payload(last));
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
