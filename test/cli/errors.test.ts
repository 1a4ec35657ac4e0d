/**
 * A user's mistake is one line on stderr and exit code 2, never a stack trace and exit 1 (issue 10 item 7): a --url
 * that is not one, the port already in use, a dataDir that cannot hold the store, a YAML alias bomb, a p0 out of range.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';

const TOKEN = 'cli-errors-token-0123456789';
const dir = tempDir('agentdrift-cli-errors-');

function config(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The lines a person reads (the daemon's JSON log lines aside). */
const textLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));

function expectOneLine(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = textLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

let held: Server | undefined;
afterAll(() => held?.close());

describe('command-line errors', { timeout: 120_000 }, () => {
  it('refuses a --url that is not an http(s) URL, naming it', async () => {
    const [trigger, status, cancel] = await Promise.all([
      runCli(['trigger', '--track', 'x', '--url', 'notaurl'], { env: { AGENTDRIFT_API_TOKEN: TOKEN } }),
      runCli(['status', '1', '--url', 'ftp://127.0.0.1:1/']),
      runCli(['cancel', '1', '--url', 'http//127.0.0.1'], { env: { AGENTDRIFT_API_TOKEN: TOKEN } }),
    ]);
    expectOneLine(trigger, /^agentdrift: --url: got "notaurl"; expected the daemon's http\(s\) URL/);
    expectOneLine(status, /^agentdrift: --url: got "ftp:\/\/127\.0\.0\.1:1\/"/);
    expectOneLine(cancel, /^agentdrift: --url: got "http\/\/127\.0\.0\.1"/);
  });

  it('says the port is in use when the daemon cannot listen', async () => {
    held = createServer();
    await new Promise<void>((resolve) => held!.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as { port: number }).port;
    const file = config('port.yaml', `server:\n  host: 127.0.0.1\n  port: ${port}\ndataDir: ${path.join(dir, 'port-data')}\ntracks:\n  - name: t\n`);
    const r = await runCli(['--config', file, 'daemon']);
    expectOneLine(r, new RegExp(`^agentdrift: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
  });

  it('names a dataDir the store cannot be opened in', async () => {
    writeFileSync(path.join(dir, 'a-file'), 'not a directory');
    mkdirSync(path.join(dir, 'not-a-db'), { recursive: true });
    writeFileSync(path.join(dir, 'not-a-db', 'agentdrift.sqlite'), 'this is not SQLite '.repeat(100));
    const underFile = config('datadir.yaml', `dataDir: ${path.join(dir, 'a-file', 'data')}\n`);
    const notDb = config('notdb.yaml', `dataDir: ${path.join(dir, 'not-a-db')}\n`);
    const [a, b, c] = await Promise.all([
      runCli(['--config', underFile, 'baseline', 'list', '--track', 'claude-code']),
      runCli(['--config', underFile, 'daemon']),
      runCli(['--config', notDb, 'metrics']),
    ]);
    expectOneLine(a, /^agentdrift: dataDir .*a-file\/data: cannot open the store there: .*ENOTDIR/);
    expectOneLine(b, /^agentdrift: dataDir .*a-file\/data: cannot open the store there/);
    expectOneLine(c, /^agentdrift: dataDir .*not-a-db: cannot open the store there: file is not a database/);
  });

  it('refuses a YAML alias bomb as a config error', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    const names = 'bcdefghi';
    for (let i = 0; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${i === 0 ? 'a' : names[i - 1]}`).join(',')}]`);
    const file = config('bomb.yaml', `${lines.join('\n')}\n`);
    const r = await runCli(['--config', file, 'tasks', '--track', 'x']);
    expectOneLine(r, /^agentdrift: config file .*bomb\.yaml is not a usable YAML document: Excessive alias count/);
  });

  it('applies the API\'s rule to baseline set --p0: strictly between 0 and 1', async () => {
    const file = config('p0.yaml', `dataDir: ${path.join(dir, 'p0-data')}\ntracks:\n  - name: t\n`);
    const rs = await Promise.all(['1', '0', '1e400', '-0.5', 'Infinity'].map((p0) => runCli(['--config', file, 'baseline', 'set', '--track', 't', '--p0', p0])));
    for (const r of rs) expectOneLine(r, /^agentdrift: --p0: got ".*"; expected a number strictly between 0 and 1/);
    const list = await runCli(['--config', file, 'baseline', 'list', '--track', 't']);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
