/**
 * Fixture task images in the SWE-Bench-Pro layout, built locally (no registry is reachable in tests).
 *
 * 1. A base image `agentdrift-fixture-base:<version>`: a Debian bookworm root filesystem from
 *    `debootstrap --variant=minbase --include=git,python3` (glibc, bash, git, python3), with the mirror read at run
 *    time from this machine's own apt sources, imported with the engine's image import. The root filesystem tarball
 *    is cached under /var/cache/agentdrift-test/ (AGENTDRIFT_TEST_CACHE overrides), so debootstrap runs once per
 *    machine and only when the base image is missing.
 * 2. One task image per fixture under test/fixtures/tasks/<name>/: a git repository at /app checked out at the base
 *    commit, whose history also holds the solution commit (ref `refs/agentdrift-fixture/solution`), so the dataset
 *    row's `before_repo_set_cmd` can restore the official test files from it. Commits have fixed authors and dates,
 *    hence fixed hashes. Images are tagged `agentdrift-fixture-tasks:<official tag of the row>` and carry a label
 *    with the hash of everything they are built from; an image whose label matches is reused.
 *
 * The instance Dockerfile's ENV lines (FIXTURE_TEST_MODE, which run_script.sh requires) are deliberately NOT baked into
 * the image: a grader that forgets to export them gets no test results.
 *
 * Concurrent test files (and other rooms' tests) call `ensureFixtureImages` at once: the work is serialised by a lock
 * directory in the cache folder, and memoised per process.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

export const FIXTURE_BASE_REPOSITORY = 'agentdrift-fixture-base';
export const FIXTURE_IMAGE_REPOSITORY = 'agentdrift-fixture-tasks';
/** Bump when the way images are built changes (forces rebuilds). */
const RECIPE_VERSION = 'v1';
const SUITE = 'bookworm';
const INCLUDE = ['git', 'python3'];
const HASH_LABEL = 'agentdrift.fixture.hash';
const SOLUTION_REF = 'refs/agentdrift-fixture/solution';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/tasks/', import.meta.url));

export function fixtureCacheDir(): string {
  return process.env.AGENTDRIFT_TEST_CACHE ?? '/var/cache/agentdrift-test';
}

/** The 16 string columns of a SWE-Bench-Pro dataset row. */
export interface DatasetRow {
  repo: string;
  instance_id: string;
  base_commit: string;
  patch: string;
  test_patch: string;
  problem_statement: string;
  requirements: string;
  interface: string;
  repo_language: string;
  fail_to_pass: string;
  pass_to_pass: string;
  issue_categories: string;
  issue_specificity: string;
  before_repo_set_cmd: string;
  selected_test_files_to_run: string;
  dockerhub_tag: string;
}

export interface FixtureTask {
  /** Fixture folder name, e.g. 'calc-median'. */
  name: string;
  instanceId: string;
  repo: string;
  /** Full local image reference: `${imageRepository}:${imageTag}`. */
  image: string;
  imageRepository: string;
  imageTag: string;
  row: DatasetRow;
  baseCommit: string;
  solutionCommit: string;
  failToPass: string[];
  passToPass: string[];
  selectedTestFiles: string[];
  beforeRepoSetCmd: string;
  goldPatch: string;
  testPatch: string;
  /** Files the test patch touches (restored by the last line of before_repo_set_cmd). */
  testFiles: string[];
  runScript: string;
  parser: string;
  /** ENV settings of the base then the instance Dockerfile, as the grader must export them. */
  env: Record<string, string>;
  /** The two Dockerfiles in the official harness layout (their ENV lines give `env`). */
  baseDockerfile: string;
  instanceDockerfile: string;
  problemStatement: string;
  requirements: string;
  interface: string;
}

export interface FixtureImages {
  base: string;
  tasks: FixtureTask[];
}

