/**
 * The layering rules of .dependency-cruiser.cjs (run by `npm run lint`), checked on the real src/ and on probe trees
 * that break them: an import against the direction, a cycle, a file outside every room.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../..');
const config = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: unknown[]; options: Record<string, unknown> };

async function violations(baseDir: string): Promise<{ rule: string; from: string; to: string }[]> {
  const { tsConfig: _ts, ...options } = config.options;
  const out: IReporterOutput = await cruise(['src'], { ...options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } } as never);
  const summary = (out.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } }).summary;
  return summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function probe(files: Record<string, string>): string {
  dir = mkdtempSync(path.join(tmpdir(), 'agentdrift-layers-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe('room layering', () => {
  it('holds for src/ as it is', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it('refuses an import from a lower room into a higher one, type-only imports too', async () => {
    const base = probe({
      'src/stats/mean.ts': "import type { App } from '../adapters/app.ts';\nexport const mean = (a: App) => a;\n",
      'src/adapters/app.ts': 'export interface App { x: number }\n',
      'src/core/runner/run.ts': "import { s } from '../scheduler/scheduler.ts';\nexport const r = s;\n",
      'src/core/scheduler/scheduler.ts': 'export const s = 1;\n',
    });
    const v = await violations(base);
    expect(v).toContainEqual({ rule: 'layers:stats', from: 'src/stats/mean.ts', to: 'src/adapters/app.ts' });
    expect(v).toContainEqual({ rule: 'layers:core/runner', from: 'src/core/runner/run.ts', to: 'src/core/scheduler/scheduler.ts' });
  });

  it('refuses a cycle inside a room and imports from a file that belongs to no room', async () => {
    const base = probe({
      'src/dataset/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/dataset/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      'src/misc/odd.ts': "import { one } from '../domain/one.ts';\nexport const odd = one;\n",
      'src/domain/one.ts': 'export const one = 1;\n',
    });
    const rules = (await violations(base)).map((x) => `${x.rule} ${x.from}`);
    expect(rules).toContain('no-circular src/dataset/a.ts');
    expect(rules).toContain('rooms:unknown src/misc/odd.ts');
  });

  it('lets the entry points import any room', async () => {
    const base = probe({
      'src/main.ts': "import { App } from './adapters/app.ts';\nimport { mean } from './stats/mean.ts';\nexport { App, mean };\n",
      'src/adapters/app.ts': 'export const App = 1;\n',
      'src/stats/mean.ts': 'export const mean = 2;\n',
    });
    expect(await violations(base)).toEqual([]);
  });
});
