/**
 * The shipped Prometheus rules and config, checked with the real promtool: syntax, the promtool unit tests, and
 * mutants of the rules that those unit tests must catch. Plus what every alert must carry (severity, summary,
 * description, a runbook_url whose anchor exists) and the documented thresholds.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../helpers/prometheus.ts';
import { markdownAnchors, readRepo, run, shippedRules } from './tools.ts';

const RULES = 'prometheus/rules/agentdrift.rules.yml';
const TEST_FILES = readdirSync(join(REPO, 'prometheus/tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .sort();

const REQUIRED: Record<string, string> = {
  AgentDriftPassRateRegression: 'critical',
  AgentDriftPassRateDrop: 'warning',
  AgentDriftUsageRegression: 'warning',
  AgentDriftBehaviourChange: 'warning',
  AgentDriftRunMissed: 'warning',
  AgentDriftInfraErrors: 'warning',
  AgentDriftDown: 'critical',
  AgentDriftDockerDown: 'critical',
  AgentDriftDiskLow: 'warning',
  AgentDriftNoAgentCredentials: 'warning',
};

describe('promtool', () => {
  it('check rules accepts the shipped rules', () => {
    const r = run('promtool', ['check', 'rules', RULES]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
  });

  it('check config accepts the example prometheus.yml and the rule file it references', () => {
    const r = run('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('agentdrift.rules.yml');
  });

  it('check config rejects a broken config (the check is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-promcfg-'));
    try {
      writeFileSync(join(dir, 'p.yml'), 'scrape_configs:\n  - job_name: agentdrift\n    scrape_interval: soon\n');
      expect(run('promtool', ['check', 'config', join(dir, 'p.yml')]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('there are unit test files', () => {
    expect(TEST_FILES).toEqual(expect.arrayContaining(['disk.test.yml', 'noise.test.yml', 'operations.test.yml', 'regression.test.yml']));
  });

  it.each(TEST_FILES)('test rules passes prometheus/tests/%s', (file) => {
    const r = run('promtool', ['test', 'rules', file], { cwd: join(REPO, 'prometheus/tests') });
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
  });
});

describe('the promtool unit tests cover every alert', () => {
  const cases = TEST_FILES.flatMap((f) => {
    const doc = parse(readRepo(`prometheus/tests/${f}`)) as {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    expect(doc.rule_files).toEqual(['../rules/agentdrift.rules.yml']);
    return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
  });

  it.each(Object.keys(REQUIRED))('%s: firing and not firing', (name) => {
    expect(cases.some((c) => c.alertname === name && c.exp_alerts.length > 0), `${name} never expected to fire`).toBe(true);
    expect(cases.some((c) => c.alertname === name && c.exp_alerts.length === 0), `${name} never expected to stay quiet`).toBe(true);
  });
});

describe('every alert', () => {
  const { alerts } = shippedRules();
  const anchors = markdownAnchors(readRepo('docs/runbooks.md'));

  it('is one of the required alerts, and every required alert exists with its severity', () => {
    expect(Object.fromEntries(alerts.map((a) => [a.alert, a.labels?.severity]))).toEqual(REQUIRED);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has summary, description and a runbook_url into docs/runbooks.md', (name, a) => {
    expect(a.annotations?.summary).toBeTruthy();
    expect(a.annotations?.description).toBeTruthy();
    expect(a.annotations?.runbook_url).toBe(`docs/runbooks.md#${name.toLowerCase()}`);
    expect(anchors.has(name.toLowerCase()), `docs/runbooks.md has no heading for ${name}`).toBe(true);
    expect(a.for, `${name} fires on a single evaluation`).toMatch(/^\d+[smh]$/);
  });

  it('the regression alerts keep firing across an outage of agentdrift', () => {
    for (const name of ['AgentDriftPassRateRegression', 'AgentDriftPassRateDrop', 'AgentDriftUsageRegression', 'AgentDriftBehaviourChange']) {
      expect(alerts.find((a) => a.alert === name)?.keep_firing_for).toBe('1h');
    }
  });
});

describe('thresholds', () => {
  const { records } = shippedRules();
  const thresholds = records.filter((r) => r.record.startsWith('agentdrift:threshold:'));

  it('are constants, each documented in docs/monitoring.md with its value', () => {
    const monitoring = readRepo('docs/monitoring.md');
    expect(thresholds.map((t) => t.record).sort()).toEqual(['agentdrift:threshold:infra_error_ratio', 'agentdrift:threshold:run_missed_margin_seconds']);
    for (const t of thresholds) {
      const value = /^vector\(([\d.]+)\)$/.exec(t.expr.trim())?.[1];
      expect(value, `${t.record} is not a constant: ${t.expr}`).toBeDefined();
      const row = monitoring.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${t.record}\``));
      expect(row, `docs/monitoring.md has no table row for ${t.record}`).toBeDefined();
      expect(row).toContain(`\`${value}\``);
    }
  });

  it('appear nowhere else in the rules as literals', () => {
    const text = readRepo(RULES);
    const exprs = shippedRules().alerts.map((a) => a.expr).join('\n');
    for (const t of thresholds) {
      const value = /vector\(([\d.]+)\)/.exec(t.expr)?.[1] as string;
      expect(exprs.includes(value), `${value} of ${t.record} is repeated in an alert expression`).toBe(false);
      expect(text.includes(t.record)).toBe(true);
    }
  });
});

/**
 * Mutants of the shipped rules: each is a plausible mistake, and the named promtool test file must fail on it. A
 * mutant that survives means the unit tests do not pin that behaviour down.
 */
