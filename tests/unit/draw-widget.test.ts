// Tests for the draw-a-digit widget's HTML: it inlines the built browser bundle (the demo page's file), and a missing build says what to run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KitError } from '../../lib/core/errors.js';
import { createMlp } from '../../lib/ml/model.js';
import {
  drawDigitWidget,
  drawPadBundle,
  drawPadBundlePath,
} from '../../lib/notebook/draw-widget.js';
import { useWasm } from '../support/helpers.js';
import { rejectsWithCode } from '../support/rejects.js';

test('the widget inlines build/browser/draw-pad.js, the file the demo page loads, and no other script', async () => {
  await useWasm();
  const { model, config } = createMlp({ hidden: [8] });
  const html = await drawDigitWidget({ model, config });
  model.dispose();
  const bundle = readFileSync(drawPadBundlePath(), 'utf8');
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 1, 'one inline script');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external script: notebooks have no server');
  // The bundle, with only `</script` escaped so the inline script cannot end early.
  assert.ok(
    scripts[0].startsWith(bundle.replace(/<\/script/gi, '<\\/script')),
    'the inline script starts with the built bundle, byte for byte',
  );
  assert.match(
    scripts[0].slice(bundle.length),
    /^\s*mnistDrawPad\.mountWidget\(document\.getElementById\("mnist-draw-[0-9a-f]{12}"\), \{"activation":"relu","layers":\[\{"inputs":784,"units":8,/,
  );
});

test('a missing bundle fails with its path and the command that builds it', async () => {
  const missing = path.join(tmpdir(), `no-such-dir-${process.pid}`, 'draw-pad.js');
  await rejectsWithCode(
    () => drawPadBundle(missing),
    KitError,
    'draw-pad-missing',
    missing,
    'npm run build',
  );
});
