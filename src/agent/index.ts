/** The agent room: how an agent CLI is run on a task and what its run produced. */
export * from './types.ts';
export { claudeCode, buildClaudeInvocation, credentialEnv, installedBinaryPath, parseClaudeVersion, BASE_ENV, CREDENTIAL_ENV_NAMES, MAX_ARGV_PROMPT_BYTES } from './claude-code.ts';
export { buildPrompt, type PromptFields } from './prompt.ts';
export { parseStreamJson } from './stream.ts';
export { attemptBehaviour, extractBehaviour, isReadCommand, BehaviourCollector, type StreamBehaviour } from './behaviour.ts';
export { redact, redactValue, makeRedactor, REDACTED } from './redact.ts';
export { storeTranscript, readTranscript, transcriptFileName, storePatch, readStoredPatch, patchFileName, MAX_STORED_PATCH_BYTES, type StoredTranscript } from './transcript.ts';
export { buildPatchCommand, listBinaryFiles } from './patch.ts';
export { runAgentInContainer, type RunAgentOptions, type AgentRun } from './run.ts';
