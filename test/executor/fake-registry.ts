/**
 * A minimal image registry (Docker Registry HTTP API v2, pull side only) served on 127.0.0.1, holding images built in
 * memory: enough for the engine to pull from it (it speaks plain HTTP to loopback registries). Counts requests.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface FakeRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Adds a one-layer image holding `files`; resolves with its reference `host/name:tag`. */
  addImage(name: string, tag: string, files: Record<string, string | Buffer>): Promise<string>;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeRegistry(): Promise<FakeRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://registry');
    const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
      const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
      res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Length': String(b.length), ...headers });
      res.end(req.method === 'HEAD' ? undefined : b);
    };
    if (url.pathname === '/v2/' || url.pathname === '/v2') return send(200, '{}', { 'Content-Type': 'application/json' });
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [, name, kind, ref] = m as unknown as [string, string, string, string];
      if (kind === 'manifests') {
        const manifest = manifests.get(`${name}:${ref}`) ?? [...manifests.entries()].find(([k, v]) => k.startsWith(`${name}:`) && sha256(v) === ref)?.[1];
        if (manifest) return send(200, manifest, { 'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': sha256(manifest) });
      } else {
        const blob = blobs.get(ref);
        if (blob) return send(200, blob, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': ref });
      }
    }
    send(404, JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'not found' }] }), { 'Content-Type': 'application/json' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    host,
    requests,
    async addImage(name, tag, files) {
      const layerTar = await tarOf(files);
      const layer = gzipSync(layerTar);
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['/nothing'] },
          rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
          history: [{ created: '2024-01-01T00:00:00Z', created_by: 'agentdrift fake registry' }],
        }),
      );
      blobs.set(sha256(layer), layer);
      blobs.set(sha256(config), config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST_TYPE,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
          layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
        }),
      );
      manifests.set(`${name}:${tag}`, manifest);
      return `${host}/${name}:${tag}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
