// Runs one of the project's commands (`npm run <name>`) as a child process, from the project root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/core/paths.js';

/** The project root (the folder holding package.json). */
export const root = projectRoot();

const npmScripts: Record<string, string> = JSON.parse(
  readFileSync(path.join(root, 'package.json'), 'utf8'),
).scripts;

/** The file `npm run <name>` runs: package.json says "tsx scripts/<folder>/<file>.ts"; a .ts path is itself. */
export function scriptFile(name: string): string {
  if (name.startsWith('scripts/') && name.endsWith('.ts')) return name;
  const match = /^tsx (scripts\/\S+\.ts)$/.exec(npmScripts[name] ?? '');
  if (!match) throw new Error(`package.json has no "tsx scripts/…" script named ${name}`);
  return match[1];
}

export interface ScriptOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Node options before the script, after `--import tsx` (e.g. another --import). */
  nodeArgs?: string[];
  /** SIGKILL after this long (the run then ends with signal SIGKILL). */
  killAfterMs?: number;
  /** Called on each stderr chunk with everything so far, e.g. to signal the child at a point. */
  onStderr?: (stderr: string, child: ChildProcess) => void;
}

export interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
}

function nodeArgv(name: string, args: string[], options: ScriptOptions): string[] {
  return ['--import', 'tsx', ...(options.nodeArgs ?? []), scriptFile(name), ...args];
}

/** Starts `npm run <name> -- ...args` without waiting: for commands that serve until stopped. */
export function startScript(
  name: string,
  args: string[],
  options: ScriptOptions = {},
): ChildProcess {
  return spawn(process.execPath, nodeArgv(name, args, options), {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `npm run <name> -- ...args` to its end and resolves with its exit and output. */
export function runScript(
  name: string,
  args: string[],
  options: ScriptOptions = {},
): Promise<ScriptRun> {
  const child = startScript(name, args, options);
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout!.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    output += d.toString();
    options.onStderr?.(stderr, child);
  });
  const timer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output });
    }),
  );
}

/** runScript for tests written synchronously; output is stdout then stderr, not interleaved. */
export function runScriptSync(
  name: string,
  args: string[],
  options: ScriptOptions = {},
): ScriptRun {
  const r = spawnSync(process.execPath, nodeArgv(name, args, options), {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.killAfterMs,
  });
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    output: r.stdout + r.stderr,
  };
}
