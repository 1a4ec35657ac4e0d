/**
 * `agentdrift tasks --track NAME --flips`: the per-task history of GET /api/tracks/:track/tasks (the same body,
 * presentTaskHistory) as a table, from the store alone: it needs neither a daemon nor a frozen suite nor the dataset.
 */
import type { TaskHistoryBody } from '../http/routes/tasks.ts';

/** A name as a terminal can show it: one with control characters is printed JSON-quoted. */
const printable = (s: string) => ([...s].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)) ? JSON.stringify(s) : s);

const FLIP_LABEL = { broke: 'BROKE', fixed: 'fixed' } as const;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/**
 * The table: a head line (window, its days and runs, baseline, suite), one row per task in the route's order (most
 * push on the CUSUM first) with its latest outcome, reference passes/trials, window passes/attempts, push and flip,
 * then the flips, each on a line, and the rule they follow.
 */
export function formatTaskHistory(b: TaskHistoryBody): string {
  const span = b.span ? `${b.span.firstDay} .. ${b.span.lastDay}, ${b.span.runs} run(s)` : 'no finished run yet';
  const head =
    `track ${b.track}, window ${b.window} (${span}); baseline: ${b.baseline ?? 'none yet'}; suite: ${b.suiteFrozen ? 'frozen' : 'not frozen (tasks from stored attempts)'}; ` +
    `${b.tasks.length} task(s)`;
  if (!b.tasks.length) return `${head}\n`;
  const rows = [['task', 'latest', 'reference', b.window, 'cusum push', 'flip']];
  for (const t of b.tasks) {
    rows.push([
      printable(t.taskId),
      t.latest?.outcome ?? '-',
      t.reference ? `${t.reference.passes}/${t.reference.trials} (${(100 * t.reference.rate).toFixed(0)}%)` : '-',
      t.attempts ? `${t.passes}/${t.attempts}` : '-',
      t.cusumPush === null ? '-' : `${t.cusumPush >= 0 ? '+' : ''}${t.cusumPush.toFixed(2)}`,
      t.flip ? FLIP_LABEL[t.flip] : '',
    ]);
  }
  const flipped = b.tasks.filter((t) => t.flip);
  const r = b.flipRule;
  const rule =
    `a flip: reference pass rate >= ${r.solvedRate} (broke) or <= ${r.failingRate} (fixed) over >= ${r.minReferenceTrials} trials, ` +
    `and every one of >= ${r.minWindowAttempts} attempts in ${b.window} failed (broke) or resolved (fixed)`;
  const lines = [head, table(rows), ''];
  if (b.baseline !== 'reference') lines.push(`no flips: they need a reference period (the baseline is ${b.baseline ?? 'not set yet'})`);
  else if (!flipped.length) lines.push(`no flips in ${b.window} (${rule})`);
  else {
    lines.push(`${flipped.length} flip(s) in ${b.window}: ${b.flips.broke} broke, ${b.flips.fixed} fixed (${rule})`);
    for (const t of flipped) lines.push(`  ${FLIP_LABEL[t.flip!]}: ${printable(t.taskId)}: reference ${t.reference!.passes}/${t.reference!.trials}, ${b.window} ${t.passes}/${t.attempts}`);
  }
  return `${lines.join('\n')}\n`;
}
