// CLI: `npm run fetch-data -- fashion-mnist|mnist [--dir D] [--base-url URL]` downloads and verifies a dataset.
import { parseCli, runMain } from '../../lib/cli/options.js';

const USAGE = `Usage: npm run fetch-data -- fashion-mnist|mnist [--dir DIR] [--base-url https://...]

Downloads the four IDX files of a dataset (resumable, checksummed, honours HTTPS_PROXY/NO_PROXY).

  --dir DIR          where to put them (default data/<dataset>/)
  --base-url URL     another mirror of the same files
  -h, --help         this help`;

/** Names in lib/data/fetch.ts SOURCES (tests/integration/cli-convention.test.ts checks); listed here so --help loads nothing. */
const DATASETS = ['fashion-mnist', 'mnist'] as const;

const OPTIONS = {
  dir: { type: 'string', expects: 'a folder' },
  'base-url': { type: 'string', expects: 'an https:// URL' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseCli(process.argv.slice(2), OPTIONS, {
    min: 1,
    max: 1,
    describe: `one dataset name (${DATASETS.join(' or ')})`,
    choices: DATASETS,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { fetchDataset } = await import('../../lib/data/fetch.js');
  const { defaultDataDir } = await import('../../lib/data/datasets.js');
  const name = positionals[0] as (typeof DATASETS)[number];
  const dir = values.dir ?? defaultDataDir(name);
  const results = await fetchDataset(name, { dir, baseUrl: values['base-url'] });
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  console.error(
    `fetch-data: ${name} is ready in ${dir} (${results.length} files, ${(bytes / 1e6).toFixed(1)} MB, MD5 verified)`,
  );
  return 0;
}

runMain(main, { exit: true });
