"""Run one writer in a forked process while this one writes the others.

Drawing figures (matplotlib) and writing the workbook and map (folium, xlsxwriter) all hold
the GIL, so threads would not overlap them; a forked process inherits the analysis without
copying or pickling it. Where the system cannot fork safely (Windows, macOS) or this process
may not have children, the writer runs here, first, and the results are the same.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from cjgis._errors import OutputError


def can_fork() -> bool:
    """Whether writers may run in a forked process.

    Linux and the other POSIX systems but macOS, and not from a daemonic process (a worker of
    a process pool or of Dask), which may not have children.
    """
    return (
        sys.platform != "darwin"
        and "fork" in mp.get_all_start_methods()
        and not mp.current_process().daemon
    )


def _child(send, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        send.send((True, fn(*args, **kwargs)))
    except KeyboardInterrupt:  # Ctrl-C reaches both processes; the parent reports it
        os._exit(130)
    except BaseException as exc:  # handed to the parent, raised there
        # the child's traceback does not cross the pipe: keep it as a note (--debug shows it)
        exc.add_note("in the forked writer:\n" + "".join(traceback.format_tb(exc.__traceback__)))
        try:
            send.send((False, exc))
        except Exception:  # an exception that does not pickle
            send.send((False, OutputError(f"{type(exc).__name__}: {exc}")))
    finally:
        send.close()


@contextlib.contextmanager
def forked(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Iterator[Callable[[], Any]]:
    """Start ``fn(*args, **kwargs)`` in a forked process; yield a function that waits for it.

    Parameters
    ----------
    fn : callable
        The writer; its return value must pickle (paths, not figures).
    *args, **kwargs :
        Its arguments (inherited by the fork, never pickled).

    Yields
    ------
    callable
        ``wait()``: the writer's return value, or its exception raised here. Leaving the block
        without waiting (an error in this process) stops the child.
    """
    if not can_fork():
        result = fn(*args, **kwargs)
        yield lambda: result
        return
    context = mp.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    process.start()
    send.close()

    def wait() -> Any:
        try:
            ok, value = receive.recv()
        except EOFError:
            process.join()
            raise OutputError(
                f"{getattr(fn, '__name__', fn)} stopped (exit status {process.exitcode}) before "
                "it finished. Fix: run again; with --debug to see why"
            ) from None
        process.join()
        if ok:
            return value
        raise value

    try:
        yield wait
    finally:
        receive.close()
        if process.is_alive():
            process.terminate()
            process.join()