interface TaskSpec {
  repo: string;
  repoDir: string;
  instanceSuffix: string;
  language: string;
  problemStatement: string;
  requirements: string;
  interface: string;
  failToPass: string[];
  passToPass: string[];
  selectedTestFiles: string[];
  issueCategories: string;
  issueSpecificity: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Small pure helpers (exported for the fixture's own tests and for other rooms' fixtures)

/** A Python list literal of strings, as the dataset writes fail_to_pass: `['a', 'b']`. */
export function pythonListLiteral(items: readonly string[]): string {
  return `[${items.map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/** A JSON list with the dataset's spacing: `["a", "b"]`. */
export function jsonListLiteral(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** The official image-tag rule for ordinary repositories: `org.name-h`, h = id without `instance_` nor `-vnan`. */
export function fixtureImageTag(instanceId: string, repo: string): string {
  const [org, name] = repo.toLowerCase().split('/');
  let h = instanceId.replaceAll('instance_', '');
  if (h.endsWith('-vnan')) h = h.slice(0, -5);
  return `${org}.${name}-${h}`.slice(0, 128);
}

/**
 * The mirror URI for `suite` in this machine's apt sources (deb822 `.sources` files first, then sources.list).
 * Read at run time so that no mirror host is written into the project.
 */
export function aptMirror(suite = SUITE): string {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources')).map((f) => path.join(dir, f)) : [];
  for (const file of files) {
    const stanzas = readFileSync(file, 'utf8').split(/\n\s*\n/);
    for (const stanza of stanzas) {
      const fields = new Map<string, string>();
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
      }
      const types = (fields.get('types') ?? '').split(/\s+/);
      const suites = (fields.get('suites') ?? '').split(/\s+/);
      const uri = (fields.get('uris') ?? '').split(/\s+/)[0];
      if (types.includes('deb') && suites.includes(suite) && uri && fields.get('enabled') !== 'no') return uri;
    }
  }
  const list = '/etc/apt/sources.list';
  if (existsSync(list)) {
    for (const line of readFileSync(list, 'utf8').split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && m[2] === suite) return m[1]!;
    }
  }
  throw new Error(`no apt source for ${suite} in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list`);
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-process lock (a directory holding the owner's pid)

async function withLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  const dir = path.join(fixtureCacheDir(), `${name}.lock`);
  await mkdir(fixtureCacheDir(), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(path.join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      const ageMs = (() => {
        try {
          return Date.now() - statSync(dir).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((Number.isInteger(owner) && !isAlive(owner)) || (Number.isNaN(owner) && ageMs > 10_000)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${dir} (held by pid ${owner})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Engine helpers

async function imageLabels(docker: Docker, ref: string): Promise<Record<string, string> | null> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Config?.Labels ?? {};
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}

function follow(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<void> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string; stream?: string }>) => {
      const bad = out.find((o) => o.error);
      if (err || bad) {
        const log = out.map((o) => o.stream ?? '').join('').slice(-2000);
        reject(new Error(`${what} failed: ${err?.message ?? bad?.error}\n${log}`));
      } else resolve();
    }),
  );
}

function tarDirectory(dir: string): NodeJS.ReadableStream {
  const child = spawn('tar', ['--numeric-owner', '-C', dir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

// ---------------------------------------------------------------------------------------------------------------
// Base image

function baseVersion(): string {
  return createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, SUITE, variant: 'minbase', INCLUDE })).digest('hex').slice(0, 12);
}

export function fixtureBaseImage(): string {
  return `${FIXTURE_BASE_REPOSITORY}:${baseVersion()}`;
}

async function ensureBaseImage(docker: Docker, log: (s: string) => void): Promise<string> {
  const ref = fixtureBaseImage();
  if ((await imageLabels(docker, ref)) !== null) return ref;
  const cache = fixtureCacheDir();
  const tarball = path.join(cache, `fixture-base-${baseVersion()}.tar`);
  if (!existsSync(tarball)) {
    if (process.getuid?.() !== 0) throw new Error('building the fixture base image needs root (debootstrap)');
    const mirror = aptMirror();
    const root = path.join(cache, `rootfs-${process.pid}`);
    await rm(root, { recursive: true, force: true });
    const logFile = path.join(cache, 'debootstrap.log');
    log(`debootstrap ${SUITE} (minbase + ${INCLUDE.join(',')}) into ${root}; log in ${logFile}`);
    const started = Date.now();
    try {
      await run('sh', ['-c', `debootstrap --variant=minbase --include=${INCLUDE.join(',')} "$1" "$2" "$3" > "$4" 2>&1`, 'sh', SUITE, root, mirror, logFile], {
        timeout: 30 * 60_000,
      });
    } catch (e) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      await rm(root, { recursive: true, force: true });
      throw new Error(`debootstrap failed (is the debootstrap package installed?): ${(e as Error).message}\n${tail}`);
    }
    // Package caches are of no use in the image.
    await rm(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    for (const f of await readdir(path.join(root, 'var/lib/apt/lists')).catch(() => [])) {
      if (f !== 'partial' && f !== 'lock') await rm(path.join(root, 'var/lib/apt/lists', f), { force: true, recursive: true });
    }
    const partial = `${tarball}.${process.pid}.partial`;
    await run('tar', ['--numeric-owner', '-C', root, '-cf', partial, '.'], { maxBuffer: 1 << 20 });
    await rename(partial, tarball);
    await rm(root, { recursive: true, force: true });
    log(`base root filesystem built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${tarball}`);
  }
  const [repo, tag] = ref.split(':') as [string, string];
  await follow(docker, await docker.importImage(createReadStream(tarball) as unknown as NodeJS.ReadableStream, { repo, tag }), `importing ${tarball}`);
  return ref;
}

// ---------------------------------------------------------------------------------------------------------------
// Task images

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'agentdrift fixtures',
  GIT_AUTHOR_EMAIL: 'fixtures@agentdrift.invalid',
  GIT_COMMITTER_NAME: 'agentdrift fixtures',
  GIT_COMMITTER_EMAIL: 'fixtures@agentdrift.invalid',
};

async function git(cwd: string, args: string[], date?: string): Promise<string> {
  const env = date ? { ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : GIT_ENV;
  const { stdout } = await run('git', ['-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', ...args], { cwd, env, maxBuffer: 64 << 20 });
  return stdout;
}

/** Every file under dir, relative, sorted (for hashing and copying). */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

function hashDir(h: ReturnType<typeof createHash>, dir: string): void {
  for (const f of listFiles(dir)) {
    const st = statSync(path.join(dir, f));
    h.update(`${f}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(path.join(dir, f)));
    h.update('\0');
  }
}

