/**
 * pino logging to stderr: JSON lines, pretty only when stderr is a terminal; secrets redacted wherever they might appear.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiToken',
  '*.apiToken',
  'secrets',
  '*.secrets',
  'env.ANTHROPIC_API_KEY',
  'env.CLAUDE_CODE_OAUTH_TOKEN',
  'env.GEMINI_API_KEY',
  'env.GOOGLE_API_KEY',
];

/** Pretty output only when the stream the logs go to, stderr, is a terminal (stdout may be piped, or the reverse). */
export function prettyByDefault(stderr: { isTTY?: boolean } = process.stderr): boolean {
  return Boolean(stderr.isTTY);
}

export function createLogger(level: string, opts: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? prettyByDefault();
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } });
  return pino(base, pino.destination(2));
}
