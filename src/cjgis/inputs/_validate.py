"""Shared checks for input layers: columns, geometry types, CRS and rejected rows.

Every check names the file, the row and the fix. Rows that cannot be used are collected in a
rejected table (``layer, file, row, id, reason, fix``) instead of being dropped silently.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely

from cjgis._errors import InputError, input_error
from cjgis.inputs.coords import CHINESE_CRS, in_china, projector

REJECTED_COLUMNS = ["layer", "file", "row", "id", "name", "reason", "fix", "population"]


def empty_rejected() -> pd.DataFrame:
    """Return an empty rejected-rows table."""
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c == "population" else object) for c in REJECTED_COLUMNS}
    )


def parse_counts(raw: pd.Series, *, what: str, allow_empty: bool) -> tuple[pd.Series, pd.Series]:
    """Parse a column of counts or amounts; say per row what is wrong with a bad one.

    Parameters
    ----------
    raw : pandas.Series
        The column as read (numbers or text such as ``"12床"`` or ``"12o0"``).
    what : str
        The column's role in messages (``"capacity"``, ``"population total"``).
    allow_empty : bool
        Whether an empty cell is allowed (it means "not given", NaN).

    Returns
    -------
    values : pandas.Series
        Floats; NaN where empty or bad.
    problem : pandas.Series
        None where fine, else e.g. ``"capacity '12床' is not a number"``.
    """
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    text = raw.astype("string").str.strip()
    empty = raw.isna() | (text == "").fillna(True)
    problem = pd.Series(None, index=raw.index, dtype=object)
    not_number = values.isna() & ~empty
    problem[not_number] = [f"{what} {t!r} is not a number" for t in text[not_number]]
    negative = values < 0
    problem[negative] = [f"{what} {v:g} is negative" for v in values[negative]]
    if not allow_empty:
        problem[empty] = f"{what} is empty"
    return values.where(problem.isna()), problem


def problem_rows(
    frame: pd.DataFrame,
    problem: pd.Series,
    *,
    layer: str,
    file: str,
    fix: str,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Rows of ``frame`` with a problem (:func:`parse_counts`), each with its own reason."""
    bad = problem.notna()
    if not bad.any():
        return empty_rejected()
    rows = rejected_rows(
        frame, bad, layer=layer, file=file, reason="", fix=fix, id_column=id_column
    )
    return rows.assign(reason=problem[bad].to_numpy())


