import { describe, expect, it } from 'vitest';
import { MetricsExporter } from '../../src/adapters/metrics/exporter.ts';

const dockerLines = (text: string) => text.split('\n').filter((l) => /^agentdrift_docker_up\b/.test(l) || /^# (HELP|TYPE) agentdrift_docker_up /.test(l));

describe('MetricsExporter agentdrift_docker_up', () => {
  it('is absent until a Docker check has happened', async () => {
    const m = new MetricsExporter('test');
    expect(dockerLines(await m.render())).toEqual([]);
    m.applyOps([], null);
    expect(dockerLines(await m.render())).toEqual([]);
  });

  it('shows 1 or 0 once known, and goes away again when the state is unknown', async () => {
    const m = new MetricsExporter('test');
    m.applyOps([], true);
    expect((await m.render()).split('\n')).toContain('agentdrift_docker_up 1');
    m.applyOps([], false);
    let text = await m.render();
    expect(text.split('\n')).toContain('agentdrift_docker_up 0');
    expect(text.split('\n')).not.toContain('agentdrift_docker_up 1');
    expect(dockerLines(text).filter((l) => !l.startsWith('#'))).toHaveLength(1);
    m.applyOps([], null);
    text = await m.render();
    expect(dockerLines(text)).toEqual([]);
  });
});
