// The room's pure parts: sizes, account names, the "not ours" guard of remove-accounts, passwords, the kernel spec, the cgroup choice.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/core/errors.js';
import { checkName, generatePassword, learnerNames, notOurs } from '../../scripts/room/accounts.js';
import { makeRoomCgroup, readHost } from '../../scripts/room/cgroup.js';
import { writeKernelSpec } from '../../scripts/room/hub.js';
import { parseSize } from '../../scripts/room/room.js';

describe('room: options', () => {
  it('reads memory sizes and refuses nonsense', () => {
    assert.equal(parseSize('2G'), 2 * 2 ** 30);
    assert.equal(parseSize('1500M'), 1500 * 2 ** 20);
    assert.equal(parseSize('1.5g'), 1.5 * 2 ** 30);
    assert.equal(parseSize('0'), 0);
    assert.throws(() => parseSize('lots'), /--mem-limit: expected a size such as 2G/);
    assert.throws(() => parseSize('100M'), /too small/);
  });

  it('names learners in order with at least two digits', () => {
    assert.deepEqual(learnerNames('learner', 3), ['learner01', 'learner02', 'learner03']);
    assert.equal(learnerNames('l', 120)[119], 'l120');
    assert.equal(learnerNames('l', 120)[0], 'l001');
    assert.throws(() => learnerNames('Learner', 2), ConfigError);
    assert.throws(() => checkName('--admin', 'root;rm'), /not a usable account name/);
  });

  it('generates passwords from the unambiguous alphabet, different each time', () => {
    const seen = new Set(Array.from({ length: 50 }, () => generatePassword()));
    assert.equal(seen.size, 50);
    for (const p of seen) assert.match(p, /^[a-hjkmnp-z2-9]{12}$/);
  });
});

describe('room: remove-accounts touches only what it created', () => {
  const account = {
    name: 'learner01',
    uid: 1201,
    home: '/home/learner01',
    role: 'learner',
  } as const;
  const marker = 'mnist-notebooks room 1a2b3c4d';
  const entry = { name: 'learner01', uid: 1201, gecos: marker, home: '/home/learner01' };
  it('accepts the account as created', () => {
    assert.equal(notOurs(account, entry, marker), undefined);
  });
  it('refuses another comment, uid or home', () => {
    assert.match(notOurs(account, { ...entry, gecos: 'Ada' }, marker) ?? '', /comment is "Ada"/);
    assert.match(
      notOurs(account, { ...entry, gecos: 'mnist-notebooks room ffff' }, marker) ?? '',
      /not this room's/,
    );
    assert.match(notOurs(account, { ...entry, uid: 1000 }, marker) ?? '', /uid is 1000, not 1201/);
    assert.match(notOurs(account, { ...entry, home: '/root' }, marker) ?? '', /home is \/root/);
  });
});

describe('room: kernel spec', () => {
  it('runs the checkout tslab from the kernel spec', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-spec-'));
    const file = writeKernelSpec(dir, '/k/tslab');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { argv: string[] };
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(spec.argv, ['/k/tslab', 'kernel', '--config-path', '{connection_file}']);
  });
});

