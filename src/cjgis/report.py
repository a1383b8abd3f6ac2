"""Write an analysis to the files planners open: CSV for Excel, GeoPackage for QGIS/ArcGIS.

Every file is written under a temporary name and moved into place. CSV files are UTF-8 with
BOM, so Excel on Chinese Windows shows the Chinese correctly.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis._atomic import atomic_path
from cjgis.analysis import Analysis
from cjgis.categories import category_info

CSV_ENCODING = "utf-8-sig"


def coverage_for_csv(coverage: pd.DataFrame) -> pd.DataFrame:
    """Round the coverage table for reading; unreachable minutes (``inf``) become blank."""
    out = coverage.replace([np.inf, -np.inf], np.nan)
    for col in ("median_walk_min", "max_walk_min"):
        out[col] = out[col].round(1)
    out["covered_share"] = out["covered_share"].round(4)
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding=CSV_ENCODING)


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG")


def _for_gpkg(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Object columns holding None/str mixes become plain strings (GPKG needs one type)."""
    out = frame.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def write_outputs(analysis: Analysis, output_dir: str | Path) -> dict[str, Path]:
    """Write tables and layers of an analysis into ``output_dir``.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.analysis.analyze`.
    output_dir : str or pathlib.Path
        Destination folder, created if missing.

    Returns
    -------
    dict of str to pathlib.Path
        What was written: ``coverage``, ``rejected``, ``residents``, ``blind_spots``,
        ``service_areas``, ``communities``.
    """
    out = Path(output_dir)
    paths = {
        "coverage": out / "coverage.csv",
        "rejected": out / "rejected.csv",
        "residents": out / "residents.gpkg",
        "blind_spots": out / "blind_spots.gpkg",
        "service_areas": out / "service_areas.gpkg",
        "communities": out / "communities.gpkg",
    }
    _write_csv(coverage_for_csv(analysis.coverage), paths["coverage"])
    _write_csv(analysis.rejected, paths["rejected"])
    _write_gpkg({"residents": _for_gpkg(analysis.residents)}, paths["residents"])
    _write_gpkg({"blind_spots": _for_gpkg(analysis.blind_spots)}, paths["blind_spots"])
    areas = analysis.service_areas
    per_category = areas[areas["facility_id"].isna()].drop(columns=["facility_id", "name"])
    layers = {"category": _for_gpkg(per_category)}
    per_facility = areas[areas["facility_id"].notna()]
    if len(per_facility):
        layers["facility"] = _for_gpkg(per_facility)
    _write_gpkg(layers, paths["service_areas"])
    _write_gpkg({"communities": _for_gpkg(analysis.communities)}, paths["communities"])
    return paths


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def gap_table_text(coverage: pd.DataFrame) -> str:
    """Format a terminal table: communities down, categories across, covered share and status.

    Parameters
    ----------
    coverage : pandas.DataFrame
        The coverage table.

    Returns
    -------
    str
        Lines such as ``沈家社区  88% GAP  98% ok ...``, with a header of category names.
    """
    categories = list(dict.fromkeys(coverage["category"]))
    names = list(dict.fromkeys(coverage["community_name"]))
    first = max(_width("社区 community"), *(_width(n) for n in names)) + 2
    heads = [category_info(c).name_zh for c in categories]
    widths = [max(_width(h), 8) + 2 for h in heads]
    lines = [
        _pad("社区 community", first)
        + "".join(_pad(h, w) for h, w in zip(heads, widths, strict=True)).rstrip()
    ]
    cells = coverage.set_index(["community_name", "category"])
    for name in names:
        row = _pad(name, first)
        for category, w in zip(categories, widths, strict=True):
            rec = cells.loc[(name, category)]
            share = "  -" if np.isnan(rec["covered_share"]) else f"{rec['covered_share']:4.0%}"
            row += _pad(f"{share} {'ok' if rec['status'] == 'ok' else 'GAP'}", w)
        lines.append(row.rstrip())
    return "\n".join(lines)
