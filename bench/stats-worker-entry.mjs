// Entry of the bench's worker threads: module hooks of the main thread (`--import tsx`) do not reach worker threads,
// so this thread registers tsx itself before it loads the TypeScript worker (as src/worker-entry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./stats-worker.ts');
