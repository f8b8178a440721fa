// One command-line convention for every script: parse options, reject bad ones in one line naming the allowed values, exit 2.
//
// Nothing here may import TensorFlow.js (directly or through lib/ml): scripts parse their options and
// answer --help before they load the heavy modules with dynamic imports.
import { parseArgs } from 'node:util';
import { ConfigError, KitError, ToolMissingError } from '../../lib/core/errors.js';
import { settingHelp, type SettingName } from '../../lib/core/settings.js';

export interface StringOption {
  readonly type: 'string';
  readonly short?: string;
  /** The only values accepted; with `list`, each comma-separated item must be one of them. */
  readonly choices?: readonly string[];
  readonly list?: boolean;
  /** What a value looks like, for "expects a value" errors: e.g. "an integer from 0 to 65535". */
  readonly expects?: string;
  /** The value's name in --help: `--epochs N`; default: the choices joined by "|", else VALUE. */
  readonly value?: string;
  /** What the option does, for --help (usage() lists every option that has one). */
  readonly describe?: string;
  /** The heading it is listed under in --help, when not the main "Options:". */
  readonly group?: string;
  /** Internal (a script calling itself): accepted, but neither in --help nor in error messages. */
  readonly hidden?: boolean;
}

export interface BooleanOption {
  readonly type: 'boolean';
  readonly short?: string;
  readonly describe?: string;
  readonly group?: string;
}

export type OptionSpec = StringOption | BooleanOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

export type OptionValues<T extends OptionTable> = {
  [K in keyof T]?: T[K] extends BooleanOption ? boolean : string;
};

export interface PositionalRule {
  readonly min: number;
  readonly max: number;
  /** What the positionals are, for errors: e.g. "a dataset name (fashion-mnist or mnist)". */
  readonly describe: string;
  /** When set, each positional must be one of these. */
  readonly choices?: readonly string[];
}

export interface ParsedCli<T extends OptionTable> {
  readonly values: OptionValues<T>;
  readonly positionals: string[];
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * The known name a mistyped one most likely meant, or undefined: a close spelling (`--epoch` →
 * `--epochs`), a prefix (`--learn` → `--learning-rate`) or the initials of a hyphenated name
 * (`--lr` → `--learning-rate`).
 */
export function nearest(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  if (t === '') return undefined;
  const initials = (name: string) =>
    name
      .split('-')
      .map((part) => part[0] ?? '')
      .join('');
  const byShape = known.filter(
    (k) =>
      (k.length > t.length && k.startsWith(t) && t.length >= 2) ||
      (k.includes('-') && initials(k) === t),
  );
  if (byShape.length === 1) return byShape[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(t, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const allowed = Math.min(t.length, best?.length ?? 0) <= 3 ? 1 : 2;
  return bestDistance <= allowed ? best : undefined;
}

/** The options a user may type: the table's, less the hidden ones. */
function publicNames(options: OptionTable): string[] {
  return Object.keys(options).filter((n) => {
    const spec = options[n];
    return !(spec.type === 'string' && spec.hidden);
  });
}

function optionNames(options: OptionTable): string[] {
  return publicNames(options).map((n) => `--${n}`);
}

/** A value that is a negative number (`--seed -1`), not another option. */
function looksNumeric(value: string): boolean {
  return /^-(\d|\.\d)/.test(value);
}

/**
 * Parses argv against `options`. Throws ConfigError with a one-line message that names the bad option
 * and what is allowed: unknown options (with the nearest known one for near misses), missing values,
 * values given to flags, values outside `choices`, and too many or too few positionals.
 */
export function parseCli<T extends OptionTable>(
  argv: readonly string[],
  options: T,
  positionals?: PositionalRule,
): ParsedCli<T> {
  const known = optionNames(options);
  // strict: false so this function, not node:util, words every error; tokens tell what was typed.
  const parsed = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (const token of parsed.tokens) {
    if (token.kind === 'positional') {
      rest.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    // node:util maps known short forms (-h) to their long name; an unknown one keeps its letter.
    const name = Object.hasOwn(options, token.name) ? token.name : undefined;
    if (name === undefined) {
      const typed = token.rawName;
      const guess = typed.startsWith('--') ? nearest(token.name, publicNames(options)) : undefined;
      const hint = guess
        ? `did you mean --${guess}? (see --help)`
        : `expected one of ${known.join(', ')}`;
      throw new ConfigError(typed, `unknown option; ${hint}`);
    }
    const spec = options[name];
    const flag = `--${name}`;
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new ConfigError(flag, `takes no value, got "${token.value}"`);
      values[name] = true;
      continue;
    }
    const value = token.value;
    const what = spec.expects ?? (spec.choices ? `one of ${spec.choices.join(', ')}` : 'a value');
    if (
      value === undefined ||
      (!token.inlineValue && value.startsWith('-') && !looksNumeric(value))
    ) {
      throw new ConfigError(
        flag,
        `expects ${what}${value === undefined ? '' : `, but is followed by the option ${value}`}`,
      );
    }
    if (spec.choices) {
      const items = spec.list ? value.split(',').map((v) => v.trim()) : [value];
      for (const item of items) {
        if (!spec.choices.includes(item)) {
          const guess = nearest(item, spec.choices);
          const hint = guess ? ` (did you mean ${guess}?)` : '';
          const expected = spec.list
            ? `a comma-separated list of ${spec.choices.join(', ')}`
            : `one of ${spec.choices.join(', ')}`;
          throw new ConfigError(flag, `unknown value "${item}"${hint}; expected ${expected}`);
        }
      }
    }
    values[name] = value;
  }
  const rule = positionals ?? { min: 0, max: 0, describe: 'no arguments besides options' };
  for (const p of rest) {
    if (rule.choices && !rule.choices.includes(p)) {
      const guess = nearest(p, rule.choices);
      throw new ConfigError(
        'arguments',
        `unknown argument "${p}"${guess ? ` (did you mean ${guess}?)` : ''}; expected ${rule.describe}`,
      );
    }
  }
  if (rest.length > rule.max) {
    const extra = rest
      .slice(rule.max)
      .map((p) => `"${p}"`)
      .join(' ');
    throw new ConfigError('arguments', `unexpected ${extra}; expected ${rule.describe}`);
  }
  // --help answers even when the arguments the command needs are missing.
  if (rest.length < rule.min && values.help !== true)
    throw new ConfigError('arguments', `missing; expected ${rule.describe}`);
  return { values: values as OptionValues<T>, positionals: rest };
}

/** An integer option value in [min, max], or a ConfigError naming the option and the range. */
export function intOption(
  flag: string,
  raw: string,
  min: number,
  max: number,
  note?: string,
): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      flag,
      `expected an integer from ${min} to ${max}${note ? ` (${note})` : ''}, got "${raw}"`,
    );
  }
  return value;
}