def rejected_rows(
    frame: pd.DataFrame,
    mask: pd.Series,
    *,
    layer: str,
    file: str,
    reason: str,
    fix: str,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Rows of ``frame`` selected by ``mask`` as rejected-table rows.

    ``frame`` must carry a ``_row`` column: the 1-based data row in the source file (and
    may carry ``_file``, the file of each row, where layers were combined). Where
    it has a numeric ``population``, the residents left out are counted in that column; where
    it has a ``name`` (a facility's), the row is named too.
    """
    picked = frame.loc[mask]
    ids = picked[id_column].astype(str) if id_column else pd.Series("", index=picked.index)
    people = (
        pd.to_numeric(picked["population"], errors="coerce").to_numpy(dtype=float, copy=True)
        if "population" in picked
        else np.full(len(picked), np.nan)
    )
    people[people < 0] = np.nan  # a negative count is the reason, not people left out
    return pd.DataFrame(
        {
            "layer": layer,
            "file": picked["_file"].to_numpy() if "_file" in picked else file,
            "row": picked["_row"].to_numpy(),
            "id": ids.to_numpy(),
            "name": picked["name"].astype(str).to_numpy() if "name" in picked else "",
            "reason": reason,
            "fix": fix,
            "population": people,
        },
        columns=REJECTED_COLUMNS,
    )


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, file: object, key: str) -> None:
    """Raise if a named column is missing, suggesting the closest existing one.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table read from ``file``.
    columns : iterable of str
        Column names the study file asks for.
    file : object
        Source file, for the message.
    key : str
        Study-file section the names come from, e.g. ``"[residents]"``.
    """
    have = [str(c) for c in frame.columns if c not in ("geometry", "_row")]
    holder = "file" if key.startswith("[") else "frame"
    for col in columns:
        if col not in frame.columns:
            close = difflib.get_close_matches(col, have, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise input_error(
                file,
                f"unknown column {col!r}; the {holder} has {', '.join(map(repr, have)) or 'none'}"
                + sheets_hint(frame),
                f"{hint}set the column name in {key} of the study file"
                if key.startswith("[")
                else f"{hint}pass the right column name to {key}",
            )


def sheets_hint(frame: pd.DataFrame) -> str:
    """Words for a message: which sheet of a workbook was read and what the others are called.

    ``frame.attrs`` holds ``sheets`` and ``sheet`` where the frame was read from a workbook
    (:func:`cjgis.inputs.io.read_any`); empty otherwise.
    """
    sheets = frame.attrs.get("sheets")
    if not sheets:
        return ""
    others = [s for s in sheets if s != frame.attrs.get("sheet")]
    more = f"; its other sheets: {', '.join(others)}, chosen with sheet = ..." if others else ""
    return f" (sheet {frame.attrs.get('sheet')!r} read{more})"


def require_geometry(
    frame: pd.DataFrame, allowed: set[str], *, file: object, what: str, fix: str
) -> None:
    """Raise if any non-empty geometry is not of an ``allowed`` type."""
    types = frame.geometry.geom_type.dropna()
    bad = types[~types.isin(allowed)]
    if len(bad):
        row = int(frame.loc[bad.index[0], "_row"])
        raise input_error(
            file,
            f"{what} must be {' or '.join(sorted(allowed))}, found {bad.iloc[0]}",
            fix,
            row=row,
        )


def require_crs(frame: pd.DataFrame, *, file: object, key: str) -> None:
    """Raise if the layer has no CRS."""
    if frame.crs is None:
        raise input_error(
            file,
            "the layer declares no coordinate reference system (CRS)",
            f'add crs = "EPSG:4326" (or the right code) to {key} in the study file, '
            "or save the file with its CRS"
            if key.startswith("[")
            else f'pass crs="EPSG:4326" (or the right code) to {key}, or set the frame\'s '
            "CRS first (gdf.set_crs)",
        )


class CoordinateWarning(UserWarning):
    """Points fit the street network much better under another coordinate reading."""


#: A reading must put points at least this much closer to the streets to be suggested...
_BETTER_FACTOR = 2.0
#: ...and the declared reading must leave them at least this far off (metres, median).
_MIN_OFFSET_M = 15.0
#: ...and closer by this factor than the same shift turned in other directions (controls).
_CONTROL_FACTOR = 1.5
#: Directions of the control shifts, degrees from the Chinese reading's own.
_CONTROL_ANGLES = (45, 90, 135, 180, 225, 270, 315)


def _control_offset(xy: np.ndarray, reading, to_metric, network) -> float:
    """Return the least median street distance of the Chinese shift turned other ways.

    On a sparse network (a car network without footpaths, points deep in large blocks) a
    shift of 500 m in any direction may land points nearer a street than where they are; a
    Chinese reading counts only where it beats those control shifts clearly.
    """
    here = to_metric(xy)
    there = to_metric(np.column_stack(reading(xy[:, 0], xy[:, 1])))
    shift = there - here
    medians = []
    for angle in np.radians(_CONTROL_ANGLES):
        c, s = np.cos(angle), np.sin(angle)
        turned = shift @ np.array([[c, s], [-s, c]])
        pts = shapely.points(here + turned)
        medians.append(np.median(network.edge_tree.query_nearest(pts, return_distance=True)[1]))
    return float(min(medians))


#: Points checked at most (an evenly spaced sample of larger layers).
_MAX_CHECKED = 1000


def check_chinese_offset(
    points_lonlat: np.ndarray, network, *, file: str, key: str, strict: bool = False
) -> str | None:
    """Warn when WGS84 points fit the streets far better read as GCJ-02 or BD-09.

    Amap/Gaode, Tencent and Baidu exports are offset by about 500 m in Hangzhou; read as
    WGS84 they land beside the wrong streets without any error. This compares the median
    distance to the nearest street under the declared reading and under each Chinese one.

    Parameters
    ----------
    points_lonlat : numpy.ndarray
        Shapely points in WGS84 degrees, as the file was read.
    network : cjgis.streets.network.Network
        The walking network.
    file, key : str
        For the message: the file and its study-file section.
    strict : bool
        Raise instead of warning.

    Returns
    -------
    str or None
        The message, if the check fired.
    """
    xy = shapely.get_coordinates(points_lonlat[~shapely.is_empty(points_lonlat)])
    if len(xy) > _MAX_CHECKED:  # evenly spaced sample: a median needs no more
        xy = xy[np.linspace(0, len(xy) - 1, _MAX_CHECKED).astype(int)]
    if len(xy) < 5 or not in_china(xy[:, 0], xy[:, 1]).mean() > 0.5:
        return None
    to_metric = projector("EPSG:4326", network.crs)

    def median_offset(lon, lat):
        pts = shapely.points(to_metric(np.column_stack([lon, lat])))
        return float(np.median(network.edge_tree.query_nearest(pts, return_distance=True)[1]))

    declared = median_offset(xy[:, 0], xy[:, 1])
    readings = {
        name: median_offset(*CHINESE_CRS[name](xy[:, 0], xy[:, 1])) for name in ("gcj02", "bd09")
    }
    name, best = min(readings.items(), key=lambda item: item[1])
    if declared < _MIN_OFFSET_M or best * _BETTER_FACTOR > declared:
        return None
    control = _control_offset(xy, CHINESE_CRS[name], to_metric, network)
    if best * _CONTROL_FACTOR > control:
        return None  # any shift of that size lands nearer streets: no sign of GCJ-02
    message = (
        f"{file}: read as WGS84 the points sit a median {declared:.0f} m from the "
        f"nearest street; read as {name.upper()} only {best:.0f} m. Fix: if the file is "
        f'an Amap/Tencent (GCJ-02) or Baidu (BD-09) export, add crs = "{name}" to '
        f"{key} in the study file"
    )
    if strict:
        raise InputError(message)
    warnings.warn(message, CoordinateWarning, stacklevel=3)
    return message
