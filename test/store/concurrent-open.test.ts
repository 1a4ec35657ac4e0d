/**
 * Several agentdrift processes opening one fresh store at the same moment (a wrapper starting `baseline set` and
 * `import` together, a daemon and a command): each must open it, and the migrations must be applied once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';

const STORE = path.join(import.meta.dirname, '../../src/store/store.ts');
let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function openInChild(dataDir: string): Promise<{ code: number | null; out: string }> {
  const code = `import { Store } from ${JSON.stringify(STORE)}; const s = Store.open(${JSON.stringify(dataDir)}); console.log(s.schemaVersion()); s.close();`;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (c) => resolve({ code: c, out: out.trim() }));
  });
}

describe('a fresh store opened by several processes at once', () => {
  it('opens in every one of them and applies each migration once', async () => {
    const latest = MIGRATIONS.at(-1)!.version;
    for (let round = 0; round < 6; round++) {
      dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-open-'));
      const rs = await Promise.all(Array.from({ length: 16 }, () => openInChild(dir!)));
      for (const r of rs) expect(r, r.out).toEqual({ code: 0, out: String(latest) });
      const s = Store.open(dir);
      const applied = s.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
      s.close();
      expect(applied.map((a) => a.version)).toEqual(MIGRATIONS.map((m) => m.version));
      rmSync(dir, { recursive: true, force: true });
      dir = null;
    }
  }, 120_000);
});
