/**
 * The one validated description of the daemon: a zod schema for agentdrift.yaml with every default in one place.
 * Pure: no file or environment access here (see load.ts).
 */
import cron from 'node-cron';
import { z } from 'zod';
import {
  DEFAULT_DATASET_NAME,
  DEFAULT_DATASET_REVISION,
  DEFAULT_HARNESS_COMMIT,
  DEFAULT_HARNESS_REPO,
  DEFAULT_HUB_BASE_URL,
  DEFAULT_IMAGE_REPOSITORY,
  DEFAULT_RAW_BASE_URL,
  DEFAULT_TEST_SPLIT_PATH,
} from '../dataset/sources.ts';

/**
 * Names that look like credentials: refused as agentEnv keys here, and load.ts never shows the value of a config key
 * named like this in an error. The one definition of that pattern.
 */
export const CREDENTIAL_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 instant such as 2026-01-31T00:00:00Z' });

const cronExpression = z.string().superRefine((value, ctx) => {
  const check = cron.validateDetailed(value);
  if (!check.valid) {
    const why = check.errors.map((e) => e.message).join('; ');
    ctx.addIssue({ code: 'custom', message: `expected a cron expression (minute hour day month weekday): ${why}` });
  }
});

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as UTC or Europe/Paris' },
);

export const baselineSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('auto'),
    /** The track's first N finished days become the reference period. */
    days: z.number().int().min(1).max(365).default(14),
  }),
  // 0 < p0 < 1, as everywhere a fixed baseline is set (P0_RULE in src/core/baselines/baseline.ts).
  z.strictObject({ kind: z.literal('fixed'), p0: z.number().gt(0).lt(1) }),
  z.strictObject({ kind: z.literal('reference'), from: isoInstant, to: isoInstant }).superRefine((b, ctx) => {
    // A reversed or empty period would never hold data, leaving the track without a baseline and without a word.
    if (Date.parse(b.from) >= Date.parse(b.to)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `expected an instant after from (${JSON.stringify(b.from)}): the reference period runs from "from" to "to"` });
    }
  }),
]);

export const datasetSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('hub'),
    baseUrl: z.url().default(DEFAULT_HUB_BASE_URL),
    name: z.string().default(DEFAULT_DATASET_NAME),
    revision: z.string().min(1).default(DEFAULT_DATASET_REVISION),
    split: z.literal('test').default('test'),
    /** Path of the split's parquet file in the dataset repository. */
    path: z.string().min(1).default(DEFAULT_TEST_SPLIT_PATH),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
]);

export const harnessSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('remote'),
    baseUrl: z.url().default(DEFAULT_RAW_BASE_URL),
    repo: z.string().default(DEFAULT_HARNESS_REPO),
    commit: z.string().regex(/^[0-9a-f]{40}$/).default(DEFAULT_HARNESS_COMMIT),
  }),
  z.strictObject({ kind: z.literal('local'), path: z.string().min(1) }),
]);

export const suiteSchema = z.strictObject({
  dataset: datasetSchema.default(() => datasetSchema.parse({ kind: 'hub' })),
  harness: harnessSchema.default(() => harnessSchema.parse({ kind: 'remote' })),
  /** Number of tasks sampled (stratified by repository) when `ids` is empty. */
  size: z.number().int().min(1).max(10_000).default(50),
  seed: z.number().int().default(1),
  ids: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default([]),
});

