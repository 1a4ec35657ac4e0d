/**
 * Running a dashboard's queries the way Grafana would: every template variable (other than the data source) takes
 * every value it can take (a custom variable's list, a query variable's values as Prometheus returns them), and each
 * panel query runs once per combination of the variables it references. Used by the alert-path and end-to-end tests.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { expandVariables, panelQueries, type PanelQuery } from '../../grafana/src/queries.ts';
import { query, queryRangeSeries, waitFor } from '../helpers/prometheus.ts';

export interface ExpandedQuery extends PanelQuery {
  /** The variable values substituted (only the variables the query references). */
  vars: Record<string, string>;
  /** The expression as Prometheus receives it. */
  promql: string;
}

/** Names of the variables a query references ($name or ${name}; Grafana's built-in $__... excluded). */
export function referencedVariables(expr: string): string[] {
  const names = [...expr.matchAll(/\$\{(\w+)\}|\$(\w+)/g)].map((m) => (m[1] ?? m[2]) as string);
  return [...new Set(names)].filter((n) => !n.startsWith('__'));
}

/** The template variables a query can substitute: all but the data source variable (it picks the server, not PromQL). */
export function substitutedVariables(db: dashboard.Dashboard): dashboard.VariableModel[] {
  return (db.templating?.list ?? []).filter((v) => v.type !== 'datasource');
}

/** Values of the custom variables, as the dashboard offers them ('1d,7d,30d' -> ['1d', '7d', '30d']). */
export function customValues(v: dashboard.VariableModel): string[] {
  if (typeof v.query !== 'string') throw new Error(`custom variable ${v.name} has no value list`);
  return v.query.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Every value of every substituted variable: custom variables from their list, query variables by asking Prometheus
 * what Grafana would ask it (`label_values(metric, label)` is `/api/v1/label/<label>/values?match[]=metric`).
 * Throws on a variable type or query form it does not know, so a new variable cannot go unexercised.
 */
export async function variableValues(promUrl: string, db: dashboard.Dashboard): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const v of substitutedVariables(db)) {
    if (v.type === 'custom') {
      out[v.name] = customValues(v);
    } else if (v.type === 'query') {
      const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
      const m = /^label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)$/.exec(q ?? '');
      if (!m) throw new Error(`query variable ${v.name}: cannot run ${JSON.stringify(q)}`);
      const [, match, label] = m as unknown as [string, string, string];
      const r = await fetch(`${promUrl}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': match })}`);
      const body = (await r.json()) as { status: string; data?: string[]; error?: string };
      if (body.status !== 'success' || !body.data) throw new Error(`variable ${v.name}: ${body.error ?? r.status}`);
      out[v.name] = [...body.data].sort();
    } else {
      throw new Error(`variable ${v.name}: type ${v.type} is not substituted by this test`);
    }
  }
  return out;
}

/** Every panel query under every combination of the values of the variables it references. */
export function expandedQueries(db: dashboard.Dashboard, values: Record<string, string[]>): ExpandedQuery[] {
  const out: ExpandedQuery[] = [];
  for (const q of panelQueries(db)) {
    let combos: Record<string, string>[] = [{}];
    for (const name of referencedVariables(q.expr)) {
      const vs = values[name];
      if (!vs || vs.length === 0) throw new Error(`${q.panel} / ${q.refId}: no values for $${name}`);
      combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [name]: v })));
    }
    for (const vars of combos) out.push({ ...q, vars, promql: expandVariables(q.expr, vars) });
  }
  return out;
}

/** Labels a legend shows ('{{window}} adjusted' -> ['window']). */
export function legendLabels(legend: string | undefined): string[] {
  return [...(legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] as string);
}

function what(q: ExpandedQuery): string {
  const vars = Object.entries(q.vars).map(([k, v]) => `${k}=${v}`).join(', ') || 'no variables';
  return `${q.panel} / ${q.refId} with ${vars}: ${q.promql}`;
}

/** Why the query fails on this Prometheus, or undefined when it returns data the panel can draw. */
async function problem(promUrl: string, q: ExpandedQuery): Promise<string | undefined> {
  const samples = await query(promUrl, q.promql);
  if (samples.length === 0) return 'no data';
  for (const label of legendLabels(q.legend)) {
    const without = samples.filter((s) => !(label in s.metric));
    if (without.length > 0) return `legend "${q.legend}" needs label ${label}, missing in ${JSON.stringify(without[0]?.metric)}`;
  }
  // Time series and state timelines run as range queries in Grafana.
  if (!q.instant && (await queryRangeSeries(promUrl, q.promql)) === 0) return 'no data as a range query';
  return undefined;
}

/**
 * Runs every expanded query (each for up to `settleMs` until it returns data, for the increase(...) of freshly
 * scraped counters) and returns one line per failure, naming the panel, the query and the substitution.
 */
export async function failingQueries(promUrl: string, queries: ExpandedQuery[], settleMs = 0): Promise<string[]> {
  const failures: string[] = [];
  for (const q of queries) {
    let last: string | undefined;
    try {
      await waitFor(what(q), async () => {
        try {
          last = await problem(promUrl, q);
        } catch (e) {
          last = String(e);
        }
        return last === undefined;
      }, settleMs);
    } catch (e) {
      failures.push(`${what(q)}: ${last ?? String(e)}`);
    }
  }
  return failures;
}
