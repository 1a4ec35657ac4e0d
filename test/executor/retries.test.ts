import { describe, expect, it } from 'vitest';
import { InfraError, withInfraRetries } from '../../src/executor/runtime.ts';

describe('withInfraRetries', () => {
  it('retries an InfraError up to `retries` more times, with onRetry and the delay told the retry number, then throws the last one', async () => {
    const seen: number[] = [];
    const retried: [string, number][] = [];
    const delays: number[] = [];
    const e = await withInfraRetries(
      async (attempt) => {
        seen.push(attempt);
        throw new InfraError('engine_down', `down ${attempt}`);
      },
      2,
      { delayMs: (n) => (delays.push(n), 0), onRetry: (err, n) => retried.push([err.message, n]) },
    ).catch((x: unknown) => x);
    expect(seen).toEqual([0, 1, 2]);
    expect(retried).toEqual([['down 0', 1], ['down 1', 2]]);
    expect(delays).toEqual([1, 2]);
    expect((e as InfraError).message).toBe('down 2');
  });

  it('returns the first success and passes the 0-based attempt number', async () => {
    const got = await withInfraRetries(async (attempt) => {
      if (attempt < 1) throw new InfraError('create_failed', 'once');
      return attempt;
    }, 3, { delayMs: () => 0 });
    expect(got).toBe(1);
  });

  it('throws any other error at once, as it was thrown (an Error or not)', async () => {
    const boom = new TypeError('boom');
    let calls = 0;
    await expect(withInfraRetries(async () => { calls++; throw boom; }, 3, { delayMs: () => 0 })).rejects.toBe(boom);
    expect(calls).toBe(1);
    await expect(withInfraRetries(async () => { throw 'text'; }, 3, { delayMs: () => 0 })).rejects.toBe('text');
  });

  it('with no retries the first InfraError is thrown and onRetry is never called', async () => {
    const first = new InfraError('image_missing', 'missing');
    let retried = 0;
    await expect(withInfraRetries(async () => { throw first; }, 0, { onRetry: () => retried++ })).rejects.toBe(first);
    expect(retried).toBe(0);
  });

  it('an error thrown by onRetry ends the retries with that error', async () => {
    const stop = new Error('stop');
    let calls = 0;
    const e = await withInfraRetries(async () => { calls++; throw new InfraError('engine_down', 'down'); }, 3, {
      delayMs: () => 0,
      onRetry: () => { throw stop; },
    }).catch((x: unknown) => x);
    expect(e).toBe(stop);
    expect(calls).toBe(1);
  });
});
