// CLI: `npm run fetch-data -- fashion-mnist|mnist [--dir D] [--base-url URL]` downloads and verifies a dataset.
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { FETCHABLE_DATASETS, type FetchableDataset } from '../../lib/core/choices.js';

const OPTIONS = {
  dir: {
    type: 'string',
    expects: 'a folder',
    value: 'DIR',
    describe: 'where to put them (default data/<dataset>/)',
  },
  'base-url': {
    type: 'string',
    expects: 'an https:// URL',
    value: 'URL',
    describe: 'another mirror of the same files',
  },
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: [
      `npm run fetch-data -- ${FETCHABLE_DATASETS.join('|')} [--dir DIR] [--base-url URL]`,
    ],
    about: [
      'Downloads the four IDX files of a dataset (resumable, checksummed, honours HTTPS_PROXY/NO_PROXY).',
    ],
  },
  OPTIONS,
);

async function main(): Promise<number> {
  const { values, positionals } = parseCli(process.argv.slice(2), OPTIONS, {
    min: 1,
    max: 1,
    describe: `one dataset name (${FETCHABLE_DATASETS.join(' or ')})`,
    choices: FETCHABLE_DATASETS,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { fetchDataset } = await import('../../lib/data/fetch.js');
  const { defaultDataDir } = await import('../../lib/data/datasets.js');
  const name = positionals[0] as FetchableDataset;
  const dir = values.dir ?? defaultDataDir(name);
  const results = await fetchDataset(name, { dir, baseUrl: values['base-url'] });
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  console.error(
    `fetch-data: ${name} is ready in ${dir} (${results.length} files, ${(bytes / 1e6).toFixed(1)} MB, MD5 verified)`,
  );
  return 0;
}

runMain(main, { exit: true });
