/**
 * Pure extraction of an attempt's behaviour (src/domain/behaviour.ts) from Claude Code's stream-json transcript, and
 * the candidate patch's size. parseStreamJson (stream.ts) feeds every event it parses to a {@link BehaviourCollector},
 * so a transcript is parsed once; {@link extractBehaviour} reads a transcript on its own (tests, stored transcripts).
 *
 * What the stream says (Claude Code 2.x, checked against the real CLI and the fake API, test/agent/behaviour*.test.ts):
 * - every tool call is a `tool_use` block of an `assistant` event (one event per content block; a subagent's carry
 *   its parent_tool_use_id), with an id that is counted once;
 * - thinking is a `thinking` block (text in `thinking`, and a `signature`) or a `redacted_thinking` block; the CLI
 *   adds `system`/`thinking_tokens` events with its own estimate (`estimated_tokens_delta`, summed here), and its
 *   `result` carries the API's count when the API reports one (`modelUsage.*.thinkingTokens`, else
 *   `usage.output_tokens_details.thinking_tokens`): that count wins when it is above 0, else the estimate stands;
 * - a retried API call is a `system`/`api_retry` event; an API error the CLI gave up on an `assistant` event of model
 *   `<synthetic>` with `is_api_error_message` (not a turn of the model: its blocks are not counted as tool calls).
 * Reads and edits are counted in stream order, over the main loop and subagents alike: a read is a call of a
 * READ_TOOLS tool or a Bash command that only looks at files ({@link isReadCommand}); an edit a call of an EDIT_TOOLS
 * tool (a file changed from Bash, with sed -i or a redirect, is not an edit here: the patch size says what changed).
 */
import { EDIT_TOOLS, READ_TOOLS, toolLabel, type AttemptBehaviour, type ToolLabel } from '../domain/behaviour.ts';
import { patchSize } from '../domain/patch-size.ts';
import { isObject, type Json } from './jsonl.ts';

/** What the stream alone says; the patch's size is added by {@link attemptBehaviour}. */
export type StreamBehaviour = Omit<AttemptBehaviour, 'patchFiles' | 'patchLinesAdded' | 'patchLinesRemoved'>;


/** Unicode code points of a string (a surrogate pair is one character). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

export class BehaviourCollector {
  private readonly toolCalls: Partial<Record<ToolLabel, number>> = {};
  private readonly toolIds = new Set<string>();
  private readonly thinkingSeen = new Set<string>();
  private fileReads = 0;
  private readsBeforeFirstEdit: number | null = null;
  private fileEdits = 0;
  private thinkingChars = 0;
  private thinkingBlocks = 0;
  private thinkingTokens = 0;
  private reportedThinkingTokens = 0;
  private apiRetries = 0;
  private apiErrors = 0;

  /** One event of the stream (a parsed JSON object line). Anything of another shape is passed over. */
  event(ev: Json): void {
    if (ev.type === 'system') {
      if (ev.subtype === 'api_retry') this.apiRetries++;
      else if (ev.subtype === 'thinking_tokens') {
        const d = ev.estimated_tokens_delta;
        if (typeof d === 'number' && Number.isFinite(d) && d > 0) this.thinkingTokens += d;
      }
      return;
    }
    if (ev.type === 'result') {
      this.reportedThinkingTokens = reportedThinking(ev);
      return;
    }
    if (ev.type !== 'assistant' || !isObject(ev.message)) return;
    const msg = ev.message;
    if (ev.is_api_error_message === true) {
      this.apiErrors++;
      return;
    }
    if (msg.model === '<synthetic>' || !Array.isArray(msg.content)) return;
    const id = typeof msg.id === 'string' ? msg.id : '';
    for (const block of msg.content) {
      if (!isObject(block)) continue;
      if (block.type === 'tool_use') this.toolUse(block);
      else if (block.type === 'thinking' || block.type === 'redacted_thinking') this.thinking(id, block);
    }
  }

  private toolUse(block: Json): void {
    if (typeof block.id === 'string') {
      if (this.toolIds.has(block.id)) return;
      this.toolIds.add(block.id);
    }
    const name = typeof block.name === 'string' ? block.name : '';
    const label = toolLabel(name);
    this.toolCalls[label] = (this.toolCalls[label] ?? 0) + 1;
    if (EDIT_TOOLS.has(name)) {
      this.readsBeforeFirstEdit ??= this.fileReads;
      this.fileEdits++;
      return;
    }
    const input = isObject(block.input) ? block.input : {};
    if (READ_TOOLS.has(name) || (name === 'Bash' && typeof input.command === 'string' && isReadCommand(input.command))) this.fileReads++;
  }

  private thinking(messageId: string, block: Json): void {
    const text = typeof block.thinking === 'string' ? block.thinking : '';
    const mark = typeof block.signature === 'string' ? block.signature : typeof block.data === 'string' ? block.data : text;
    const key = `${messageId}\u0000${String(block.type)}\u0000${mark}`;
    if (this.thinkingSeen.has(key)) return;
    this.thinkingSeen.add(key);
    this.thinkingBlocks++;
    this.thinkingChars += codePoints(text);
  }

  result(): StreamBehaviour {
    return {
      toolCalls: { ...this.toolCalls },
      fileReads: this.fileReads,
      readsBeforeFirstEdit: this.readsBeforeFirstEdit,
      fileEdits: this.fileEdits,
      thinkingChars: this.thinkingChars,
      thinkingBlocks: this.thinkingBlocks,
      thinkingTokens: this.reportedThinkingTokens > 0 ? this.reportedThinkingTokens : this.thinkingTokens,
      apiRetries: this.apiRetries,
      apiErrors: this.apiErrors,
    };
  }
}