describe('the promtool unit tests catch broken rules', () => {
  const shipped = readRepo(RULES);
  const work = mkdtempSync(join(tmpdir(), 'agentdrift-mutants-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const mutants: { name: string; from: string; to: string; file: string }[] = [
    { name: 'PassRateDrop also on the 1d window', from: 'agentdrift_regression_significant{window=~"7d|30d"}', to: 'agentdrift_regression_significant', file: 'noise.test.yml' },
    { name: 'UsageRegression also on the 1d window', from: 'agentdrift_usage_regression_significant{window=~"7d|30d"}', to: 'agentdrift_usage_regression_significant', file: 'noise.test.yml' },
    { name: 'CUSUM paging without a ready baseline', from: '\n          and\n          (agentdrift_baseline_ready == 1)', to: '', file: 'regression.test.yml' },
    { name: 'CUSUM paging at 90% of its threshold', from: '(agentdrift_cusum_statistic > agentdrift_cusum_threshold)', to: '(agentdrift_cusum_statistic > 0.9 * agentdrift_cusum_threshold)', file: 'noise.test.yml' },
    { name: 'regression alerts resolve during an outage', from: 'keep_firing_for: 1h', to: 'keep_firing_for: 0s', file: 'regression.test.yml' },
    { name: 'infra error threshold at 50%', from: 'expr: vector(0.2)', to: 'expr: vector(0.5)', file: 'operations.test.yml' },
    { name: 'run-missed margin of 1 hour', from: 'expr: vector(21600)', to: 'expr: vector(3600)', file: 'operations.test.yml' },
    { name: 'AgentDriftDown blind to a missing target', from: ' or absent(up{job="agentdrift"})', to: '', file: 'operations.test.yml' },
    { name: 'disk alert against any engine\'s free space', from: '> on(job, instance) group_left() agentdrift_docker_data_root_free_bytes', to: '> on() group_left() max(agentdrift_docker_data_root_free_bytes)', file: 'disk.test.yml' },
    { name: 'disk alert at the first evaluation', from: 'for: 15m', to: 'for: 1m', file: 'disk.test.yml' },
    { name: 'credentials alert also when they are present', from: 'expr: agentdrift_agent_credentials_present == 0', to: 'expr: agentdrift_agent_credentials_present >= 0', file: 'credentials.test.yml' },
    { name: 'a track that never completed a run is never missed', from: '\n          or\n          (agentdrift_schedule_period_seconds * 0 + ignoring(track) group_left() process_start_time_seconds)', to: '', file: 'operations.test.yml' },
  ];

  it.each(mutants.map((m, i) => [m.name, m, i] as const))('mutant "%s" fails its unit tests', async (_name, m, i) => {
    const occurrences = shipped.split(m.from).length - 1;
    expect(occurrences, `mutant text not found once in the shipped rules: ${m.from}`).toBeGreaterThanOrEqual(1);
    const dir = join(work, String(i));
    mkdirSync(join(dir, 'rules'), { recursive: true });
    writeFileSync(join(dir, 'rules/agentdrift.rules.yml'), shipped.split(m.from).join(m.to));
    cpSync(join(REPO, 'prometheus/tests'), join(dir, 'tests'), { recursive: true });
    // The mutant must still be valid rules: a syntax error would "fail" for the wrong reason.
    expect(run('promtool', ['check', 'rules', join(dir, 'rules/agentdrift.rules.yml')]).status).toBe(0);
    const status = await new Promise<number | null>((res) => {
      const p = spawn('promtool', ['test', 'rules', m.file], { cwd: join(dir, 'tests'), stdio: 'ignore' });
      p.on('exit', (code) => res(code));
    });
    expect(status, `promtool test rules ${m.file} passed with the mutant "${m.name}"`).not.toBe(0);
  }, 60_000);
});
