// The room's pure parts: sizes, account names, the "not ours" guard of remove-accounts, passwords, and a generated hub config that Python and JupyterHub accept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../lib/core/errors.js';
import { checkName, generatePassword, learnerNames, notOurs } from '../scripts/room-accounts.js';
import { hubConfig, writeKernelSpec, type HubSettings } from '../scripts/room-hub.js';
import { parseSize } from '../scripts/room.js';

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

describe('room: generated hub config', () => {
  const settings: HubSettings = {
    ip: '127.0.0.1',
    port: 8123,
    hubPort: 40001,
    proxyApiPort: 40002,
    hubDir: '/tmp/room "quoted"\\dir',
    proxy: '/x/node_modules/.bin/configurable-http-proxy',
    jupyterPath: '/x/room/share/jupyter',
    learners: ['learner01', 'learner02'],
    admin: 'instructor',
    quick: true,
    notebooksFolder: 'notebooks',
    memLimit: 2 ** 31,
    cgroupDir: '/sys/fs/cgroup/memory/mnist-room-1a2b3c4d',
    kernelIdleSeconds: 3600,
    serverIdleSeconds: 7200,
  };
  const jupyterhub = fs.existsSync('/usr/bin/jupyterhub');

  it('runs the checkout tslab from the kernel spec', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-spec-'));
    const file = writeKernelSpec(dir, '/k/tslab');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { argv: string[] };
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(spec.argv, ['/k/tslab', 'kernel', '--config-path', '{connection_file}']);
  });

  it(
    'is Python that JupyterHub loads, with every value intact',
    { skip: jupyterhub ? false : 'jupyterhub not installed' },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-config-'));
      const file = path.join(dir, 'jupyterhub_config.py');
      fs.writeFileSync(file, hubConfig(settings));
      const probe = `
import json, sys
from traitlets.config import Config
c = Config()
ns = {"get_config": lambda: c, "__file__": sys.argv[1]}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
class U:
    name = "learner01"
class S:
    user = U()
env = {k: (v(S()) if callable(v) else v) for k, v in c.Spawner.environment.items() if k != "MNIST_NB_MODEL" and k != "MNIST_NB_FASHION_DIR"}
print(json.dumps({
    "port": c.JupyterHub.port, "db": c.JupyterHub.db_url, "allowed": sorted(c.Authenticator.allowed_users),
    "admins": sorted(c.Authenticator.admin_users), "spawner": c.JupyterHub.spawner_class.__name__,
    "base": c.JupyterHub.spawner_class.__mro__[1].__name__, "env": env, "args": c.Spawner.args,
    "proxy": c.ConfigurableHTTPProxy.command, "url": c.Spawner.default_url,
}))`;
      const r = spawnSync('/usr/bin/python3', ['-c', probe, file], { encoding: 'utf8' });
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(got.port, 8123);
      assert.equal(got.db, 'sqlite:////tmp/room "quoted"\\dir/jupyterhub.sqlite');
      assert.deepEqual(got.allowed, ['instructor', 'learner01', 'learner02']);
      assert.deepEqual(got.admins, ['instructor']);
      assert.equal(got.spawner, 'RoomSpawner');
      assert.equal(got.base, 'LocalProcessSpawner');
      assert.deepEqual(got.env, {
        JUPYTER_PATH: '/x/room/share/jupyter',
        PYDEVD_DISABLE_FILE_VALIDATION: '1',
        MNIST_NB_QUICK: '1',
        // One engine thread per learner's kernel: a room's learners already keep every core busy.
        MNIST_ENGINE_THREADS: '1',
      });
      assert.ok((got.args as string[]).includes('--MappingKernelManager.cull_idle_timeout=3600'));
      assert.ok((got.args as string[]).includes('--NotebookApp.shutdown_no_activity_timeout=7200'));
      assert.deepEqual(got.proxy, [settings.proxy]);
      assert.equal(got.url, '/tree/notebooks');
    },
  );
});
