/**
 * An attempt's API share of the agent's time (the CLI's duration_api_ms): stored, exported, imported, and shown with
 * the run's attempts; a history without it exports as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exportHistory, importHistoryText } from '../../src/core/history/import.ts';
import { buildServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

let t: TestContext;
afterEach(() => t?.cleanup());

const doc = (attempt: Record<string, unknown>) =>
  JSON.stringify({ format: 'agentdrift-history/1', runs: [{ startedAt: '2026-03-01T03:00:00Z', endedAt: '2026-03-01T04:00:00Z', attempts: [{ taskId: 'task-a', outcome: 'resolved', agentDurationMs: 120_000, ...attempt }] }] });

describe('agentApiDurationMs', () => {
  it('is stored, exported and shown in GET /api/runs/:id', async () => {
    t = makeContext({ tracks: [{ name: 'api' }] });
    importHistoryText(t.ctx, 'api', doc({ agentApiDurationMs: 81_250 }), { fileName: 'h.json' });
    const exported = exportHistory(t.ctx, 'api') as { runs: { attempts: Record<string, unknown>[] }[] };
    expect(exported.runs[0]!.attempts[0]).toMatchObject({ agentDurationMs: 120_000, agentApiDurationMs: 81_250 });
    const run = t.ctx.store.runs.latest('api', ['completed'])!;
    const app = await buildServer(t.ctx);
    try {
      const body = (await app.inject(`/api/runs/${run.id}`)).json();
      expect(body.attempts[0]).toMatchObject({ agentDurationMs: 120_000, agentApiDurationMs: 81_250 });
    } finally {
      await app.close();
    }
  });

  it('is left out of the export when unknown, so older histories export unchanged', () => {
    t = makeContext({ tracks: [{ name: 'api' }] });
    importHistoryText(t.ctx, 'api', doc({}), { fileName: 'h.json' });
    const exported = exportHistory(t.ctx, 'api') as { runs: { attempts: Record<string, unknown>[] }[] };
    expect(Object.keys(exported.runs[0]!.attempts[0]!)).not.toContain('agentApiDurationMs');
  });
});
