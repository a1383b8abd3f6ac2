"""Every layer of an analysis in one ArcGIS File Geodatabase (``[output] formats``).

Hangzhou's planning institutes work in ArcGIS: ``<name>.gdb`` holds the communities, residences,
facilities, blind spots and service areas, and the coverage and rejected tables, as GDAL's
OpenFileGDB driver writes them (ArcGIS Pro and QGIS open it); :func:`output_layers` names them,
for the database writer too. A geodatabase layer holds one
geometry type: a layer of points and polygons (residences given as buildings and as points) is
written as ``<layer>_points`` and ``<layer>_polygons``, said in the log. Integer counts are
written as 32-bit integers (what ArcGIS Pro before 3.2 and GDAL 3.6 read), booleans as 0/1.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from cjgis._atomic import atomic_folder
from cjgis.judge.analysis import Analysis
from cjgis.outputs.report import community_layer, coverage_for_csv, ready_for_gis
from cjgis.outputs.scorecard import scorecard_table

log = logging.getLogger(__name__)

#: Geometry families a geodatabase layer can hold, by the shapely types they take.
_FAMILIES = {
    "points": ("Point", "MultiPoint"),
    "lines": ("LineString", "MultiLineString"),
    "polygons": ("Polygon", "MultiPolygon"),
}
_INT32 = np.iinfo(np.int32)


def write_gdb(analysis: Analysis, path: str | Path) -> Path:
    """Write the analysis's layers and tables into one File Geodatabase (a ``.gdb`` folder).

    Parameters
    ----------
    analysis : Analysis
        A finished analysis (with its service areas).
    path : str or pathlib.Path
        The ``.gdb`` folder; written beside it under a temporary name, then put in its place.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    layers = output_layers(analysis)
    with atomic_folder(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame) and len(frame) == 0:
                continue  # no geometry type to give an empty layer (no facility areas drawn)
            for part, rows in _one_geometry_type(name, frame):
                multi = isinstance(rows, gpd.GeoDataFrame) and bool(
                    rows.geometry.geom_type.str.startswith("Multi").any()
                )  # a layer of Polygons and MultiPolygons: MultiPolygons, as ArcGIS has it
                pyogrio.write_dataframe(
                    _for_gdb(rows), tmp, layer=part, driver="OpenFileGDB", promote_to_multi=multi
                )
    return path


def output_layers(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """Return every layer and table a geodatabase or a database receives, by name.

    ``communities`` (:func:`~cjgis.outputs.report.community_layer`), ``residents``,
    ``facilities``, ``blind_spots``,
    ``service_areas`` (per category), ``facility_areas`` (per facility, where drawn),
    ``coverage`` (as ``coverage.csv``), ``scorecard`` (the workbook's verdict table,
    :func:`cjgis.outputs.scorecard.scorecard_table`) and ``rejected``.
    """
    areas = analysis.service_areas
    return {
        "communities": community_layer(analysis),
        "residents": analysis.residents,
        "facilities": analysis.facilities,
        "blind_spots": analysis.blind_spots,
        "service_areas": areas[areas["facility_id"].isna()].drop(columns=["facility_id", "name"]),
        "facility_areas": areas[areas["facility_id"].notna()],
        "coverage": coverage_for_csv(analysis.coverage_rows()),
        "scorecard": scorecard_table(analysis),
        "rejected": analysis.rejected,
    }


def _one_geometry_type(name: str, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Return the layer as it is, or split by geometry family (logged) where it mixes them."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return [(name, frame)]
    kinds = frame.geometry.geom_type
    parts = [(f, kinds.isin(t)) for f, t in _FAMILIES.items() if kinds.isin(t).any()]
    if len(parts) == 1:
        return [(name, frame)]
    log.info(
        "geodatabase: %s holds %s; written as %s (a geodatabase layer holds one geometry type)",
        name,
        " and ".join(f for f, _ in parts),
        ", ".join(f"{name}_{f}" for f, _ in parts),
    )
    return [(f"{name}_{f}", frame[mask]) for f, mask in parts]


def _for_gdb(frame: pd.DataFrame) -> pd.DataFrame:
    """Ready a layer for a geodatabase: as for QGIS, then 32-bit integers and 0/1 booleans."""
    out = ready_for_gis(frame) if isinstance(frame, gpd.GeoDataFrame) else frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == bool or str(values.dtype) == "boolean":
            out[column] = values.astype("Int16")
        elif pd.api.types.is_integer_dtype(values.dtype):
            fits = values.dropna().between(_INT32.min, _INT32.max).all()
            out[column] = values.astype("Int32" if fits else "float64")
    return out
