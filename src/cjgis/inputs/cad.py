"""Road lines from a CAD drawing (DXF), as a design institute sends a road design.

GDAL's DXF driver reads every entity of the drawing into one table, with the CAD layer in
its ``Layer`` field; lines, polylines (their bulges as arcs) and arcs come as LineStrings,
blocks inserted as their parts. :func:`read_dxf_lines` keeps the entities of the CAD layers
named (``[network] layers = ["道路中心线"]``) and marks those of ``bridge_layers`` as bridges,
which :func:`cjgis.streets.road_lines.graph_from_lines` keeps whole (no junction where a
bridge crosses a road).

**Text encoding.** Layer names in Chinese are read right only with the drawing's own
encoding: a DXF from AutoCAD 2007 or later (``$ACADVER`` AC1021 and up) is UTF-8 whatever its
``$DWGCODEPAGE`` says (writers often leave ANSI_1252 there); an older one is in its code page,
``ANSI_936`` (GBK) for a Chinese AutoCAD. cjgis reads the header and tells GDAL
(``DXF_ENCODING``); ``encoding = "gbk"`` in the study file overrides it. A drawing has no CRS:
``crs`` names it (usually CGCS2000 3° Gauss-Krüger, e.g. ``"EPSG:4549"`` for 120°E).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from cjgis._errors import input_error

log = logging.getLogger(__name__)

#: The first AutoCAD version whose DXF files are UTF-8 (AutoCAD 2007).
_UTF8_FROM = "AC1021"
#: Header bytes read for ``$ACADVER`` and ``$DWGCODEPAGE`` (both sit near the top).
_HEADER_BYTES = 64_000
_LINES = ("LineString", "MultiLineString")


def dxf_encoding(path: Path) -> str | None:
    """Return the encoding GDAL should read the drawing's text with, from its header.

    ``"UTF-8"`` for AutoCAD 2007 and later; None for older drawings (GDAL then follows their
    ``$DWGCODEPAGE``, e.g. ANSI_936) and for a binary DXF.
    """
    with path.open("rb") as file:
        head = file.read(_HEADER_BYTES)
    if head.startswith(b"AutoCAD Binary DXF"):
        return None
    lines = [line.strip() for line in head.decode("latin-1").splitlines()]
    for i, line in enumerate(lines[:-2]):
        if line == "$ACADVER":
            version = lines[i + 2]
            return "UTF-8" if version >= _UTF8_FROM else None
    return None


def read_dxf_lines(
    path: str | Path,
    *,
    layers: Sequence[str],
    bridge_layers: Sequence[str] = (),
    encoding: str | None = None,
    section: str = "[network]",
) -> gpd.GeoDataFrame:
    """Read the line entities of the named CAD layers of a DXF drawing.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.dxf`` file.
    layers : sequence of str
        The CAD layers holding road centre lines (bridge layers are added to them).
    bridge_layers : sequence of str, optional
        CAD layers of bridges (and footbridges): their lines get ``bridge = "yes"``.
    encoding : str, optional
        The drawing's text encoding (``"gbk"``), instead of the one its header gives.
    section : str, optional
        The study-file section that names the drawing, named in errors.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per line entity, in the drawing's coordinates (no CRS): ``cad_layer``,
        ``entity`` (``AcDbLine``, ``AcDbPolyline``, ``AcDbArc``, ...), ``handle``,
        ``bridge`` (``"yes"`` or ``"no"``) and ``_row`` (the entity's place in the drawing).
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "file not found", f"check {section} path")
    named = [*dict.fromkeys([*layers, *bridge_layers])]
    frame = _read(path, encoding)
    frame = frame.rename(columns={"Layer": "cad_layer", "EntityHandle": "handle"})
    frame["_row"] = np.arange(1, len(frame) + 1)
    found = sorted(set(frame["cad_layer"].dropna().astype(str)))
    garbled = [n for n in found if any(0x80 <= ord(c) <= 0xFF for c in n)]
    if garbled and encoding is None:
        raise input_error(
            path,
            f"the CAD layer names read garbled (e.g. {garbled[0]!r}): the drawing's header "
            "names another encoding than its text is in",
            f'give it: encoding = "gbk" in {section} (or save the drawing as DXF 2007 or later)',
        )
    if not layers:
        roads = [n for n in found if any(w in n.lower() for w in ("路", "道", "road", "中心线"))]
        raise input_error(
            path,
            f"a CAD drawing of {len(found)} layers ({_listed(found)}) and none named",
            f'name the road centre-line layers: layers = ["{(roads or found or ["道路"])[0]}"] '
            f"in {section}",
        )
    missing = [n for n in named if n not in found]
    if missing:
        close = difflib.get_close_matches(missing[0], found, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise input_error(
            path,
            f"no CAD layer {missing[0]!r}; the drawing's layers are {_listed(found)}",
            f"{hint}use one of them in {section} layers or bridge_layers",
        )
    chosen = frame[frame["cad_layer"].isin(named)].copy()
    lines = chosen.geometry.geom_type.isin(_LINES)
    if (~lines).any():
        kinds = chosen.loc[~lines, "SubClasses"].astype(str).str.split(":").str[-1]
        log.info(
            "%s: %d entities of the layers %s are not lines (%s), left out of the roads",
            path.name,
            int((~lines).sum()),
            ", ".join(named),
            ", ".join(f"{k} {n}" for k, n in kinds.value_counts().items()),
        )
    chosen = chosen[lines]
    if chosen.empty:
        raise input_error(
            path,
            f"no lines in the CAD layers {', '.join(named)}",
            "name the layers that hold the road centre lines",
        )
    entity = chosen["SubClasses"].astype(str).str.split(":").str[-1]
    bridge = np.where(chosen["cad_layer"].isin(list(bridge_layers)), "yes", "no")
    out = gpd.GeoDataFrame(
        {
            "cad_layer": chosen["cad_layer"].astype(str).to_numpy(),
            "entity": entity.to_numpy(),
            "handle": chosen["handle"].astype(str).to_numpy(),
            "bridge": bridge,
            "_row": chosen["_row"].to_numpy(),
        },
        geometry=shapely.force_2d(chosen.geometry.to_numpy()),
        crs=None,
    )
    log.info(
        "%s: %d road lines from CAD layers %s (%d of them bridges)",
        path.name,
        len(out),
        ", ".join(named),
        int((out["bridge"] == "yes").sum()),
    )
    return out


def _read(path: Path, encoding: str | None) -> gpd.GeoDataFrame:
    """Read every entity, the text decoded as the drawing is encoded."""
    try:
        with _dxf_encoding(encoding or dxf_encoding(path)):
            return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        raise input_error(
            path, f"cannot read as a CAD drawing ({exc})", "save it as DXF (AutoCAD 2007 or later)"
        ) from exc


def _listed(names: list[str]) -> str:
    return ", ".join(names[:30]) + (" ..." if len(names) > 30 else "") if names else "none"


@contextlib.contextmanager
def _dxf_encoding(encoding: str | None) -> Iterator[None]:
    """Tell GDAL's DXF driver the drawing's encoding for one read (None: its header's)."""
    if encoding is None:
        yield
        return
    pyogrio.set_gdal_config_options({"DXF_ENCODING": encoding.upper()})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": None})