/** Thinking tokens as the result event reports the API's count: summed over modelUsage, else from usage; 0 when none. */
function reportedThinking(r: Json): number {
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  if (isObject(r.modelUsage)) {
    let sum = 0;
    for (const m of Object.values(r.modelUsage)) if (isObject(m)) sum += count(m.thinkingTokens);
    if (sum > 0) return sum;
  }
  const details = isObject(r.usage) && isObject(r.usage.output_tokens_details) ? r.usage.output_tokens_details : null;
  return details ? count(details.thinking_tokens) : 0;
}

/** The behaviour of a transcript read on its own: one string, or whole lines. Lines that are not JSON objects are passed over. */
export function extractBehaviour(input: Iterable<string> | string): StreamBehaviour {
  const c = new BehaviourCollector();
  for (const chunk of typeof input === 'string' ? [input] : input) {
    for (const raw of chunk.split('\n')) {
      const line = raw.trim();
      if (line === '' || line[0] !== '{') continue;
      try {
        const ev: unknown = JSON.parse(line);
        if (isObject(ev)) c.event(ev);
      } catch {
        // not JSON: stream.ts counts such lines
      }
    }
  }
  return c.result();
}

/** The attempt's behaviour: the stream's, and the candidate patch's size (null fields when there was no patch). */
export function attemptBehaviour(stream: StreamBehaviour, patch: string | null): AttemptBehaviour {
  const size = patch === null ? null : patchSize(patch);
  return { ...stream, patchFiles: size?.files ?? null, patchLinesAdded: size?.linesAdded ?? null, patchLinesRemoved: size?.linesRemoved ?? null };
}

// --- Bash commands that only look at files -----------------------------------------------------------------------

/** Programs that print or search files (sed, awk, find, git and xargs only under the conditions of readSegment). */
const READ_PROGRAMS = new Set(['cat', 'head', 'tail', 'less', 'more', 'nl', 'bat', 'grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack', 'ls', 'tree', 'wc', 'file', 'stat', 'sed', 'awk', 'find', 'fd', 'git', 'xargs']);
/** git subcommands that print files. */
const GIT_READS = new Set(['show', 'grep', 'blame', 'ls-files', 'cat-file']);
/** Commands that neither read nor change files, allowed around reads (`cd /app && cat x`, `echo ---; cat y`). */
const NEUTRAL = new Set(['cd', 'pushd', 'popd', 'echo', 'printf', 'true', 'pwd']);

/**
 * The simple commands of a shell command line, as words with quotes removed; null when the line writes somewhere
 * (an output redirection to anything but /dev/null or another descriptor) or feeds a here-document.
 */
