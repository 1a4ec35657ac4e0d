/**
 * Writes the dashboards built in grafana/src into grafana/dashboards (committed; provisioned by
 * grafana/provisioning/dashboards/agentdrift.yml). Run: npm run grafana:build.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOverview } from './dashboard.ts';

export const DASHBOARD_FILES = {
  'agentdrift-overview.json': buildOverview,
} as const;

/** The exact text committed for a dashboard: 2-space JSON and a final newline. */
export function render(build: () => unknown): string {
  return `${JSON.stringify(build(), null, 2)}\n`;
}

function main(): void {
  for (const [name, build] of Object.entries(DASHBOARD_FILES)) {
    const file = fileURLToPath(new URL(`../dashboards/${name}`, import.meta.url));
    writeFileSync(file, render(build));
    console.log(`wrote ${file}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
