export * from './runtime.js';
export { DockerRuntime, DockerStreamDemuxer, TOOL_VOLUME_MARKER, isEngineDown, toInfraError, type DockerRuntimeOptions } from './docker.js';
export { PullTracker, type PullSummary } from './pull-progress.js';
