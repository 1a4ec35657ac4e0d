/**
 * Reading an agent CLI's JSON-lines stream (Claude Code's stream-json, Gemini CLI's stream-json): the objects in
 * order, with blank lines skipped and every other line that is not a JSON object counted, never thrown on.
 */
export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** What a pass over a stream counted: the objects read, and the lines that were not JSON objects. */
export interface LineCounts {
  events: number;
  garbageLines: number;
}

/**
 * The JSON objects of the input (one string, or an iterable of whole lines, each split again at any newline it
 * holds), counting them and the garbage lines in `counts` as it goes.
 */
export function* jsonObjects(input: Iterable<string> | string, counts: LineCounts): Generator<Json> {
  const chunks = typeof input === 'string' ? [input] : input;
  for (const chunk of chunks) {
    for (const rawLine of chunk.split(/\r?\n/)) {
      const line = rawLine.trim();
      if (line === '') continue;
      let ev: unknown;
      try {
        ev = JSON.parse(line);
      } catch {
        counts.garbageLines += 1;
        continue;
      }
      if (!isObject(ev)) {
        counts.garbageLines += 1;
        continue;
      }
      counts.events += 1;
      yield ev;
    }
  }
}
