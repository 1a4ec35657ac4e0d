/**
 * The runtime contract (./contract.ts) against both implementations: DockerRuntime on the real engine with the
 * local busybox image, and MemoryRuntime with an image of nothing but the tiny shell of ./memory-shell.ts.
 */
import { randomUUID } from 'node:crypto';
import { DockerRuntime } from '../../src/executor/docker/index.ts';
import { MemoryRuntime } from '../../src/executor/memory.ts';
import { LABEL_MANAGED, LABEL_TRACK } from '../../src/executor/runtime.ts';
import { ensureBusyboxImage, removeLabelled, testLabels } from '../helpers/docker.ts';
import { runtimeContract } from './contract.ts';
import { miniShell } from './memory-shell.ts';

runtimeContract('DockerRuntime', async () => {
  const labels = testLabels('contract');
  return {
    runtime: new DockerRuntime(),
    image: await ensureBusyboxImage(),
    labels,
    moreLabels: (scope) => testLabels(`contract-${scope}`),
    cleanup: () => removeLabelled(labels),
  };
});

runtimeContract('MemoryRuntime', async () => {
  const runtime = new MemoryRuntime();
  runtime.addImage('memory-shell:1', { 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' });
  runtime.onExec(miniShell);
  return {
    runtime,
    image: 'memory-shell:1',
    labels: { [LABEL_MANAGED]: 'true', [LABEL_TRACK]: 'test-contract' },
    moreLabels: (scope) => ({ [LABEL_MANAGED]: 'true', [LABEL_TRACK]: `test-${scope}-${randomUUID().slice(0, 8)}` }),
  };
});