export interface MainOptions {
  /** Call process.exit (for scripts whose open handles would keep the process alive); else set exitCode. */
  readonly exit?: boolean;
}

/**
 * Runs a script's main and turns what it throws into the convention: `error: <one line>` on stderr;
 * exit 2 for bad options and missing tools, 1 for other kit errors (with the stack under --verbose),
 * 1 with the stack for anything unexpected (a bug).
 */
export function runMain(main: () => Promise<number>, options: MainOptions = {}): void {
  const finish = (code: number) => {
    if (options.exit) process.exit(code);
    process.exitCode = code;
  };
  main().then(finish, (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    const rest = message.split('\n').slice(1).join('\n').trim();
    if (rest && error instanceof KitError) process.stderr.write(rest + '\n');
    const verbose = process.argv.includes('--verbose');
    if (error instanceof Error && error.stack && (verbose || !(error instanceof KitError)))
      process.stderr.write(error.stack + '\n');
    finish(error instanceof ConfigError || error instanceof ToolMissingError ? 2 : 1);
  });
}

/** An option table whose every option says what it does (hidden ones aside): what usage() needs. */
export type DescribedOptionTable = Readonly<
  Record<
    string,
    | ((StringOption | BooleanOption) & { readonly describe: string })
    | (StringOption & { readonly hidden: true })
  >
>;

/** What --help says around the option list; the lists themselves come from the tables. */
export interface CommandHelp {
  /** How it is run and what follows: ['npm run train -- [options]']; more than one for subcommands. */
  readonly synopsis: readonly string[];
  /** What the command does: paragraphs, each wrapped to the width of the help. */
  readonly about: readonly string[];
  /** The positional arguments, listed like options: [['status', 'which engine …'], …]. */
  readonly arguments?: readonly (readonly [string, string])[];
  /** The MNIST_* variables it reads, described from lib/core/settings.ts. */
  readonly settings?: readonly SettingName[];
  /** Paragraphs after the lists (what to do next, exit statuses); one starting with two spaces is kept as it is. */
  readonly notes?: readonly string[];
}

const WIDTH = 100;
const LABEL = 23;

/** `text` wrapped to lines of at most `width` characters (words longer than that stay whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** A paragraph wrapped, or as it is when it starts with two spaces (a command to copy, say). */
function paragraphLines(paragraph: string): string[] {
  return paragraph.startsWith('  ') ? paragraph.split('\n') : wrap(paragraph, WIDTH);
}

/** One entry of a list: the label in the first column, the text wrapped beside it (or below). */
function entry(label: string, text: string): string[] {
  const indent = ' '.repeat(2 + LABEL);
  const body = wrap(text, WIDTH - indent.length).map((l) => indent + l);
  const head = `  ${label}`;
  if (body.length === 0) return [head];
  if (head.length < indent.length) body[0] = head.padEnd(indent.length) + body[0].trimStart();
  else body.unshift(head);
  return body;
}

function optionLabel(name: string, spec: StringOption | BooleanOption): string {
  const flag = spec.short ? `-${spec.short}, --${name}` : `--${name}`;
  if (spec.type === 'boolean') return flag;
  return `${flag} ${spec.value ?? (spec.choices ? spec.choices.join('|') : 'VALUE')}`;
}

/**
 * The --help text of a command, in the one layout every script shares: synopsis, what it does, its
 * arguments, its options (grouped as the table says), the settings it reads, then the notes.
 */
export function usage(help: CommandHelp, options: DescribedOptionTable): string {
  const [first, ...more] = help.synopsis;
  const out = [`Usage: ${first}`, ...more.map((s) => `       ${s}`)];
  for (const paragraph of help.about) out.push('', ...paragraphLines(paragraph));
  if (help.arguments) {
    out.push('', 'Arguments:');
    for (const [name, text] of help.arguments) out.push(...entry(name, text));
  }
  const groups = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'string' && spec.hidden) continue;
    const group = spec.group ?? 'Options';
    groups.set(group, [
      ...(groups.get(group) ?? []),
      ...entry(optionLabel(name, spec), spec.describe ?? ''),
    ]);
  }
  for (const [group, lines] of groups) out.push('', `${group}:`, ...lines);
  if (help.settings?.length) {
    out.push('', 'Environment (all of them: docs/settings.md):');
    for (const name of help.settings) out.push(...entry(name, settingHelp(name)));
  }
  for (const paragraph of help.notes ?? []) out.push('', ...paragraphLines(paragraph));
  return out.join('\n') + '\n';
}
