/**
 * Bearer-token guard for mutating routes, run as their onRequest hook (app.ts), so a request without the token is
 * refused before its body is read or parsed. The token is compared in constant time (over SHA-256 digests, so the
 * comparison does not depend on the length either) and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

export function bearerGuard(expected: string | undefined) {
  return async function requireToken(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const refuse = (): FastifyReply => {
      // The body of a refused request is never read: close the connection after the answer rather than read the
      // rest off the socket to keep it alive.
      const hasBody = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
      if (hasBody) reply.header('connection', 'close');
      return reply.code(401);
    };
    if (!expected) {
      return refuse().send({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'this daemon has no API token configured: set AGENTDRIFT_API_TOKEN (or server.apiToken) to use mutating routes',
      });
    }
    if (!m || !tokenMatches(expected, m[1] as string)) {
      return refuse()
        .header('www-authenticate', 'Bearer realm="agentdrift"')
        .send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong bearer token' });
    }
  };
}
