/**
 * The engine's pull events (one per layer and chunk) folded into one figure for the whole image: layers done of
 * layers seen, bytes downloaded of the bytes announced. Pure, no I/O.
 */
import type { PullProgress } from './runtime.ts';

export interface PullSummary {
  /** Layers the engine named so far (a layer it already had counts, and is done). */
  layers: number;
  layersDone: number;
  /** Bytes downloaded over every layer whose size the engine announced. */
  bytesDone: number;
  /** Sum of the announced layer sizes; null while none is known. */
  bytesTotal: number | null;
}

/** Statuses of events about one layer; others ("Pulling from ...", "Digest: ...", "Status: ...") are about the image. */
const LAYER_STATUSES = /^(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists|Retrying)/;
const DOWNLOADED = /^(Verifying Checksum|Download complete|Extracting|Pull complete)/;
const LAYER_DONE = /^(Pull complete|Already exists)/;

export class PullTracker {
  private readonly layers = new Map<string, { current: number; total: number | null; done: boolean }>();

  update(e: PullProgress): PullSummary {
    if (e.id !== undefined && LAYER_STATUSES.test(e.status)) {
      const layer = this.layers.get(e.id) ?? { current: 0, total: null, done: false };
      if (/^Downloading/.test(e.status)) {
        if (e.total !== undefined && e.total > 0) layer.total = e.total;
        if (e.current !== undefined) layer.current = e.current;
      } else if (DOWNLOADED.test(e.status) && layer.total !== null) {
        layer.current = layer.total;
      }
      if (LAYER_DONE.test(e.status)) layer.done = true;
      this.layers.set(e.id, layer);
    }
    return this.summary();
  }

  summary(): PullSummary {
    let layersDone = 0;
    let bytesDone = 0;
    let bytesTotal: number | null = null;
    for (const l of this.layers.values()) {
      if (l.done) layersDone++;
      if (l.total !== null) {
        bytesTotal = (bytesTotal ?? 0) + l.total;
        bytesDone += Math.min(l.current, l.total);
      }
    }
    return { layers: this.layers.size, layersDone, bytesDone, bytesTotal };
  }
}
