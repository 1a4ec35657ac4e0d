import { describe, expect, it } from 'vitest';
import * as dataset from '../../src/dataset/index.ts';
import { GO_ID, JS_ID, PY_ID, TASKS_JSONL, tempDir, TS_ID } from './helpers.ts';

describe('describeTasks and its formats (for `agentdrift tasks`)', () => {
  async function load() {
    const { dir, cleanup } = tempDir();
    try {
      return await dataset.loadConfiguredDataset({
        dataset: { kind: 'file', path: TASKS_JSONL },
        harness: { kind: 'local', path: dir },
        imageRepository: 'local/task-images',
        dataDir: dir,
      });
    } finally {
      cleanup();
    }
  }

  it('gives one row per task with its image reference and test counts', async () => {
    const loaded = await load();
    const rows = dataset.describeTasks(loaded.tasks, 'local/task-images');
    expect(rows).toEqual([
      { id: GO_ID, repository: 'acme/widgets', language: 'go', image: `local/task-images:acme.widgets-${GO_ID.slice(9)}`, failToPass: 2, passToPass: 1 },
      { id: PY_ID, repository: 'Acme/PyTools', language: 'python', image: `local/task-images:acme.pytools-${PY_ID.slice(9)}`, failToPass: 2, passToPass: 1 },
      { id: JS_ID, repository: 'acme/forum', language: 'js', image: `local/task-images:acme.forum-${JS_ID.slice(9, -5)}`, failToPass: 2, passToPass: 0 },
      { id: TS_ID, repository: 'element-hq/element-web', language: 'ts', image: `local/task-images:element-hq.element-${TS_ID.slice(9, -5)}`, failToPass: 1, passToPass: 1 },
    ]);
  });

  it('formats an aligned table followed by every rejected row and a count', async () => {
    const loaded = await load();
    const text = dataset.formatTaskTable(dataset.describeTasks(loaded.tasks, 'local/task-images'), loaded.rejected);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID {2,}REPOSITORY {2,}LANGUAGE {2,}IMAGE {2,}F2P {2}P2P$/);
    const imageColumn = (lines[0] as string).indexOf('IMAGE');
    for (const line of lines.slice(1, 5)) expect(line.indexOf('local/task-images:')).toBe(imageColumn);
    expect(lines[1]).toMatch(new RegExp(`^${GO_ID} +acme/widgets +go +local/task-images:\\S+ +2 +1$`));
    expect(lines[3]).toMatch(/ +2 +0$/);
    expect(lines.slice(5, 10)).toEqual(loaded.rejected.map((r) => `rejected row ${r.index}${r.instanceId ? ` (${r.instanceId})` : ''}: ${r.reason}`));
    expect(lines[10]).toBe('4 tasks, 5 rejected rows');
  });

  it('formats JSON with tasks and rejected rows', async () => {
    const loaded = await load();
    const rows = dataset.describeTasks(loaded.tasks, 'local/task-images');
    const parsed = JSON.parse(dataset.formatTaskJson(rows, loaded.rejected)) as { tasks: unknown[]; rejected: unknown[] };
    expect(parsed.tasks).toEqual(rows);
    expect(parsed.rejected).toEqual(loaded.rejected);
  });

  it('says so when nothing is left', () => {
    expect(dataset.formatTaskTable([], [])).toBe('ID  REPOSITORY  LANGUAGE  IMAGE  F2P  P2P\n0 tasks, 0 rejected rows\n');
  });
});

describe('defaultDatasetSourceConfig', () => {
  it('builds hub and harness sources that the URL builders accept, in the given data directory', () => {
    const config = dataset.defaultDatasetSourceConfig('/var/lib/agentdrift');
    expect(config.dataDir).toBe('/var/lib/agentdrift');
    expect(config.imageRepository).toBe(dataset.DEFAULT_IMAGE_REPOSITORY);
    if (config.dataset.kind !== 'hub' || config.harness.kind !== 'remote') throw new Error('expected remote defaults');
    expect(config.dataset).toMatchObject({ name: 'ScaleAI/SWE-bench_Pro', split: 'test' });
    expect(config.harness).toMatchObject({ repo: 'scaleapi/SWE-bench_Pro-os', commit: dataset.DEFAULT_HARNESS_COMMIT });
    expect(dataset.hubFileUrl(config.dataset)).toBe(
      `${config.dataset.baseUrl}/datasets/ScaleAI/SWE-bench_Pro/resolve/main/data/test-00000-of-00001.parquet`,
    );
    expect(dataset.harnessFileUrl(config.harness, 'run_scripts/x/run_script.sh')).toBe(
      `${config.harness.baseUrl}/scaleapi/SWE-bench_Pro-os/${dataset.DEFAULT_HARNESS_COMMIT}/run_scripts/x/run_script.sh`,
    );
  });
  it('refuses base URLs that are not http(s)', () => {
    const hub = dataset.defaultDatasetSourceConfig('/d').dataset;
    if (hub.kind !== 'hub') throw new Error('expected hub');
    expect(() => dataset.hubFileUrl({ ...hub, baseUrl: 'file:///etc' })).toThrow(/must be an http or https URL/);
    expect(() => dataset.hubFileUrl({ ...hub, name: 'no-owner' })).toThrow(/is not of the form owner\/name/);
  });
});
