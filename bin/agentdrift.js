#!/usr/bin/env node
// Entry point of the `agentdrift` command. It runs the compiled CLI that `npm run build` writes to dist/ (what
// `npm start` and the container image use), or the TypeScript sources through tsx when there is no build or when
// AGENTDRIFT_FROM_SOURCE=1 (what the tests use, so they never run a stale build).
// `healthcheck` (the container's HEALTHCHECK, every 30 s) loads only its own module, not the whole CLI.
import { existsSync } from 'node:fs';

/** The command word: the first argument that is not the global --config option (or its value). */
function commandWord(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('--config=')) return a;
  }
  return undefined;
}

const lean = commandWord(process.argv.slice(2)) === 'healthcheck';
const module = lean ? 'adapters/cli/healthcheck' : 'main';
const compiled = new URL(`../dist/${module}.js`, import.meta.url);
let cli;
if (existsSync(compiled) && process.env.AGENTDRIFT_FROM_SOURCE !== '1') {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL(`../src/${module}.ts`, import.meta.url).href);
}
process.exitCode = lean ? await cli.healthcheckMain(process.argv) : await cli.main(process.argv);
