/** Builds a real App (main.ts's openApp) (real SQLite file in a temp dir) with a logger whose lines the test can read. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { App } from '../../src/adapters/app.ts';
import { openApp } from '../../src/main.ts';
import { createLogger } from '../../src/adapters/log.ts';
import { parseConfig } from '../../src/config/index.ts';

export interface TestContext {
  ctx: App;
  dir: string;
  logs: string[];
  cleanup(): void;
}

export function tempDir(prefix = 'agentdrift-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function makeContext(raw: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): TestContext {
  const dir = tempDir();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const loaded = parseConfig({ dataDir: path.join(dir, 'data'), ...raw }, env);
  const ctx = openApp({ ...loaded, source: null }, createLogger('debug', { destination }));
  return {
    ctx,
    dir,
    logs,
    cleanup() {
      ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
