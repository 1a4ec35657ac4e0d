/** agentdrift's own version, from package.json: what --version, /healthz and agentdrift_build_info say. */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
