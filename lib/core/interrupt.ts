// Ctrl-C / a Jupyter kernel interrupt (SIGINT) as an AbortSignal, only where something else already keeps SIGINT from ending the process.

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stops listening; call when the work is done. */
  dispose(): void;
}

/**
 * Whether a SIGINT listener is already installed (a tslab kernel's, a CLI's own handler), so the
 * signal no longer ends the process. Only meaningful after the first await of a notebook cell: tslab
 * runs a cell's synchronous part with Node's `vm` option `breakOnSigint`, which takes every SIGINT
 * listener away until that part returns, so a check there reads false even in a kernel.
 */
export function sigintHandledElsewhere(): boolean {
  return process.listenerCount('SIGINT') > 0;
}

/**
 * An AbortSignal that SIGINT aborts, printing `message` once, while `process` already has a SIGINT
 * listener: a tslab kernel (its listener only ends the awaiting cell, the work would keep running in
 * the background) or a CLI with its own handler. Undefined in a plain script, whose Ctrl-C must
 * keep ending it.
 *
 * It first lets one turn of the event loop pass, for two reasons that both come from tslab running a
 * cell's synchronous part under `breakOnSigint`: there, the kernel's listener is away (see
 * sigintHandledElsewhere); and a listener added there leaves Node's exit-on-SIGINT handler in force
 * for the rest of the cell (Node's SIGINT watchdog reinstalls it when the synchronous part ends, and
 * the listeners put back then reuse the signal watcher the new listener opened instead of
 * reinstalling theirs), so the next interrupt would kill the kernel.
 */
export async function sigintWhileHandled(message: string): Promise<Interrupt | undefined> {
  await new Promise((resolve) => setImmediate(resolve));
  if (!sigintHandledElsewhere()) return undefined;
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
