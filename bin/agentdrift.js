#!/usr/bin/env node
// Entry point of the `agentdrift` command. It runs the compiled CLI that `npm run build` writes to dist/ (what
// `npm start` and the container image use), or the TypeScript sources through tsx when there is no build or when
// AGENTDRIFT_FROM_SOURCE=1 (what the tests use, so they never run a stale build).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled) && process.env.AGENTDRIFT_FROM_SOURCE !== '1') {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv);
