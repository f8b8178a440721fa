// Every command ends on its own: the wasm engine's worker threads must never keep Node alive after the work.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { projectRoot } from '../../lib/core/paths.js';

const root = projectRoot();

// Two threads whatever the machine: on one core the default would be the single-threaded build, and
// these tests would guard nothing.
const THREADS = '2';

// Generous: a run that ends takes seconds to a minute on a busy 2-core machine; one that never ends is
// killed at this bound, and that is the failure these tests exist to catch. Not a timing assertion.
const BOUND_MS = 240_000;

/**
 * Runs `node --import tsx ARGS` to its end. Past the bound, its whole process group is killed (a hung
 * `npm run bench` has a child that would keep the pipes open; train ignores one SIGTERM by design)
 * and the test fails, saying so.
 */
async function runToEnd(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, MNIST_ENGINE_THREADS: THREADS },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, BOUND_MS);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const what = args.filter((a) => !a.includes('\n')).join(' ') || 'node -e PLAIN_SCRIPT';
  assert.ok(
    !killed,
    `${what}: still running ${BOUND_MS / 1000} s after it started: killed; stderr: ${stderr.slice(-500)}`,
  );
  assert.equal(status, 0, `${what}: exit ${status}; stderr: ${stderr.slice(-500)}`);
  return stdout;
}

/** The JSON lines a command printed, parsed. */
function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// A plain script as a learner would write it: import the kit, train, return; no process.exit. Between
// two trainings the event loop runs dry, as between two notebook cells: the engine must still work.
const PLAIN_SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import * as kit from './lib/index.js';
const engine = await kit.initEngine('wasm'); // native TensorFlow, when installed, has no worker threads
const data = await kit.loadDataset({ dataset: 'mnist-quick' });
const train = kit.headSplit(data.train, 1024);
const { model, config } = kit.createMlp();
const first = await kit.trainModel(model, config, { train }, { epochs: 1, evaluate: false });
await new Promise((resolve) => setTimeout(resolve, 100));
const again = await kit.trainModel(model, config, { train }, { epochs: 1, evaluate: false });
const probe = tf.tidy(() => tf.matMul(tf.ones([256, 784]), tf.ones([784, 256])).dataSync()[0]);
console.log(JSON.stringify({
  summary: engine.summary,
  threads: engine.threads,
  losses: [first.history[0].loss, again.history[0].loss],
  probe,
}));
`;

describe('every command exits on its own with the wasm engine on two threads', () => {
  it('npm run train (small data) exits 0, having trained on 2 threads', async () => {
    const stdout = await runToEnd([
      'scripts/cli/train.ts',
      '--dataset',
      'mnist-quick',
      '--limit-train',
      '2000',
      '--epochs',
      '1',
      '--json',
      '--engine',
      'wasm',
    ]);
    const events = jsonLines(stdout);
    const start = events.find((e) => e.event === 'start');
    assert.match(String(start?.engineSummary), /^wasm, 2 threads \(/);
    assert.ok(events.some((e) => e.event === 'done'));
  });

  it('npm run bench (one epoch, large batches) exits 0 and reports 2 threads', async () => {
    const stdout = await runToEnd([
      'scripts/bench/bench.ts',
      '--engines',
      'wasm',
      '--epochs',
      '1',
      '--batch-size',
      '6000',
      '--cpu-batches',
      '1',
      '--json',
    ]);
    const report = jsonLines(stdout).at(-1) as { results: Array<Record<string, unknown>> };
    const [wasm] = report.results;
    assert.equal(wasm.available, true, String(wasm.reason));
    assert.equal(wasm.threads, 2);
    assert.ok(Number(wasm.peakRssMiB) > 0);
  });

  it('a plain script that imports the kit and trains returns, and its engine survives an idle loop', async () => {
    const stdout = await runToEnd(['--input-type=module', '-e', PLAIN_SCRIPT]);
    const out = jsonLines(stdout)[0] as {
      summary: string;
      threads: number;
      losses: number[];
      probe: number;
    };
    assert.match(out.summary, /^wasm, 2 threads \(/);
    assert.equal(out.threads, 2);
    assert.ok(out.losses.every(Number.isFinite), `losses ${out.losses}`);
    assert.ok(out.losses[1] < out.losses[0], `a second epoch lowers the loss: ${out.losses}`);
    assert.equal(out.probe, 784); // a sum of 784 ones, computed after the idle moment
  });
});