describe('room: memory cgroup, v1 or v2', () => {
  /** A fake cgroup tree: `files` relative to a temporary root, plus /proc/mounts naming it. */
  function fakeHost(kind: 'v1' | 'v2' | 'hybrid', files: Record<string, string>, self = '/') {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'room-cgroup-'));
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    }
    const v1 = `cgroup ${root}/memory cgroup rw,relatime,memory 0 0\n`;
    const v2 = `cgroup2 ${root}/unified cgroup2 rw,relatime 0 0\n`;
    const mounts = kind === 'v1' ? v1 : kind === 'v2' ? v2 : v1 + v2;
    return { root, host: { mounts, self: `4:memory:/\n0::${self}\n` } };
  }

  it('v2: the room group goes under the nearest cgroup that delegates memory, and hands it on', () => {
    const { root, host } = fakeHost(
      'v2',
      {
        'unified/cgroup.controllers': 'cpu memory pids\n',
        'unified/cgroup.subtree_control': 'cpu memory pids\n',
        'unified/user.slice/cgroup.subtree_control': 'memory pids\n',
        'unified/user.slice/session-1.scope/cgroup.subtree_control': '\n',
      },
      '/user.slice/session-1.scope',
    );
    const got = makeRoomCgroup('ab12', 2 ** 30, host);
    const dir = path.join(root, 'unified/user.slice/mnist-room-ab12');
    assert.deepEqual(got.cgroup, { version: 2, dir });
    assert.equal(fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8'), '+memory');
    assert.match(got.note, /memory limit 1\.0 GiB per learner \(cgroup v2 memory\.max, /);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('v2: --cgroup-parent must delegate memory; none on the way up means not enforced', () => {
    const { root, host } = fakeHost('v2', {
      'unified/cgroup.controllers': 'cpu pids\n',
      'unified/cgroup.subtree_control': '\n',
      'unified/room/cgroup.subtree_control': 'memory\n',
      'unified/bare/cgroup.subtree_control': 'pids\n',
    });
    const none = makeRoomCgroup('ab12', 2 ** 30, host);
    assert.equal(none.cgroup, undefined);
    assert.match(
      none.note,
      /^memory limit NOT enforced: no cgroup on the way from .* hands the memory controller .*controllers at .*: cpu pids\)/,
    );
    const parent = path.join(root, 'unified/room');
    assert.deepEqual(makeRoomCgroup('cd34', 2 ** 30, { ...host, parent }).cgroup, {
      version: 2,
      dir: path.join(parent, 'mnist-room-cd34'),
    });
    const bare = path.join(root, 'unified/bare');
    assert.match(
      makeRoomCgroup('ef56', 2 ** 30, { ...host, parent: bare }).note,
      /NOT enforced: --cgroup-parent .*bare does not delegate memory/,
    );
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('v1 first where the memory controller is mounted there; --mem-limit 0 makes nothing', () => {
    const { root, host } = fakeHost('hybrid', { 'memory/memory.limit_in_bytes': '0\n' });
    // A fake v1 tree has no files in a new group, so this one cannot be used: v2 is tried next.
    const got = makeRoomCgroup('ab12', 2 ** 30, host);
    assert.equal(got.cgroup, undefined);
    assert.match(got.note, /cgroup v1 memory controller at .*memory not writable \(ENOENT/);
    assert.match(got.note, /no cgroup on the way from/);
    assert.deepEqual(makeRoomCgroup('ab12', 0, host), { note: 'no memory limit (--mem-limit 0)' });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('this machine: the choice the room makes here, with its reason', () => {
    // Not a fixture: prints what this host offers (the load test then checks the limit holds).
    const choice = makeRoomCgroup(`unit${process.pid}`, 2 ** 30, readHost());
    console.log(`room-units: on this machine: ${choice.note}`);
    if (choice.cgroup) fs.rmdirSync(choice.cgroup.dir);
    else assert.match(choice.note, /^memory limit NOT enforced: /);
    // Its cgroup v2 mount alone, as on a v2-only host: a group is made only where memory is delegated.
    const host = readHost();
    const v2Only = { ...host, mounts: host.mounts.replace(/^cgroup .*$/gm, '') };
    if (!/ cgroup2 /.test(v2Only.mounts)) return;
    const v2 = makeRoomCgroup(`unit${process.pid}`, 2 ** 30, v2Only);
    console.log(`room-units: its cgroup v2 mount alone: ${v2.note}`);
    if (v2.cgroup) {
      assert.ok(
        fs.readFileSync(path.join(v2.cgroup.dir, 'cgroup.controllers'), 'utf8').includes('memory'),
      );
      fs.rmdirSync(v2.cgroup.dir);
    } else assert.match(v2.note, /^memory limit NOT enforced: no cgroup on the way from /);
  });
});
