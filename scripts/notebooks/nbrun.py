# Python driver for `npm run notebooks`: executes one notebook with nbclient and reports JSON events.
#
# Called by scripts/notebooks/notebooks.ts, never by hand. Events go to the file descriptor given by
# --events-fd (one JSON object per line) so that whatever the kernel process prints on the
# inherited stdout/stderr cannot corrupt the protocol. The executed notebook is written to
# --output only when every cell passed; the caller renames it into place.
#
# Exit codes: 0 all cells passed, 1 a cell failed, 2 Jupyter pieces missing, 3 internal error,
# 130/143 interrupted by SIGINT/SIGTERM (the kernel is shut down first).

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import time

EXIT_OK, EXIT_CELL_FAILED, EXIT_MISSING, EXIT_INTERNAL = 0, 1, 2, 3

# Cell metadata that changes on every run and only makes diffs noisy.
VOLATILE_CELL_METADATA = ('execution', 'ExecuteTime')


class Events:
    """Writes one JSON line per event to the caller's pipe."""

    def __init__(self, fd):
        self.stream = os.fdopen(fd, 'w', buffering=1, encoding='utf-8')

    def emit(self, event, **fields):
        fields['event'] = event
        self.stream.write(json.dumps(fields) + '\n')


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--notebook', required=True)
    ap.add_argument('--output', required=True)
    ap.add_argument('--cwd', required=True)
    ap.add_argument('--kernel', default='tslab')
    ap.add_argument('--timeout', type=int, default=0, help='seconds per cell; 0 means no limit')
    ap.add_argument('--startup-timeout', type=int, default=60)
    ap.add_argument('--events-fd', type=int, default=3)
    ap.add_argument('--verbose', action='store_true')
    return ap.parse_args(argv)


def import_jupyter(events):
    """Imports the Jupyter pieces lazily so a missing one becomes an event, not a traceback."""
    try:
        import nbformat
        import jupyter_client  # noqa: F401  (nbclient needs it; importing it here names it in the message)
        import nbclient
    except ImportError as err:
        events.emit('missing', what='python-module', module=err.name or '', detail=str(err),
                    python=sys.executable)
        sys.exit(EXIT_MISSING)
    return nbformat, nbclient


def check_kernel_spec(events, kernel_name):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        events.emit('missing', what='kernel', kernel=kernel_name,
                    detail=f'no Jupyter kernel spec named {kernel_name!r} on JUPYTER_PATH')
        sys.exit(EXIT_MISSING)
    binary = spec.argv[0] if spec.argv else ''
    if not os.path.isfile(binary):
        events.emit('missing', what='kernel', kernel=kernel_name,
                    detail=f'the {kernel_name} kernel spec runs {binary!r}, which does not exist')
        sys.exit(EXIT_MISSING)


def outputs_text(cell, stream_name):
    """Concatenates the text of a cell's stream outputs with the given name."""
    return ''.join(o.get('text', '') for o in cell.get('outputs', [])
                   if o.get('output_type') == 'stream' and o.get('name') == stream_name)


