// The layer rule of lib/ (see README "How the code is organised"), checked by `npm run lint:deps`.
// Each layer may import only the layers below it: core ← data ← engine ← ml ← viz ← notebook.
// scripts/ and tests/ are cruised too: each scripts/ subsystem imports lib/, itself, scripts/shared/
// and the subsystems named for it; tests/unit/ starts no commands and no Jupyter (see the rules after lib's).
/** @param {string} from @param {string[]} allowed */
const layer = (from, allowed, why) => ({
  name: `${from}-imports-only-${allowed.length ? allowed.join('-') : 'itself'}`,
  comment: `lib/${from}/ ${why}`,
  severity: 'error',
  from: { path: `^lib/${from}/` },
  to: { path: '^lib/', pathNot: [`^lib/${from}/`, ...allowed.map((l) => `^lib/${l}/`)] },
});

/** scripts/<from>/ may import lib/, its own folder, scripts/shared/ and the subsystems in `allowed`. */
const subsystem = (from, allowed, why) => ({
  name: `scripts-${from}-imports-${allowed.length ? allowed.join('-') : 'no-other-subsystem'}`,
  comment: `scripts/${from}/ ${why}`,
  severity: 'error',
  from: { path: `^scripts/${from}/` },
  to: {
    path: '^(scripts|tests)/',
    pathNot: [`^scripts/${from}/`, '^scripts/shared/', ...allowed.map((s) => `^scripts/${s}/`)],
  },
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
      'may import lib/core, data, engine and ml only (not lib/notebook).',
    ),
    layer(
      'notebook',
      ['core', 'data', 'engine', 'ml', 'viz'],
      'may import lib/core, data, engine, ml and viz only.',
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
    subsystem('shared', [], 'is what every script uses (options, --help): it uses no subsystem.'),
    subsystem('cli', [], 'holds the commands learners run; they need lib/ only.'),
    subsystem('engine', [], 'installs the native engine with lib/ alone.'),
    subsystem('bench', [], 'times the engines with lib/ alone.'),
    subsystem('jupyter', [], 'is used by notebooks/ and room/; it uses none of them.'),
    subsystem('notebooks', ['jupyter'], 'may use scripts/jupyter/ (kernel spec, setup) only.'),
    subsystem('room', ['jupyter'], 'may use scripts/jupyter/ (env, .venv/) only.'),
    {
      name: 'scripts-live-in-a-subsystem-folder',
      comment: 'A script belongs to one of the scripts/ subsystem folders (see README).',
      severity: 'error',
      from: { path: '^scripts/[^/]+$' },
      to: {},
    },
    {
      name: 'tests-live-in-a-tier-folder',
      comment:
        'A test file outside tests/unit/ and tests/integration/ runs in neither npm run test:unit ' +
        'nor test:integration; helpers go in tests/support/.',
      severity: 'error',
      from: { path: '^tests/[^/]+$' },
      to: {},
    },
    {
      name: 'unit-tests-start-no-commands',
      comment:
        'tests/unit/ runs modules in-process: a test that starts a command (run-script) or drives ' +
        'Jupyter (lab-ui) belongs in tests/integration/.',
      severity: 'error',
      from: { path: '^tests/unit/' },
      to: { path: '^tests/support/(run-script|lab-ui)\\.ts$' },
    },
    {
      name: 'tests-share-only-support',
      comment:
        'Test files import tests/support/, never another test file; support imports no test.',
      severity: 'error',
      from: { path: '^tests/' },
      to: { path: '^tests/(unit|integration)/' },
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
