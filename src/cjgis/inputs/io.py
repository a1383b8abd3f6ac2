"""Read the files a planner brings into standard layers, listing every row left out.

Each reader returns a :class:`Layer`: a GeoDataFrame with cjgis's standard columns (below)
in the file's own CRS, and a table of rejected rows with the reason and the fix. The files
themselves are only read, never modified.

Standard columns
----------------
communities
    ``community_id``, ``community_name``, polygon ``geometry``.
residents
    ``resident_id``, ``population`` and, where given, ``elderly``, ``households``,
    ``community_id``; point or polygon ``geometry`` (buildings, compounds).
facilities
    ``facility_id``, ``name``, ``category``; point ``geometry``.
"""

from __future__ import annotations

import codecs
import difflib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.spatial import cKDTree

from cjgis._database import is_database_url, shown
from cjgis._errors import input_error
from cjgis.inputs._validate import (
    empty_rejected,
    parse_counts,
    problem_rows,
    rejected_rows,
    require_columns,
    require_crs,
    require_geometry,
    sheets_hint,
)
from cjgis.inputs.categories import category_from_text, category_key
from cjgis.inputs.coords import CHINESE_CRS, in_china, metric_crs_of, to_wgs84_geometries
from cjgis.inputs.database import DatabaseSource, read_database

log = logging.getLogger(__name__)

_TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xls"}
#: Vector formats that hold several layers, one of which ``layer`` names.
MANY_LAYER_SUFFIXES = {".gpkg", ".gdb", ".sqlite"}
_POLYGONS = {"Polygon", "MultiPolygon"}
#: Encodings tried for CSV files, in order: UTF-8 (with or without BOM), then GB18030 (⊃ GBK).
_ENCODINGS = ("utf-8-sig", "gb18030")
#: Above this share of non-ASCII characters outside GB2312, GB18030-decoded text is taken for
#: another encoding read wrongly (Shift-JIS, Big5, ...): simplified Chinese stays within it.
_RARE_SHARE = 0.2


@dataclass(frozen=True)
class Layer:
    """A standardised input layer and the rows that could not be used."""

    frame: gpd.GeoDataFrame
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    file: str = ""


