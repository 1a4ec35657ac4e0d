/** A thread of `npm run bench stats -- --profile`: runs the replicates it is sent (bench/stats-profiles.ts, runJobs). */
import { parentPort } from 'node:worker_threads';
import { runJob, type Job } from './stats-profiles.ts';

const port = parentPort;
if (!port) throw new Error('bench/stats-worker.ts runs as a worker thread');
port.on('message', (job: Job) => {
  port.postMessage({ id: job.id, result: runJob(job) });
});
