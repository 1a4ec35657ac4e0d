/**
 * The dashboards built in grafana/src and the files they are written to under grafana/dashboards (committed;
 * provisioned by grafana/provisioning/dashboards/agentdrift.yml). monitoring/build.ts writes them together with the
 * Prometheus rules: `npm run monitoring:build` (`npm run grafana:build` is the same command).
 */
import type { DashboardSettings } from '../../monitoring/config.ts';
import { buildOverview } from './dashboard.ts';
import { buildDiagnosis } from './diagnosis.ts';

export const DASHBOARD_DIR = 'grafana/dashboards';

export const DASHBOARD_FILES: Record<string, (settings: DashboardSettings) => unknown> = {
  'agentdrift-overview.json': buildOverview,
  'agentdrift-diagnosis.json': buildDiagnosis,
};

/** The exact text committed for a dashboard: 2-space JSON and a final newline. */
export function render(dashboard: unknown): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
