/**
 * The optional `behaviour` object of an imported attempt (docs/import-format.md): what the agent did, as
 * domain/behaviour.ts declares it and `agentdrift export` writes it. Every field is required when the object is
 * there (a missing count would read as 0 and bias the means); readsBeforeFirstEdit and the patch fields may be null.
 */
import { z } from 'zod';
import { TOOL_LABELS } from '../../domain/behaviour.ts';

/** The range of each imported behaviour figure: far above any real attempt, so no sum leaves the range of a double. */
export const BEHAVIOUR_IMPORT_LIMITS = {
  /** Tool calls of one tool, reads, edits, thinking blocks, API retries and errors, patch files. */
  count: 1_000_000,
  /** Thinking characters of one attempt. */
  thinkingChars: 1_000_000_000,
  /** Thinking tokens (the CLI's estimate) of one attempt. */
  thinkingTokens: 10_000_000_000,
  /** Lines a patch adds, and lines it removes. */
  patchLines: 100_000_000,
} as const;

function bounded(max: number, what: string) {
  const message = `out of range: expected an integer in 0..${max} (${what})`;
  return z.number({ message: `expected an integer in 0..${max} (${what})` }).int({ message }).min(0, { message }).max(max, { message });
}

const count = bounded(BEHAVIOUR_IMPORT_LIMITS.count, 'a count per attempt');
const patchLines = bounded(BEHAVIOUR_IMPORT_LIMITS.patchLines, 'patch lines');
const LABELS: ReadonlySet<string> = new Set(TOOL_LABELS);

export const behaviourSchema = z
  .strictObject({
    toolCalls: z.record(z.string(), count).superRefine((calls, ctx) => {
      for (const k of Object.keys(calls)) {
        if (!LABELS.has(k)) {
          ctx.addIssue({ code: 'custom', path: [k], message: `unknown tool label ${JSON.stringify(k)}: expected one of ${TOOL_LABELS.join(', ')} (count any other tool under "other")` });
        }
      }
    }),
    fileReads: count,
    readsBeforeFirstEdit: count.nullable(),
    fileEdits: count,
    thinkingChars: bounded(BEHAVIOUR_IMPORT_LIMITS.thinkingChars, 'thinking characters'),
    thinkingBlocks: count,
    thinkingTokens: bounded(BEHAVIOUR_IMPORT_LIMITS.thinkingTokens, 'thinking tokens'),
    apiRetries: count,
    apiErrors: count,
    patchFiles: count.nullable(),
    patchLinesAdded: patchLines.nullable(),
    patchLinesRemoved: patchLines.nullable(),
  })
  .superRefine((b, ctx) => {
    if (b.readsBeforeFirstEdit !== null && b.readsBeforeFirstEdit > b.fileReads) {
      ctx.addIssue({ code: 'custom', path: ['readsBeforeFirstEdit'], message: `expected at most fileReads (${b.fileReads}): reads before the first edit are some of the reads` });
    }
    if ((b.readsBeforeFirstEdit === null) !== (b.fileEdits === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['readsBeforeFirstEdit'],
        message: b.fileEdits === 0 ? 'expected null: fileEdits is 0, so there was no first edit' : `expected a count: fileEdits is ${b.fileEdits}, so there was a first edit`,
      });
    }
    const patch = [b.patchFiles, b.patchLinesAdded, b.patchLinesRemoved];
    if (patch.some((v) => v === null) && patch.some((v) => v !== null)) {
      ctx.addIssue({ code: 'custom', path: ['patchFiles'], message: 'expected patchFiles, patchLinesAdded and patchLinesRemoved all null (no patch) or all counts' });
    }
  });