function simpleCommands(line: string): string[][] | null {
  const commands: string[][] = [[]];
  let word = '';
  let inWord = false;
  const flush = () => {
    if (inWord) commands[commands.length - 1]!.push(word);
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      const stop = end < 0 ? line.length : end;
      word += ch === '"' ? line.slice(i + 1, stop).replace(/\\(.)/g, '$1') : line.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (ch === '\\') {
      word += line[i + 1] ?? '';
      inWord = true;
      i++;
    } else if (ch === ' ' || ch === '\t') {
      flush();
    } else if (ch === '\n' || ch === ';' || ch === '|' || ch === '&' || ch === '(' || ch === ')') {
      if (ch === '&' && line[i + 1] === '>') return null;
      flush();
      commands.push([]);
      if ((ch === '|' || ch === '&') && line[i + 1] === ch) i++;
    } else if (ch === '>') {
      // A descriptor number just before (2>) belongs to the redirection.
      if (inWord && /^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else flush();
      let j = i + 1;
      if (line[j] === '>') j++;
      if (line[j] === '&') {
        // >&2, 2>&1: to another descriptor.
        j++;
        while (j < line.length && /\d/.test(line[j]!)) j++;
        i = j - 1;
        continue;
      }
      while (line[j] === ' ' || line[j] === '\t') j++;
      let k = j;
      while (k < line.length && !/[\s;|&()]/.test(line[k]!)) k++;
      if (line.slice(j, k) !== '/dev/null') return null;
      i = k - 1;
    } else if (ch === '<') {
      if (line[i + 1] === '<') return null;
      flush();
      // `< file`: the file is read; its name is not a word of the command.
      let j = i + 1;
      while (line[j] === ' ' || line[j] === '\t') j++;
      while (j < line.length && !/[\s;|&()]/.test(line[j]!)) j++;
      i = j - 1;
    } else {
      word += ch;
      inWord = true;
    }
  }
  flush();
  return commands.filter((c) => c.length > 0);
}

const program = (word: string) => word.slice(word.lastIndexOf('/') + 1);

/** 'read', 'neutral', or 'other' (anything that may change something or run code). */
function readSegment(words: readonly string[]): 'read' | 'neutral' | 'other' {
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
  if (i >= words.length) return 'neutral';
  const name = program(words[i]!);
  const args = words.slice(i + 1);
  if (NEUTRAL.has(name)) return 'neutral';
  if (!READ_PROGRAMS.has(name)) return 'other';
  switch (name) {
    case 'sed':
      return args.some((a) => a === '--in-place' || a.startsWith('--in-place=') || /^-[^-]*i/.test(a)) ? 'other' : 'read';
    case 'awk':
      return args.some((a) => a === '-i' || a === 'inplace' || a.includes('system(')) ? 'other' : 'read';
    case 'find': {
      if (args.some((a) => a === '-delete' || a === '-fprint' || a === '-fprintf' || a === '-fls')) return 'other';
      for (let k = 0; k < args.length; k++) {
        if (/^-(exec|execdir|ok|okdir)$/.test(args[k]!) && readSegment(args.slice(k + 1, nextTerminator(args, k + 1))) !== 'read') return 'other';
      }
      return 'read';
    }
    case 'git': {
      let k = 0;
      while (k < args.length && args[k]!.startsWith('-')) k += args[k] === '-C' || args[k] === '-c' ? 2 : 1;
      return GIT_READS.has(args[k] ?? '') ? 'read' : 'other';
    }
    case 'xargs': {
      let k = 0;
      while (k < args.length && args[k]!.startsWith('-')) k++;
      return k < args.length && readSegment(args.slice(k)) === 'read' ? 'read' : 'other';
    }
    default:
      return 'read';
  }
}

function nextTerminator(args: readonly string[], from: number): number {
  for (let k = from; k < args.length; k++) if (args[k] === ';' || args[k] === '+') return k;
  return args.length;
}

/**
 * Whether a Bash command only looks at files: each of its simple commands (split at `&&`, `||`, `;`, `|`, newlines)
 * is a read (cat, head, tail, less, more, nl, bat, grep, egrep, fgrep, rg, ag, ack, ls, tree, wc, file, stat; sed
 * without -i; awk without -i inplace; find without -delete and whose -exec runs a read; git show, grep, blame,
 * ls-files, cat-file; xargs of a read) or neutral (cd, pushd, popd, echo, printf, true, pwd, variable assignments),
 * at least one is a read, and nothing is written (no output redirection but to /dev/null or a descriptor, no
 * here-document). A heuristic, documented in docs/metrics.md: `python -c "print(open(f).read())"` is not counted.
 */
export function isReadCommand(command: string): boolean {
  const commands = simpleCommands(command);
  if (commands === null) return false;
  let reads = 0;
  for (const c of commands) {
    const kind = readSegment(c);
    if (kind === 'other') return false;
    if (kind === 'read') reads++;
  }
  return reads > 0;
}
