/**
 * The one retry loop (p-retry) the rooms share: the executor's infrastructure retries and the dataset's HTTP retries
 * differ only in which failures they retry and what they do before a retry.
 */
import pRetry, { AbortError } from 'p-retry';

/**
 * Runs `fn` (given the 0-based attempt number), retrying it up to `retries` more times while `retryable` says so of
 * its failure; `beforeRetry(error, n)` runs, and may wait, before retry n (1-based). Any other failure is thrown at
 * once, as it was thrown (p-retry would wrap a thrown non-Error); after the last retry the last failure is thrown.
 */
export async function retryWhile<T>(
  fn: (attempt: number) => Promise<T>,
  retries: number,
  retryable: (e: unknown) => boolean,
  beforeRetry: (error: unknown, retry: number) => Promise<void> | void = () => undefined,
): Promise<T> {
  let fatal: { error: unknown } | undefined;
  try {
    return await pRetry(
      async (n) => {
        try {
          return await fn(n - 1);
        } catch (e) {
          if (!retryable(e)) {
            fatal = { error: e };
            throw new AbortError('not retried');
          }
          throw e;
        }
      },
      {
        retries: Math.max(0, retries),
        // Its own backoff is off: beforeRetry does the waiting.
        minTimeout: 0,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) await beforeRetry(error, attemptNumber);
        },
      },
    );
  } catch (e) {
    throw fatal ? fatal.error : e;
  }
}
