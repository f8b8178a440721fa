// `npm run docs`: writes the documentation generated from code, docs/settings.md from the settings registry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCli, runMain, usage, type DescribedOptionTable } from '../shared/options.js';
import { projectRoot } from '../../lib/core/paths.js';
import { settingsMarkdown } from '../../lib/core/settings.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h', describe: 'this help' },
} as const satisfies DescribedOptionTable;

const USAGE = usage(
  {
    synopsis: ['npm run docs'],
    about: [
      `Writes docs/settings.md, the table of the MNIST_* environment variables, from
      lib/core/settings.ts. tests/unit/settings.test.ts fails while the committed file differs from what
      this writes.`,
    ],
  },
  OPTIONS,
);

/** The generated files, relative to the project root, and their contents. */
const GENERATED: Readonly<Record<string, () => string>> = {
  'docs/settings.md': settingsMarkdown,
};

/** Writes to a temporary name, then renames: a failed run leaves the last good file. */
function writeAtomic(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

async function main(): Promise<number> {
  const { values } = parseCli(process.argv.slice(2), OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const [file, generate] of Object.entries(GENERATED)) {
    writeAtomic(path.join(projectRoot(), file), generate());
    process.stderr.write(`wrote ${file}\n`);
  }
  return 0;
}

runMain(main);
