"""Write outputs under a temporary name and move them into place when complete.

A crash or a full disk never leaves a half-written file where a planner expects a result.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


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


def write_csv(frame, path: str | Path) -> Path:
    """Write a table as UTF-8 with BOM (Excel on Chinese Windows reads it), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)
