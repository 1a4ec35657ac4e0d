/**
 * The rooms of src/ and the one direction their imports go (issue 11): adapters -> core -> the lower rooms -> domain.
 * `npm run lint` runs this (depcruise src); an import against the direction, or any cycle between modules, fails it.
 * Type-only imports count too: a layer that names a type of the layer above depends on it all the same.
 *
 * Each room lists what it may import besides itself. The lists are the architecture: change one only together with
 * the README's layout table.
 */
const LOWER = ['domain', 'stats', 'cron', 'workers', 'dataset', 'executor', 'config', 'store', 'agent', 'grading'];
const CORE_BASE = [...LOWER, 'core/deps.ts', 'core/baselines', 'core/figures'];
const CORE = [...CORE_BASE, 'core/baselines', 'core/history', 'core/runner', 'core/scheduler'];
const ADAPTER_BASE = [...CORE, 'adapters/metrics', 'adapters/app.ts', 'adapters/version.ts', 'adapters/log.ts'];

/** room (a folder of src/, or one file) -> the rooms it may import. */
const ROOMS = {
  domain: [],
  stats: ['domain'],
  cron: ['domain'],
  // The worker pool knows nothing of the tasks it runs (src/worker.ts implements them).
  workers: [],
  dataset: ['domain', 'stats'],
  executor: ['domain'],
  config: ['domain', 'dataset'],
  store: ['domain', 'config', 'stats'],
  agent: ['domain', 'executor', 'config'],
  grading: ['domain', 'executor'],
  'core/deps.ts': LOWER,
  'core/baselines': [...LOWER, 'core/deps.ts'],
  'core/figures': [...LOWER, 'core/deps.ts', 'core/baselines'],
  'core/history': CORE_BASE,
  'core/runner': CORE_BASE,
  'core/scheduler': [...CORE_BASE, 'core/runner'],
  'adapters/version.ts': [],
  'adapters/log.ts': [],
  'adapters/metrics': [...CORE, 'adapters/version.ts'],
  'adapters/app.ts': [...CORE, 'adapters/metrics'],
  'adapters/http': ADAPTER_BASE,
  'adapters/cli': [...ADAPTER_BASE, 'adapters/http'],
  // The entry points wire everything: main.ts the process, worker.ts a worker thread.
  'main.ts': null,
  'worker.ts': null,
  // Under tsx, a worker thread starts here (registers tsx, then loads worker.ts).
  'worker-entry.mjs': null,
};

const esc = (s) => s.replace(/[.]/g, '\\.');
/** A regex matching the files of a room: a folder and what is under it, or the one file. */
const files = (room) => (/\.m?[jt]s$/.test(room) ? `^src/${esc(room)}$` : `^src/${esc(room)}/`);

const layering = Object.entries(ROOMS)
  .filter(([, allowed]) => allowed !== null)
  .map(([room, allowed]) => ({
    name: `layers:${room}`,
    comment: `src/${room} may import only ${allowed.length ? allowed.join(', ') : 'nothing of agentdrift'} (besides itself)`,
    severity: 'error',
    from: { path: files(room) },
    to: { path: '^src/', pathNot: [room, ...allowed].map(files) },
  }));

module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'rooms:unknown',
      comment: 'every file of src/ that imports something belongs to a room listed here (one that imports nothing is refused by the layer rule of any room that imports it)',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(ROOMS).map(files) },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'no module reaches itself through its imports',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-test',
      comment: 'production code never imports test code',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
