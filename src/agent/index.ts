/** The agent room: how an agent CLI is run on a task and what its run produced. */
export * from './types.js';
export { claudeCode, buildClaudeInvocation, credentialEnv, installedBinaryPath, parseClaudeVersion, BASE_ENV, CREDENTIAL_ENV_NAMES, MAX_ARGV_PROMPT_BYTES } from './claude-code.js';
export { buildPrompt, type PromptFields } from './prompt.js';
export { parseStreamJson } from './stream.js';
export { redact, redactValue, makeRedactor, REDACTED } from './redact.js';
export { storeTranscript, readTranscript, transcriptFileName, type StoredTranscript } from './transcript.js';
export { buildPatchCommand, listBinaryFiles } from './patch.js';
export { runAgentInContainer, type RunAgentOptions, type AgentRun } from './run.js';
