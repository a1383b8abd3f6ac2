"""Exceptions raised by cjgis.

Every message names what is wrong, where (file, row, column) and how to fix it.
"""

from __future__ import annotations


class CjgisError(Exception):
    """Base class of every error cjgis raises on purpose."""


class InputError(CjgisError, ValueError):
    """An input file or value cannot be used as it is."""


class StudyFileError(InputError):
    """The study file (TOML) is malformed or names an unknown key."""


class OutputError(CjgisError, OSError):
    """An output location cannot be written (checked before the analysis runs)."""


def input_error(file: object, problem: str, fix: str, *, row: object = None) -> InputError:
    """Build an :class:`InputError` whose message reads ``file[, row N]: problem. Fix: fix``.

    Parameters
    ----------
    file : object
        The file (path or name) the problem is in.
    problem : str
        What is wrong.
    fix : str
        What the user should do.
    row : object, optional
        The row (1-based data row, as a spreadsheet shows it) or id.

    Returns
    -------
    InputError
        The error, ready to raise.
    """
    where = f"{file}" if row is None else f"{file}, row {row}"
    return InputError(f"{where}: {problem}. Fix: {fix}")