const BASE_ENV: Record<string, string> = { LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };
const INSTANCE_ENV_LINES = ['ENV FIXTURE_TEST_MODE=strict', 'ENV PYTHONPATH=/app:$PYTHONPATH'];
/** What a Dockerfile reader makes of INSTANCE_ENV_LINES: PYTHONPATH is unset in the base, so its reference stays. */
const INSTANCE_ENV: Record<string, string> = { FIXTURE_TEST_MODE: 'strict', PYTHONPATH: '/app:$PYTHONPATH' };

function baseDockerfileText(baseImage: string): string {
  return [`FROM ${baseImage}`, ...Object.entries(BASE_ENV).map(([k, v]) => `ENV ${k}=${v}`), 'COPY app /app', 'WORKDIR /app', 'ENTRYPOINT ["/bin/bash"]', ''].join(
    '\n',
  );
}

function instanceDockerfileText(repo: string): string {
  return [`FROM ${FIXTURE_IMAGE_REPOSITORY}:base-${repo.replace('/', '.')}`, ...INSTANCE_ENV_LINES, ''].join('\n');
}

/** Where a fixture task's parts are: its folder (task.json, solution/), the repositories and the harness. */
export interface FixtureSources {
  /** Folder holding task.json and solution/. */
  dir: string;
  /** Folder holding the repositories (task.json's repoDir is one of them). */
  reposDir: string;
  /** Folder holding run_script.sh and parser.py. */
  harnessDir: string;
}

function committedSources(name: string): FixtureSources {
  return { dir: path.join(FIXTURES_DIR, name), reposDir: path.join(FIXTURES_DIR, 'repos'), harnessDir: path.join(FIXTURES_DIR, 'harness') };
}

