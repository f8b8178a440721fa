// Progress displays for training: a live bar in a terminal, one line per epoch in notebooks and logs.
import { formatPercent } from '../core/format.js';
import type { BatchMetrics, EpochMetrics } from './train.js';

const pct = (x: number | undefined) => (x === undefined ? '   –  ' : formatPercent(x, 2));

/** "epoch  3/10  loss 0.1590  acc 96.85%  val 97.40%  test 97.52%  9.1 s" */
function formatEpoch(m: EpochMetrics, epochs: number): string {
  const width = String(epochs).length;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}  loss ${m.loss.toFixed(4)}  acc ${pct(m.accuracy)}` +
    (m.valAccuracy !== undefined ? `  val ${pct(m.valAccuracy)}` : '') +
    (m.testAccuracy !== undefined ? `  test ${pct(m.testAccuracy)}` : '') +
    `  ${m.seconds.toFixed(1)} s`
  );
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return '█'.repeat(filled) + '·'.repeat(width - filled);
}

export interface ProgressDisplay {
  onBatch(m: BatchMetrics): void;
  onEpoch(m: EpochMetrics): void;
}

/**
 * On a TTY: a bar redrawn in place (at most 10 times a second) and a permanent line per epoch.
 * Elsewhere (pipes, CI logs, notebooks): only the per-epoch lines, so logs stay readable.
 */
export function createProgress(
  epochs: number,
  out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } = process.stderr,
): ProgressDisplay {
  const live = Boolean(out.isTTY);
  let lastDraw = 0;
  return {
    onBatch(m) {
      if (!live) return;
      const now = performance.now();
      if (now - lastDraw < 100 && m.batch !== m.batches) return;
      lastDraw = now;
      out.write(
        `\repoch ${m.epoch}/${epochs} ${bar(m.batch / m.batches)} ${m.batch}/${m.batches}  loss ${m.loss.toFixed(4)}\x1b[K`,
      );
    },
    onEpoch(m) {
      out.write(`${live ? '\r\x1b[K' : ''}${formatEpoch(m, epochs)}\n`);
    },
  };
}
