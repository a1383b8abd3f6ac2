"""Write an analysis to the files planners open: CSV for Excel, GeoPackage for QGIS/ArcGIS.

Every file is written under a temporary name and moved into place. CSV files are UTF-8 with
BOM, so Excel on Chinese Windows shows the Chinese correctly.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis._atomic import atomic_path, write_csv
from cjgis.inputs.categories import category_info
from cjgis.judge.analysis import Analysis

CSV_ENCODING = "utf-8-sig"
log = logging.getLogger(__name__)


def coverage_for_csv(coverage: pd.DataFrame) -> pd.DataFrame:
    """Round the coverage table for reading; unreachable minutes (``inf``) become blank."""
    out = coverage.replace([np.inf, -np.inf], np.nan)
    for col in ("median_walk_min", "max_walk_min"):
        out[col] = out[col].round(1)
    return out  # shares are the verdict's own (0.1 %, toward the verdict): not rounded again


#: Layers with more rows than this are written without a spatial index: for a city's
#: hundreds of thousands of points the index costs more than the rest of the layer, and
#: QGIS builds one on demand (Layer Properties > Source > Create Spatial Index).
MAX_INDEXED_ROWS = 200_000


#: GeoPackage 1.2: GDAL 3.6 (Debian 12, QGIS 3.28 LTR) opens it without a warning (1.4 warns).
GPKG_VERSION = "1.2"
#: Count columns written as whole numbers where every value is one.
_COUNTS = ("population", "residents", "elderly", "households", "villagers", "renters")


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write GeoPackage layers atomically, through Arrow (twice as fast for 100,000s of rows).

    Every layer is readied for QGIS first (:func:`ready_for_gis`), as GeoPackage 1.2.
    """
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            frame = ready_for_gis(frame)
            index = "YES" if len(frame) <= MAX_INDEXED_ROWS else "NO"
            if index == "NO":
                log.info(
                    "%s: layer %s (%d rows) written without a spatial index",
                    path.name,
                    name,
                    len(frame),
                )
            frame.to_file(
                tmp,
                layer=name,
                driver="GPKG",
                use_arrow=True,
                SPATIAL_INDEX=index,
                VERSION=GPKG_VERSION,
            )


def ready_for_gis(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Ready a layer for QGIS: Chinese category names, whole-number counts, one type a column.

    ``category_zh`` goes beside a ``category`` key; counts that are whole numbers are written
    as integers; object columns holding None/str mixes become plain strings.
    """
    out = frame.copy()
    if "category" in out and "category_zh" not in out:
        names = out["category"].map(lambda c: category_info(str(c)).name_zh)
        out.insert(list(out.columns).index("category") + 1, "category_zh", names)
    for col in _COUNTS:
        if col in out and _whole(out[col]):
            out[col] = out[col].round().astype("Int64")
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def _whole(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce")
    finite = numbers.dropna()
    return numbers.notna().sum() == values.notna().sum() and bool((finite == finite.round()).all())


def community_layer(analysis: Analysis) -> gpd.GeoDataFrame:
    """Boundaries with their residents, elderly and households, and the categories met."""
    counts = [c for c in ("residents", "elderly", "households") if c in analysis.coverage]
    per = analysis.coverage.groupby("community_id", sort=False)[counts].first().reset_index()
    comm = analysis.communities.merge(per, on="community_id", how="left")
    order = ["community_id", "community_name", *counts]
    return comm[order + [c for c in comm.columns if c not in order]]


def write_outputs(analysis: Analysis, output_dir: str | Path) -> dict[str, Path]:
    """Write tables and layers of an analysis into ``output_dir``.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.judge.analysis.analyze`.
    output_dir : str or pathlib.Path
        Destination folder, created if missing.

    Returns
    -------
    dict of str to pathlib.Path
        What was written: ``coverage``, ``rejected``, ``residents``, ``blind_spots``,
        ``service_areas``, ``communities``, ``facilities`` (and ``district`` where
        district-level rules apply).
    """
    return in_listed_order(
        write_tables(analysis, output_dir) | write_service_areas(analysis, output_dir)
    )


def in_listed_order(paths: dict[str, Path]) -> dict[str, Path]:
    """``paths`` with the files of :data:`OUTPUTS` first, in that order, then the others."""
    return {key: paths[key] for key in OUTPUTS if key in paths} | paths


#: The files of :func:`write_outputs`, in the order they are listed.
OUTPUTS = (
    "coverage",
    "rejected",
    "residents",
    "blind_spots",
    "service_areas",
    "communities",
    "facilities",
    "district",
)


def write_tables(analysis: Analysis, output_dir: str | Path) -> dict[str, Path]:
    """Write what :func:`write_outputs` writes but ``service_areas.gpkg``.

    None of it needs the service areas: ``cjgis analyze`` writes it while they are drawn
    (:func:`cjgis.judge.analysis.analyze_areas_later`).
    """
    out = Path(output_dir)
    paths = {
        "coverage": out / "coverage.csv",
        "rejected": out / "rejected.csv",
        "residents": out / "residents.gpkg",
        "blind_spots": out / "blind_spots.gpkg",
        "communities": out / "communities.gpkg",
        "facilities": out / "facilities.gpkg",
    }
    write_csv(coverage_for_csv(analysis.coverage_rows()), paths["coverage"])
    write_csv(analysis.rejected, paths["rejected"])
    write_gpkg({"residents": analysis.residents}, paths["residents"])
    write_gpkg({"blind_spots": analysis.blind_spots}, paths["blind_spots"])
    write_gpkg({"communities": community_layer(analysis)}, paths["communities"])
    write_gpkg({"facilities": analysis.facilities}, paths["facilities"])
    if len(analysis.district):
        paths["district"] = out / "district.csv"
        write_csv(analysis.district, paths["district"])
    return paths


def write_service_areas(analysis: Analysis, output_dir: str | Path) -> dict[str, Path]:
    """Write ``service_areas.gpkg``: layer ``category`` (the bands) and ``facility``."""
    path = Path(output_dir) / "service_areas.gpkg"
    areas = analysis.service_areas
    per_category = areas[areas["facility_id"].isna()].drop(columns=["facility_id", "name"])
    layers = {"category": per_category}
    per_facility = areas[areas["facility_id"].notna()]
    if len(per_facility):
        layers["facility"] = per_facility
    write_gpkg(layers, path)
    return {"service_areas": path}