async function prepareTask(
  name: string,
  baseImage: string,
  baseImageId: string,
  work: string,
  src: FixtureSources = committedSources(name),
): Promise<{ task: FixtureTask; appDir: string; hash: string }> {
  const dir = src.dir;
  const spec = JSON.parse(readFileSync(path.join(dir, 'task.json'), 'utf8')) as TaskSpec;
  const repoSrc = path.join(src.reposDir, spec.repoDir);
  const solutionSrc = path.join(dir, 'solution');
  const runScript = readFileSync(path.join(src.harnessDir, 'run_script.sh'), 'utf8');
  const parser = readFileSync(path.join(src.harnessDir, 'parser.py'), 'utf8');

  const h = createHash('sha256').update(`${RECIPE_VERSION}\0${baseImage}\0${baseImageId}\0${name}\0`);
  hashDir(h, repoSrc);
  hashDir(h, solutionSrc);
  h.update(readFileSync(path.join(dir, 'task.json')));
  h.update(baseDockerfileText(baseImage));
  const hash = h.digest('hex').slice(0, 16);

  const appDir = path.join(work, name, 'app');
  await mkdir(appDir, { recursive: true });
  await cp(repoSrc, appDir, { recursive: true });
  await git(appDir, ['init', '-q', '-b', 'main']);
  await git(appDir, ['add', '-A']);
  await git(appDir, ['commit', '-q', '-m', `${spec.repo}: state before the fix`], '2024-01-01T00:00:00Z');
  const baseCommit = (await git(appDir, ['rev-parse', 'HEAD'])).trim();

  const changed = listFiles(solutionSrc);
  for (const f of changed) {
    await mkdir(path.dirname(path.join(appDir, f)), { recursive: true });
    await writeFile(path.join(appDir, f), readFileSync(path.join(solutionSrc, f)));
  }
  await git(appDir, ['add', '-A']);
  await git(appDir, ['commit', '-q', '-m', `${spec.repo}: ${name} fix with its tests`], '2024-01-02T00:00:00Z');
  const solutionCommit = (await git(appDir, ['rev-parse', 'HEAD'])).trim();
  await git(appDir, ['update-ref', SOLUTION_REF, solutionCommit]);
  await git(appDir, ['reset', '-q', '--hard', baseCommit]);

  const testFiles = changed.filter((f) => f.startsWith('tests/'));
  const srcFiles = changed.filter((f) => !f.startsWith('tests/'));
  const diff = (files: string[]) => git(appDir, ['diff', '--no-color', '--no-ext-diff', baseCommit, solutionCommit, '--', ...files]);
  const goldPatch = await diff(srcFiles);
  const testPatch = await diff(testFiles);

  const instanceId = `instance_${spec.repo.replace('/', '__')}-${baseCommit}${spec.instanceSuffix}`;
  const imageTag = fixtureImageTag(instanceId, spec.repo);
  const beforeRepoSetCmd = [
    `git reset --hard ${baseCommit}`,
    'git clean -fd ',
    `git checkout ${baseCommit} `,
    `git checkout ${solutionCommit} -- ${testFiles.join(' ')}`,
  ].join('\n');
  const row: DatasetRow = {
    repo: spec.repo,
    instance_id: instanceId,
    base_commit: baseCommit,
    patch: goldPatch,
    test_patch: testPatch,
    problem_statement: spec.problemStatement,
    requirements: spec.requirements,
    interface: spec.interface,
    repo_language: spec.language,
    fail_to_pass: pythonListLiteral(spec.failToPass),
    pass_to_pass: jsonListLiteral(spec.passToPass),
    issue_categories: spec.issueCategories,
    issue_specificity: spec.issueSpecificity,
    before_repo_set_cmd: beforeRepoSetCmd,
    selected_test_files_to_run: jsonListLiteral(spec.selectedTestFiles),
    dockerhub_tag: imageTag,
  };
  const task: FixtureTask = {
    name,
    instanceId,
    repo: spec.repo,
    image: `${FIXTURE_IMAGE_REPOSITORY}:${imageTag}`,
    imageRepository: FIXTURE_IMAGE_REPOSITORY,
    imageTag,
    row,
    baseCommit,
    solutionCommit,
    failToPass: spec.failToPass,
    passToPass: spec.passToPass,
    selectedTestFiles: spec.selectedTestFiles,
    beforeRepoSetCmd,
    goldPatch,
    testPatch,
    testFiles,
    runScript,
    parser,
    env: { ...BASE_ENV, ...INSTANCE_ENV },
    baseDockerfile: baseDockerfileText(baseImage),
    instanceDockerfile: instanceDockerfileText(spec.repo),
    problemStatement: spec.problemStatement,
    requirements: spec.requirements,
    interface: spec.interface,
  };
  return { task, appDir, hash };
}

