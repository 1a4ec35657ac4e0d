import { describe, expect, it } from 'vitest';
import { formatEta, passSoFar } from '../../src/adapters/cli/progress.ts';
import type { RunProgress } from '../../src/core/runner/run.ts';

const p = (done: number, total: number, resolved: number, counted: number, startedAtMs = 0): RunProgress => ({ runId: 1, done, total, resolved, counted, startedAtMs });

describe('run progress display', () => {
  it('estimates the time left from the mean time per finished attempt', () => {
    expect(formatEta(p(0, 10, 0, 0), 5_000)).toBe('?');
    expect(formatEta(p(2, 10, 1, 2), 20_000)).toBe('1m20s');
    expect(formatEta(p(1, 200, 0, 1), 60_000)).toBe('3h19m');
    expect(formatEta(p(5, 10, 1, 5), 10_000)).toBe('10s');
    expect(formatEta(p(10, 10, 5, 10), 99_000)).toBe('0s');
  });

  it('shows the pass rate over counted attempts (infra errors left out)', () => {
    expect(passSoFar(p(0, 10, 0, 0))).toBe('-');
    expect(passSoFar(p(4, 10, 1, 3))).toBe('1/3 (33%)');
  });
});

describe('fetch progress', () => {
  it('folds the engine pull events into layers and bytes for the whole image', async () => {
    const { PullTracker } = await import('../../src/executor/pull-progress.ts');
    const t = new PullTracker();
    expect(t.update({ status: 'Pulling from acme/x', id: 'v1' })).toEqual({ layers: 0, layersDone: 0, bytesDone: 0, bytesTotal: null });
    t.update({ status: 'Pulling fs layer', id: 'a' });
    t.update({ status: 'Already exists', id: 'b' });
    t.update({ status: 'Downloading', id: 'a', current: 100, total: 1000 });
    expect(t.update({ status: 'Downloading', id: 'c', current: 50, total: 500 })).toEqual({ layers: 3, layersDone: 1, bytesDone: 150, bytesTotal: 1500 });
    t.update({ status: 'Download complete', id: 'a' });
    t.update({ status: 'Extracting', id: 'a', current: 10, total: 1000 });
    t.update({ status: 'Pull complete', id: 'a' });
    expect(t.update({ status: 'Digest: sha256:00' })).toEqual({ layers: 3, layersDone: 2, bytesDone: 1050, bytesTotal: 1500 });
  });

  it('lets the first, the last, and one event per interval through', async () => {
    const { throttle } = await import('../../src/core/runner/fetch-progress.ts');
    let now = 0;
    const due = throttle(1000, () => now);
    const seen: number[] = [];
    for (now = 0; now <= 2500; now += 100) if (due()) seen.push(now);
    expect(seen).toEqual([0, 1000, 2000]);
    now = 2600;
    expect(due(true)).toBe(true);
  });

  it('logs a pull at info every few seconds and at its end, and reports it to the callback more often', async () => {
    const { imagePullReporter } = await import('../../src/core/runner/fetch-progress.ts');
    const logged: [Record<string, unknown>, string][] = [];
    const log = { info: (o: Record<string, unknown>, m: string) => logged.push([o, m]) } as unknown as import('pino').Logger;
    let now = 0;
    const reported: unknown[] = [];
    const r = imagePullReporter('acme/x:v1', { log, onFetch: (p) => reported.push(p), now: () => now, logEveryMs: 5000, reportEveryMs: 500 });
    for (now = 0; now < 12_000; now += 100) r.onProgress({ status: 'Downloading', id: 'a', current: now, total: 20_000 });
    r.finish();
    expect(logged.map(([, m]) => m)).toEqual(['pulling image', 'pulling image', 'pulling image', 'image pulled']);
    expect(logged.at(-1)![0]).toMatchObject({ image: 'acme/x:v1', layers: 1, mbTotal: 0 });
    expect(reported).toHaveLength(24 + 1);
    expect(reported.at(-1)).toMatchObject({ kind: 'image', done: true, bytesDone: 11_900, bytesTotal: 20_000 });
  });

  it('an image already present reports nothing', async () => {
    const { imagePullReporter } = await import('../../src/core/runner/fetch-progress.ts');
    const log = { info: () => expect.unreachable('nothing to log') } as unknown as import('pino').Logger;
    imagePullReporter('acme/x:v1', { log, onFetch: () => expect.unreachable('nothing to report') }).finish();
  });

  it('shows a pull and a download as one line each', async () => {
    const { fetchLine, shortImage } = await import('../../src/adapters/cli/progress.ts');
    expect(fetchLine({ kind: 'image', image: 'jefzda/sweap-images:acme.x-1234', done: false, layers: 5, layersDone: 2, bytesDone: 12_300_000, bytesTotal: 45_600_000 })).toBe('pulling acme.x-1234: 2/5 layers, 12.3/45.6 MB');
    expect(fetchLine({ kind: 'dataset', url: 'http://127.0.0.1/x.parquet', done: true, bytesDone: 2_000_000, bytesTotal: null })).toBe('downloaded the dataset (2.0 MB)');
    expect(shortImage(`r:${'a'.repeat(60)}`, 10)).toBe('aaaaaaaaa…');
  });
});
