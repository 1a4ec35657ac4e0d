/**
 * The per-task files of the official harness: run_script.sh, parser.py and the ENV settings of the task's base and
 * instance Dockerfiles. They come from the raw files of a pinned commit of the harness repository (cached under
 * `<dataDir>/harness/<commit>/<instance id>/`, reused without network) or from a local clone (read in place).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerfileEnvError, extractDockerfileEnv } from './dockerfile.ts';
import { fetchText, type HttpOptions } from './http.ts';
import { checkedBaseUrl } from './load.ts';
import { INSTANCE_ID_PATTERN } from './row.ts';
import { DownloadError, HarnessError, type HarnessSource } from './types.ts';

export interface HarnessFiles {
  /** `bash run_script.sh <selected tests joined by ','>` runs the tests. */
  runScript: string;
  /** `python parser.py STDOUT STDERR OUTPUT_JSON` writes `{"tests":[{"name","status"}]}`. */
  parser: string;
  /**
   * ENV settings of the base then the instance Dockerfile (see dockerfile.ts). Values may still hold `$NAME`
   * references to variables of the parent image: export them with a shell (grading's `envExports`), not as raw
   * container environment.
   */
  env: Record<string, string>;
}

/** The four files of a task, by role: path inside the harness repository and name in the cache directory. */
export const HARNESS_FILES = {
  runScript: { repoPath: (id: string) => `run_scripts/${id}/run_script.sh`, cacheName: 'run_script.sh' },
  parser: { repoPath: (id: string) => `run_scripts/${id}/parser.py`, cacheName: 'parser.py' },
  baseDockerfile: { repoPath: (id: string) => `dockerfiles/base_dockerfile/${id}/Dockerfile`, cacheName: 'base.Dockerfile' },
  instanceDockerfile: {
    repoPath: (id: string) => `dockerfiles/instance_dockerfile/${id}/Dockerfile`,
    cacheName: 'instance.Dockerfile',
  },
} as const;
export type HarnessFileRole = keyof typeof HARNESS_FILES;