def read_any(
    path: str | Path | DatabaseSource,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> pd.DataFrame:
    """Read a vector layer (GeoPackage, File Geodatabase, GeoJSON, Shapefile) or a CSV/XLSX table.

    CSV files are tried as UTF-8 (with or without BOM), then GB18030 (which covers GBK); a
    shapefile without ``.cpg`` likewise (:func:`_dbf_encoding`); ``encoding`` (e.g. ``"gbk"``)
    replaces the guess. ``sheet`` names a workbook's sheet (or its 0-based number; the first
    by default). ``layer`` names the layer of a GeoPackage or an ArcGIS File Geodatabase
    (``.gdb``, a folder); a file of several layers without it is an error listing them.
    A ``_row`` column holds the 1-based data row, as a spreadsheet shows it below the header.
    A :class:`~cjgis.inputs.database.DatabaseSource` is read from its database (a table or a
    query; no sheet, encoding or layer).
    """
    if isinstance(path, DatabaseSource):
        given = [k for k, v in (("sheet", sheet), ("encoding", encoding), ("layer", layer)) if v]
        if given:
            raise input_error(
                path, f"{' and '.join(given)} given for a database table", "remove them"
            )
        return read_database(path)
    if is_database_url(path):
        raise input_error(
            shown(str(path)),
            "a database URL alone names no layer",
            'name the table: DatabaseSource(url, table="...") (in a study file, table = "...")',
        )
    path = Path(path)
    suffix = path.suffix.lower()
    if not (path.is_file() or (suffix == ".gdb" and path.is_dir())):
        raise input_error(path, "file not found", "check the path in the study file")
    if layer is not None and suffix in _TABLE_SUFFIXES:
        raise input_error(
            path, f"layer = {layer!r} given, but the file is a table", "remove layer (or sheet)"
        )
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise input_error(
                path, f"encoding = {encoding!r} is no text encoding", 'use "gbk" or "utf-8"'
            ) from None
    if sheet is not None and suffix not in {".xlsx", ".xls"}:
        raise input_error(
            path, f"sheet = {sheet!r} given, but the file is no workbook", "remove sheet"
        )
    if suffix in {".csv", ".txt"}:
        frame = _without_title_rows(_read_csv(path, encoding), path)
    elif suffix in {".xlsx", ".xls"}:
        frame = _without_title_rows(_read_sheet(path, sheet), path)
        frame.attrs["sheets"] = sheet_names(path)
        frame.attrs["sheet"] = (
            frame.attrs["sheets"][sheet]
            if isinstance(sheet, int)
            else (sheet or frame.attrs["sheets"][0])
        )
    else:
        options = {"encoding": encoding or _dbf_encoding(path)} if suffix == ".shp" else {}
        options["layer"] = _one_layer(path, layer)
        try:
            frame = gpd.read_file(path, **options)
        except Exception as exc:
            raise input_error(
                path, f"cannot read as a GIS layer ({exc})", "use GeoPackage, GeoJSON or CSV"
            ) from exc
    frame = frame.copy()
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame


def source_of(path: str | Path | DatabaseSource) -> Path | DatabaseSource:
    """Return a file's path as a :class:`~pathlib.Path`; a database source as it is."""
    return path if isinstance(path, DatabaseSource) else Path(path)


def read_water(
    water: str | Path | gpd.GeoDataFrame | None, *, layer: str | None = None
) -> gpd.GeoDataFrame | None:
    """Read ``[map] water`` (rivers, lakes, rail: barriers drawn on the map and figures).

    A path is read as any vector layer (``layer`` names one of a ``.gdb`` or many-layer
    GeoPackage; a file of several without it stops with their names); a GeoDataFrame is taken
    as it is; None stays None.
    """
    if water is None or isinstance(water, gpd.GeoDataFrame):
        return water
    frame = read_any(water, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise input_error(
            water,
            "[map] water is no GIS layer with a coordinate reference system",
            "give a GeoPackage, GeoJSON or Shapefile of rivers and lakes with its CRS",
        )
    return frame.drop(columns="_row")


def _one_layer(path: Path, layer: str | None) -> str | None:
    """Return the layer to read: the one named (checked), or the only one; else an error.

    Only formats that hold several layers are listed (opening a large GeoJSON twice would
    read it twice); a Shapefile or GeoJSON is its one layer.
    """
    if layer is None and path.suffix.lower() not in MANY_LAYER_SUFFIXES:
        return None
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:
        raise input_error(
            path, f"cannot read as a GIS layer ({exc})", "use GeoPackage, GeoJSON or CSV"
        ) from exc
    listed = ", ".join(repr(n) for n in names)
    if layer is None:
        if len(names) > 1:
            raise input_error(
                path,
                f"{len(names)} layers ({listed}) and none named",
                f'name the one to read: layer = "{names[0]}" in the study file\'s section',
            )
        return None
    if layer not in names:
        close = difflib.get_close_matches(layer, names, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise input_error(path, f"no layer {layer!r}; its layers are {listed}", f"{hint}use one")
    return layer


def in_memory(frame: object, layer: str, *, spatial: bool) -> pd.DataFrame:
    """Return a copy of a caller's table with the ``_row`` column the readers expect.

    A GeoDataFrame without an active geometry is taken as a table (its lon/lat columns).
    """
    what = f"{layer}_from_frame()"
    if not isinstance(frame, pd.DataFrame):
        raise input_error(
            what,
            f"{layer} must be a GeoDataFrame{'' if spatial else ' or a DataFrame'}, "
            f"got {type(frame).__name__}",
            "pass geopandas.read_file(...)" + ("" if spatial else " or pandas.read_excel(...)"),
        )
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name not in frame:
        frame = pd.DataFrame(frame)
    if spatial and not isinstance(frame, gpd.GeoDataFrame):
        raise input_error(
            what,
            f"{layer} need polygons: got a DataFrame without geometry (columns "
            f"{', '.join(map(str, frame.columns))})",
            "pass a GeoDataFrame of boundaries (geopandas.read_file)",
        )
    frame = frame.copy()
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame


def sheet_names(path: Path) -> list[str]:
    """Return the names of a workbook's sheets, in order."""
    with pd.ExcelFile(path) as book:
        return [str(name) for name in book.sheet_names]


def _read_sheet(path: Path, sheet: str | int | None) -> pd.DataFrame:
    names = sheet_names(path)
    if isinstance(sheet, str) and sheet not in names:
        raise input_error(
            path,
            f"no sheet {sheet!r}; its sheets are: {', '.join(names)}",
            f'set sheet = "{difflib.get_close_matches(sheet, names, n=1, cutoff=0)[0]}" '
            "(one of the names above)",
        )
    if isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise input_error(
            path, f"no sheet number {sheet} (it has {len(names)})", "count sheets from 0"
        )
    return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)


#: Rows searched for the real header under a title row.
_TITLE_ROWS = 10


def _without_title_rows(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Drop title rows above the header (common in bureau exports), saying so.

    A table whose header row is mostly empty (``Unnamed: 1`` ...) has a title above its header:
    the header is the first of the next rows that fills as many columns as the widest row.
    """
    names = [str(c) for c in frame.columns]
    unnamed = sum(n.startswith("Unnamed:") for n in names)
    if len(names) < 2 or unnamed < len(names) / 2:
        return frame
    head = frame.head(_TITLE_ROWS)
    filled = head.notna().sum(axis=1)
    widest = filled.max()
    if widest < 2:
        return frame
    at = int(filled.index[filled == widest][0])
    header = [str(v).strip() for v in frame.iloc[at]]
    body = frame.iloc[at + 1 :].set_axis(header, axis=1).reset_index(drop=True)
    body = _numbers_again(body)
    log.warning(
        "%s: %d title row(s) above the header skipped; columns read: %s",
        path,
        at + 1,
        ", ".join(header),
    )
    return body


def _numbers_again(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns read as text under a title row become numbers where every value is one."""
    out = frame.copy()
    for column in out.columns:
        values = pd.to_numeric(out[column], errors="coerce")
        if values.notna().sum() == out[column].notna().sum():
            out[column] = values
    return out


def _read_csv(path: Path, given: str | None = None) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in (given,) if given else _ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8-sig":
            _check_not_garbled(text, path, encoding)
        try:
            return pd.read_csv(io.StringIO(text))
        except pd.errors.EmptyDataError:
            raise input_error(
                path, "the file is empty (no header row)", "export the table again"
            ) from None
    raise input_error(
        path,
        f"the text is not {given.upper()} (the study file's encoding)"
        if given
        else f"the text is neither UTF-8 nor GBK/GB18030 (tried {', '.join(_ENCODINGS)})",
        _ENCODING_FIX,
    )


_ENCODING_FIX = (
    "save the CSV as UTF-8 (Excel: 'CSV UTF-8') or GBK; a Big5, Shift-JIS or UTF-16 file "
    "must be converted first"
)


def _check_not_garbled(text: str, path: Path, encoding: str, *, fix: str = _ENCODING_FIX) -> None:
    """Raise if text decoded as ``encoding`` reads like another encoding decoded wrongly."""
    lines = text.splitlines()
    odd = [c for c in text if c == "\0" or 0xE000 <= ord(c) <= 0xF8FF]  # NUL, private use
    wide = [c for c in text if ord(c) > 127]
    rare = [c for c in wide if not _in_gb2312(c)]
    if not odd and (not wide or len(rare) <= _RARE_SHARE * len(wide)):
        return
    first = next(
        i for i, line in enumerate(lines) if any(c in line for c in (odd or rare))
    )  # 0 is the header line, 1 the first data row
    where = "the header line" if first == 0 else f"data row {first}"
    raise input_error(
        path,
        f"read as {encoding.upper()} the text looks garbled from {where} on "
        f"({len(odd) + len(rare)} unusual characters, e.g. {lines[first][:30]!r}): "
        "probably another encoding",
        fix,
    )


def _dbf_encoding(path: Path) -> str | None:
    """Return the text encoding of a ``.dbf`` that no ``.cpg`` names (None: one does).

    ArcGIS often writes Chinese attributes in GBK without a ``.cpg``; GDAL then reads them as
    Latin-1 (朱家社区 becomes Öì¼ÒÉçÇø). The records are tried as UTF-8, then GB18030 (which
    covers GBK); the log says which was chosen, and text that reads garbled either way stops
    the run with the fix.
    """
    if path.with_suffix(".cpg").is_file() or path.with_suffix(".CPG").is_file():
        return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.is_file()), None
    )
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    names = raw[32:header]  # the field descriptors: 11-byte names, may be Chinese too
    body = b"".join(names[i : i + 11] for i in range(0, len(names), 32)) + raw[header:]
    if all(b < 128 for b in body):
        return None  # ASCII only: any reading is the same
    for encoding in ("utf-8", "gb18030"):
        try:
            text = body.replace(b"\0", b" ").decode(encoding)
        except UnicodeDecodeError:
            continue
        _check_not_garbled(text, dbf, encoding, fix=_DBF_FIX)
        log.info(
            '%s: no .cpg file says the text encoding; read as %s (set encoding = "..." in '
            "the study file to choose another)",
            dbf.name,
            encoding.upper(),
        )
        return encoding
    raise input_error(dbf, "the attribute text is neither UTF-8 nor GBK/GB18030", _DBF_FIX)


_DBF_FIX = (
    "add a .cpg file beside the .shp holding the encoding (e.g. GBK or UTF-8), or export the "
    "layer as GeoPackage"
)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def with_crs(frame: gpd.GeoDataFrame, crs: str | None, *, file: Path, key: str):
    """Apply the study file's ``crs`` where the file has none; refuse a contradiction.

    ``crs = "gcj02"`` or ``"bd09"`` converts Amap/Gaode or Baidu coordinates to WGS84; the
    file may then declare nothing or a geographic CRS (such exports usually say WGS84).
    """
    if crs is not None and crs.lower() in CHINESE_CRS:
        if frame.crs is not None and not frame.crs.is_geographic:
            raise input_error(
                file,
                f"{key} says crs = {crs!r} but the file is projected ({frame.crs})",
                "GCJ-02/BD-09 are longitude/latitude; remove crs or re-export the file",
            )
        _check_degrees(frame.geometry, file=file, key=key, declared=crs)
        geometry = to_wgs84_geometries(frame.geometry.to_numpy(), crs)
        return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geometry, crs="EPSG:4326")
    if crs is not None and _geojson_without_crs(frame, file):
        log.info(
            "%s: a GeoJSON with no crs member (WGS84 by RFC 7946) holding metres: read as %s "
            "from %s",
            file,
            crs,
            key,
        )
        frame = frame.set_crs(None, allow_override=True)
    if crs is not None:
        if frame.crs is None:
            frame = frame.set_crs(crs)
            if frame.crs.is_geographic:
                _check_degrees(frame.geometry, file=file, key=key, declared=crs)
            return frame
        if not frame.crs.equals(gpd.GeoSeries(crs=crs).crs):
            raise input_error(
                file,
                f"the file declares {frame.crs.to_string()} but {key} says crs = {crs!r}",
                f"remove crs from {key} or re-save the file in {crs}",
            )
    require_crs(frame, file=file, key=key)
    if frame.crs.is_geographic:
        _check_degrees(frame.geometry, file=file, key=key, declared=frame.crs.to_string())
    return frame


