#!/usr/bin/env node
// Entry point of the `agentdrift` command: the compiled CLI when `npm run build` made one (the container image),
// otherwise the TypeScript sources through tsx (a checkout).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv);
