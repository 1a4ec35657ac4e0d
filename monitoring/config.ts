/**
 * The monitoring configuration: the few settings the shipped Prometheus rules and Grafana dashboards are generated
 * from (`npm run monitoring:build`, monitoring/build.ts), in the manner of a monitoring mixin. Every key is optional;
 * the defaults generate exactly the committed files. Override them with a JSON or YAML file:
 * `npm run monitoring:build -- --config my.json --out build/` (docs/monitoring.md).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The alerts of the generated rules, in file order: the keys of `for`. */
export const ALERT_NAMES = [
  'AgentDriftPassRateRegression',
  'AgentDriftPassRateDrop',
  'AgentDriftUsageRegression',
  'AgentDriftBehaviourChange',
  'AgentDriftRunMissed',
  'AgentDriftInfraErrors',
  'AgentDriftDown',
  'AgentDriftDockerDown',
  'AgentDriftDiskLow',
  'AgentDriftNoAgentCredentials',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

const DEFAULT_FOR: Record<AlertName, string> = {
  AgentDriftPassRateRegression: '5m',
  AgentDriftPassRateDrop: '5m',
  AgentDriftUsageRegression: '5m',
  AgentDriftBehaviourChange: '5m',
  AgentDriftRunMissed: '5m',
  AgentDriftInfraErrors: '5m',
  AgentDriftDown: '5m',
  AgentDriftDockerDown: '5m',
  AgentDriftDiskLow: '15m',
  AgentDriftNoAgentCredentials: '5m',
};

// A PromQL label matcher on one line: name, operator, double-quoted value (backslash escapes allowed).
const MATCHER = String.raw`[ \t]*[a-zA-Z_][a-zA-Z0-9_]*[ \t]*(?:=~|!~|!=|=)[ \t]*"(?:[^"\\\n]|\\[^\n])*"[ \t]*`;
const SELECTOR = new RegExp(`^${MATCHER}(?:,${MATCHER})*$`);
/** A Prometheus duration (5m, 1h30m, 90s); positive. */
const PROM_DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;

const noTemplate = (s: string) => !s.includes('{{') && !s.includes('}}');

const duration = () =>
  z
    .string({ error: 'a Prometheus duration such as "5m" or "1h30m"' })
    .regex(PROM_DURATION, { error: 'a Prometheus duration such as "5m" or "1h30m" (units ms, s, m, h, d, w, y)' })
    .refine((s) => /[1-9]/.test(s), { error: 'a duration longer than 0 (an alert that fires on one evaluation pages on noise)' });

const forSchema = z
  .object(Object.fromEntries(ALERT_NAMES.map((a) => [a, duration().default(DEFAULT_FOR[a])])) as {
    [K in AlertName]: z.ZodDefault<ReturnType<typeof duration>>;
  })
  .strict()
  .prefault({});

export const monitoringConfigSchema = z
  .object({
    /**
     * Label matchers (without braces) selecting agentdrift's scrape target(s): `AgentDriftDown` watches `up{<this>}`.
     * Match the `job_name` of your scrape config.
     */
    jobSelector: z
      .string({ error: 'label matchers such as job="agentdrift"' })
      .regex(SELECTOR, { error: 'label matchers without braces, such as job="agentdrift" or job=~"agentdrift|agentdrift-eu",cluster="ops"' })
      .refine(noTemplate, { error: 'no {{ or }} (alert templates would expand them)' })
      .default('job="agentdrift"'),
    /**
     * Where docs/runbooks.md is served: every alert's runbook_url is this plus `#<alert name in lower case>`. The
     * default is the path inside the repository; set it to the page's address where you host the docs.
     */
    runbookBaseUrl: z
      .string({ error: 'a URL or path such as https://git.example.org/ops/agentdrift/-/blob/main/docs/runbooks.md' })
      .min(1, { error: 'a URL or path, not an empty string' })
      .regex(/^[^\s#'"<>]+$/, { error: 'a URL or path without spaces, quotes, <, > or a #fragment (the alert name is appended as #anchor)' })
      .refine(noTemplate, { error: 'no {{ or }} (alert templates would expand them)' })
      .default('docs/runbooks.md'),
    /** Constants the alerts compare with, recorded as `agentdrift:threshold:*` series (the dashboard draws them). */
    thresholds: z
      .object({
        /** AgentDriftInfraErrors fires above this share of infra errors among the attempts of the 1d window. */
        infraErrorRatio: z
          .number({ error: 'a share between 0 and 1, such as 0.2' })
          .gt(0, { error: 'a share above 0 (0 would warn on a single infra error)' })
          .lt(1, { error: 'a share below 1 (1 could never be exceeded)' })
          .default(0.2),
        /** AgentDriftRunMissed allows the schedule period plus this many seconds between completed runs. */
        runMissedMarginSeconds: z
          .number({ error: 'a number of seconds, such as 21600 (6 h)' })
          .int({ error: 'a whole number of seconds' })
          .min(0, { error: 'a number of seconds, 0 or more' })
          .default(21600),
      })
      .strict()
      .prefault({}),
    /** `for:` of each alert: how long its condition must hold before it fires. */
    for: forSchema,
    /** `keep_firing_for:` of the regression alerts (pass rate, window drop, usage, behaviour) (they keep firing across an outage of agentdrift). */
    keepFiringFor: duration().default('1h'),
    /** Settings of the generated Grafana dashboards. */
    dashboards: z
      .object({
        refresh: z
          .string({ error: 'a Grafana refresh interval such as "5m"' })
          .regex(/^\d+[smhd]$/, { error: 'a Grafana refresh interval such as "30s", "5m" or "1h"' })
          .default('5m'),
        time: z
          .object({
            from: z
              .string({ error: 'a relative Grafana time such as "now-30d"' })
              .regex(/^now(?:-\d+[smhdwMy])?(?:\/[smhdwMy])?$/, { error: 'a relative Grafana time such as "now-30d" or "now-7d/d"' })
              .default('now-30d'),
            to: z
              .string({ error: 'a relative Grafana time such as "now"' })
              .regex(/^now(?:-\d+[smhdwMy])?(?:\/[smhdwMy])?$/, { error: 'a relative Grafana time such as "now" or "now/d"' })
              .default('now'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type MonitoringConfig = z.output<typeof monitoringConfigSchema>;
export type MonitoringConfigInput = z.input<typeof monitoringConfigSchema>;
export type DashboardSettings = MonitoringConfig['dashboards'];

export class MonitoringConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'MonitoringConfigError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Validates a monitoring configuration (all keys optional) and fills in the defaults; `where` names it in errors. */
export function parseMonitoringConfig(raw: unknown, where = 'the monitoring configuration'): MonitoringConfig {
  const r = monitoringConfigSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const key = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      const known = i.path.length === 0 ? Object.keys(monitoringConfigSchema.shape) : [];
      const keys = i.keys.map((k) => (key ? `${key}.${k}` : k)).join(', ');
      return `${keys}: unknown key${i.keys.length > 1 ? 's' : ''}${known.length ? ` (known: ${known.join(', ')})` : ''}`;
    }
    // zod's own wording for a wrong type ("Invalid input: expected object, received number") becomes "a object".
    const expected = i.code === 'invalid_type' && i.message.startsWith('Invalid input') ? `a ${i.expected}` : i.message;
    return `${key || '(top level)'}: got ${describe(at(raw, i.path))}; expected ${expected}`;
  });
  throw new MonitoringConfigError(`${where} is invalid`, problems);
}

/** Reads a monitoring configuration from a JSON file, or YAML when it ends in .yml or .yaml. */
export function loadMonitoringConfig(file: string): MonitoringConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MonitoringConfigError(`cannot read the monitoring configuration ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new MonitoringConfigError(`${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  return parseMonitoringConfig(raw, file);
}

/** The configuration the committed files are generated from. */
export const DEFAULT_MONITORING_CONFIG: MonitoringConfig = parseMonitoringConfig({});
