/**
 * The `agentdrift run` progress display: a bar (done/total, pass so far, ETA) on a terminal, one line per attempt
 * otherwise (logs, CI).
 */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../runner/run.ts';

export function formatEta(p: RunProgress, now = Date.now()): string {
  if (p.done === 0 || p.done >= p.total) return p.done >= p.total ? '0s' : '?';
  const s = Math.round((((now - p.startedAtMs) / p.done) * (p.total - p.done)) / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function passSoFar(p: RunProgress): string {
  return p.counted ? `${p.resolved}/${p.counted} (${((100 * p.resolved) / p.counted).toFixed(0)}%)` : '-';
}

export function progressReporter(stream: NodeJS.WriteStream): { update(p: RunProgress): void; stop(): void } {
  if (!stream.isTTY) {
    return {
      update(p) {
        if (p.last) stream.write(`[${p.done}/${p.total}] ${p.last.taskId}#${p.last.sample}: ${p.last.outcome}; pass so far ${passSoFar(p)}; eta ${formatEta(p)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'run {bar} {value}/{total} | pass {pass} | eta {eta_text}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { pass: passSoFar(p), eta_text: formatEta(p) };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
