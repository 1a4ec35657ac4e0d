import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, prettyByDefault } from '../../src/adapters/log.ts';

const saved = { stdout: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'), stderr: Object.getOwnPropertyDescriptor(process.stderr, 'isTTY') };

function setTTY(stream: NodeJS.WriteStream, value: boolean): void {
  Object.defineProperty(stream, 'isTTY', { value, configurable: true, writable: true });
}

afterEach(() => {
  for (const [name, d] of Object.entries(saved)) {
    const stream = process[name as 'stdout' | 'stderr'];
    if (d) Object.defineProperty(stream, 'isTTY', d);
    else delete (stream as { isTTY?: boolean }).isTTY;
  }
});

describe('logger', () => {
  it('is pretty by default when stderr, where logs go, is a terminal, whatever stdout is', () => {
    setTTY(process.stdout, false);
    setTTY(process.stderr, true);
    expect(prettyByDefault()).toBe(true);
    setTTY(process.stdout, true);
    setTTY(process.stderr, false);
    expect(prettyByDefault()).toBe(false);
    expect(prettyByDefault({ isTTY: true })).toBe(true);
    expect(prettyByDefault({})).toBe(false);
  });

  it('writes JSON lines to fd 2, not a pretty transport, when only stdout is a terminal', () => {
    setTTY(process.stdout, true);
    setTTY(process.stderr, false);
    const log = createLogger('info');
    const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { fd?: number; constructor: { name: string } };
    expect(stream.constructor.name).toBe('SonicBoom');
    expect(stream.fd).toBe(2);
  });
});
