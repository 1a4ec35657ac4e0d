/**
 * A command left with its work unsettled (the process runs out of things to wait on while an awaited promise is
 * still pending) says so and marks its run failed, instead of exiting 13 without a word.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_UNSETTLED, UNSETTLED_REASON } from '../../src/adapters/cli/unsettled.ts';
import { Store } from '../../src/store/store.ts';

const child = fileURLToPath(new URL('../fixtures/cli/unsettled-child.ts', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-unsettled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('unsettled top-level work', () => {
  it('is reported on stderr, exits 70 and leaves the run failed with the reason', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(EXIT_UNSETTLED);
    expect(r.stdout).not.toContain('settled');
    expect(r.stderr).toContain(`agentdrift: internal error: ${UNSETTLED_REASON}`);
    const runId = Number(r.stdout.trim());
    expect(r.stderr).toContain(`run ${runId} is marked failed`);
    const store = Store.open(dir);
    try {
      const run = store.runs.get(runId);
      expect(run?.state).toBe('failed');
      expect(run?.reason).toBe(`failed: ${UNSETTLED_REASON}`);
      expect(run?.endedAt).not.toBeNull();
    } finally {
      store.close();
    }
  });
});
