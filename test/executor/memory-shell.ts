/**
 * A tiny shell for the memory runtime: the few commands the contract suite runs, with the behaviour busybox gives
 * them in the Docker run. `sh -c SCRIPT` runs `;`-separated simple commands with single and double quotes, `$VAR`,
 * and the redirections `>&2`, `> FILE`; commands: echo, printf (format with \n, \t, \\ and %s), cat (files or stdin),
 * pwd, sleep (ends when the exec is stopped), exit N, true, false.
 */
import type { ExecContext, ExecHandler, ExecReply } from '../../src/executor/memory.ts';

interface Simple {
  argv: string[];
  /** 'stdout', 'stderr' or a file path. */
  out: string;
}

function tokenize(script: string, env: Readonly<Record<string, string>>): Simple[] {
  const commands: Simple[] = [];
  let argv: string[] = [];
  let out = 'stdout';
  let word: string | null = null;
  let redirect = false;
  const expand = (s: string, i: number): [string, number] => {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    return m ? [env[m[1] as string] ?? '', i + m[0].length] : ['$', i + 1];
  };
  const endWord = () => {
    if (word === null) return;
    if (redirect) {
      out = word;
      redirect = false;
    } else argv.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (argv.length) commands.push({ argv, out });
    argv = [];
    out = 'stdout';
  };
  for (let i = 0; i < script.length; ) {
    const ch = script[i] as string;
    if (ch === ';' || ch === '\n') {
      endCommand();
      i++;
    } else if (ch === ' ' || ch === '\t') {
      endWord();
      i++;
    } else if (script.startsWith('>&2', i)) {
      endWord();
      out = 'stderr';
      i += 3;
    } else if (ch === '>') {
      endWord();
      redirect = true;
      i++;
    } else if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      word = (word ?? '') + script.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      let s = '';
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '$') {
          const [v, next] = expand(script, i);
          s += v;
          i = next;
        } else if (script[i] === '\\' && /["\\$]/.test(script[i + 1] ?? '')) {
          s += script[i + 1];
          i += 2;
        } else s += script[i++];
      }
      word = (word ?? '') + s;
      i++;
    } else if (ch === '$') {
      const [v, next] = expand(script, i);
      word = (word ?? '') + v;
      i = next;
    } else {
      word = (word ?? '') + ch;
      i++;
    }
  }
  endCommand();
  return commands;
}

function printf(format: string, args: string[]): string {
  let i = 0;
  return format.replace(/\\n|\\t|\\\\|%s|%%/g, (m) => (m === '\\n' ? '\n' : m === '\\t' ? '\t' : m === '\\\\' ? '\\' : m === '%%' ? '%' : (args[i++] ?? '')));
}

/** Runs one simple command: its output, or the exit code when it ends the script (`exit`). */
async function run(ctx: ExecContext, argv: string[], write: (s: string | Buffer) => void): Promise<{ code: number; exit?: boolean }> {
  const [name, ...args] = argv as [string, ...string[]];
  switch (name) {
    case 'echo':
      write(`${args.join(' ')}\n`);
      return { code: 0 };
    case 'printf':
      write(printf(args[0] ?? '', args.slice(1)));
      return { code: 0 };
    case 'pwd':
      write(`${ctx.workingDir}\n`);
      return { code: 0 };
    case 'true':
      return { code: 0 };
    case 'false':
      return { code: 1 };
    case 'exit':
      return { code: Number(args[0] ?? 0), exit: true };
    case 'sleep':
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Number(args[0] ?? 0) * 1000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return { code: 0 };
    case 'cat': {
      if (args.length === 0) {
        write(ctx.stdin);
        return { code: 0 };
      }
      let code = 0;
      for (const a of args) {
        const f = ctx.readFile(a);
        if (f) write(f);
        else {
          ctx.stderr(`cat: can't open '${a}': No such file or directory\n`);
          code = 1;
        }
      }
      return { code };
    }
    default:
      ctx.stderr(`sh: ${name}: not found\n`);
      return { code: 127 };
  }
}

async function script(ctx: ExecContext, text: string): Promise<ExecReply> {
  let code = 0;
  for (const c of tokenize(text, ctx.env)) {
    if (ctx.signal.aborted) break;
    let file: Buffer[] | null = null;
    const write = c.out === 'stdout' ? ctx.stdout : c.out === 'stderr' ? ctx.stderr : (s: string | Buffer) => file?.push(Buffer.from(s));
    if (c.out !== 'stdout' && c.out !== 'stderr') file = [];
    const r = await run(ctx, c.argv, write);
    if (file && !ctx.writeFile(c.out, Buffer.concat(file))) {
      ctx.stderr(`sh: can't create ${c.out}: Read-only file system\n`);
      r.code = 1;
    }
    code = r.code;
    if (r.exit) break;
  }
  return { exitCode: code };
}

/** The handler: `sh -c SCRIPT`, or one of the commands above run directly. */
export const miniShell: ExecHandler = (ctx) => {
  const [first, ...rest] = ctx.cmd;
  if ((first === 'sh' || first === '/bin/sh') && rest[0] === '-c') return script(ctx, rest[1] ?? '');
  if (first && ['echo', 'printf', 'pwd', 'true', 'false', 'sleep', 'cat'].includes(first)) {
    return run(ctx, [...ctx.cmd], ctx.stdout).then((r) => ({ exitCode: r.code }));
  }
  return undefined;
};