async function buildTaskImage(docker: Docker, prepared: { task: FixtureTask; appDir: string; hash: string }): Promise<void> {
  const { task, appDir, hash } = prepared;
  const labels = await imageLabels(docker, task.image);
  if (labels?.[HASH_LABEL] === hash) return;
  const context = path.dirname(appDir);
  await writeFile(path.join(context, 'Dockerfile'), task.baseDockerfile);
  await chmod(context, 0o755);
  const stream = await docker.buildImage(tarDirectory(context), {
    t: task.image,
    labels: { [HASH_LABEL]: hash, 'agentdrift.fixture.task': task.name },
    rm: true,
    forcerm: true,
    networkmode: 'none',
  });
  await follow(docker, stream, `building ${task.image}`);
}

/** Names of the fixture tasks (folders of test/fixtures/tasks with a task.json). */
export function fixtureTaskNames(): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(FIXTURES_DIR, e.name, 'task.json')))
    .map((e) => e.name)
    .sort();
}

let memo: Promise<FixtureImages> | undefined;

/**
 * Builds (or reuses) the base image and every fixture task image; resolves with their references and the tasks'
 * dataset rows and harness files. The first build on a machine runs debootstrap (about a minute); later calls take
 * well under a second. Use a generous hook timeout: `beforeAll(async () => {...}, 15 * 60_000)`.
 */
export function ensureFixtureImages(options: { log?: (s: string) => void } = {}): Promise<FixtureImages> {
  memo ??= build(options.log ?? ((s) => console.error(`[fixture-images] ${s}`))).catch((e: unknown) => {
    memo = undefined;
    throw e;
  });
  return memo;
}