const COMMIT = /^[0-9a-f]{7,40}$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** `<baseUrl>/<repo>/<commit>/<repoPath>`. */
export function harnessFileUrl(source: Extract<HarnessSource, { kind: 'remote' }>, repoPath: string): string {
  checkRemote(source);
  return `${checkedBaseUrl(source.baseUrl, 'harness base URL')}/${source.repo}/${source.commit}/${repoPath
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
}

/** `<dataDir>/harness/<commit>/<instance id>/`. */
export function harnessCacheDir(dataDir: string, commit: string, instanceId: string): string {
  if (!COMMIT.test(commit)) throw new Error(`harness commit ${JSON.stringify(commit)} is not 7 to 40 lower-case hex digits`);
  checkId(instanceId);
  return path.join(path.resolve(dataDir), 'harness', commit, instanceId);
}

/** Fetch (or read from the cache or the local clone) a task's run script, parser and Dockerfile ENV settings. */
export async function loadHarnessFiles(
  instanceId: string,
  source: HarnessSource,
  dataDir: string,
  options: HttpOptions = {},
): Promise<HarnessFiles> {
  checkId(instanceId);
  const read = (role: HarnessFileRole) =>
    source.kind === 'local' ? readLocal(source.path, instanceId, role) : readRemote(source, dataDir, instanceId, role, options);
  // Read all four at once, but report a failure in a fixed order (run script, parser, Dockerfiles), so the same
  // missing files always give the same message, whichever read happens to fail first.
  const settled = await Promise.allSettled([
    read('runScript'),
    read('parser'),
    read('baseDockerfile'),
    read('instanceDockerfile'),
  ]);
  const [runScript, parser, baseDockerfile, instanceDockerfile] = settled.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }) as [string, string, string, string];
  let env: Record<string, string>;
  try {
    env = extractDockerfileEnv(baseDockerfile, instanceDockerfile);
  } catch (e) {
    if (e instanceof DockerfileEnvError) throw new HarnessError(instanceId, 'Dockerfile', e.message);
    throw e;
  }
  return { runScript, parser, env };
}

export interface PrefetchResult {
  files: Map<string, HarnessFiles>;
  /** Tasks whose files are missing or unreadable, with the reason (a HarnessError message). */
  failed: Array<{ instanceId: string; reason: string }>;
}

/**
 * Fetch (or read) the harness files of many tasks, a few at a time, e.g. when a suite is frozen: every task that
 * lacks a file is reported instead of failing the whole batch. Other errors (a full disk…) still throw.
 */
export async function prefetchHarnessFiles(
  instanceIds: readonly string[],
  source: HarnessSource,
  dataDir: string,
  options: HttpOptions & { concurrency?: number; onTask?: (instanceId: string, ok: boolean) => void } = {},
): Promise<PrefetchResult> {
  const files = new Map<string, HarnessFiles>();
  const failed: PrefetchResult['failed'] = [];
  const queue = [...new Set(instanceIds)];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        files.set(id, await loadHarnessFiles(id, source, dataDir, options));
        options.onTask?.(id, true);
      } catch (e) {
        if (!(e instanceof HarnessError)) throw e;
        failed.push({ instanceId: id, reason: e.message });
        options.onTask?.(id, false);
      }
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, queue.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  failed.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  return { files, failed };
}

/**
 * What identifies the harness in a suite hash: the pinned commit, or for a local clone its HEAD commit
 * (`local:<absolute path>` when it is not a git work tree).
 */
export async function harnessRevision(source: HarnessSource): Promise<string> {
  if (source.kind === 'remote') {
    checkRemote(source);
    return source.commit;
  }
  try {
    const { stdout } = await promisify(execFile)('git', ['-C', source.path, 'rev-parse', 'HEAD'], { timeout: 10_000 });
    const head = stdout.trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
  } catch {
    // not a git work tree, or git missing
  }
  return `local:${path.resolve(source.path)}`;
}

async function readLocal(root: string, instanceId: string, role: HarnessFileRole): Promise<string> {
  const repoPath = HARNESS_FILES[role].repoPath(instanceId);
  const file = path.join(path.resolve(root), ...repoPath.split('/'));
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `not found in the local harness clone (${file})` : `cannot read ${file}: ${(e as Error).message}`;
    throw new HarnessError(instanceId, repoPath, why);
  }
}

async function readRemote(
  source: Extract<HarnessSource, { kind: 'remote' }>,
  dataDir: string,
  instanceId: string,
  role: HarnessFileRole,
  options: HttpOptions,
): Promise<string> {
  const { repoPath, cacheName } = HARNESS_FILES[role];
  const rel = repoPath(instanceId);
  const dir = harnessCacheDir(dataDir, source.commit, instanceId);
  const cached = path.join(dir, cacheName);
  try {
    return await readFile(cached, 'utf8');
  } catch {
    // not cached yet
  }
  const url = harnessFileUrl(source, rel);
  let text: string | null;
  try {
    text = await fetchText(url, options);
  } catch (e) {
    if (e instanceof DownloadError) throw new HarnessError(instanceId, rel, e.message);
    throw e;
  }
  if (text === null) {
    throw new HarnessError(instanceId, rel, `not found at harness commit ${source.commit} of ${source.repo} (${url})`);
  }
  await mkdir(dir, { recursive: true });
  const part = `${cached}.${process.pid}.${randomUUID().slice(0, 8)}.part`;
  await writeFile(part, text);
  await rename(part, cached);
  return text;
}

function checkRemote(source: Extract<HarnessSource, { kind: 'remote' }>): void {
  if (!REPO.test(source.repo)) throw new Error(`harness repository ${JSON.stringify(source.repo)} is not of the form owner/name`);
  if (!COMMIT.test(source.commit)) {
    throw new Error(`harness commit ${JSON.stringify(source.commit)} is not 7 to 40 lower-case hex digits: pin a commit`);
  }
}

function checkId(instanceId: string): void {
  if (!INSTANCE_ID_PATTERN.test(instanceId) || instanceId.length > 255) {
    throw new HarnessError(instanceId, '(instance id)', "not a valid instance id (letters, digits, '.', '_', '-')");
  }
}
