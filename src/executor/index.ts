export * from './runtime.ts';
export { DockerRuntime, DockerStreamDemuxer, TOOL_VOLUME_MARKER, isEngineDown, toInfraError, type DockerRuntimeOptions } from './docker/index.ts';
export { MemoryRuntime, type ExecContext, type ExecHandler, type ExecReply, type MemoryOp, type MemoryRuntimeOptions } from './memory.ts';
export { PullTracker, type PullSummary } from './pull-progress.ts';
