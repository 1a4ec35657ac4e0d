/**
 * The real download code against a server of the test's own on 127.0.0.1, laid out like the dataset hub and the raw
 * files of the harness repository.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { harnessRevision, loadHarnessFiles, prefetchHarnessFiles } from '../../src/dataset/harness.ts';
import type { DownloadProgress } from '../../src/dataset/http.ts';
import { hubCachePath, loadDataset } from '../../src/dataset/load.ts';
import {
  ChecksumMismatchError,
  DownloadError,
  HarnessError,
  type DatasetSource,
  type HarnessSource,
} from '../../src/dataset/types.ts';
import { fixtureObjects, GO_ID, HARNESS_CLONE, JS_ID, PY_ID, tempDir, TS_ID, writeParquet } from './helpers.ts';

const REVISION = '0f0e0d0c0b0a09080706050403020100aabbccdd';
const COMMIT = '1234567890abcdef1234567890abcdef12345678';
const DATASET_PATH = `/datasets/acme/SWE-fixture/resolve/${REVISION}/data/test-00000-of-00001.parquet`;

let server: Server;
let baseUrl: string;
let parquet: Buffer;
let fixtureDir: { dir: string; cleanup: () => void };
const hits = new Map<string, number>();
/** Per path: answer this status this many times before serving the file. */
const failures = new Map<string, { status: number; times: number }>();
let stall = false;

function hitCount(p: string): number {
  return hits.get(p) ?? 0;
}
function totalHits(): number {
  return [...hits.values()].reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  fixtureDir = tempDir();
  const file = path.join(fixtureDir.dir, 'fixture.parquet');
  writeParquet(file, fixtureObjects());
  parquet = readFileSync(file);
  server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    hits.set(url, hitCount(url) + 1);
    const failure = failures.get(url);
    if (failure && failure.times > 0) {
      failure.times--;
      res.writeHead(failure.status).end('try again');
      return;
    }
    let body: Buffer | null = null;
    if (url === DATASET_PATH || url === DATASET_PATH.replace(REVISION, 'main')) {
      body = parquet;
    } else {
      const prefix = `/acme/harness/${COMMIT}/`;
      if (url.startsWith(prefix)) {
        const local = path.join(HARNESS_CLONE, ...url.slice(prefix.length).split('/'));
        if (local.startsWith(HARNESS_CLONE) && existsSync(local)) body = readFileSync(local);
      }
    }
    if (body === null) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
    if (stall) {
      res.write(body.subarray(0, 10)); // then nothing more
      return;
    }
    // Four chunks a little apart, so the client sees (and reports) more than one.
    const step = Math.ceil(body.length / 4);
    const data = body;
    const send = (i: number) => {
      if (i >= data.length) {
        res.end();
        return;
      }
      res.write(data.subarray(i, i + step));
      setTimeout(() => send(i + step), 15);
    };
    send(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fixtureDir.cleanup();
});

let dataDir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: dataDir, cleanup } = tempDir());
  hits.clear();
  failures.clear();
  stall = false;
});
afterEach(() => cleanup());

