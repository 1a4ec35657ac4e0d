/**
 * Test helpers for the real Docker Engine: a runtime, a tiny busybox image built locally (no registry), labels that
 * keep one test file's containers apart from every other file's (tests run in parallel, other rooms' tests too).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { LABEL_MANAGED, LABEL_TRACK } from '../../src/executor/runtime.ts';

export const BUSYBOX_REPOSITORY = 'agentdrift-test-busybox';
const BUSYBOX_PATH = '/bin/busybox';

export function dockerClient(): Docker {
  return new Docker();
}

export function dockerRuntime(): DockerRuntime {
  return new DockerRuntime();
}

/**
 * Labels unique to one test file (or test): a test that cleans up by label never touches anybody else's containers.
 * `agentdrift.managed=true` is included like on every agentdrift container.
 */
export function testLabels(scope: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_TRACK]: `test-${scope}-${randomUUID().slice(0, 8)}` };
}

/** Force-removes the containers carrying all of `labels` (end of a test file). */
export async function removeLabelled(labels: Record<string, string>): Promise<void> {
  await dockerRuntime().removeLeftovers(labels);
}

/** The container's engine-side description (HostConfig, State, Config.Labels ...), or null when it is gone. */
export async function inspectContainer(id: string): Promise<Docker.ContainerInspectInfo | null> {
  try {
    return await dockerClient().getContainer(id).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}

let busybox: Promise<string> | undefined;

/**
 * An image holding only the host's static busybox with every applet linked into /bin (imports in well under a
 * second). Needs Debian's `busybox-static` (scripts/test-all.sh installs it). Tagged by the binary's size and mtime.
 */
export function ensureBusyboxImage(): Promise<string> {
  busybox ??= buildBusyboxImage();
  return busybox;
}

async function buildBusyboxImage(): Promise<string> {
  const st = statSync(BUSYBOX_PATH);
  const ref = `${BUSYBOX_REPOSITORY}:${st.size}-${Math.floor(st.mtimeMs)}`;
  const docker = dockerClient();
  try {
    await docker.getImage(ref).inspect();
    return ref;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
  const applets = execFileSync(BUSYBOX_PATH, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9._[-]+$/.test(s) && s !== 'busybox');
  const pack = tar.pack();
  const mtime = new Date(0);
  const dir = (name: string, mode = 0o755) => pack.entry({ name, type: 'directory', mode, mtime });
  dir('bin');
  dir('tmp', 0o1777);
  dir('etc');
  dir('root', 0o700);
  pack.entry({ name: 'etc/passwd', mode: 0o644, mtime }, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  pack.entry({ name: 'etc/group', mode: 0o644, mtime }, 'root:x:0:\nnogroup:x:65534:\n');
  pack.entry({ name: 'bin/busybox', mode: 0o755, mtime }, readFileSync(BUSYBOX_PATH));
  for (const a of applets) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime });
  pack.finalize();
  const [repo, tag] = ref.split(':') as [string, string];
  const stream = await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo, tag });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const bad = err ?? out.find((o) => o.error);
      if (bad) reject(err ?? new Error(String((bad as { error?: string }).error)));
      else resolve();
    }),
  );
  return ref;
}
