// The generated hub config, loaded by the room's JupyterHub 5 in Python: every value arrives intact.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { hubConfig, type HubSettings } from '../../scripts/room/hub.js';
import { roomPython } from '../../scripts/room/room.js';
import { toolsPresent } from '../support/system-tools.js';

describe('room: generated hub config', () => {
  const settings: HubSettings = {
    ip: '127.0.0.1',
    port: 8123,
    hubPort: 40001,
    proxyApiPort: 40002,
    hubDir: '/tmp/room "quoted"\\dir',
    proxy: '/x/node_modules/.bin/configurable-http-proxy',
    singleuser: '/x/.venv/bin/jupyterhub-singleuser',
    python: '/x/.venv/bin/python',
    jupyterPath: '/x/room/share/jupyter',
    learners: ['learner01', 'learner02'],
    admin: 'instructor',
    quick: true,
    notebooksFolder: 'notebooks',
    memLimit: 2 ** 31,
    cgroup: { version: 2, dir: '/sys/fs/cgroup/x.slice/mnist-room-1a2b3c4d' },
    kernelIdleSeconds: 3600,
    serverIdleSeconds: 7200,
    cullEverySeconds: 60,
  };
  const venv = (() => {
    try {
      return { python: roomPython().python };
    } catch (err) {
      return { why: (err as Error).message };
    }
  })();

  it('is Python that JupyterHub 5 loads, with every value intact', (t) => {
    if (!toolsPresent(t, venv.why)) return;
    {
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
    "proxy": c.ConfigurableHTTPProxy.command, "url": c.Spawner.default_url, "cmd": c.Spawner.cmd,
    "services": c.JupyterHub.services, "roles": c.JupyterHub.load_roles,
}))`;
      const r = spawnSync(venv.python as string, ['-c', probe, file], { encoding: 'utf8' });
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
        JUPYTERHUB_ACTIVITY_INTERVAL: '60',
      });
      assert.ok((got.args as string[]).includes('--MappingKernelManager.cull_idle_timeout=3600'));
      assert.ok((got.args as string[]).includes('--ServerApp.terminals_enabled=False'));
      assert.deepEqual(got.proxy, [settings.proxy]);
      assert.deepEqual(got.cmd, [settings.singleuser]);
      assert.equal(got.url, '/lab/tree/notebooks');
      // Servers idle 7200 s are stopped by the hub's culler, with JupyterHub 5's scopes for it.
      assert.deepEqual(got.services, [
        {
          name: 'idle-culler',
          command: [
            settings.python,
            '-m',
            'jupyterhub_idle_culler',
            '--timeout=7200',
            '--cull-every=60',
          ],
        },
      ]);
      assert.deepEqual(got.roles, [
        {
          name: 'idle-culler',
          scopes: ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'],
          services: ['idle-culler'],
        },
      ]);
    }
  });
});
