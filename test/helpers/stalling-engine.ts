/**
 * A stuck Docker Engine, made from the real one: a proxy on a unix socket of its own that forwards every request to
 * the real engine's socket, except those `stall` picks, which it holds open and never answers (or, with
 * `mode: 'midway'`, answers with the real status and headers and then stops sending the body). The real engine cannot
 * be made to hang on purpose; this is the one stand-in the runtime's deadline tests need, and every other call of
 * the code under test still goes to the real engine.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

export interface StallRule {
  method?: string;
  /** Matched against the request path (after the API version prefix). */
  path: RegExp;
  /** 'silent': no answer at all (default); 'midway': the real answer's head, then nothing more. */
  mode?: 'silent' | 'midway';
}

export interface StallingEngine {
  socketPath: string;
  /** Requests held so far (method and path). */
  stalled: string[];
  close(): Promise<void>;
}

export async function stallingEngine(rules: StallRule[], realSocket = '/var/run/docker.sock'): Promise<StallingEngine> {
  const socketPath = `/tmp/agentdrift-stalling-${randomUUID().slice(0, 8)}.sock`;
  const stalled: string[] = [];
  const held = new Set<net.Socket>();
  const match = (req: http.IncomingMessage) => {
    const path = (req.url ?? '').replace(/^\/v\d+(\.\d+)?/, '');
    return rules.find((r) => (!r.method || r.method === req.method) && r.path.test(path));
  };
  const server = http.createServer((req, res) => {
    const rule = match(req);
    if (rule) stalled.push(`${req.method} ${req.url}`);
    if (rule && (rule.mode ?? 'silent') === 'silent') {
      held.add(req.socket);
      req.resume(); // read the body (an upload) and never answer
      return;
    }
    const upstream = http.request({ socketPath: realSocket, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (rule) {
        // 'midway': send the head and the first chunk, then hold the rest back forever.
        res.flushHeaders();
        held.add(req.socket);
        up.once('data', (chunk: Buffer) => res.write(chunk.subarray(0, Math.min(chunk.length, 1024))));
        return;
      }
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // exec start hijacks the connection (Upgrade: tcp): pass the raw bytes through both ways.
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(realSocket, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    stalled,
    close: async () => {
      for (const s of held) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}