def _geojson_without_crs(frame: gpd.GeoDataFrame, file: Path) -> bool:
    """Whether ``file`` is a GeoJSON that names no CRS and holds coordinates beyond degrees.

    GDAL reads such a file as WGS84 (RFC 7946); a design institute's export in metres is then
    mislabelled, and the study's ``crs`` is what the coordinates are in.
    """
    if not isinstance(file, str | Path) or Path(file).suffix.lower() not in {".geojson", ".json"}:
        return False
    if frame.crs is None:
        return False
    if not frame.crs.equals("EPSG:4326"):
        return False
    head = Path(file).read_text(encoding="utf-8-sig", errors="replace")[:4096]
    if '"crs"' in head:
        return False
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    return bool(len(xy)) and bool(((np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)).any())


def _check_degrees(geometry: gpd.GeoSeries, *, file: Path, key: str, declared: str) -> None:
    """Stop when coordinates said to be degrees cannot be (metres labelled EPSG:4326)."""
    xy = shapely.get_coordinates(geometry.to_numpy())
    if len(xy) == 0:
        return
    bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        x, y = xy[bad][0]
        raise input_error(
            file,
            f"coordinates such as ({x:.1f}, {y:.1f}) cannot be longitude/latitude, yet the "
            f"layer is read as {declared}",
            f'declare the CRS they are in (e.g. crs = "EPSG:4549" in {key}), '
            "or re-save the file with its true CRS",
        )


def _reject_empty_geometry(frame, *, layer: str, file: str, id_column: str | None):
    bad = frame.geometry.isna() | frame.geometry.is_empty
    rejected = rejected_rows(
        frame,
        bad,
        layer=layer,
        file=file,
        reason="empty or missing geometry",
        fix="draw the feature or delete the row",
        id_column=id_column,
    )
    return frame.loc[~bad], rejected


def _reject_duplicates(frame, column: str, *, layer: str, file: str):
    dup = frame[column].duplicated(keep="first")
    rejected = rejected_rows(
        frame,
        dup,
        layer=layer,
        file=file,
        reason=f"duplicate {column} (first kept)",
        fix="give every row its own id",
        id_column=column,
    )
    return frame.loc[~dup], rejected