export const trackSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, { message: 'expected lower-case letters, digits, "_" or "-"' }).max(64),
  agent: z.literal('claude-code').default('claude-code'),
  /** Model passed to the agent's --model; the model the agent reports is what gets recorded. */
  model: z.string().min(1).default('sonnet'),
  limits: z
    .strictObject({
      timeoutSeconds: z.number().int().min(1).default(3600),
      maxTurns: z.number().int().min(1).default(250),
      maxBudgetUsd: z.number().positive().default(10),
    })
    .prefault({}),
  suite: suiteSchema.prefault({}),
  samplesPerTask: z.number().int().min(1).max(100).default(1),
  schedule: z
    .strictObject({
      cron: cronExpression.default('0 3 * * *'),
      timezone: timeZone.default('UTC'),
      catchUp: z.boolean().default(true),
    })
    .prefault({}),
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Extra environment for the agent CLI (e.g. CLAUDE_CODE_MAX_RETRIES); never credentials, which come from secrets. */
  agentEnv: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' }), z.string())
    .default({})
    .superRefine((env, ctx) => {
      for (const k of Object.keys(env)) {
        if (CREDENTIAL_NAME.test(k) || k.startsWith('ANTHROPIC_') || k.startsWith('AWS_')) {
          ctx.addIssue({ code: 'custom', path: [k], message: 'expected no credentials here: set them in the daemon\'s environment' });
        }
      }
    }),
  baseline: baselineSchema.default({ kind: 'auto', days: 14 }),
  budget: z
    .strictObject({
      dailyUsd: z.number().positive().optional(),
      perAttemptUsd: z.number().positive().optional(),
    })
    .prefault({}),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(9477),
        /** Bearer token for mutating routes. Prefer the AGENTDRIFT_API_TOKEN environment variable. */
        apiToken: z.string().min(16, { message: 'expected a token of at least 16 characters' }).optional(),
        shutdownGraceSeconds: z.number().min(0).default(30),
      })
      .prefault({}),
    dataDir: z.string().min(1).default('./data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    statistics: z
      .strictObject({
        /** Confidence of the Wilson intervals. */
        confidence: z.number().gt(0).lt(1).default(0.95),
        /** Family-wise level of the Holm-corrected window tests. */
        alpha: z.number().gt(0).lt(1).default(0.01),
        cusumOddsRatio: z.number().gt(0).lt(1).default(0.67),
        cusumHorizonDays: z.number().int().min(1).default(365),
        usageRatioThreshold: z.number().gt(1).default(1.25),
        /**
         * Practical threshold of the behaviour tests (reads before the first edit, thinking, ...), either way: a window
         * is flagged only when its shifted ratio is >= this or <= 1/this (docs/statistics.md "Behaviour").
         */
        behaviourRatioThreshold: z.number().gt(1).default(1.25),
        /**
         * Practical threshold of the graded-score and p2p-breakage tests, in share points (0.05: five tests in a hundred
         * on the mean task): a window is flagged only when its mean per-task change is at least this the bad way
         * (docs/statistics.md "Per-test results").
         */
        gradedShareThreshold: z.number().gt(0).lt(1).default(0.05),
        /** When a task counts as flipped (src/core/figures/tasks.ts, docs/statistics.md "Per-task history"). */
        flips: z
          .strictObject({
            /** Reliably solved in the reference: pass rate at least this... */
            solvedRate: z.number().gt(0).max(1).default(0.8),
            /** ...reliably failing: at most this. */
            failingRate: z.number().min(0).lt(1).default(0.2),
            /** Counted trials of the task the reference must hold. */
            minReferenceTrials: z.number().int().min(1).default(5),
            /** Counted attempts of the task the window must hold, all failed (or all resolved). */
            minWindowAttempts: z.number().int().min(1).default(2),
          })
          .superRefine((f, ctx) => {
            if (f.failingRate >= f.solvedRate) {
              ctx.addIssue({ code: 'custom', path: ['failingRate'], message: `expected less than solvedRate (${f.solvedRate}): a task cannot be reliably solved and reliably failing at once` });
            }
          })
          .prefault({}),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        /** The agentdrift_task_* series (one per task of the track, docs/metrics.md); false leaves them all out. */
        perTaskSeries: z.boolean().default(true),
        /** A track with more tasks than this gets no agentdrift_task_* series (said once in the log): a cardinality cap. */
        perTaskMaxTasks: z.number().int().min(1).max(100_000).default(1000),
      })
      .prefault({}),
    anthropic: z
      .strictObject({
        /** ANTHROPIC_BASE_URL for the agent (a gateway); the environment variable of that name wins. */
        baseUrl: z.url().optional(),
      })
      .prefault({}),
    docker: z
      .strictObject({
        socketPath: z.string().default('/var/run/docker.sock'),
        imageRepository: z.string().default(DEFAULT_IMAGE_REPOSITORY),
        pull: z.boolean().default(true),
        /**
         * Image policy: `keep` the suite's images between runs, or `remove-after-use` (each task image is removed once
         * its attempt ends, and pulled again next time: for small disks). Needs `pull`.
         */
        images: z.enum(['keep', 'remove-after-use']).default('keep'),
        /** Remove images agentdrift pulled that no configured track's suite uses any more (at daemon start and after each run). */
        removeUnusedImages: z.boolean().default(true),
        /** Free space (GB) the data root must keep beside the images a run still has to pull; a run that would not fit fails at once. */
        minFreeGb: z.number().min(0).max(100_000).default(10),
        /** Disk size (GB) assumed for a task image not present yet; default: the mean size of the suite's present images, else 4. */
        imageSizeGb: z.number().positive().max(10_000).optional(),
        networkMode: z.string().default('bridge'),
        // Of the grading container: the official harness grants network unless asked to block it (a run_script.sh
        // may install packages), so the default is the same; 'none' isolates grading from the network.
        gradingNetworkMode: z.string().default('bridge'),
        cpus: z.number().positive().default(2),
        memoryMb: z.number().int().positive().default(8192),
        pidsLimit: z.number().int().positive().default(4096),
        infraRetries: z.number().int().min(0).max(10).default(2),
        gradingTimeoutSeconds: z.number().int().min(1).default(3600),
        // Deadlines of the engine's own work: one API call, and one archive copy (or an image pull without progress).
        engineTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
        transferTimeoutSeconds: z.number().int().min(1).max(86_400).default(900),
      })
      .superRefine((d, ctx) => {
        if (d.images === 'remove-after-use' && !d.pull) {
          ctx.addIssue({ code: 'custom', path: ['images'], message: 'expected "keep" while docker.pull is false: a removed image could not be pulled again' });
        }
      })
      .prefault({}),
    tracks: z
      .array(trackSchema)
      .min(1, { message: 'expected at least one track' })
      .default([trackSchema.parse({ name: 'claude-code' })])
      .superRefine((tracks, ctx) => {
        const seen = new Set<string>();
        tracks.forEach((t, i) => {
          if (seen.has(t.name)) {
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `expected a unique track name; "${t.name}" repeats` });
          }
          seen.add(t.name);
        });
      }),
  });

export type Config = z.infer<typeof configSchema>;
export type TrackConfig = z.infer<typeof trackSchema>;
export type BaselineConfig = z.infer<typeof baselineSchema>;
export type SuiteConfig = z.infer<typeof suiteSchema>;

/** Secrets live beside the config, never inside what is logged, stored or served. */
export interface Secrets {
  apiToken?: string;
  anthropicApiKey?: string;
  claudeOauthToken?: string;
  /** CLAUDE_CODE_USE_BEDROCK=1 with AWS_REGION and AWS credentials from the environment. */
  bedrock?: { region: string; accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; bearerToken?: string; profile?: string };
  /** CLAUDE_CODE_USE_VERTEX=1 with ANTHROPIC_VERTEX_PROJECT_ID and CLOUD_ML_REGION from the environment. */
  vertex?: { projectId: string; region: string };
}