async function build(log: (s: string) => void): Promise<FixtureImages> {
  const docker = new Docker();
  return withLock('fixture-images', async () => {
    const base = await ensureBaseImage(docker, log);
    const baseId = (await docker.getImage(base).inspect()).Id;
    const work = await mkdtemp(path.join(tmpdir(), 'agentdrift-fixtures-'));
    try {
      const tasks: FixtureTask[] = [];
      for (const name of fixtureTaskNames()) {
        const prepared = await prepareTask(name, base, baseId, work);
        await buildTaskImage(docker, prepared);
        tasks.push(prepared.task);
      }
      return { base, tasks };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

/**
 * Builds (or reuses) the image of a fixture task whose parts live outside test/fixtures/tasks (a generated one, see
 * large-task.ts), the same way as the committed ones; it is not part of {@link ensureFixtureImages}'s tasks.
 */
export async function ensureFixtureTaskFrom(name: string, src: FixtureSources, options: { log?: (s: string) => void } = {}): Promise<FixtureTask> {
  const docker = new Docker();
  const log = options.log ?? ((s) => console.error(`[fixture-images] ${s}`));
  return withLock('fixture-images', async () => {
    const base = await ensureBaseImage(docker, log);
    const baseId = (await docker.getImage(base).inspect()).Id;
    const work = await mkdtemp(path.join(tmpdir(), 'agentdrift-fixtures-'));
    try {
      const prepared = await prepareTask(name, base, baseId, work, src);
      await buildTaskImage(docker, prepared);
      return prepared.task;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

/**
 * A fixture task exactly as the image builders above describe it (instance id, commits, patches, dataset row, harness
 * files, image reference), without an engine: no image is built, git on the host makes the commits. For tests on the
 * in-memory runtime (src/executor/memory.ts), which stand in for the image themselves. `src` as for
 * {@link ensureFixtureTaskFrom}; default the committed task of that name.
 */
export async function prepareFixtureTask(name: string, src?: FixtureSources): Promise<FixtureTask> {
  const work = await mkdtemp(path.join(tmpdir(), 'agentdrift-fixtures-'));
  try {
    // The base image's id only enters the image's build hash, which is not part of the task.
    return (await prepareTask(name, fixtureBaseImage(), 'no-engine', work, src)).task;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

let preparedMemo: Promise<FixtureTask[]> | undefined;

/** Every committed fixture task (as {@link ensureFixtureImages} lists them), without an engine or images. */
export function fixtureTasksWithoutImages(): Promise<FixtureTask[]> {
  preparedMemo ??= Promise.all(fixtureTaskNames().map((name) => prepareFixtureTask(name))).catch((e: unknown) => {
    preparedMemo = undefined;
    throw e;
  });
  return preparedMemo;
}

/** The fixture task of that folder name. */
export function fixtureTask(images: FixtureImages, name: string): FixtureTask {
  const t = images.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`no fixture task ${name}; have ${images.tasks.map((x) => x.name).join(', ')}`);
  return t;
}

/**
 * `n` tasks for benches and load tests, made from the given ones round-robin: copies get their own instance ids
 * (`<id>-copy<k>`) and keep the original's image (the row's dockerhub_tag still names it).
 */
export function manyFixtureTasks(tasks: readonly FixtureTask[], n: number): FixtureTask[] {
  if (tasks.length === 0) throw new Error('manyFixtureTasks needs at least one task');
  return Array.from({ length: n }, (_, k) => {
    const t = tasks[k % tasks.length]!;
    if (k < tasks.length) return t;
    const instanceId = `${t.instanceId}-copy${k}`;
    return { ...t, name: `${t.name}-copy${k}`, instanceId, row: { ...t.row, instance_id: instanceId } };
  });
}

/**
 * Writes the tasks as a local dataset and harness clone, in the official formats: `<dir>/dataset.jsonl` (one row per
 * line) and `<dir>/harness/run_scripts/<id>/{run_script.sh,parser.py}`,
 * `<dir>/harness/dockerfiles/{base,instance}_dockerfile/<id>/Dockerfile`.
 */
export async function writeFixtureDataset(dir: string, tasks: readonly FixtureTask[]): Promise<{ datasetPath: string; harnessPath: string }> {
  const datasetPath = path.join(dir, 'dataset.jsonl');
  const harnessPath = path.join(dir, 'harness');
  await mkdir(dir, { recursive: true });
  await writeFile(datasetPath, tasks.map((t) => JSON.stringify(t.row)).join('\n') + '\n');
  for (const t of tasks) {
    const rs = path.join(harnessPath, 'run_scripts', t.instanceId);
    await mkdir(rs, { recursive: true });
    await writeFile(path.join(rs, 'run_script.sh'), t.runScript);
    await writeFile(path.join(rs, 'parser.py'), t.parser);
    for (const [kind, text] of [
      ['base_dockerfile', t.baseDockerfile],
      ['instance_dockerfile', t.instanceDockerfile],
    ] as const) {
      const d = path.join(harnessPath, 'dockerfiles', kind, t.instanceId);
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, 'Dockerfile'), text);
    }
  }
  return { datasetPath, harnessPath };
}

export interface FixtureConfigOptions {
  /** The fake Anthropic API the agent talks to. */
  apiUrl: string;
  datasetPath: string;
  harnessPath: string;
  /** The suite's task ids. */
  ids: readonly string[];
  /** The track's name and anything else of it (replacing the defaults below key by key). */
  track: { name: string } & Record<string, unknown>;
  /** Docker settings beside the fixture ones. */
  docker?: Record<string, unknown>;
  /** Top-level settings (server, dataDir, logLevel...). */
  top?: Record<string, unknown>;
}

/**
 * The config (the object a config file holds) that runs fixture tasks for real: local fixture images, host networking
 * (the fake API listens on 127.0.0.1), small container limits, one track on the written dataset and harness, the CLI's
 * own retries off. For a file, write it as JSON: every JSON document is YAML.
 */
export function fixtureConfig(o: FixtureConfigOptions): Record<string, unknown> {
  return {
    ...o.top,
    anthropic: { baseUrl: o.apiUrl },
    // Grading without network: the tests' engine has no bridge, and no test's grading needs one. No reserve of free
    // disk: the fixture images are present, and a test must not fail on a machine whose disk is merely fuller.
    docker: { imageRepository: FIXTURE_IMAGE_REPOSITORY, pull: false, networkMode: 'host', gradingNetworkMode: 'none', minFreeGb: 0, cpus: 1, memoryMb: 1024, ...o.docker },
    tracks: [
      {
        concurrency: 1,
        limits: { maxTurns: 10 },
        agentEnv: { CLAUDE_CODE_MAX_RETRIES: '0' },
        suite: { dataset: { kind: 'file', path: o.datasetPath }, harness: { kind: 'local', path: o.harnessPath }, ids: [...o.ids] },
        ...o.track,
      },
    ],
  };
}

/** Reads a file of the fixture tree (e.g. for a test that needs the buggy source). */
export function readFixtureFile(rel: string): Promise<string> {
  return readFile(path.join(FIXTURES_DIR, rel), 'utf8');
}