def read_communities(
    path: str | Path,
    *,
    id: str,
    name: str,
    crs: str | None = None,
    totals: dict[str, str] | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    section: str = "[communities]",
) -> Layer:
    """Read community boundaries (polygons) with an id and a name column.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, GeoJSON or Shapefile of polygons.
    id, name : str
        Column names of the community id and its (Chinese) name.
    crs : str, optional
        CRS of the coordinates, if the file declares none.
    totals : dict, optional
        Count -> column of resident totals per community (population, elderly, households),
        kept under their column names for :func:`cjgis.inputs.demand.residents_from_totals`.
    encoding : str, optional
        Text encoding of a shapefile's attributes (``"gbk"``); guessed if absent.
    layer : str, optional
        The layer of a GeoPackage or File Geodatabase (``.gdb``) holding several.
    section : str, optional
        The study-file section the columns come from, named in errors.

    Returns
    -------
    Layer
        ``community_id``, ``community_name``, ``geometry`` (and the ``totals`` columns).
    """
    path = source_of(path)
    frame = read_any(path, encoding=encoding, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise input_error(path, "community boundaries need polygons", "use GeoPackage or GeoJSON")
    return _communities(frame, id=id, name=name, crs=crs, totals=totals, path=path, key=section)


def communities_from_frame(
    frame: gpd.GeoDataFrame,
    *,
    id: str,
    name: str,
    crs: str | None = None,
    totals: dict[str, str] | None = None,
) -> Layer:
    """Turn a GeoDataFrame of community boundaries into cjgis's communities layer.

    The same checks and keywords as :func:`read_communities` (a study file's
    ``[communities]``), on a layer already in memory; ``frame`` is not modified.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygons, in any CRS (declared on the frame, or as ``crs``).
    id, name : str
        Columns of the community id and its (Chinese) name.
    crs : str, optional
        CRS of the coordinates, where the frame declares none.
    totals : dict, optional
        Count -> column of resident totals per community, as for :func:`read_communities`.

    Returns
    -------
    Layer
        ``community_id``, ``community_name``, ``geometry``; rejected rows named by their
        1-based position in ``frame``.

    Raises
    ------
    InputError
        A named column is missing (the message lists those present), no CRS, no polygons.
    """
    what = "communities_from_frame()"
    frame = in_memory(frame, "communities", spatial=True)
    return _communities(frame, id=id, name=name, crs=crs, totals=totals, path=what, key=what)


def _communities(frame, *, id, name, crs, totals, path, key) -> Layer:
    """Return the standard communities of a frame read from ``path`` (:func:`read_communities`)."""
    frame = with_crs(frame, crs, file=path, key=key)
    totals = totals or {}
    require_columns(frame, [id, name, *totals.values()], file=path, key=key)
    require_geometry(
        frame,
        _POLYGONS,
        file=path,
        what="community boundaries",
        fix="give community boundaries as polygons",
    )
    out = gpd.GeoDataFrame(
        {
            "community_id": frame[id].astype(str),
            "community_name": frame[name].astype(str),
            **{c: pd.to_numeric(frame[c], errors="coerce") for c in totals.values()},
            **({"_total_problem": _total_problems(frame, totals)} if totals else {}),
            "_row": frame["_row"],
        },
        geometry=frame.geometry,
        crs=frame.crs,
    )
    if len(out) == 0:
        raise input_error(path, "the layer has no communities", "use a non-empty layer")
    out, rej_geom = _reject_empty_geometry(
        out, layer="communities", file=str(path), id_column="community_id"
    )
    _stop_on_duplicate_ids(out, path)
    out = _repaired_boundaries(out, path)
    return Layer(out, rej_geom, str(path))


def _repaired_footprints(geometry: gpd.GeoSeries) -> tuple[gpd.GeoSeries, pd.Series]:
    """Invalid building polygons made valid (their polygonal parts), with a note per row."""
    notes = pd.Series(None, index=geometry.index, dtype=object)
    invalid = geometry.notna() & ~geometry.is_empty & ~geometry.is_valid
    if not invalid.any():
        return geometry, notes
    geometry = geometry.copy()
    for i in geometry.index[invalid]:
        reason = shapely.is_valid_reason(geometry[i])
        parts = [p for p in shapely.get_parts(shapely.make_valid(geometry[i])) if p.area > 0]
        geometry[i] = shapely.union_all(parts)
        notes[i] = f"footprint repaired ({reason})"
    return geometry, notes


def _stop_on_duplicate_ids(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Two boundaries with one id: one would vanish and its residents seem outside any."""
    dup = frame["community_id"].duplicated(keep=False)
    if dup.any():
        first = frame.loc[dup, "community_id"].iloc[0]
        rows = frame.loc[frame["community_id"] == first, "_row"].tolist()
        raise input_error(
            path,
            f"rows {', '.join(map(str, rows))} share the community id {first!r} "
            f"({dup.sum()} rows share an id with another)",
            "give each boundary its own id, or merge the parts into one (multi)polygon",
        )


def _repaired_boundaries(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Repair invalid boundaries where the repair keeps their area, and note it per row.

    The area a boundary encloses is that of every face its lines enclose (a bow-tie: both
    triangles). A repair that keeps less (a ring that overlaps itself, repaired into a hole)
    stops the run with the boundary named, rather than quietly losing residents.
    """
    invalid = ~frame.geometry.is_valid
    notes = pd.Series(None, index=frame.index, dtype=object)
    if not invalid.any():
        return frame.assign(note=notes)
    geometry = frame.geometry.copy()
    for i in frame.index[invalid]:
        broken = frame.geometry[i]
        repaired = shapely.make_valid(broken)
        faces = shapely.polygonize(shapely.get_parts(shapely.node(broken.boundary)))
        enclosed = shapely.union_all(shapely.get_parts(faces)).area
        polygons = shapely.union_all(
            [g for g in shapely.get_parts(repaired) if g.geom_type in ("Polygon", "MultiPolygon")]
        )
        if polygons.area < enclosed * (1 - 1e-9) - 1e-9:
            raise input_error(
                path,
                f"the boundary of {frame.at[i, 'community_id']} is invalid "
                f"({shapely.is_valid_reason(broken)}) and a repair would keep only "
                f"{polygons.area / enclosed:.0%} of its area",
                "redraw the boundary (no self-overlapping ring), e.g. in QGIS: "
                "Vector > Geometry Tools > Check Validity",
                row=frame.at[i, "_row"],
            )
        geometry[i] = polygons
        notes[i] = _repair_note(broken, polygons)
        log.warning("%s, row %s: %s", path, frame.at[i, "_row"], notes[i])
    return frame.assign(geometry=geometry, note=notes)


def _repair_note(broken, repaired) -> str:
    """Say what a boundary's repair kept: "area kept" only where it is the outline's area.

    The repair keeps the faces the boundary's lines enclose. Where they cover less than the
    area within its corners (its convex hull: a bow-tie's two triangles against the square
    meant), the note says how much, and that the corners may be out of order.
    """
    reason = shapely.is_valid_reason(broken)
    outline = shapely.convex_hull(broken).area
    if repaired.area >= outline * (1 - 1e-9):
        return f"{REPAIRED} ({reason}), area kept"
    return (
        f"{REPAIRED} ({reason}): the faces its lines enclose kept, {repaired.area / outline:.0%} "
        "of the area within its corners; its corners may be out of order"
    )


#: The start of a community's note where its boundary was repaired.
REPAIRED = "boundary repaired"


def _total_problems(frame: pd.DataFrame, totals: dict[str, str]) -> pd.Series:
    """Per community, what is wrong with its resident totals (None where all are counts)."""
    problem = pd.Series(None, index=frame.index, dtype=object)
    for count, column in totals.items():
        _, bad = parse_counts(frame[column], what=f"{count} total '{column}'", allow_empty=False)
        problem = problem.fillna(bad)
    return problem


def read_residents(  # noqa: PLR0913 - one keyword per column of the study file
    path: str | Path,
    *,
    population: str | None,
    id: str | None = None,
    elderly: str | None = None,
    households: str | None = None,
    community: str | None = None,
    crs: str | None = None,
    villagers: str | None = None,
    renters: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    household_size: float | None = None,
    elderly_share: float | None = None,
    layer: str | None = None,
    section: str = "[residents]",
) -> Layer:
    """Read residences (points or building/compound polygons) with population.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, GeoJSON or Shapefile; or a CSV (UTF-8 or GBK) / XLSX table with a point
        per building from its longitude and latitude columns (a street office's list:
        社区, 楼栋, 户数, 人口, 60岁以上人口, 经度, 纬度).
    population : str
        Column with the number of residents.
    id, elderly, households, community : str, optional
        Columns of a residence id (row number if absent), elderly count, household count,
        and the id of the community the residents belong to (spatial join if absent; use it
        for residents living outside their community, 未回迁/安置在外).
    villagers, renters : str, optional
        Columns counting original villagers (原村民) and renters (租住人口): demand groups a
        rule may count.
    crs : str, optional
        CRS of the coordinates (a table's: WGS84 if absent; ``"gcj02"``/``"bd09"`` converted).
    lon, lat : str, optional
        A table's coordinate columns; found by name if absent (经度/纬度, lon/lat, lng, x/y).
    sheet : str or int, optional
        The sheet of an XLSX workbook (its name, or its 0-based number); the first if absent.
    encoding : str, optional
        Text encoding of a CSV or a shapefile's attributes (``"gbk"``); guessed if absent.
    household_size : float, optional
        Persons per household, the planner's estimate: persons = households x size where
        ``population`` is None, and households = persons / size where ``households`` is.
    elderly_share : float, optional
        Share of residents aged 60+, the planner's estimate, where ``elderly`` is None.
    layer : str, optional
        The layer of a GeoPackage or File Geodatabase (``.gdb``) holding several.
    section : str, optional
        The study-file section the columns come from, named in errors
        (``"[planned.residents]"`` for a new site's buildings).

    Returns
    -------
    Layer
        Standard resident columns; rows with missing or negative counts, or unusable
        coordinates, are rejected with the reason. Estimated counts are named in ``note``.
    """
    path = source_of(path)
    _need_population(population, households, household_size, path=path, key=section)
    return _residents(
        read_any(path, sheet=sheet, encoding=encoding, layer=layer),
        population=population,
        id=id,
        elderly=elderly,
        households=households,
        community=community,
        villagers=villagers,
        renters=renters,
        lon=lon,
        lat=lat,
        crs=crs,
        household_size=household_size,
        elderly_share=elderly_share,
        path=path,
        key=section,
    )


def _need_population(population, households, household_size, *, path, key: str) -> None:
    """Stop when neither a population column nor households with a household size is named."""
    if population is not None or (households is not None and household_size is not None):
        return
    if key.startswith("["):
        raise input_error(
            path,
            f"{key} names no population column",
            'add population = "<column>", or households = "<column>" with household_size',
        )
    raise input_error(
        path,
        "no population column named",
        'pass population="<column>" (or households= with household_size=)',
    )


def residents_from_frame(  # noqa: PLR0913 - one keyword per column, as read_residents
    frame: pd.DataFrame,
    *,
    population: str | None,
    id: str | None = None,
    elderly: str | None = None,
    households: str | None = None,
    community: str | None = None,
    crs: str | None = None,
    villagers: str | None = None,
    renters: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    household_size: float | None = None,
    elderly_share: float | None = None,
) -> Layer:
    """Turn a planner's residences (a GeoDataFrame, or a DataFrame with lon/lat) into a layer.

    The same checks and keywords as :func:`read_residents` (a study file's ``[residents]``),
    on a table already in memory; ``frame`` is not modified.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or pandas.DataFrame
        Points or building polygons; or a table with longitude and latitude columns
        (WGS84 unless ``crs`` says otherwise, e.g. ``"gcj02"`` for an Amap export).
    population, id, elderly, households, community, villagers, renters : str, optional
        As for :func:`read_residents`.
    crs, lon, lat, household_size, elderly_share : optional
        As for :func:`read_residents`.

    Returns
    -------
    Layer
        Standard resident columns; rejected rows named by their 1-based position in ``frame``.

    Raises
    ------
    InputError
        A named column is missing (the message lists those present), no CRS, no usable
        geometry or coordinates.
    """
    what = "residents_from_frame()"
    _need_population(population, households, household_size, path=what, key=what)
    return _residents(
        in_memory(frame, "residents", spatial=False),
        population=population,
        id=id,
        elderly=elderly,
        households=households,
        community=community,
        villagers=villagers,
        renters=renters,
        lon=lon,
        lat=lat,
        crs=crs,
        household_size=household_size,
        elderly_share=elderly_share,
        path=what,
        key=what,
    )


def _residents(  # noqa: PLR0913 - one keyword per column of the study file
    frame,
    *,
    population,
    id,
    elderly,
    households,
    community,
    villagers,
    renters,
    lon,
    lat,
    crs,
    household_size,
    elderly_share,
    path,
    key,
) -> Layer:
    """Return the standard residents of a frame read from ``path`` (:func:`read_residents`)."""
    if len(frame) == 0:
        raise input_error(path, f"no residences{sheets_hint(frame)}", "add at least one row")
    frame, crs = _located(frame, lon=lon, lat=lat, crs=crs, file=path, key=key)
    frame = with_crs(frame, crs, file=path, key=key)
    optional = {
        "elderly": elderly,
        "households": households,
        "villagers": villagers,
        "renters": renters,
        "community_id": community,
    }
    require_columns(
        frame, [c for c in [population, id, *optional.values()] if c], file=path, key=key
    )
    require_geometry(
        frame,
        _POLYGONS | {"Point"},
        file=path,
        what="residences",
        fix="give residences as points or building polygons",
    )
    data = {"resident_id": frame[id].astype(str) if id else frame["_row"].astype(str)}
    if population is not None:
        data["population"] = pd.to_numeric(frame[population], errors="coerce")
    for std, col in optional.items():
        if col and std == "community_id":
            data[std] = frame[col].astype(str)
        elif col:
            data[std] = pd.to_numeric(frame[col], errors="coerce")
    estimated = _estimated_counts(data, household_size, elderly_share, path=path, key=key)
    data["_row"] = frame["_row"]
    geometry, notes = _repaired_footprints(frame.geometry)
    if notes.notna().any():
        log.warning(
            "%s: %d residences had invalid footprints, repaired (see the note column)",
            path,
            notes.notna().sum(),
        )
    if estimated:
        notes = notes.where(notes.isna(), notes + "; " + estimated).fillna(estimated)
    if notes.notna().any():
        data["note"] = notes
    out = gpd.GeoDataFrame(data, geometry=geometry, crs=frame.crs)
    bad_xy, rej_xy = _lonlat_rejected(
        out, frame, layer="residents", file=path, id_column="resident_id"
    )
    out, rej_geom = _reject_empty_geometry(
        out.loc[~bad_xy], layer="residents", file=str(path), id_column="resident_id"
    )
    counts = {"population": population} if population is not None else {}
    counts.update((k, c) for k, c in optional.items() if c and k != "community_id")
    problem = pd.Series(None, index=frame.index, dtype=object)
    for std, col in counts.items():  # the first problem of each row, naming column and value
        _, found = parse_counts(frame[col], what=_role(std, col), allow_empty=False)
        problem = problem.where(problem.notna(), found)
    problem = problem.reindex(out.index)
    bad = problem.notna()
    rej_num = problem_rows(
        out,
        problem,
        layer="residents",
        file=str(path),
        fix="enter a count of 0 or more (e.g. 120)",
        id_column="resident_id",
    )
    out = out.loc[~bad]  # repeated ids: unique within a community is enough (the analysis)
    rejected = pd.concat([*rej_xy, rej_geom, rej_num], ignore_index=True)
    return Layer(out, rejected, str(path))


def _estimated_counts(data, household_size, elderly_share, *, path, key) -> str:
    """Fill persons, households or elderly from the planner's estimates; return the note.

    ``data`` (column -> Series) is completed in place; the note names each estimate as the
    planner's (规划建议值) with its study-file key, and the log says it once per file.
    """
    said = []
    if "population" not in data:
        data["population"] = data["households"] * household_size
        said.append(f"人口 = 户数 × {household_size:g} (persons = households x {household_size:g})")
    elif "households" not in data and household_size is not None:
        data["households"] = data["population"] / household_size
        said.append(f"户数 = 人口 ÷ {household_size:g} (households = persons / {household_size:g})")
    if "elderly" not in data and elderly_share is not None:
        data["elderly"] = data["population"] * elderly_share
        said.append(
            f"60岁以上 = 人口 × {elderly_share:.0%} (elderly = persons x {elderly_share:.0%})"
        )
    if not said:
        return ""
    note = "估算 estimated, 规划建议值 " + key + ": " + "; ".join(said)
    log.info("%s: %s", path, note)
    return note


def read_facilities(  # noqa: PLR0913 - one keyword per column of the study file
    path: str | Path,
    *,
    category: str | None = None,
    name: str | None = None,
    id: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    capacity: str | None = None,
    type: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    section: str = "[facilities]",
) -> Layer:
    """Read facility points from a GIS layer, or from a CSV/XLSX with lon/lat columns.

    Parameters
    ----------
    path : str or pathlib.Path
        Point layer, or CSV (UTF-8, UTF-8 with BOM, GBK) / XLSX table.
    category, name, id : str, optional
        Column names of the category key, the facility name and its id (row if absent).
        Unnamed columns are recognised (:data:`COLUMN_ALIASES`: 名称/name, 类别/category,
        经度/lng/lon/longitude/x, 纬度/lat/latitude/y, 类型/type). Rows without a category
        get one from the keyword rules (:data:`cjgis.inputs.categories.KEYWORD_RULES`) on their name
        and type; rows no rule matches are rejected, listed.
    lon, lat : str, optional
        Coordinate columns of a table.
    type : str, optional
        Column with a type text (e.g. Amap's 类型) used by the keyword rules.
    crs : str, optional
        CRS of the coordinates; a table without it is taken as WGS84 (EPSG:4326).
        ``"gcj02"`` (Amap/Gaode, Tencent) and ``"bd09"`` (Baidu) are converted to WGS84.
    capacity : str, optional
        Column with the facility's capacity (beds, sockets, tables, m²), kept as ``capacity``.
    sheet : str or int, optional
        The sheet of an XLSX workbook (its name, or its 0-based number); the first if absent.
    encoding : str, optional
        Text encoding of a CSV or a shapefile's attributes (``"gbk"``); guessed if absent.
    layer : str, optional
        The layer of a GeoPackage or File Geodatabase (``.gdb``) holding several.
    section : str, optional
        The study-file section the columns come from, named in errors.

    Returns
    -------
    Layer
        ``facility_id``, ``name``, ``category``, point ``geometry``; rows without a category or
        without usable coordinates are rejected.
    """
    path = source_of(path)
    return _facilities(
        read_any(path, sheet=sheet, encoding=encoding, layer=layer),
        category=category,
        name=name,
        id=id,
        lon=lon,
        lat=lat,
        capacity=capacity,
        type=type,
        crs=crs,
        path=path,
        key=section,
    )


def facilities_from_frame(  # noqa: PLR0913 - one keyword per column, as read_facilities
    frame: pd.DataFrame,
    *,
    category: str | None = None,
    name: str | None = None,
    id: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    capacity: str | None = None,
    type: str | None = None,
) -> Layer:
    """Turn a planner's facilities (a GeoDataFrame, or a DataFrame with lon/lat) into a layer.

    The same checks and keywords as :func:`read_facilities` (a study file's ``[facilities]``),
    on a table already in memory; ``frame`` is not modified. Categories may be keys
    (``elderly_care``) or Chinese names (``养老服务设施``); rows without one are classified by
    their name and type, or rejected.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or pandas.DataFrame
        Points (or building polygons); or a table with longitude and latitude columns
        (WGS84 unless ``crs`` says otherwise, e.g. ``"gcj02"`` for an Amap export).
    category, name, id, lon, lat, crs, capacity, type :
        As for :func:`read_facilities`.

    Returns
    -------
    Layer
        ``facility_id``, ``name``, ``category``, point ``geometry``; rejected rows named by
        their 1-based position in ``frame``.

    Raises
    ------
    InputError
        A named column is missing (the message lists those present), no CRS, no usable
        geometry or coordinates.
    """
    what = "facilities_from_frame()"
    return _facilities(
        in_memory(frame, "facilities", spatial=False),
        category=category,
        name=name,
        id=id,
        lon=lon,
        lat=lat,
        capacity=capacity,
        type=type,
        crs=crs,
        path=what,
        key=what,
    )


def _facilities(  # noqa: PLR0913 - one keyword per column of the study file
    frame, *, category, name, id, lon, lat, crs, capacity, type, path, key
) -> Layer:
    """Return the standard facilities of a frame read from ``path`` (:func:`read_facilities`)."""
    if len(frame) == 0:
        raise input_error(
            path, f"the facility list is empty{sheets_hint(frame)}", "add at least one facility"
        )
    frame, crs = _located(frame, lon=lon, lat=lat, crs=crs, file=path, key=key)
    frame = with_crs(frame, crs, file=path, key=key)
    require_columns(frame, [c for c in (id, capacity) if c], file=path, key=key)
    name = _column(frame, name, "name", file=path, key=key, required=True)
    category = _column(frame, category, "category", file=path, key=key, required=False)
    type = _column(frame, type, "type", file=path, key=key, required=False)
    require_geometry(
        frame,
        _POLYGONS | {"Point"},
        file=path,
        what="facilities",
        fix="give facilities as points (or building polygons)",
    )
    geometry = frame.geometry.copy()
    polys = geometry.geom_type.isin(_POLYGONS)
    geometry[polys] = geometry[polys].representative_point()
    cat, classified_by = _classified(frame, category=category, name=name, type=type, file=path)
    address = _column(frame, None, "address", file=path, key=key, required=False)
    if capacity:
        capacities, bad_capacity = parse_counts(
            frame[capacity], what=_role("capacity", capacity), allow_empty=True
        )
    out = gpd.GeoDataFrame(
        {
            "facility_id": frame[id].astype(str) if id else frame["_row"].astype(str),
            "name": frame[name].fillna("").astype(str),
            "category": cat,
            "classified_by": classified_by,
            **({"address": frame[address].astype("string")} if address else {}),
            **({"capacity": capacities} if capacity else {}),
            "_row": frame["_row"],
        },
        geometry=geometry,
        crs=frame.crs,
    )
    bad_xy, rej_xy = _lonlat_rejected(
        out, frame, layer="facilities", file=path, id_column="facility_id"
    )
    dropped, rej_cap = bad_xy, empty_rejected()
    if capacity:  # "12床": the number only, in the rule's unit; an empty cell is "not given"
        rej_cap = problem_rows(
            out,
            bad_capacity.where(~bad_xy),
            layer="facilities",
            file=str(path),
            fix=f"write the number only in '{capacity}' (e.g. 12): its unit is the rule's",
            id_column="facility_id",
        )
        dropped = bad_xy | bad_capacity.notna()
    out, rej_geom = _reject_empty_geometry(
        out.loc[~dropped], layer="facilities", file=str(path), id_column="facility_id"
    )
    no_cat = out["category"].isna() | (out["category"] == "")
    rej_cat = rejected_rows(
        out,
        no_cat,
        layer="facilities",
        file=str(path),
        reason="no category: none given and no keyword rule matches its name or type",
        fix="fill the category column (e.g. elderly_care), or add a keyword rule",
        id_column="facility_id",
    )
    out, rej_dup = _reject_duplicates(
        out.loc[~no_cat], "facility_id", layer="facilities", file=str(path)
    )
    out["category"] = out["category"].astype(str)
    out, rej_twice = _reject_repeated_facilities(out, path)
    rejected = pd.concat(
        [*rej_xy, rej_cap, rej_geom, rej_cat, rej_dup, rej_twice], ignore_index=True
    )
    return Layer(out, rejected, str(path))


def _classified(frame: pd.DataFrame, *, category, name, type, file: Path):
    """Each facility's category and what gave it: ``column``, ``name`` or ``type``.

    A category column wins; else the keyword rules on the name alone; else on the name with
    the type (Amap's 类型) and OSM tags. So 朱家社区居家养老服务照料中心 typed
    生活服务;养老服务;养老院 is elderly care by its name. Where name and type give different
    categories the log says so, with the rows.
    """
    given = (
        frame[category].astype("string").str.strip()
        if category
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    given = given.mask(given == "")
    if category and given.notna().any() and given.dropna().str.count(";").ge(2).mean() > 0.5:
        raise input_error(
            file,
            f"the category column {category!r} holds Amap types (e.g. {given.dropna().iloc[0]!r}), "
            "not categories",
            f'read it as the type: type = "{category}" in [facilities] (and no category '
            "key): the keyword rules then classify each facility by its name, then its type",
        )
    names = frame[name].fillna("").astype(str)
    extra = frame[type].fillna("").astype(str) if type else pd.Series("", index=frame.index)
    for tag in OSM_TAG_COLUMNS:  # an OSM export: its tags as key=value for the rules
        if tag in frame.columns:
            value = frame[tag].astype("string").fillna("")
            extra = extra + (" " + tag + "=" + value).where(value != "", "")
    by_name = category_from_text(names)
    by_both = category_from_text(names + " " + extra)
    by_type = category_from_text(extra)
    cat = given.map(category_key, na_action="ignore").astype("string")
    cat = cat.fillna(by_name).fillna(by_both)
    classified_by = pd.Series(None, index=frame.index, dtype=object)
    classified_by[given.isna() & cat.notna()] = "type"
    classified_by[given.isna() & by_name.notna()] = "name"
    classified_by[given.notna()] = "column"
    differ = given.isna() & by_name.notna() & by_type.notna() & (by_name != by_type)
    if differ.any():
        rows = frame.loc[differ, "_row"].tolist()
        first = differ.idxmax()
        log.warning(
            "%s: %d facilities' names and types say different categories; the name's is used "
            "(classified_by = name), e.g. row %s %r: %s by its name, %s by its type %r",
            file,
            int(differ.sum()),
            rows[0],
            names[first],
            by_name[first],
            by_type[first],
            extra[first].strip(),
        )
    return cat, classified_by


#: Two facility rows this close, with the same name and category, are one facility listed twice.
SAME_PLACE_M = 1.0


def _reject_repeated_facilities(out: gpd.GeoDataFrame, path: Path):
    """Reject a facility listed again (same name and category, within :data:`SAME_PLACE_M`).

    Counted twice it would double its capacity; matched by distance, not rounded coordinates.
    """
    if len(out) < 2:
        return out, empty_rejected()
    xy = shapely.get_coordinates(out.geometry.to_crs(metric_crs_of(out)).to_numpy())
    pairs = cKDTree(xy).query_pairs(r=SAME_PLACE_M, output_type="ndarray")
    name, cat, rows = out["name"].to_numpy(), out["category"].to_numpy(), out["_row"].to_numpy()
    why = pd.Series(None, index=out.index, dtype=object)
    for i, j in sorted(map(tuple, np.sort(pairs, axis=1))):
        free = pd.isna(why.iloc[i]) and pd.isna(why.iloc[j])
        if free and name[i] == name[j] and cat[i] == cat[j]:
            why.iloc[j] = f"the same facility as row {rows[i]} (same name, category and place)"
    if why.notna().any():
        log.warning(
            "%s: %d facilities listed twice; the repeats are rejected", path, why.notna().sum()
        )
    rejected = problem_rows(
        out,
        why,
        layer="facilities",
        file=str(path),
        fix="delete the repeated row (its capacity would count twice)",
        id_column="facility_id",
    )
    return out.loc[why.isna()], rejected


#: Column names recognised when the study file names none (compared without case or spaces).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "设施名称", "poi名称", "title"),
    "category": ("category", "类别", "设施类别"),
    "type": ("类型", "type", "types", "poi类型"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "address": ("地址", "address", "addr", "详细地址"),
}
#: OSM tag columns of a facility layer exported from OpenStreetMap, offered to the keyword
#: rules as ``key=value`` (``amenity=nursing_home``, ``social_facility:for=senior``, ...).
OSM_TAG_COLUMNS = ("amenity", "social_facility", "social_facility:for", "healthcare", "leisure")


def _column(frame, given: str | None, role: str, *, file, key: str, required: bool):
    """Return the column playing ``role``: the one named, else the first recognised alias."""
    if given:
        require_columns(frame, [given], file=file, key=key)
        return given
    normal = {str(c).strip().lower(): c for c in frame.columns}
    for alias in COLUMN_ALIASES[role]:
        if alias.lower() in normal:
            return normal[alias.lower()]
    if required:
        read = ", ".join(str(c) for c in frame.columns if c != "_row")
        raise input_error(
            file,
            f"no {role} column found (looked for {', '.join(COLUMN_ALIASES[role])}; the "
            f"columns read are: {read}){sheets_hint(frame)}",
            f'name it in {key}: {role} = "your column"; if the sheet has a title row above '
            "its header, delete that row",
        )
    return None


def _role(role: str, column: str) -> str:
    """Name a value's role and its column for a message: ``population '人口'``."""
    return role if column == role else f"{role} '{column}'"


def _located(frame: pd.DataFrame, *, lon, lat, crs, file: Path, key: str):
    """Return a table's rows as points from its lon/lat columns (a GIS layer as it is).

    Returns the frame and the CRS still to apply (:func:`with_crs`): a table in GCJ-02 or
    BD-09 is read as degrees and converted there; another CRS is the points' own.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        return frame, crs
    chinese = crs is not None and crs.lower() in CHINESE_CRS
    table_crs = "EPSG:4326" if crs is None or chinese else crs
    lon = _column(frame, lon, "lon", file=file, key=key, required=True)
    lat = _column(frame, lat, "lat", file=file, key=key, required=True)
    points = _points_from_table(frame, lon=lon, lat=lat, file=file, crs=table_crs, key=key)
    return points, (crs if chinese else None)


def _lonlat_rejected(out: gpd.GeoDataFrame, frame, *, layer: str, file: Path, id_column: str):
    """Rows whose lon/lat could not be used (:func:`_points_from_table`), each with its reason."""
    problem = frame.get("_lonlat_problem", pd.Series(None, index=frame.index, dtype=object))
    rejected = [
        rejected_rows(
            out,
            problem == reason,
            layer=layer,
            file=str(file),
            reason=reason,
            fix="swap the two numbers of this row"
            if "swapped" in reason
            else "enter longitude and latitude in degrees (lon 73-136, lat 3-54 in China)",
            id_column=id_column,
        )
        for reason in problem.dropna().unique()
    ]
    return problem.notna(), rejected


def _points_from_table(
    frame: pd.DataFrame, *, lon: str, lat: str, file: Path, crs: str, key: str = "[facilities]"
):
    """Turn lon/lat columns into points; rows without usable numbers get empty geometry.

    In degrees, each unusable row gets its reason in ``_lonlat_problem``: missing or not a
    number, out of range, longitude and latitude swapped (a latitude of China in the
    longitude column and the other way round), or outside China while most rows are inside.
    When most rows look swapped, the columns are: that is an error naming the fix.
    """
    require_columns(frame, [lon, lat], file=file, key=f"{key} lon/lat")
    x = pd.to_numeric(frame[lon], errors="coerce")
    y = pd.to_numeric(frame[lat], errors="coerce")
    problem = pd.Series(None, index=frame.index, dtype=object)
    problem[x.isna() | y.isna()] = f"missing or non-numeric {lon}/{lat}"
    if gpd.GeoSeries(crs=crs).crs.is_geographic:
        numeric = problem.isna()
        problem[numeric & ~(x.between(-180, 180) & y.between(-90, 90))] = (
            f"{lon}/{lat} out of range"
        )
        china = in_china(x, y)
        swapped = numeric & ~china & in_china(y, x)
        if swapped.sum() > 0.5 * numeric.sum():
            raise input_error(
                file,
                f"{lon}/{lat} look swapped: {int(swapped.sum())} of {int(numeric.sum())} rows "
                f"have a latitude in {lon!r} and a longitude in {lat!r} (first: "
                f"{x[swapped].iloc[0]}, {y[swapped].iloc[0]})",
                f'set lon = "{lat}" and lat = "{lon}" in {key}',
            )
        problem[swapped] = f"{lon}/{lat} swapped ({lon} holds a latitude)"
        if china[numeric].mean() > 0.5:
            problem[numeric & ~china & ~swapped & problem.isna()] = "outside China"
    usable = problem.isna()
    points = gpd.points_from_xy(x.where(usable), y.where(usable), crs=crs)
    points[~usable.to_numpy()] = None
    table = frame.drop(columns=[lon, lat]).assign(_lonlat_problem=problem)
    return gpd.GeoDataFrame(table, geometry=points, crs=crs)
