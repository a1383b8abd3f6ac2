"""Write outputs under a temporary name and move them into place when complete.

A crash or a full disk never leaves a half-written file where a planner expects a result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from cjgis._errors import OutputError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, replace ``path`` with it.

    Parameters
    ----------
    path : str or pathlib.Path
        Final destination. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        A temporary file name with the same suffix (drivers choose formats by suffix).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` (a ``.gdb``); on success, put it in its place.

    A previous folder of that name is moved aside first and removed after, so a failed write
    leaves the last complete one where it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    old = path.with_name(f".{path.stem}.old-{os.getpid()}{path.suffix}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_csv(frame, path: str | Path) -> Path:
    """Write a table as UTF-8 with BOM (Excel on Chinese Windows reads it), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def check_writable_folder(folder: str | Path, *, what: str) -> None:
    """Raise before any work when ``folder`` cannot hold outputs (a file there, no permission).

    Parameters
    ----------
    folder : str or pathlib.Path
        Where outputs will go; it need not exist yet.
    what : str
        The study-file key that names it, for the message (e.g. ``"[output] dir"``).
    """
    folder = Path(folder)
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise OutputError(
                    f"{part}: is a file, so {folder} cannot be an output folder. Fix: move the "
                    f"file away, or set {what} to another folder"
                )
            if not os.access(part, os.W_OK | os.X_OK):
                raise OutputError(
                    f"{part}: no permission to write there. Fix: set {what} to a folder you own"
                )
            return
