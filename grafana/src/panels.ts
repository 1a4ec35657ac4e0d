/**
 * The pieces both dashboards are built from (grafana/src/dashboard.ts, grafana/src/diagnosis.ts): the data source
 * every panel reads, the `datasource`, `track` and `window` variables, query targets, thresholds, value mappings and
 * the panel kinds with the defaults agentdrift uses (step lines, legends at the bottom, instant stat queries...).
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { DashboardSettings } from '../../monitoring/config.ts';

/** Every panel and query reads from the datasource the `datasource` variable selects. */
export const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Selector of the chosen track, and of the chosen track and window. */
export const T = 'track="$track"';
export const TW = 'track="$track",window="$window"';

export type Query = { expr: string; legend?: string; instant?: boolean; table?: boolean };

export function target(q: Query, refId: string): DataqueryBuilder {
  const b = new DataqueryBuilder().datasource(DS).refId(refId).expr(q.expr);
  if (q.legend !== undefined) b.legendFormat(q.legend);
  if (q.instant) b.instant();
  else b.range();
  if (q.table) b.format(PromQueryFormat.Table);
  return b;
}

export function refIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i));
}

export function steps(...s: [number | null, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(s.map(([value, color]) => ({ value, color })));
}

export function valueText(map: Record<string, [string, string]>): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(map).forEach(([value, [text, color]], index) => {
    options[value] = { text, color, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

export const noYes = valueText({ '0': ['no', 'green'], '1': ['significant', 'red'] });

/**
 * A dashboard of agentdrift with the settings of the monitoring configuration and the variables both dashboards share:
 * `datasource` (any Prometheus), `track` (from agentdrift_track_info) and `window` (1d, 7d, 30d; 7d by default).
 */
export function agentdriftDashboard(p: { title: string; uid: string; description: string; settings: DashboardSettings }): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(p.title)
    .uid(p.uid)
    .description(p.description)
    .tags(['agentdrift'])
    .editable()
    .time({ from: p.settings.time.from, to: p.settings.time.to })
    .refresh(p.settings.refresh)
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new dashboard.QueryVariableBuilder('track')
        .label('Track')
        .datasource(DS)
        .query({ qryType: 1, query: 'label_values(agentdrift_track_info, track)', refId: 'PrometheusVariableQueryEditor-VariableQuery' })
        .definition('label_values(agentdrift_track_info, track)')
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc),
    )
    .withVariable(
      new dashboard.CustomVariableBuilder('window')
        .label('Window')
        .description('Time window of the figures that have one: the day, week or month ending at the last finished run.')
        .values('1d,7d,30d')
        .current({ text: '7d', value: '7d', selected: true }),
    );
}

/**
 * A link to another agentdrift dashboard that keeps the time range and the variables (data source, track, window).
 * Shown in the dashboard's bar (no `placement`: the SDK's default, the controls menu of Grafana 12, would hide it there).
 */
export function dashboardLink(title: string, uid: string, tooltip: string): cog.Builder<dashboard.DashboardLink> {
  const link = new dashboard.DashboardLinkBuilder(title)
    .type(dashboard.DashboardLinkType.Link)
    .url(`/d/${uid}`)
    .tooltip(tooltip)
    .icon('dashboard')
    .includeVars(true)
    .keepTime(true)
    .asDropdown(false)
    .targetBlank(false)
    .build();
  delete link.placement;
  return { build: () => link };
}

export interface Common {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  w?: number;
  h?: number;
}

export function series(p: Common & { min?: number; max?: number; bars?: boolean; stacked?: boolean; log?: boolean; logBase?: number }) {
  const b = new timeseries.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DS)
    .span(p.w ?? 12)
    .height(p.h ?? 8)
    .lineInterpolation(common.LineInterpolation.StepAfter)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.None));
  if (p.unit) b.unit(p.unit);
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.bars) b.drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80);
  if (p.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (p.log) b.scaleDistribution(new common.ScaleDistributionConfigBuilder().type(common.ScaleDistribution.Log).log(p.logBase ?? 10));
  const ids = refIds(p.queries.length);
  p.queries.forEach((q, i) => b.withTarget(target(q, ids[i] as string)));
  return b;
}

