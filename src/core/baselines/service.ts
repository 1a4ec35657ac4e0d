/**
 * Setting and presenting baselines: shared by the API and the CLI.
 */
import { trackNamed } from '../../config/index.ts';
import type { CoreDeps } from '../deps.ts';
import { finiteOrNull, isoOrNull } from '../../domain/values.ts';
import { baselinePassRate } from '../../stats/index.ts';
import type { BaselineRow } from '../../domain/records.ts';
import { buildBaseline, toStatsBaseline, type BaselineRequest } from './baseline.ts';


export function setBaseline(deps: CoreDeps, track: string, req: BaselineRequest, who: { by: string; reason: string }): BaselineRow {
  trackNamed(deps.config, track);
  const row = deps.store.baselines.insert(track, buildBaseline(deps.store, track, req, who));
  deps.log.info({ track, baseline: row.id, kind: row.kind, by: who.by, reason: who.reason }, 'baseline changed');
  deps.figures.refresh(track);
  return row;
}

export function baselineSummary(row: BaselineRow) {
  const counts = Object.values(row.perTask ?? {});
  return {
    id: row.id,
    kind: row.kind,
    p0: row.p0,
    from: isoOrNull(row.fromMs),
    to: isoOrNull(row.toMs),
    monitorFrom: new Date(row.monitorFromMs).toISOString(),
    passRate: finiteOrNull(baselinePassRate(toStatsBaseline(row))),
    tasks: counts.length,
    trials: counts.reduce((s, c) => s + c.trials, 0),
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    reason: row.reason,
  };
}
