// Ctrl-C / a Jupyter kernel interrupt (SIGINT) as an AbortSignal, only where something else already keeps SIGINT from ending the process.

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stops listening; call when the work is done. */
  dispose(): void;
}

/**
 * An AbortSignal that SIGINT aborts, printing `message` once, while `process` already has a SIGINT
 * listener: a tslab kernel (its listener only ends the awaiting cell, the work would keep running in
 * the background) or a CLI with its own handler. Undefined in a plain script, whose Ctrl-C must
 * keep ending it.
 */
export function sigintWhileHandled(message: string): Interrupt | undefined {
  if (process.listenerCount('SIGINT') === 0) return undefined;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) return;
    // Synchronously, inside the signal's emit: tslab still attaches this line to the interrupted cell.
    console.error(message);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
