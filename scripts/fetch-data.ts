// CLI: `npm run fetch-data -- fashion-mnist|mnist [--dir D] [--base-url URL]` downloads and verifies a dataset.
import { parseArgs } from 'node:util';
import { KitError } from '../lib/core/errors.js';
import { fetchDataset, SOURCES, type FetchableDataset } from '../lib/data/fetch.js';
import { defaultDataDir } from '../lib/data/datasets.js';

const USAGE = 'usage: npm run fetch-data -- fashion-mnist|mnist [--dir DIR] [--base-url https://...]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'base-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = Object.keys(SOURCES);
  if (positionals.length !== 1 || !names.includes(positionals[0])) {
    console.error(`fetch-data: expected one dataset name (${names.join(' or ')}), got ${JSON.stringify(positionals)}\n${USAGE}`);
    return 2;
  }
  const name = positionals[0] as FetchableDataset;
  const dir = values.dir ?? defaultDataDir(name);
  const results = await fetchDataset(name, { dir, baseUrl: values['base-url'] });
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  console.error(`fetch-data: ${name} is ready in ${dir} (${results.length} files, ${(bytes / 1e6).toFixed(1)} MB, MD5 verified)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Kit errors are one actionable sentence; anything else is a bug worth its stack.
    console.error(err instanceof KitError ? `fetch-data: ${err.message}` : err);
    process.exit(1);
  },
);
