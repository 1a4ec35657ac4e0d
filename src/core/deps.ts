/**
 * What the core rooms (runner, scheduler, baselines, history) take from the one place that wires the process
 * (src/main.ts): the validated config, the store, a logger and the figures to refresh after they store something.
 * Each room names what it needs on top of this; none receives the application as a whole.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/store.ts';

/** What a room that stores something needs of the figures (core/figures): to say which track changed. */
export interface FiguresRefresh {
  refresh(track?: string): void;
}

export interface CoreDeps {
  config: Config;
  store: Store;
  log: Logger;
  figures: FiguresRefresh;
}
