/**
 * The monitoring bundle is generated (monitoring/build.ts from monitoring/config.ts): the committed rules and
 * dashboards are byte for byte what `npm run monitoring:build` writes with the defaults, and a configuration file
 * changes exactly what it says (job selector, runbook base URL, thresholds, durations, dashboard time settings), as
 * real promtool checks and unit tests of the generated rules show.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generate, staleFiles } from '../../monitoring/build.ts';
import { ALERT_NAMES, DEFAULT_MONITORING_CONFIG, loadMonitoringConfig, parseMonitoringConfig } from '../../monitoring/config.ts';
import { renderRules, RULES_FILE } from '../../monitoring/rules.ts';
import { REPO } from '../helpers/prometheus.ts';
import { readRepo, run, type AlertRule, type RecordingRule } from './tools.ts';

const work = mkdtempSync(join(tmpdir(), 'agentdrift-monitoring-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FIXTURES = join(REPO, 'test/monitoring/fixtures');
const CUSTOM = join(FIXTURES, 'custom-config.json');

/** `npm run monitoring:build -- <args>`, the command users run. */
function build(...args: string[]) {
  return run('npm', ['run', '-s', 'monitoring:build', '--', ...args]);
}

function rulesOf(text: string): { alerts: AlertRule[]; records: RecordingRule[] } {
  const rules = (parse(text) as { groups: { rules: (AlertRule | RecordingRule)[] }[] }).groups.flatMap((g) => g.rules);
  return { alerts: rules.filter((r): r is AlertRule => 'alert' in r), records: rules.filter((r): r is RecordingRule => 'record' in r) };
}

describe('the committed monitoring files', () => {
  const out = join(work, 'defaults');
  const built = build('--out', out);
  const files = generate();

  it('npm run monitoring:build writes the rules and every dashboard', () => {
    expect(built.status, built.out).toBe(0);
    expect(files.map((f) => f.path)).toEqual([RULES_FILE, 'grafana/dashboards/agentdrift-overview.json', 'grafana/dashboards/agentdrift-diagnosis.json']);
  });

  it.each(files.map((f) => f.path))('%s is byte for byte what the generator writes', (path) => {
    const generated = readFileSync(join(out, path), 'utf8');
    const committed = readRepo(path);
    expect(committed === generated, `${path} differs from what the generator writes: run \`npm run monitoring:build\` and commit it`).toBe(true);
  });

  it('--check passes on the repository', () => {
    const r = build('--check');
    expect(r.status, r.out).toBe(0);
  });

  it('--check and staleFiles name a changed, a missing and an extra file, and the command to run', () => {
    const copy = join(work, 'stale');
    for (const f of files) {
      mkdirSync(join(copy, f.path, '..'), { recursive: true });
      cpSync(join(REPO, f.path), join(copy, f.path));
    }
    expect(staleFiles(copy, files)).toEqual([]);
    // One character of a threshold changed by hand in the rules.
    const rules = join(copy, RULES_FILE);
    writeFileSync(rules, readFileSync(rules, 'utf8').replace('expr: vector(0.2)', 'expr: vector(0.3)'));
    writeFileSync(join(copy, 'grafana/dashboards/old-name.json'), '{}\n');
    const r = build('--check', '--out', copy);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`${RULES_FILE} differs from what the generator writes: run \`npm run monitoring:build\``);
    expect(r.out).toContain('grafana/dashboards/old-name.json is not generated');
    rmSync(join(copy, 'grafana/dashboards/agentdrift-overview.json'));
    expect(staleFiles(copy, files)).toEqual([
      expect.stringContaining(`${RULES_FILE} differs`),
      'grafana/dashboards/agentdrift-overview.json is missing: run `npm run monitoring:build`',
      expect.stringContaining('grafana/dashboards/old-name.json is not generated'),
    ]);
  });

  it('npm run grafana:build is the same command', () => {
    const r = run('npm', ['run', '-s', 'grafana:build', '--', '--check']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('generated files');
  });
});

describe('the default configuration', () => {
  it('is the committed one: job="agentdrift", runbooks in docs/runbooks.md, the documented thresholds and for: durations', () => {
    const c = DEFAULT_MONITORING_CONFIG;
    expect(c.jobSelector).toBe('job="agentdrift"');
    expect(c.runbookBaseUrl).toBe('docs/runbooks.md');
    expect(c.thresholds).toEqual({ infraErrorRatio: 0.2, runMissedMarginSeconds: 21600 });
    expect(c.keepFiringFor).toBe('1h');
    expect(c.dashboards).toEqual({ refresh: '5m', time: { from: 'now-30d', to: 'now' } });
    const { alerts } = rulesOf(readRepo(RULES_FILE));
    expect(alerts.map((a) => a.alert)).toEqual([...ALERT_NAMES]);
    expect(Object.fromEntries(alerts.map((a) => [a.alert, a.for]))).toEqual(c.for);
    // docs/monitoring.md's alert table gives the same for: durations.
    const doc = readRepo('docs/monitoring.md');
    for (const a of ALERT_NAMES) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${a}\` |`));
      expect(row, `docs/monitoring.md has no alert row for ${a}`).toBeDefined();
      expect(row?.trim().endsWith(`| ${c.for[a]} |`), `${a}: docs/monitoring.md gives another for: than ${c.for[a]}`).toBe(true);
    }
  });
});

