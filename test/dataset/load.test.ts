import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDataset, rowsToTasks, splitJsonl } from '../../src/dataset/load.ts';
import { DatasetLoadError } from '../../src/dataset/types.ts';
import { fixtureObjects, GO_ID, JS_ID, PY_ID, TASKS_JSONL, tempDir, TS_ID, writeParquet } from './helpers.ts';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('loadDataset from the JSONL fixture', () => {
  it('parses the good rows, both list encodings included', async () => {
    const loaded = await loadDataset({ kind: 'file', path: TASKS_JSONL }, dir);
    expect(loaded.tasks.map((t) => t.instanceId)).toEqual([GO_ID, PY_ID, JS_ID, TS_ID]);
    const [go, py, js, ts] = loaded.tasks;
    expect(go).toMatchObject({
      language: 'go',
      failToPass: ['TestSum', 'TestSumNegative'],
      passToPass: ['TestParse'],
      selectedTestFiles: ['TestSum', 'TestSumNegative', 'TestParse'],
      imageTag: 'acme.widgets-acme__widgets-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567',
      issueCategories: "['core_feat']",
    });
    expect(py).toMatchObject({
      language: 'python',
      interface: '',
      failToPass: ['tests/test_slug.py::test_lower[A-a]', 'tests/test_slug.py::TestSlug::test_unicode[É-é]'],
      selectedTestFiles: ['tests/test_slug.py'],
      imageTag: 'acme.pytools-Acme__PyTools-aabbccddeeff00112233445566778899aabbccdd-v0123456789abcdef0123456789abcdef01234567',
    });
    expect(py?.issueCategories).toBeUndefined();
    expect(js).toMatchObject({
      language: 'js',
      failToPass: [
        "test/user.js | User email confirmation should return true if it's been long enough",
        "test/user.js | User 'quoted' name \\ backslash",
      ],
      passToPass: [],
      imageTag: 'acme.forum-acme__forum-1234567890abcdef1234567890abcdef12345678',
    });
    expect(ts).toMatchObject({ language: 'ts', imageTag: 'element-hq.element-element-hq__element-web-00000000000000000000000000000000000000aa' });
  });

  it('lists every bad row with its position, id and reason', async () => {
    const loaded = await loadDataset({ kind: 'file', path: TASKS_JSONL }, dir);
    expect(loaded.rejected).toHaveLength(5);
    const [badList, badLang, noId, evalAttempt, notJson] = loaded.rejected;
    expect(badList).toMatchObject({ index: 4, instanceId: 'instance_acme__widgets-badlist' });
    expect(badList?.reason).toMatch(/^task instance_acme__widgets-badlist: column fail_to_pass: not a list of strings/);
    expect(badLang).toMatchObject({ index: 5, instanceId: 'instance_acme__pytools-badlang' });
    expect(badLang?.reason).toMatch(/column repo_language: expected one of python, go, js, ts, got "rust"/);
    expect(noId).toEqual({ index: 6, reason: 'task (unknown id): column instance_id: missing' });
    expect(evalAttempt?.reason).toMatch(/column pass_to_pass: not a list of strings: element 0 is not a string literal/);
    expect(notJson).toMatchObject({ index: 8 });
    expect(notJson?.reason).toMatch(/^line 9 is not JSON/);
  });

  it('identifies a local file by the sha256 of its bytes', async () => {
    const loaded = await loadDataset({ kind: 'file', path: TASKS_JSONL }, dir);
    expect(loaded.sha256).toBe(sha(TASKS_JSONL));
    expect(loaded.revision).toBe(`sha256:${sha(TASKS_JSONL)}`);
    expect(loaded.downloaded).toBe(false);
  });
});

describe('loadDataset from parquet', () => {
  it('reads a parquet file written with the same rows into the same tasks and rejections', async () => {
    const jsonl = await loadDataset({ kind: 'file', path: TASKS_JSONL }, dir);
    const file = path.join(dir, 'tasks.parquet');
    writeParquet(file, fixtureObjects());
    const parquet = await loadDataset({ kind: 'file', path: file }, dir);
    expect(parquet.tasks).toEqual(jsonl.tasks);
    expect(parquet.rejected.map((r) => [r.index, r.instanceId])).toEqual([
      [4, 'instance_acme__widgets-badlist'],
      [5, 'instance_acme__pytools-badlang'],
      [6, undefined],
      [7, 'instance_acme__forum-evalattempt'],
    ]);
    expect(parquet.revision).toBe(`sha256:${sha(file)}`);
  });

  it('decompresses GZIP pages and reads several row groups', async () => {
    const file = path.join(dir, 'gzip.parquet');
    writeParquet(file, fixtureObjects().slice(0, 4), { codec: 'GZIP', rowGroupSize: 2 });
    expect(readFileSync(file).subarray(0, 4).toString('latin1')).toBe('PAR1');
    const loaded = await loadDataset({ kind: 'file', path: file }, dir);
    expect(loaded.tasks.map((t) => t.instanceId)).toEqual([GO_ID, PY_ID, JS_ID, TS_ID]);
    expect(loaded.rejected).toEqual([]);
  });

  it('accepts a file without the optional columns', async () => {
    const file = path.join(dir, 'lean.parquet');
    writeParquet(file, fixtureObjects().slice(0, 2), { omit: ['dockerhub_tag', 'issue_categories', 'issue_specificity'] });
    const loaded = await loadDataset({ kind: 'file', path: file }, dir);
    expect(loaded.tasks[0]?.imageTag).toBe('acme.widgets-acme__widgets-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567');
  });

  it('refuses a parquet file that lacks a required column, naming it', async () => {
    const file = path.join(dir, 'missing.parquet');
    writeParquet(file, fixtureObjects().slice(0, 2), { omit: ['fail_to_pass', 'interface'] });
    await expect(loadDataset({ kind: 'file', path: file }, dir)).rejects.toThrow(
      new DatasetLoadError(`parquet file ${file} lacks the column(s) fail_to_pass, interface`),
    );
  });

  it('refuses a damaged parquet file with a clear error', async () => {
    const file = path.join(dir, 'broken.parquet');
    writeFileSync(file, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7)]));
    await expect(loadDataset({ kind: 'file', path: file }, dir)).rejects.toThrow(/^cannot read parquet file .*broken\.parquet: /);
  });
});

describe('loadDataset: files', () => {
  it('refuses a missing file, naming it', async () => {
    const file = path.join(dir, 'nope.jsonl');
    await expect(loadDataset({ kind: 'file', path: file }, dir)).rejects.toThrow(DatasetLoadError);
    await expect(loadDataset({ kind: 'file', path: file }, dir)).rejects.toThrow(`cannot read dataset file ${file}`);
  });
});

describe('splitJsonl and rowsToTasks', () => {
  it('skips blank lines and numbers rows by line', () => {
    expect(splitJsonl('{"a":1}\n\n  \n{"b":2}\n')).toEqual([
      { index: 0, value: { a: 1 } },
      { index: 3, value: { b: 2 } },
    ]);
  });
  it('rejects a second row with an id already seen', () => {
    const [first] = fixtureObjects();
    const { tasks, rejected } = rowsToTasks([
      { index: 0, value: first },
      { index: 1, value: first },
    ]);
    expect(tasks).toHaveLength(1);
    expect(rejected).toEqual([
      { index: 1, instanceId: GO_ID, reason: `task ${GO_ID}: column instance_id: duplicate of the row at index 0` },
    ]);
  });
});
