// Tests for the training loop: reproducible, equal to a by-hand step, NaN/explosion stops, no leaks.
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../lib/data/types.js';
import { predict } from '../../lib/ml/evaluate.js';
import { forwardLogits, l2Penalty } from '../../lib/ml/forward.js';
import { createMlp, denseVariables, MODEL_OF_RECORD, type MlpConfig } from '../../lib/ml/model.js';
import { trainModel, type TrainResult } from '../../lib/ml/train.js';
import { head, quickMnist, useWasm } from '../support/helpers.js';

let data: Dataset;
before(async () => {
  await useWasm();
  data = await quickMnist();
});

/** Trains a fresh model of record on the first `n` quick-MNIST digits and returns the per-epoch losses. */
async function lossesFor(seed: number, n = 1500, epochs = 2): Promise<number[]> {
  const { model, config } = createMlp({ seed });
  const result = await trainModel(
    model,
    config,
    { train: head(data.train, n) },
    { epochs, evaluate: false },
  );
  model.dispose();
  return result.history.map((m) => m.loss);
}

describe('trainModel', () => {
  it('the same seed gives the same loss sequence; another seed gives another', async () => {
    const a = await lossesFor(11);
    const b = await lossesFor(11);
    const c = await lossesFor(12);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a[1] < a[0], `loss should fall: ${a}`);
  });

  it('the same seed twice gives an identical history and identical weights, bit for bit', async () => {
    const run = async () => {
      const { model, config } = createMlp({ seed: 17 });
      const { history, backend } = await trainModel(
        model,
        config,
        { train: head(data.train, 1000), test: head(data.test, 300) },
        { epochs: 2, batchSize: 100 },
      );
      const weights = denseVariables(model).map((v) => Array.from(v.dataSync()));
      model.dispose();
      // Everything but the timings.
      const scores = history.map((m) => [m.loss, m.accuracy, m.testLoss, m.testAccuracy]);
      return { scores, weights, backend };
    };
    const a = await run();
    const b = await run();
    assert.equal(a.backend, 'wasm', 'this checks the written-out backward pass, used on wasm');
    assert.equal(a.scores.length, 2);
    assert.ok(a.scores.flat().every(Number.isFinite));
    assert.deepEqual(a.scores, b.scores);
    assert.deepEqual(a.weights, b.weights);
  });

  it('one step equals a by-hand reference step (L2 in the graph, stock gradients, tf.train.adam)', async () => {
    const batch = head(data.train, 96);
    const { model, config } = createMlp({ seed: 21, dropout: 0 });
    const result = await trainModel(
      model,
      config,
      { train: batch },
      { epochs: 1, batchSize: 96, shuffle: false, evaluate: false },
    );
    assert.equal(
      result.gradients,
      'backprop',
      'the written-out backward pass, the default on wasm',
    );
    const reference = createMlp({ seed: 21, dropout: 0 });
    const vars = denseVariables(reference.model);
    const optimizer = tf.train.adam(config.learningRate);
    const refLoss = tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [96, 784]);
      const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 10);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.add(
            tf.losses.softmaxCrossEntropy(y, forwardLogits(vars, x, config)),
            l2Penalty(vars, config.l2)!,
          ) as tf.Scalar,
        vars,
      );
      optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
      return value.dataSync()[0];
    });
    assert.ok(
      Math.abs(result.history[0].loss - refLoss) < 1e-5,
      `loss ${result.history[0].loss} vs reference ${refLoss}`,
    );
    denseVariables(model).forEach((v, i) => {
      const ours = v.dataSync();
      const ref = vars[i].dataSync();
      let maxDiff = 0;
      for (let j = 0; j < ours.length; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - ref[j]));
      assert.ok(maxDiff < 1e-6, `variable ${i}: max diff ${maxDiff}`);
    });
    optimizer.dispose();
    model.dispose();
    reference.model.dispose();
  });

  it("gradients: 'tape' trains with TensorFlow.js's gradients to the same weights as the default", async () => {
    const batch = head(data.train, 96);
    const weightsAfterStep = async (gradients?: 'tape') => {
      const { model, config } = createMlp({ seed: 22, dropout: 0 });
      const options = { epochs: 1, batchSize: 96, shuffle: false, evaluate: false, gradients };
      const result = await trainModel(model, config, { train: batch }, options);
      const weights = denseVariables(model).map((v) => v.dataSync().slice());
      model.dispose();
      return { method: result.gradients, weights };
    };
    const tape = await weightsAfterStep('tape');
    const backprop = await weightsAfterStep();
    assert.deepEqual([tape.method, backprop.method], ['tape', 'backprop']);
    // Adam's first step moves each weight by about lr·g/(|g| + ε): where g is near 0, fp32 rounding
    // differences between the two gradients grow, so the bound is 1 % of a step (a wrong gradient moves
    // weights by up to 2·lr the other way).
    const bound = MODEL_OF_RECORD.learningRate / 100;
    tape.weights.forEach((w, i) => {
      let maxDiff = 0;
      for (let j = 0; j < w.length; j++)
        maxDiff = Math.max(maxDiff, Math.abs(w[j] - backprop.weights[i][j]));
      assert.ok(maxDiff < bound, `variable ${i}: max diff ${maxDiff}`);
    });
  });

  it('stops at the first non-finite loss and keeps the last good weights', async () => {
    // Huge initial weights overflow float32 in the second layer: logits become ±Infinity, the loss NaN.
    const { model, config } = createMlp({ initializer: 'randomNormal', initStddev: 1e30 });
    const result = await trainModel(
      model,
      config,
      { train: head(data.train, 512), test: head(data.test, 200) },
      { epochs: 3, evaluate: false },
    );
    assert.equal(result.stop?.reason, 'non-finite-loss');
    assert.equal(result.stop?.epoch, 1);
    assert.equal(result.stop?.batch, 1);
    assert.match(result.stop!.message, /loss became (NaN|Infinity) at epoch 1, batch 1 of 4/);
    model.dispose();
  });

  it('a far too high learning rate (7) stops with "exploded", weights finite and usable', async () => {
    const { model, config } = createMlp({ learningRate: 7 });
    const result = await trainModel(
      model,
      config,
      { train: head(data.train, 2000) },
      { epochs: 2, evaluate: false },
    );
    assert.equal(result.stop?.reason, 'diverged');
    assert.match(result.stop!.message, /exploded to .* at epoch 1, batch \d+ of 16/);
    const weights = denseVariables(model).map((v) => v.dataSync());
    assert.ok(weights.every((w) => w.every(Number.isFinite)));
    assert.ok(Number.isFinite(predict(model, head(data.test, 100)).loss));
    model.dispose();
  });

  it('keeps the tensor count flat across epochs (no leaks); an abort between epochs stops after one more batch', async () => {
    const { model, config } = createMlp();
    const counts: number[] = [];
    const controller = new AbortController();
    const result = await trainModel(
      model,
      config,
      {
        train: head(data.train, 1024),
        validation: head(data.validation, 200),
        test: head(data.test, 200),
      },
      {
        epochs: 6,
        onEpoch: (m) => {
          counts.push(tf.memory().numTensors);
          if (m.epoch === 4) controller.abort();
        },
        signal: controller.signal,
      },
    );
    assert.equal(new Set(counts).size, 1, `tensor counts changed: ${counts}`);
    assert.equal(result.stop?.reason, 'interrupted');
    assert.deepEqual([result.stop?.epoch, result.stop?.batch], [5, 1]);
    assert.equal(result.history.length, 4);
    model.dispose();
  });

  it('an abort during an epoch stops after that batch, with no metrics for the unfinished epoch', async () => {
    const { model, config } = createMlp();
    const controller = new AbortController();
    const seen: string[] = [];
    const before = tf.memory().numTensors;
    const result = await trainModel(
      model,
      config,
      { train: head(data.train, 1024) },
      {
        epochs: 3,
        evaluate: false,
        onBatch: (m) => {
          seen.push(`${m.epoch}.${m.batch}`);
          if (m.epoch === 2 && m.batch === 3) controller.abort();
        },
        signal: controller.signal,
      },
    );
    assert.equal(
      seen.at(-1),
      '2.3',
      `the abort in onBatch never fired; last batch seen ${seen.at(-1)}`,
    );
    assert.equal(seen.length, 8 + 3);
    assert.equal(result.stop?.reason, 'interrupted');
    assert.match(result.stop!.message, /^training interrupted at epoch 2, batch 3 of 8$/);
    assert.equal(result.history.length, 1);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind by the interrupted run');
    model.dispose();
  });

  /** 3 epochs of 32 batches on 1,024 digits; the process sends itself SIGINT in epoch 2's first batch. */
  const trainSendingSigint = (model: tf.LayersModel, config: MlpConfig) =>
    trainModel(
      model,
      config,
      { train: head(data.train, 1024) },
      {
        epochs: 3,
        batchSize: 32,
        evaluate: false,
        onBatch: (m) => {
          if (m.epoch === 2 && m.batch === 1) process.kill(process.pid, 'SIGINT');
        },
      },
    );

  it('a SIGINT stops training with a message where SIGINT is handled (a tslab kernel), and only there', async (t) => {
    const { model, config } = createMlp();
    const errors: string[] = [];
    t.mock.method(console, 'error', (line: string) => errors.push(line));
    // A listener like tslab's: the signal then no longer ends the process.
    const kernelListener = () => undefined;
    process.on('SIGINT', kernelListener);
    try {
      const result = await trainSendingSigint(model, config);
      // The loop lets signals in after every batch: the stop comes right after the batch it arrived in.
      assert.equal(result.stop?.reason, 'interrupted');
      assert.deepEqual([result.stop?.epoch, result.stop?.batch], [2, 1]);
      assert.equal(result.history.length, 1);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^Interrupted: training stops after the current batch/);
    } finally {
      process.off('SIGINT', kernelListener);
    }
    assert.deepEqual(
      process.listeners('SIGINT'),
      [],
      'the training left its SIGINT listener behind',
    );
    model.dispose();
  });

  it('a SIGINT stops a training started as tslab starts a cell (vm, breakOnSigint), and only it', async (t) => {
    const { model, config } = createMlp();
    const kernel = () => model.getWeights()[0].dataSync().slice();
    const initial = kernel();
    const errors: string[] = [];
    t.mock.method(console, 'error', (line: string) => errors.push(line));
    const kernelListener = () => undefined; // tslab's: it only rejects the cell's awaited promise
    process.on('SIGINT', kernelListener);
    const cell = globalThis as { startTraining?: () => Promise<TrainResult> };
    cell.startTraining = () => trainSendingSigint(model, config);
    try {
      // As tslab's executor runs a cell: its synchronous part (trainModel up to its first await)
      // runs with every SIGINT listener removed. Arming there would also leave Node's exit-on-SIGINT
      // handler in force, and the SIGINT below would end this test process.
      const training = vm.runInThisContext('startTraining()', { breakOnSigint: true });
      const result = await (training as Promise<TrainResult>);
      assert.equal(result.stop?.reason, 'interrupted', 'the SIGINT did not stop the training');
      assert.deepEqual([result.stop?.epoch, result.stop?.batch], [2, 1]);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^Interrupted: training stops after the current batch/);
      // The model keeps the weights of the 33 batches it trained on.
      const trained = kernel();
      assert.ok(trained.every(Number.isFinite));
      assert.ok(
        trained.some((w, i) => w !== initial[i]),
        'the weights are the initial ones',
      );
    } finally {
      delete cell.startTraining;
      process.off('SIGINT', kernelListener);
    }
    assert.deepEqual(process.listeners('SIGINT'), [], 'a SIGINT listener was left behind');
    model.dispose();
  });

  it('validates epochs and batch size against the training set', async () => {
    const { model, config } = createMlp();
    await assert.rejects(
      trainModel(model, config, { train: head(data.train, 100) }, { batchSize: 101 }),
      /batchSize: must be an integer from 1 to the training set size \(100\)/,
    );
    await assert.rejects(
      trainModel(model, config, { train: head(data.train, 100) }, { epochs: 0 }),
      /epochs/,
    );
    model.dispose();
  });
});
