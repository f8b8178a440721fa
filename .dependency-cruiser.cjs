// The layer rule of lib/ (see README "How the code is organised"), checked by `npm run lint:deps`.
// Each layer may import only the layers below it: core ← data ← ml ← viz ← notebook, and cli beside viz.
// lib/, browser/ and scripts/ are cruised: what runs must not need a devDependency, and the browser
// bundle takes only the DOM-free modules of lib/ it needs. tests/ may import anything.
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
      'ml',
      ['core', 'data'],
      'may import lib/core and lib/data only (no charts, no notebook code).',
    ),
    layer(
      'viz',
      ['core', 'data', 'ml'],
      'may import lib/core, lib/data and lib/ml only (not lib/notebook, not lib/cli).',
    ),
    layer(
      'notebook',
      ['core', 'data', 'ml', 'viz'],
      'may import lib/core, data, ml and viz only (not lib/cli).',
    ),
    layer(
      'cli',
      ['core', 'data', 'ml'],
      'may import lib/core, data and ml only (not lib/viz, not lib/notebook).',
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
      comment: 'lib/ must not import scripts/, tests/ or browser/ (browser code, bundled apart).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(scripts|tests|browser)/' },
    },
    {
      name: 'browser-takes-pure-lib-only',
      comment:
        'browser/ is bundled for the page and the widget: from lib/ it may import only DOM- and Node-free modules.',
      severity: 'error',
      from: { path: '^browser/' },
      to: {
        path: '^lib/',
        pathNot: ['^lib/data/preprocess\\.ts$', '^lib/notebook/widget-model\\.ts$'],
      },
    },
    {
      name: 'run-time-needs-no-dev-dependency',
      comment:
        'lib/, browser/ and the scripts run for users (kernel, npm run …): a devDependency they import belongs in dependencies.',
      severity: 'error',
      from: { path: '^(lib|browser|scripts)/' },
      to: { dependencyTypes: ['npm-dev'] },
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