export function single(
  p: Common & { thresholds?: dashboard.ThresholdsConfigBuilder; mappings?: dashboard.ValueMapping[]; decimals?: number; withName?: boolean; noValue?: string },
) {
  const b = new stat.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DS)
    .span(p.w ?? 4)
    .height(p.h ?? 4)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(p.thresholds ?? steps([null, 'text']));
  if (p.unit) b.unit(p.unit);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.mappings) b.mappings(p.mappings);
  if (p.withName) b.textMode(common.BigValueTextMode.ValueAndName);
  if (p.noValue) b.noValue(p.noValue);
  const ids = refIds(p.queries.length);
  p.queries.forEach((q, i) => b.withTarget(target({ ...q, instant: true }, ids[i] as string)));
  return b;
}

export function states(p: Common & { mappings: dashboard.ValueMapping[]; thresholds?: dashboard.ThresholdsConfigBuilder; interval?: string }) {
  const b = new statetimeline.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DS)
    .span(p.w ?? 12)
    .height(p.h ?? 6)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .mappings(p.mappings)
    .thresholds(p.thresholds ?? steps([null, 'green'], [1, 'red']))
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds));
  if (p.interval) b.interval(p.interval);
  const ids = refIds(p.queries.length);
  p.queries.forEach((q, i) => b.withTarget(target(q, ids[i] as string)));
  return b;
}

/** A column of a table panel: the value of one instant query, shown under `name`. */
export interface Column {
  name: string;
  expr: string;
  unit?: string;
  decimals?: number;
  mappings?: dashboard.ValueMapping[];
}

/**
 * A table with one row per value of `key` (task, group, metric): each column is an instant query in table format that
 * returns one series per key (aggregated `by (track, <key>)`, so every frame has the same label columns and Grafana's
 * merge puts one key's values on one row), named, unit and mapping set by an override on its `Value #<refId>` field.
 */
export function keyedTable(p: { title: string; description: string; key: string; columns: Column[]; sortBy?: { column: string; desc: boolean }; w?: number; h?: number }) {
  const b = new table.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DS)
    .span(p.w ?? 12)
    .height(p.h ?? 8)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, track: true }, renameByName: {} } });
  const ids = refIds(p.columns.length);
  p.columns.forEach((c, i) => {
    const id = ids[i] as string;
    b.withTarget(target({ expr: c.expr, instant: true, table: true }, id));
    const props: dashboard.DynamicConfigValue[] = [{ id: 'displayName', value: c.name }];
    if (c.unit) props.push({ id: 'unit', value: c.unit });
    if (c.decimals !== undefined) props.push({ id: 'decimals', value: c.decimals });
    if (c.mappings) props.push({ id: 'mappings', value: c.mappings });
    b.overrideByName(`Value #${id}`, props);
  });
  if (p.sortBy) b.sortBy([new common.TableSortByFieldStateBuilder().displayName(p.sortBy.column).desc(p.sortBy.desc)]);
  return b;
}

/** Horizontal bars, one per series of an instant query, in the order the query returns them. */
export function bars(p: Common & { min?: number; noValue?: string; thresholds?: dashboard.ThresholdsConfigBuilder }) {
  const b = new bargauge.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(DS)
    .span(p.w ?? 12)
    .height(p.h ?? 8)
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .valueMode(common.BarGaugeValueMode.Color)
    .namePlacement(common.BarGaugeNamePlacement.Left)
    .showUnfilled(true)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(p.thresholds ?? steps([null, 'orange'], [1, 'red']));
  if (p.unit) b.unit(p.unit);
  if (p.min !== undefined) b.min(p.min);
  if (p.noValue) b.noValue(p.noValue);
  const ids = refIds(p.queries.length);
  p.queries.forEach((q, i) => b.withTarget(target({ ...q, instant: true }, ids[i] as string)));
  return b;
}

/** Stable panel ids (1, 2, ...) in layout order, so links to a panel survive regeneration. */
export function numberPanels(db: dashboard.Dashboard): void {
  let id = 1;
  for (const p of db.panels ?? []) {
    (p as { id?: number }).id = id++;
    for (const inner of (p as dashboard.RowPanel).panels ?? []) (inner as { id?: number }).id = id++;
  }
}
