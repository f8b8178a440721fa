// The room's per-learner memory limit: a cgroup v1 memory group or a cgroup v2 group with memory.max, whichever this host can give.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The room's cgroup: each learner gets a sub-folder of `dir` with the limit written in it. */
export interface RoomCgroup {
  readonly version: 1 | 2;
  readonly dir: string;
}

/** Where the limit lives, or why it does not; `note` is what the start line says. */
export interface CgroupChoice {
  readonly cgroup?: RoomCgroup;
  readonly note: string;
}

/** What the choice reads from the system; the unit test hands in a fake tree. */
export interface CgroupHost {
  /** /proc/mounts */
  readonly mounts: string;
  /** /proc/self/cgroup */
  readonly self: string;
  /** --cgroup-parent: a cgroup v2 folder delegated to the room (memory in its cgroup.subtree_control). */
  readonly parent?: string;
}

export function readHost(parent?: string): CgroupHost {
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  return { mounts: read('/proc/mounts'), self: read('/proc/self/cgroup'), parent };
}

interface Mount {
  readonly dir: string;
  readonly type: string;
  readonly options: readonly string[];
}

function parseMounts(text: string): Mount[] {
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4)
    .map((f) => ({ dir: f[1], type: f[2], options: f[3].split(',') }));
}

/** Per-learner files, by version: the limit, the peak the kernel kept, the OOM-kill counter. */
export function cgroupFiles(version: 1 | 2) {
  return version === 1
    ? {
        limit: 'memory.limit_in_bytes',
        peak: 'memory.max_usage_in_bytes',
        oom: 'memory.oom_control',
      }
    : { limit: 'memory.max', peak: 'memory.peak', oom: 'memory.events' };
}

function words(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split(/\s+/) : [];
}

/**
 * The v2 folder the room's group goes under: --cgroup-parent, else the nearest of this process's
 * cgroup and its ancestors that hands the memory controller to its children (cgroup.subtree_control).
 * A group that holds processes cannot start handing it out (v2's no-internal-processes rule), so the
 * room never turns it on above itself.
 */
function v2Parent(mount: string, host: CgroupHost): string | string[] {
  if (host.parent) {
    const p = path.resolve(host.parent);
    if (!p.startsWith(mount + '/') && p !== mount)
      return [`--cgroup-parent ${p} is not under the cgroup v2 mount ${mount}`];
    return words(path.join(p, 'cgroup.subtree_control')).includes('memory')
      ? p
      : [
          `--cgroup-parent ${p} does not delegate memory (no "memory" in its cgroup.subtree_control)`,
        ];
  }
  const own = /^0::(\/.*)$/m.exec(host.self)?.[1];
  if (own === undefined) return [`no cgroup v2 line in /proc/self/cgroup`];
  // From this process's group up to the mount, never above it.
  for (let dir = path.resolve(mount, '.' + own); dir.startsWith(mount); dir = path.dirname(dir)) {
    if (words(path.join(dir, 'cgroup.subtree_control')).includes('memory')) return dir;
    if (dir === mount) break;
  }
  const controllers = words(path.join(mount, 'cgroup.controllers')).join(' ') || 'none';
  return [
    `no cgroup on the way from ${path.resolve(mount, '.' + own)} up to ${mount} hands the memory controller to its children (controllers at ${mount}: ${controllers}); give a delegated one with --cgroup-parent`,
  ];
}

function tryV1(mount: string, room: string): RoomCgroup | string {
  const dir = path.join(mount, `mnist-room-${room}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(path.join(dir, 'memory.limit_in_bytes'), fs.constants.W_OK);
    return { version: 1, dir };
  } catch (err) {
    return `cgroup v1 memory controller at ${mount} not writable (${(err as Error).message})`;
  }
}

function tryV2(mount: string, room: string, host: CgroupHost): RoomCgroup | string {
  const parent = v2Parent(mount, host);
  if (Array.isArray(parent)) return parent[0];
  const dir = path.join(parent, `mnist-room-${room}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    // The room's group holds no process itself, so it may hand memory on to the learners' groups.
    fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+memory');
    return { version: 2, dir };
  } catch (err) {
    return `cgroup v2 group ${dir} not usable (${(err as Error).message})`;
  }
}

/** Makes the room's cgroup where the host allows one; otherwise says why the limit is not enforced. */
export function makeRoomCgroup(room: string, memLimit: number, host: CgroupHost): CgroupChoice {
  if (memLimit === 0) return { note: 'no memory limit (--mem-limit 0)' };
  const mounts = parseMounts(host.mounts);
  const v1 = mounts.find((m) => m.type === 'cgroup' && m.options.includes('memory'));
  const v2 = mounts.find((m) => m.type === 'cgroup2');
  const why: string[] = [];
  // A hybrid host mounts both; the memory controller sits in exactly one of them (v1 when mounted there).
  for (const attempt of [
    () => (v1 && !host.parent ? tryV1(v1.dir, room) : undefined),
    () => (v2 ? tryV2(v2.dir, room, host) : undefined),
  ]) {
    const got = attempt();
    if (got === undefined) continue;
    if (typeof got === 'string') why.push(got);
    else return { cgroup: got, note: limitNote(got, memLimit) };
  }
  if (!v1 && !v2) why.push('no cgroup file system in /proc/mounts');
  return { note: `memory limit NOT enforced: ${why.join('; ')}` };
}

function limitNote(g: RoomCgroup, memLimit: number): string {
  const size =
    memLimit >= 2 ** 30
      ? `${(memLimit / 2 ** 30).toFixed(1)} GiB`
      : `${Math.round(memLimit / 2 ** 20)} MiB`;
  const file = cgroupFiles(g.version).limit;
  return `memory limit ${size} per learner (cgroup v${g.version} ${file}, ${g.dir})`;
}

/** How many times the kernel's OOM killer struck in a learner's group (both versions print "oom_kill N"). */
export function oomKills(g: RoomCgroup, learner: string): number {
  const file = path.join(g.dir, learner, cgroupFiles(g.version).oom);
  const m = /^oom_kill (\d+)$/m.exec(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  return m ? Number(m[1]) : 0;
}

/** A learner group's peak memory in bytes, or undefined where the kernel keeps none (v2 before Linux 5.19). */
export function peakBytes(g: RoomCgroup, learner: string): number | undefined {
  const file = path.join(g.dir, learner, cgroupFiles(g.version).peak);
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : undefined;
}
