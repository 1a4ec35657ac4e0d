/**
 * The fixture tasks are in the official formats: written as a local dataset (JSONL) and harness clone, read back by
 * the dataset loader, and graded from what the loader returns. Also checks the fixture images' repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/dataset/load.ts';
import { loadHarnessFiles } from '../../src/dataset/harness.ts';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { KEEP_ALIVE } from '../../src/executor/runtime.ts';
import { gradeAttempt } from '../../src/grading/grade.ts';
import {
  aptMirror,
  ensureFixtureImages,
  fixtureImageTag,
  jsonListLiteral,
  manyFixtureTasks,
  pythonListLiteral,
  writeFixtureDataset,
  type FixtureImages,
} from '../helpers/images.ts';
import { removeLabelled, testLabels } from '../helpers/docker.ts';

const runtime = new DockerRuntime();
const labels = testLabels('fixture-dataset');
const dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-fixture-dataset-'));
let images: FixtureImages;

beforeAll(async () => {
  images = await ensureFixtureImages();
}, 15 * 60_000);

afterAll(async () => {
  await removeLabelled(labels);
  rmSync(dir, { recursive: true, force: true });
});

describe('fixture tasks', () => {
  it('cover two repositories and have the 16 string columns', () => {
    expect(new Set(images.tasks.map((t) => t.repo)).size).toBeGreaterThanOrEqual(2);
    for (const t of images.tasks) {
      expect(Object.keys(t.row)).toHaveLength(16);
      for (const v of Object.values(t.row)) expect(typeof v).toBe('string');
      expect(t.row.fail_to_pass.startsWith("['")).toBe(true);
      expect(t.row.pass_to_pass.startsWith('["')).toBe(true);
      expect(t.beforeRepoSetCmd.split('\n').at(-1)).toBe(`git checkout ${t.solutionCommit} -- ${t.testFiles.join(' ')}`);
    }
  });

  it('are read back by the dataset loader and graded from what it returns (gold patch resolves)', async () => {
    const { datasetPath, harnessPath } = await writeFixtureDataset(dir, images.tasks);
    const loaded = await loadDataset({ kind: 'file', path: datasetPath }, dir);
    expect(loaded.rejected).toEqual([]);
    expect(loaded.tasks.map((t) => t.instanceId).sort()).toEqual(images.tasks.map((t) => t.instanceId).sort());
    for (const fixture of images.tasks) {
      const task = loaded.tasks.find((t) => t.instanceId === fixture.instanceId)!;
      expect(task.imageTag).toBe(fixture.imageTag);
      expect(task.failToPass).toEqual(fixture.failToPass);
      expect(task.passToPass).toEqual(fixture.passToPass);
      const files = await loadHarnessFiles(task.instanceId, { kind: 'local', path: harnessPath }, dir);
      expect(files.env).toEqual(fixture.env);
      const r = await gradeAttempt(runtime, { image: `${fixture.imageRepository}:${task.imageTag}`, task, files, patch: task.patch, timeoutMs: 120_000, labels });
      expect(r.outcome, `${task.instanceId}: ${r.reason}`).toBe('resolved');
    }
  });

  it('images hold /app at the base commit, clean, with the solution commit in the history', async () => {
    for (const t of images.tasks) {
      const c = await runtime.createContainer({ image: t.image, labels, entrypoint: KEEP_ALIVE, networkMode: 'none' });
      try {
        await runtime.start(c);
        const r = await runtime.exec(c, ['bash', '-c', `git rev-parse HEAD && git status --porcelain && git cat-file -t ${t.solutionCommit}`], { workingDir: '/app' });
        expect(r.stdout).toBe(`${t.baseCommit}\ncommit\n`);
        // The instance Dockerfile's ENV is not baked in: grading must export it.
        const env = await runtime.exec(c, ['bash', '-c', 'echo "mode=${FIXTURE_TEST_MODE:-unset}"']);
        expect(env.stdout).toBe('mode=unset\n');
      } finally {
        await runtime.remove(c);
      }
    }
  });

  it('many tasks for benches reuse the images under distinct instance ids', () => {
    const many = manyFixtureTasks(images.tasks, 20);
    expect(many).toHaveLength(20);
    expect(new Set(many.map((t) => t.instanceId)).size).toBe(20);
    expect(new Set(many.map((t) => t.image))).toEqual(new Set(images.tasks.map((t) => t.image)));
    for (const t of many) expect(t.row.instance_id).toBe(t.instanceId);
  });
});

describe('fixture helpers', () => {
  it('write list columns in both dataset encodings', () => {
    expect(pythonListLiteral(["a::b", "it's"])).toBe(`['a::b', 'it\\'s']`);
    expect(jsonListLiteral(['a', 'b"c'])).toBe('["a", "b\\"c"]');
  });

  it('compute the official tag, dropping only -vnan', () => {
    expect(fixtureImageTag('instance_Org__Name-abc-vnan', 'Org/Name')).toBe('org.name-Org__Name-abc');
    expect(fixtureImageTag('instance_org__name-abc-v123', 'org/name')).toBe('org.name-org__name-abc-v123');
  });

  it('read the mirror from the machine apt sources', () => {
    expect(aptMirror()).toMatch(/^https?:\/\/\S+$/);
    expect(() => aptMirror('no-such-suite')).toThrow(/no apt source/);
  });
});