def error_text(cell, reply_content):
    """The real error: tslab sends no `error` output (its text goes to stderr), IPython-style
    kernels do; collect both so the message is never an empty `<Error>:`."""
    parts = [outputs_text(cell, 'stderr')]
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'error':
            parts.append('\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"]))
    if reply_content:
        if reply_content.get('traceback'):
            parts.append('\n'.join(reply_content['traceback']))
        elif reply_content.get('ename') or reply_content.get('evalue'):
            parts.append(f"{reply_content.get('ename', '')}: {reply_content.get('evalue', '')}")
    text = '\n'.join(p.strip('\n') for p in parts if p and p.strip())
    # Tracebacks from IPython-style kernels carry ANSI colours; strip them for plain terminals.
    import re
    return re.sub(r'\x1b\[[0-9;]*m', '', text)


def read_notebook(nbformat, path):
    """Reads a notebook, giving cells that lack an id (nbformat >= 4.5 requires one) an id derived from
    their position and source: nbformat would invent random ones, and every run would rewrite them."""
    with open(path, encoding='utf-8') as f:
        raw = json.load(f)
    if (raw.get('nbformat', 0), raw.get('nbformat_minor', 0)) >= (4, 5):
        for i, cell in enumerate(raw.get('cells', [])):
            if 'id' not in cell:
                source = cell.get('source', '')
                text = ''.join(source) if isinstance(source, list) else source
                cell['id'] = hashlib.sha1(f'{i}:{text}'.encode()).hexdigest()[:8]
    return nbformat.reads(json.dumps(raw), as_version=4)


def strip_volatile(nb):
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


def is_prose_cell(cell):
    """A takeaway cell: code whose every output is generated Markdown (kit.showMarkdown), and at least one."""
    outputs = cell.get('outputs', [])
    return cell.cell_type == 'code' and bool(outputs) and all(
        o.get('output_type') == 'display_data' and set(o.get('data', {})) == {'text/markdown'}
        for o in outputs)


def mark_prose_cells(nb):
    """Shows takeaway cells collapsed in JupyterLab and Notebook 7 (the standard jupyter.source_hidden):
    a learner reads the sentences, not the template that builds them. The runner owns this flag: a
    cell that stops being prose is shown again."""
    for cell in nb.cells:
        if cell.cell_type != 'code':
            continue
        jupyter = cell.metadata.get('jupyter', {})
        if is_prose_cell(cell):
            jupyter['source_hidden'] = True
        else:
            jupyter.pop('source_hidden', None)
        if jupyter:
            cell.metadata['jupyter'] = jupyter
        else:
            cell.metadata.pop('jupyter', None)


def kernel_pid(client):
    provisioner = getattr(client.km, 'provisioner', None)
    return getattr(provisioner, 'pid', None)


class Runner:
    def __init__(self, args, events, nbformat, nbclient):
        self.args, self.events, self.nbformat, self.nbclient = args, events, nbformat, nbclient
        self.last_reply = None
        self.signal_received = None

    def on_cell_executed(self, cell, cell_index, execute_reply):
        self.last_reply = execute_reply

    def make_client(self, nb):
        # Our own cell loop replaces NotebookClient.execute so we can see every reply's status
        # (nbclient 0.7 treats tslab's `aborted` reply as success) and report progress per cell.
        # shutdown 'immediate': tslab does not exit on shutdown_request, so a graceful shutdown just
        # waits ~5 s before killing it anyway. A chromium launched by playwright inside the kernel
        # exits by itself when its pipe to the killed kernel closes.
        timeout = self.args.timeout if self.args.timeout > 0 else None
        return self.nbclient.NotebookClient(
            nb, kernel_name=self.args.kernel, timeout=timeout, startup_timeout=self.args.startup_timeout,
            record_timing=False, shutdown_kernel='immediate', allow_errors=False,
            resources={'metadata': {'path': self.args.cwd}},
            on_cell_executed=self.on_cell_executed)

    def install_signal_handlers(self, task):
        loop = asyncio.get_running_loop()

        def handler(signum):
            # Cancel once: a second signal (Ctrl-C reaches both this process and the caller, who
            # then sends SIGTERM) must not interrupt the kernel shutdown in progress.
            if self.signal_received is None:
                self.signal_received = signum
                task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, handler, signum)

    async def run(self, nb):
        # Kernel setup is done here rather than with NotebookClient.async_setup_kernel, whose own
        # signal handlers kill the kernel but let the cell loop carry on.
        client = self.make_client(nb)
        code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and c.source.strip()]
        self.install_signal_handlers(asyncio.current_task())
        started = time.monotonic()
        client.reset_execution_trackers()
        try:
            await self.start_kernel(client)
            self.events.emit('kernel_started', pid=kernel_pid(client),
                             seconds=round(time.monotonic() - started, 3))
            await self.record_language_info(client, nb)
            for k, index in enumerate(code_cells):
                ok = await self.run_cell(client, nb, index, k, len(code_cells))
                if not ok:
                    return EXIT_CELL_FAILED
            return EXIT_OK
        finally:
            # async_start_new_kernel_client cleans up (and drops km) itself when it fails.
            if client.km is not None:
                await client._async_cleanup_kernel()

    async def start_kernel(self, client):
        # Under heavy CPU load a tslab start can fail (zeromq "EBUSY: Socket is blocked by a bind
        # or unbind operation", or no reply within --startup-timeout): start a fresh one once more.
        for attempt in (1, 2):
            client.km = client.create_kernel_manager()
            try:
                await client.async_start_new_kernel(cwd=self.args.cwd)
                self.events.emit('kernel_launched', pid=kernel_pid(client))
                await client.async_start_new_kernel_client()
                return
            except Exception as err:  # nbclient/jupyter_client raise RuntimeError, TimeoutError, zmq errors
                if attempt == 2:
                    raise
                self.events.emit('kernel_retry', message=f'{type(err).__name__}: {err}')
                if client.km is not None:
                    await client._async_cleanup_kernel()

    async def record_language_info(self, client, nb):
        msg_id = client.kc.kernel_info()
        reply = await client.async_wait_for_reply(msg_id)
        if reply is not None and 'language_info' in reply['content']:
            nb.metadata['language_info'] = reply['content']['language_info']

    async def run_cell(self, client, nb, index, k, total):
        cell = nb.cells[index]
        base = dict(index=index, code_index=k + 1, code_total=total)
        self.events.emit('cell_start', **base)
        started = time.monotonic()
        self.last_reply = None
        failure = None
        try:
            await client.async_execute_cell(cell, index, execution_count=k + 1)
        except self.nbclient.exceptions.CellTimeoutError:
            failure = ('timeout', f'the cell ran longer than --timeout {self.args.timeout} s')
        except self.nbclient.exceptions.DeadKernelError:
            if self.signal_received:
                raise asyncio.CancelledError() from None
            failure = ('dead-kernel', 'the kernel died while running the cell')
        except self.nbclient.exceptions.CellExecutionError:
            failure = ('error', 'the cell raised an error')
        seconds = round(time.monotonic() - started, 3)
        status = (self.last_reply or {}).get('content', {}).get('status')
        if failure is None and status in ('abort', 'aborted'):
            # tslab replies `abort` (the protocol spells it `aborted`) with no output at all.
            failure = ('aborted', 'the kernel aborted the cell without running it '
                       '(tslab aborts requests that arrive within 200 ms after an error; '
                       'to show an error on purpose, catch it and print it)')
        elif failure is None and status not in ('ok', 'error'):
            failure = ('bad-reply', f'the kernel replied with status {status!r} instead of ok')
        if failure is None and status == 'error':
            # Only reachable for cells tagged raises-exception: nbclient allowed the error.
            self.events.emit('cell_done', status='error-allowed', seconds=seconds, **base)
            return True
        if failure is not None:
            content = (self.last_reply or {}).get('content', {})
            self.events.emit('cell_failed', reason=failure[0], message=failure[1], seconds=seconds,
                             source=cell.source, error=error_text(cell, content),
                             stdout=outputs_text(cell, 'stdout'), **base)
            return False
        done = dict(status='ok', seconds=seconds, **base)
        if self.args.verbose:
            done['stdout'] = outputs_text(cell, 'stdout')
            done['stderr'] = outputs_text(cell, 'stderr')
        self.events.emit('cell_done', **done)
        return True


def main(argv):
    args = parse_args(argv)
    events = Events(args.events_fd)
    nbformat, nbclient = import_jupyter(events)
    check_kernel_spec(events, args.kernel)
    try:
        nb = read_notebook(nbformat, args.notebook)
    except Exception as err:  # nbformat raises several unrelated types for unreadable files
        events.emit('fatal', message=f'{args.notebook}: cannot read the notebook ({err})')
        return EXIT_INTERNAL
    runner = Runner(args, events, nbformat, nbclient)
    started = time.monotonic()
    try:
        code = asyncio.run(runner.run(nb))
    except (asyncio.CancelledError, KeyboardInterrupt):
        signum = runner.signal_received or signal.SIGINT
        events.emit('interrupted', signal=signal.Signals(signum).name)
        return 128 + signum
    except Exception as err:  # report anything unexpected as one event instead of a traceback
        events.emit('fatal', message=f'{type(err).__name__}: {err}')
        return EXIT_INTERNAL
    if code != EXIT_OK:
        return code
    strip_volatile(nb)
    mark_prose_cells(nb)
    nbformat.write(nb, args.output)
    events.emit('done', output=args.output, seconds=round(time.monotonic() - started, 3))
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
