export * from './runtime.ts';
export { DockerRuntime, DockerStreamDemuxer, TOOL_VOLUME_MARKER, isEngineDown, toInfraError, type DockerRuntimeOptions } from './docker.ts';
export { PullTracker, type PullSummary } from './pull-progress.ts';
