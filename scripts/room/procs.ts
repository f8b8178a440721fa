// Processes of a workshop room, read from Linux /proc: trees, identities that survive PID reuse, memory and CPU, stopping by PID.
import * as fs from 'node:fs';

/** A process as /proc shows it; `start` (clock ticks since boot) tells a reused PID from the original. */
export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly start: number;
  /** Resident memory in bytes. */
  readonly rss: number;
  /** User + system CPU time in clock ticks. */
  readonly cpuTicks: number;
  readonly command: string;
}

// Linux reports CPU times in USER_HZ, 100 on every architecture Node runs on.
const TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

/** /proc/PID/stat parsed, or undefined when the process is gone (or was never there). */
export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command sits in parentheses and may itself hold spaces or ')': split after the last ')'.
  const close = stat.lastIndexOf(')');
  const command = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // Fields from 3 (state) on: ppid is field 4, utime 14, stime 15, starttime 22, rss 24 (pages).
  if (f[0] === 'Z') return undefined; // a zombie holds no memory and only waits to be reaped
  return {
    pid,
    ppid: Number(f[1]),
    start: Number(f[19]),
    rss: Number(f[21]) * PAGE_SIZE,
    cpuTicks: Number(f[11]) + Number(f[12]),
    command,
  };
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** `root` and all its living descendants (one /proc scan). */
export function processTree(root: number): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  let top: ProcInfo | undefined;
  for (const pid of allPids()) {
    const info = procInfo(pid);
    if (!info) continue;
    if (pid === root) top = info;
    const siblings = byParent.get(info.ppid) ?? [];
    siblings.push(info);
    byParent.set(info.ppid, siblings);
  }
  if (!top) return [];
  const out: ProcInfo[] = [];
  const queue = [top];
  while (queue.length > 0) {
    const p = queue.shift() as ProcInfo;
    out.push(p);
    queue.push(...(byParent.get(p.pid) ?? []));
  }
  return out;
}

/** Sum of resident memory of a set of processes, in bytes. */
export function totalRss(procs: readonly ProcInfo[]): number {
  return procs.reduce((sum, p) => sum + p.rss, 0);
}

export function cpuSeconds(ticks: number): number {
  return ticks / TICKS_PER_SECOND;
}

/** Whether the process `p` names is still the same process (alive, and its PID not reused). */
export function stillRunning(p: { pid: number; start: number }): boolean {
  const now = procInfo(p.pid);
  return now !== undefined && now.start === p.start;
}

function signal(p: { pid: number; start: number }, sig: NodeJS.Signals): void {
  if (!stillRunning(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // gone between the check and the kill: what we wanted
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until none of `procs` is running, up to `ms`; the ones still running. */
export async function waitGone<T extends { pid: number; start: number }>(
  procs: readonly T[],
  ms: number,
): Promise<T[]> {
  const deadline = Date.now() + ms;
  let left = procs.filter(stillRunning);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = left.filter(stillRunning);
  }
  return left;
}

/**
 * Stops every process in `procs` by PID: SIGTERM, then SIGKILL for any still there after `graceMs`.
 * A PID reused by an unrelated process since it was recorded is left alone. Returns the ones that
 * survived even SIGKILL (none, unless they were stuck in the kernel).
 */
export async function stopProcesses<T extends { pid: number; start: number }>(
  procs: readonly T[],
  graceMs = 5000,
): Promise<T[]> {
  for (const p of procs) signal(p, 'SIGTERM');
  const stubborn = await waitGone(procs, graceMs);
  for (const p of stubborn) signal(p, 'SIGKILL');
  return waitGone(stubborn, 2000);
}
