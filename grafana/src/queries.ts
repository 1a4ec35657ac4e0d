/**
 * Every PromQL expression of a dashboard (panels, panels inside rows, template variables), and the substitution of
 * Grafana's template variables so an expression can be run against Prometheus as is.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
  /** Grafana's legendFormat, when the target has one (its `{{label}}`s name labels the result must carry). */
  legend?: string;
}

type AnyPanel = { title?: string; targets?: unknown[]; panels?: AnyPanel[] };

export function panelQueries(db: dashboard.Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (p: AnyPanel) => {
    for (const t of p.targets ?? []) {
      const q = t as { expr?: unknown; refId?: unknown; instant?: unknown; legendFormat?: unknown };
      if (typeof q.expr !== 'string') throw new Error(`panel "${p.title}": target without a PromQL expr`);
      const pq: PanelQuery = { panel: p.title ?? '', refId: String(q.refId ?? ''), expr: q.expr, instant: q.instant === true };
      if (typeof q.legendFormat === 'string') pq.legend = q.legendFormat;
      out.push(pq);
    }
    for (const inner of p.panels ?? []) visit(inner);
  };
  for (const p of (db.panels ?? []) as AnyPanel[]) visit(p);
  return out;
}

/** PromQL used by the query variables (label_values(...) is Grafana's, not PromQL: returned as written). */
export function variableQueries(db: dashboard.Dashboard): { name: string; query: string }[] {
  const out: { name: string; query: string }[] = [];
  for (const v of db.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q) out.push({ name: v.name, query: q });
  }
  return out;
}

/**
 * Replaces $name and ${name} by the given values, plus Grafana's built-in interval variables. Throws when a variable
 * is left, so a query that cannot be run as is never passes silently.
 */
export function expandVariables(expr: string, vars: Record<string, string>): string {
  const all: Record<string, string> = { __rate_interval: '1m', __interval: '30s', __range: '1h', ...vars };
  const out = expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    const v = all[name];
    if (v === undefined) throw new Error(`no value for template variable ${whole} in ${expr}`);
    return v;
  });
  return out;
}