function hub(extra: Partial<Extract<DatasetSource, { kind: 'hub' }>> = {}): Extract<DatasetSource, { kind: 'hub' }> {
  return { kind: 'hub', baseUrl, name: 'acme/SWE-fixture', revision: REVISION, split: 'test', ...extra };
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('hub dataset download', () => {
  it('downloads the pinned revision with progress, records its sha256 and parses it', async () => {
    const progress: DownloadProgress[] = [];
    const loaded = await loadDataset(hub(), dataDir, { onProgress: (p) => progress.push(p) });
    expect(loaded.tasks.map((t) => t.instanceId)).toEqual([GO_ID, PY_ID, JS_ID, TS_ID]);
    expect(loaded.rejected).toHaveLength(4);
    expect(loaded.downloaded).toBe(true);
    expect(loaded.revision).toBe(REVISION);
    expect(loaded.sha256).toBe(sha256(parquet));
    expect(hitCount(DATASET_PATH)).toBe(1);

    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) {
      expect((progress[i] as DownloadProgress).receivedBytes).toBeGreaterThan((progress[i - 1] as DownloadProgress).receivedBytes);
    }
    expect(progress.at(-1)).toEqual({ url: `${baseUrl}${DATASET_PATH}`, receivedBytes: parquet.length, totalBytes: parquet.length });

    const cached = path.join(dataDir, 'datasets', REVISION, 'data', 'test-00000-of-00001.parquet');
    expect(loaded.path).toBe(cached);
    expect(readFileSync(cached).equals(parquet)).toBe(true);
    expect(readFileSync(`${cached}.sha256`, 'utf8').trim()).toBe(sha256(parquet));
    expect(readdirSync(path.dirname(cached)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('reuses the cached file without network on the next load', async () => {
    const first = await loadDataset(hub(), dataDir);
    const before = totalHits();
    const second = await loadDataset(hub(), dataDir, { onProgress: () => expect.unreachable('no download expected') });
    expect(totalHits()).toBe(before);
    expect(second.downloaded).toBe(false);
    expect(second.tasks).toEqual(first.tasks);
    expect(second.sha256).toBe(first.sha256);
  });

  it('accepts a download whose sha256 is the configured one', async () => {
    const loaded = await loadDataset(hub({ sha256: sha256(parquet) }), dataDir);
    expect(loaded.tasks).toHaveLength(4);
  });

  it('refuses a download whose sha256 differs from the configured one and keeps nothing', async () => {
    const wrong = 'ab'.repeat(32);
    const error = await loadDataset(hub({ sha256: wrong }), dataDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect(error).toMatchObject({ expected: wrong, actual: sha256(parquet), url: `${baseUrl}${DATASET_PATH}` });
    expect((error as Error).message).toBe(`checksum mismatch for ${baseUrl}${DATASET_PATH}: expected sha256 ${wrong}, got ${sha256(parquet)}`);
    const dir = path.dirname(hubCachePath(hub(), dataDir));
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('downloads again when a cached file no longer matches the configured sha256', async () => {
    await loadDataset(hub(), dataDir);
    writeFileSync(hubCachePath(hub(), dataDir), 'corrupted');
    const loaded = await loadDataset(hub({ sha256: sha256(parquet) }), dataDir);
    expect(loaded.downloaded).toBe(true);
    expect(hitCount(DATASET_PATH)).toBe(2);
    expect(loaded.tasks).toHaveLength(4);
  });

  it('refuses a malformed configured sha256 before any network', async () => {
    await expect(loadDataset(hub({ sha256: 'xyz' }), dataDir)).rejects.toThrow(/configured dataset sha256 "xyz" is not 64 hex digits/);
    expect(totalHits()).toBe(0);
  });

  it('retries a transient server error', async () => {
    failures.set(DATASET_PATH, { status: 503, times: 2 });
    const loaded = await loadDataset(hub(), dataDir, { retryDelayMs: 5 });
    expect(loaded.tasks).toHaveLength(4);
    expect(hitCount(DATASET_PATH)).toBe(3);
  });

  it('gives up after the configured retries, with the status in the error', async () => {
    failures.set(DATASET_PATH, { status: 500, times: 10 });
    const error = await loadDataset(hub(), dataDir, { retries: 1, retryDelayMs: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toMatchObject({ status: 500 });
    expect(hitCount(DATASET_PATH)).toBe(2);
  });

  it('does not retry a 404, and names the URL', async () => {
    const error = await loadDataset(hub({ revision: 'no-such-revision' }), dataDir, { retryDelayMs: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toBe(
      `fetching ${baseUrl}/datasets/acme/SWE-fixture/resolve/no-such-revision/data/test-00000-of-00001.parquet answered HTTP 404 Not Found`,
    );
    expect(totalHits()).toBe(1);
  });

  it('abandons a transfer that stalls', async () => {
    stall = true;
    const error = await loadDataset(hub(), dataDir, { retries: 0, idleTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/stalled: no data for 200 ms/);
    expect(existsSync(hubCachePath(hub(), dataDir))).toBe(false);
  });

  it('names a branch revision with the sha256 of the file it read, so a moved branch is another suite', async () => {
    const loaded = await loadDataset(hub({ revision: 'main' }), dataDir);
    expect(loaded.revision).toBe(`main@sha256:${sha256(parquet)}`);
  });

  it('caches a revision with a slash under one encoded directory', () => {
    expect(hubCachePath(hub({ revision: 'refs/convert/parquet' }), '/data')).toBe(
      '/data/datasets/refs%2Fconvert%2Fparquet/data/test-00000-of-00001.parquet',
    );
    expect(() => hubCachePath(hub({ revision: '../x' }), '/data')).toThrow(/dataset revision "..\/x" is not a revision/);
  });
});

describe('harness files', () => {
  const remote = (): HarnessSource => ({ kind: 'remote', baseUrl, repo: 'acme/harness', commit: COMMIT });
  const local: HarnessSource = { kind: 'local', path: HARNESS_CLONE };
  const fixture = (rel: string) => readFileSync(path.join(HARNESS_CLONE, rel), 'utf8');

  it('fetches run script, parser and Dockerfile ENV from the pinned commit', async () => {
    const files = await loadHarnessFiles(GO_ID, remote(), dataDir);
    expect(files.runScript).toBe(fixture(`run_scripts/${GO_ID}/run_script.sh`));
    expect(files.parser).toBe(fixture(`run_scripts/${GO_ID}/parser.py`));
    expect(files.env).toEqual({
      GOPATH: '/go',
      GO_VERSION: '1.22.5',
      PATH: '/usr/local/go/bin:/go/bin:$PATH',
      CGO_ENABLED: '0',
      GOFLAGS: '-mod=mod -count=1',
      TZ: 'Etc/UTC',
    });
    expect(hitCount(`/acme/harness/${COMMIT}/run_scripts/${GO_ID}/run_script.sh`)).toBe(1);
    expect(hitCount(`/acme/harness/${COMMIT}/dockerfiles/instance_dockerfile/${GO_ID}/Dockerfile`)).toBe(1);
    expect(totalHits()).toBe(4);
    expect(readdirSync(path.join(dataDir, 'harness', COMMIT, GO_ID)).sort()).toEqual([
      'base.Dockerfile',
      'instance.Dockerfile',
      'parser.py',
      'run_script.sh',
    ]);
  });

  it('reuses cached harness files without network', async () => {
    const first = await loadHarnessFiles(PY_ID, remote(), dataDir);
    expect(totalHits()).toBe(4);
    const second = await loadHarnessFiles(PY_ID, remote(), dataDir);
    expect(totalHits()).toBe(4);
    expect(second).toEqual(first);
    expect(second.env).toEqual({ PYTHONDONTWRITEBYTECODE: '1', PYTEST_ADDOPTS: '-p no:cacheprovider --tb=short' });
  });

  it('names the task and the file that the harness commit does not have', async () => {
    const error = await loadHarnessFiles(JS_ID, remote(), dataDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect(error).toMatchObject({ instanceId: JS_ID });
    expect((error as Error).message).toMatch(new RegExp(`^task ${JS_ID}: harness file run_scripts/${JS_ID}/run_script\\.sh: not found at harness commit ${COMMIT} of acme/harness`));
    expect(existsSync(path.join(dataDir, 'harness', COMMIT, JS_ID, 'run_script.sh'))).toBe(false);
  });

  it('reads the same files from a local clone, without network and without caching', async () => {
    const fromRemote = await loadHarnessFiles(GO_ID, remote(), dataDir);
    hits.clear();
    const { dir: otherDataDir, cleanup: cleanupOther } = tempDir();
    try {
      const fromClone = await loadHarnessFiles(GO_ID, local, otherDataDir);
      expect(fromClone).toEqual(fromRemote);
      expect(totalHits()).toBe(0);
      expect(existsSync(path.join(otherDataDir, 'harness'))).toBe(false);
    } finally {
      cleanupOther();
    }
  });

  it('names the missing file of a local clone', async () => {
    await expect(loadHarnessFiles(TS_ID, local, dataDir)).rejects.toThrow(
      new RegExp(`^task ${TS_ID}: harness file run_scripts/${TS_ID}/run_script\\.sh: not found in the local harness clone`),
    );
  });

  it('refuses an instance id that could leave the cache directory', async () => {
    await expect(loadHarnessFiles('../../etc', remote(), dataDir)).rejects.toThrow(HarnessError);
    expect(totalHits()).toBe(0);
  });

  it('identifies the harness by its commit, or by the HEAD of a local git clone', async () => {
    expect(await harnessRevision(remote())).toBe(COMMIT);
    const repo = path.join(dataDir, 'clone');
    mkdirSync(repo);
    expect(await harnessRevision({ kind: 'local', path: repo })).toBe(`local:${repo}`);
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    writeFileSync(path.join(repo, 'f'), 'x');
    git('add', 'f');
    git('commit', '-q', '-m', 'x');
    expect(await harnessRevision({ kind: 'local', path: repo })).toBe(git('rev-parse', 'HEAD'));
  });
});

describe('prefetchHarnessFiles', () => {
  it('fetches many tasks, reporting the ones the harness lacks instead of failing the batch', async () => {
    const seen: Array<[string, boolean]> = [];
    const result = await prefetchHarnessFiles(
      [GO_ID, JS_ID, PY_ID, GO_ID, TS_ID],
      { kind: 'remote', baseUrl, repo: 'acme/harness', commit: COMMIT },
      dataDir,
      { concurrency: 2, onTask: (id, ok) => seen.push([id, ok]) },
    );
    expect([...result.files.keys()].sort()).toEqual([PY_ID, GO_ID].sort());
    expect(result.failed.map((f) => f.instanceId)).toEqual([JS_ID, TS_ID].sort());
    expect(result.failed[0]?.reason).toMatch(/not found at harness commit/);
    expect(seen).toHaveLength(4);
    expect(result.files.get(PY_ID)?.env).toEqual({ PYTHONDONTWRITEBYTECODE: '1', PYTEST_ADDOPTS: '-p no:cacheprovider --tb=short' });
  });
});
