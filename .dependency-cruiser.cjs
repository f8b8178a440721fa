// The layer rule of lib/ (see README "How the code is organised"), checked by `npm run lint:deps`.
// Each layer may import only the layers below it: core ← data ← engine ← ml ← viz ← notebook, and cli
// beside viz.
// Only lib/ is cruised: scripts/ and tests/ may import anything.
/** @param {string} from @param {string[]} allowed */
const layer = (from, allowed, why) => ({
  name: `${from}-imports-only-${allowed.length ? allowed.join('-') : 'itself'}`,
  comment: `lib/${from}/ ${why}`,
  severity: 'error',
  from: { path: `^lib/${from}/` },
  to: { path: '^lib/', pathNot: [`^lib/${from}/`, ...allowed.map((l) => `^lib/${l}/`)] },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    layer('core', [], 'is the bottom layer: it imports nothing of ours.'),
    layer('data', ['core'], 'may import lib/core only.'),
    layer(
      'engine',
      ['core', 'data'],
      'patches and measures TensorFlow.js engines: it may import lib/core and lib/data only (no model).',
    ),
    layer(
      'ml',
      ['core', 'data', 'engine'],
      'may import lib/core, data and engine only (no charts, no notebook code).',
    ),
    layer(
      'viz',
      ['core', 'data', 'engine', 'ml'],
      'may import lib/core, data, engine and ml only (not lib/notebook, not lib/cli).',
    ),
    layer(
      'notebook',
      ['core', 'data', 'engine', 'ml', 'viz'],
      'may import lib/core, data, engine, ml and viz only (not lib/cli).',
    ),
    layer(
      'cli',
      ['core', 'data', 'engine', 'ml'],
      'may import lib/core, data, engine and ml only (not lib/viz, not lib/notebook).',
    ),
    {
      name: 'index-is-for-notebooks',
      comment:
        "lib/index.ts is the notebooks' entry point; lib modules import each other directly.",
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/index\\.ts$' },
    },
    {
      name: 'lib-stays-in-lib',
      comment: 'lib/ must not import scripts/ or tests/.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(scripts|tests)/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles inside lib/ make the load order matter; break the cycle.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
