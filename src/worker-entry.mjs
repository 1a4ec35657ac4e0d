// The worker entry when agentdrift runs from its TypeScript sources (workers/pool.ts): module hooks do not reach worker
// threads (neither tsx registered through its API in bin/agentdrift.js nor `--import tsx`), so this thread registers
// tsx itself before it loads src/worker.ts. Compiled (dist/), the pool loads dist/worker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./worker.ts');

export const { snapshots, threshold, parse } = worker;