describe('a custom configuration (test/monitoring/fixtures/custom-config.json)', () => {
  const out = join(work, 'custom');
  const built = build('--config', CUSTOM, '--out', out);
  const text = readFileSync(join(out, RULES_FILE), 'utf8');
  const custom = rulesOf(text);
  const shipped = rulesOf(readRepo(RULES_FILE));

  it('is written where --out says, and promtool check rules accepts it', () => {
    expect(built.status, built.out).toBe(0);
    const r = run('promtool', ['check', 'rules', join(out, RULES_FILE)]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 16 rules found');
  });

  it('passes its promtool unit tests (fixtures/custom-config.test.yml), which fail against the default rules', () => {
    mkdirSync(join(out, 'prometheus/tests'), { recursive: true });
    cpSync(join(FIXTURES, 'custom-config.test.yml'), join(out, 'prometheus/tests/custom-config.test.yml'));
    const r = run('promtool', ['test', 'rules', 'custom-config.test.yml'], { cwd: join(out, 'prometheus/tests') });
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
    // The same unit tests against the committed (default) rules: they must fail, or they would not show the config.
    const defaults = join(work, 'defaults-for-custom-tests');
    mkdirSync(join(defaults, 'prometheus/tests'), { recursive: true });
    cpSync(join(REPO, 'prometheus/rules'), join(defaults, 'prometheus/rules'), { recursive: true });
    cpSync(join(FIXTURES, 'custom-config.test.yml'), join(defaults, 'prometheus/tests/custom-config.test.yml'));
    const d = run('promtool', ['test', 'rules', 'custom-config.test.yml'], { cwd: join(defaults, 'prometheus/tests') });
    expect(d.status, d.out).toBe(1);
    expect(d.out).toContain('my-agentdrift');
  });

  it('every runbook_url starts with the configured base; AgentDriftDown watches the configured job', () => {
    for (const a of custom.alerts) {
      expect(a.annotations?.runbook_url).toBe(`https://runbooks.example.org/agentdrift/runbooks.md#${a.alert.toLowerCase()}`);
    }
    const down = custom.alerts.find((a) => a.alert === 'AgentDriftDown');
    expect(down?.expr).toBe('up{job="my-agentdrift"} == 0 or absent(up{job="my-agentdrift"})');
    expect(down?.for).toBe('2m');
    expect(down?.annotations?.description).toContain('(job "my-agentdrift")');
    expect(text).not.toContain('job="agentdrift"');
  });

  it('changes nothing else: the same alerts, labels, summaries and expressions but for what the config sets', () => {
    const byName = new Map(shipped.alerts.map((a) => [a.alert, a]));
    expect(custom.alerts.map((a) => a.alert)).toEqual(shipped.alerts.map((a) => a.alert));
    for (const a of custom.alerts) {
      const s = byName.get(a.alert) as AlertRule;
      expect(a.labels).toEqual(s.labels);
      expect(a.annotations?.summary).toBe(s.annotations?.summary);
      expect(a.keep_firing_for).toBe(s.keep_firing_for === undefined ? undefined : '30m');
      if (a.alert !== 'AgentDriftDown') {
        expect(a.expr).toBe(s.expr);
        expect(a.for).toBe(s.for);
        expect(a.annotations?.description).toBe(s.annotations?.description);
      }
    }
    const values = Object.fromEntries(custom.records.map((r) => [r.record, r.expr]));
    expect(values['agentdrift:threshold:infra_error_ratio']).toBe('vector(0.5)');
    expect(values['agentdrift:threshold:run_missed_margin_seconds']).toBe('vector(3600)');
    expect(custom.records.filter((r) => !r.record.startsWith('agentdrift:threshold:'))).toEqual(
      shipped.records.filter((r) => !r.record.startsWith('agentdrift:threshold:')),
    );
  });

  it.each(['agentdrift-overview.json', 'agentdrift-diagnosis.json'])('sets the refresh and time range of %s, and nothing else in it', (file) => {
    const path = `grafana/dashboards/${file}`;
    const db = JSON.parse(readFileSync(join(out, path), 'utf8')) as Record<string, unknown>;
    const committed = JSON.parse(readRepo(path)) as Record<string, unknown>;
    expect(db.refresh).toBe('1m');
    expect(db.time).toEqual({ from: 'now-7d', to: 'now' });
    expect({ ...db, refresh: committed.refresh, time: committed.time }).toEqual(committed);
  });

  it('loads from YAML as from JSON', () => {
    const yml = join(work, 'custom.yaml');
    writeFileSync(yml, 'jobSelector: job="my-agentdrift"\nthresholds:\n  infraErrorRatio: 0.5\n');
    const c = loadMonitoringConfig(yml);
    expect(c.jobSelector).toBe('job="my-agentdrift"');
    expect(c.thresholds).toEqual({ infraErrorRatio: 0.5, runMissedMarginSeconds: 21600 });
  });
});

describe('job selectors that are not a single job', () => {
  it.each([
    ['job=~"agentdrift|agentdrift-eu"', 'selector {job=~"agentdrift|agentdrift-eu"}'],
    ['job="agentdrift", cluster="ops #1"', 'selector {job="agentdrift", cluster="ops #1"}'],
  ])('%s: promtool accepts the rules and the description names the selector', (jobSelector, named) => {
    const text = renderRules(parseMonitoringConfig({ jobSelector }));
    const file = join(work, `selector-${Buffer.from(jobSelector).toString('hex').slice(0, 16)}.yml`);
    writeFileSync(file, text);
    const r = run('promtool', ['check', 'rules', file]);
    expect(r.status, r.out).toBe(0);
    const down = rulesOf(text).alerts.find((a) => a.alert === 'AgentDriftDown');
    // ' #' would start a YAML comment in a plain scalar: the generator quotes such an expression.
    expect(down?.expr).toBe(`up{${jobSelector}} == 0 or absent(up{${jobSelector}})`);
    expect(down?.annotations?.description).toContain(`(${named})`);
  });
});

describe('invalid configurations', () => {
  it.each([
    [{ jobSelector: '{job="agentdrift"}' }, 'jobSelector: got "{job=\\"agentdrift\\"}"; expected label matchers without braces'],
    [{ jobSelector: 'job=agentdrift' }, 'jobSelector: got "job=agentdrift"; expected label matchers without braces'],
    [{ jobSelector: 'job="agentdrift"\n# injected' }, 'jobSelector: got "job=\\"agentdrift\\"\\n# injected"; expected label matchers'],
    [{ runbookBaseUrl: 'https://x.example.org/r.md#top' }, 'runbookBaseUrl: got "https://x.example.org/r.md#top"; expected a URL or path without'],
    [{ runbookBaseUrl: 'https://x.example.org/{{ $labels.alertname }}' }, 'runbookBaseUrl: got'],
    [{ runbookBaseUrl: '' }, 'runbookBaseUrl: got ""; expected a URL or path, not an empty string'],
    [{ thresholds: { infraErrorRatio: 1.5 } }, 'thresholds.infraErrorRatio: got 1.5; expected a share below 1'],
    [{ thresholds: { infraErrorRatio: '0.2' } }, 'thresholds.infraErrorRatio: got "0.2"; expected a share between 0 and 1'],
    [{ thresholds: { runMissedMarginSeconds: 1.5 } }, 'thresholds.runMissedMarginSeconds: got 1.5; expected a whole number of seconds'],
    [{ thresholds: 5 }, 'thresholds: got 5; expected a object'],
    [{ for: { AgentDriftDown: '5 minutes' } }, 'for.AgentDriftDown: got "5 minutes"; expected a Prometheus duration'],
    [{ for: { AgentDriftDown: '0m' } }, 'for.AgentDriftDown: got "0m"; expected a duration longer than 0'],
    [{ for: { AgentDriftGone: '5m' } }, 'for.AgentDriftGone: unknown key'],
    [{ runbookBaseURL: 'x' }, 'runbookBaseURL: unknown key (known: jobSelector, runbookBaseUrl, thresholds, for, keepFiringFor, dashboards)'],
    [{ dashboards: { refresh: 'often' } }, 'dashboards.refresh: got "often"; expected a Grafana refresh interval'],
    [{ dashboards: { time: { from: '2024-01-01' } } }, 'dashboards.time.from: got "2024-01-01"; expected a relative Grafana time'],
  ])('%j is refused: %s', (raw, message) => {
    expect(() => parseMonitoringConfig(raw, 'my.json')).toThrow(message);
    expect(() => parseMonitoringConfig(raw, 'my.json')).toThrow(/^my\.json is invalid\n {2}- /);
  });

  it('the command names the file and the key, exits 2 and writes nothing', () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ jobSelector: 'job="x"', thresholds: { infraErrorRatio: 0 } }));
    const out = join(work, 'bad-out');
    const r = build('--config', bad, '--out', out);
    expect(r.status).toBe(2);
    expect(r.out).toContain(`${bad} is invalid`);
    expect(r.out).toContain('thresholds.infraErrorRatio: got 0; expected a share above 0');
    expect(run('ls', [out]).status).not.toBe(0);
    writeFileSync(bad, '{ "jobSelector": ');
    expect(build('--config', bad).out).toContain(`${bad} is not valid JSON`);
    expect(build('--config', join(work, 'missing.json')).status).toBe(2);
    expect(build('--frobnicate').status).toBe(2);
  });
});
