"""Where residents live when the data are not buildings with counts.

Three sources besides buildings or compounds with population
(:func:`cjgis.inputs.io.read_residents`):

- a population raster (GeoTIFF such as WorldPop, any CRS): every cell with people becomes a
  weighted point at its centre; cells outside every community are listed, not lost, and the
  totals before and after are logged;
- community totals only: each community's total is spread over its residential buildings by
  floor area (or footprint area), or, without buildings, over a regular grid of points;
- residents living outside their community (未回迁/安置在外, 集中过渡地): points that count
  for the home community named in a column (``[residents_outside]``, docs/manual/study_file.md).

Every function returns a :class:`~cjgis.inputs.io.Layer` in the standard resident columns.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cjgis._errors import input_error
from cjgis.inputs._validate import empty_rejected, parse_counts, problem_rows, rejected_rows
from cjgis.inputs.coords import metric_crs_of
from cjgis.inputs.io import Layer, read_residents

log = logging.getLogger(__name__)

COUNTS = ("population", "elderly", "households")


def residents_from_raster(path: str | Path, communities: gpd.GeoDataFrame) -> Layer:
    """Turn a population raster into weighted points, one per cell with people.

    Parameters
    ----------
    path : str or pathlib.Path
        Single-band GeoTIFF of people per cell, in any CRS (nodata cells are skipped).
    communities : geopandas.GeoDataFrame
        Standard community layer; cells whose centre lies in none are rejected.

    Returns
    -------
    Layer
        Points with ``resident_id`` (``r<row>c<col>``), ``population`` and ``community_id``;
        the cells outside every community, with their people, in ``rejected``.
    """
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise input_error(path, "population raster not found", "check [residents] raster")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise input_error(path, "the raster declares no CRS", "save it with its CRS")
        values = src.read(1, masked=True).astype("float64")
        transform, crs = src.transform, src.crs
    people = values.filled(0.0)
    rows, cols = np.nonzero(people > 0)
    xs, ys = (transform * np.vstack([cols + 0.5, rows + 0.5]))[:2]
    total = float(people.sum())
    points = gpd.GeoDataFrame(
        {
            "resident_id": [f"r{r}c{c}" for r, c in zip(rows, cols, strict=True)],
            "population": people[rows, cols],
            "_row": np.arange(1, len(rows) + 1),
        },
        geometry=shapely.points(xs, ys),
        crs=crs,
    )
    joined = gpd.sjoin(
        points.to_crs(communities.crs),
        communities[["community_id", "geometry"]],
        predicate="within",
        how="left",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    outside = joined["community_id"].isna()
    rejected = rejected_rows(
        joined.assign(id=joined["resident_id"]),
        outside,
        layer="residents",
        file=str(path),
        reason="raster cell outside every community boundary",
        id_column="resident_id",
        fix="extend the community boundaries if these people belong to a community",
    )
    kept = points.loc[~outside.to_numpy()].assign(community_id=joined.loc[~outside, "community_id"])
    log.info(
        "population raster %s: %s people in %d cells; %s inside communities, %s in %d "
        "cells outside (rejected)",
        path.name,
        f"{total:,.0f}",
        len(points),
        f"{kept['population'].sum():,.0f}",
        f"{points.loc[outside.to_numpy(), 'population'].sum():,.0f}",
        int(outside.sum()),
    )
    return Layer(kept, rejected, str(path))


def _weights(buildings: gpd.GeoDataFrame, floor_area: str | None) -> tuple[np.ndarray, pd.Series]:
    """Each building's weight (floor area, or footprint area), and what is wrong per row."""
    if floor_area:
        values, problem = parse_counts(
            buildings[floor_area], what=f"floor area '{floor_area}'", allow_empty=False
        )
        return values.fillna(0).to_numpy(float), problem
    area = buildings.to_crs(metric_crs_of(buildings)).area.to_numpy()
    none = pd.Series(None, index=buildings.index, dtype=object)
    return np.where(area > 0, area, 1.0), none  # points weigh one each


def _grid_points(polygon, spacing_m: float, metric) -> np.ndarray:
    x0, y0, x1, y1 = polygon.bounds
    xs, ys = np.meshgrid(
        np.arange(x0 + spacing_m / 2, x1, spacing_m), np.arange(y0 + spacing_m / 2, y1, spacing_m)
    )
    points = shapely.points(xs.ravel(), ys.ravel())
    inside = points[shapely.contains(polygon, points)]
    return inside if len(inside) else np.array([polygon.representative_point()])


def residents_from_totals(
    communities: gpd.GeoDataFrame,
    totals: dict[str, str],
    *,
    buildings: gpd.GeoDataFrame | None = None,
    floor_area: str | None = None,
    grid_m: float = 50.0,
    file: str = "communities",
) -> Layer:
    """Spread community totals over buildings (by floor area) or over a grid of points.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Standard communities plus the total columns named in ``totals``.
    totals : dict
        Standard count -> column of the communities file, e.g. ``{"population": "人口"}``.
    buildings : geopandas.GeoDataFrame, optional
        Residential buildings (polygons or points); each community's totals go to the
        buildings inside it in proportion to ``floor_area`` (or footprint area).
    floor_area : str, optional
        Column of ``buildings`` with floor area.
    grid_m : float, optional
        Spacing of the grid used for communities without buildings.
    file : str, optional
        Name used in rejected rows.

    Returns
    -------
    Layer
        One row per building or grid point; totals per community are preserved exactly.
    """
    metric = metric_crs_of(communities)
    comm = communities.to_crs(metric)
    problem = comm.get("_total_problem", pd.Series(None, index=comm.index, dtype=object))
    parts = []
    rejected = [
        empty_rejected(),
        problem_rows(
            comm,
            problem,
            layer="communities",
            file=file,
            fix="enter the community's count as a number (0 or more); its residents are left "
            "out until then",
            id_column="community_id",
        ),
    ]
    if buildings is not None:
        b, rej = _buildings_in(buildings, comm, problem, floor_area=floor_area, file=file)
        rejected += rej
    for community in comm.loc[problem.isna()].itertuples(index=False):
        if buildings is not None and (b["community_id"] == community.community_id).any():
            mine = b[b["community_id"] == community.community_id]
            weights, geoms = mine["_w"].to_numpy(float), mine.geometry.to_numpy()
            ids = [f"{community.community_id}-b{r}" for r in mine["_row"]]
        else:
            geoms = _grid_points(community.geometry, grid_m, metric)
            weights = np.ones(len(geoms))
            ids = [f"{community.community_id}-g{i + 1}" for i in range(len(geoms))]
        share = (
            weights / weights.sum()
            if weights.sum() > 0
            else np.full(len(weights), 1 / len(weights))
        )
        data = {"resident_id": ids, "community_id": community.community_id}
        for count, column in totals.items():
            data[count] = share * float(getattr(community, column))
        parts.append(gpd.GeoDataFrame(data, geometry=list(geoms), crs=metric))
    frame = pd.concat(parts, ignore_index=True)
    frame["_row"] = np.arange(1, len(frame) + 1)
    return Layer(gpd.GeoDataFrame(frame, crs=metric), pd.concat(rejected, ignore_index=True), file)


def _buildings_in(buildings, comm, problem, *, floor_area, file) -> tuple[gpd.GeoDataFrame, list]:
    """Return buildings with their community and weight, and those that cannot share a total."""
    metric = comm.crs
    weights, bad_area = _weights(buildings, floor_area)
    b = buildings.to_crs(metric).assign(_w=weights)
    rep = gpd.GeoDataFrame(b[["_row", "_w"]], geometry=b.representative_point(), crs=metric)
    joined = gpd.sjoin(rep, comm[["community_id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    b["community_id"] = joined["community_id"]
    b = b.assign(id=b["_row"].astype(str))
    bad_total = b["community_id"].map(problem.set_axis(comm["community_id"])).notna()
    why = pd.Series(None, index=b.index, dtype=object)
    why[b["community_id"].isna()] = "building outside every community (gets no share of totals)"
    why[bad_total] = [
        f"in community {c}, whose resident total was rejected"
        for c in b.loc[bad_total, "community_id"]
    ]
    why = why.fillna(bad_area.reindex(b.index))
    rejected = [
        problem_rows(
            b,
            why,
            layer="residents",
            file=file,
            fix="extend the community boundaries, or correct the total or floor area named",
            id_column="id",
        )
    ]
    return b[why.isna()], rejected


def residents_outside(
    path: str | Path, *, community: str, population: str, **columns: str | None
) -> Layer:
    """Residents living outside their community, counted for the community in a column.

    ``columns`` are :func:`cjgis.inputs.io.read_residents`'s optional columns (``id``, ``elderly``,
    ``households``, ``crs``). Ids are prefixed ``outside-`` to keep them apart.
    """
    layer = read_residents(path, population=population, community=community, **columns)
    frame = layer.frame.assign(
        resident_id="outside-" + layer.frame["resident_id"].astype(str), living_outside=True
    )
    return Layer(frame, layer.rejected, layer.file)


def combine(*layers: Layer) -> Layer:
    """Concatenate resident layers (in the first one's CRS), keeping every rejected row.

    Rows of layers from different files keep their file in ``_file``: a row rejected later
    names its own file and row.
    """
    crs = layers[0].frame.crs
    frames = [layer.frame.to_crs(crs) for layer in layers]
    if len({layer.file for layer in layers}) > 1:
        frames = [
            f.assign(_file=f["_file"] if "_file" in f else layer.file)
            for f, layer in zip(frames, layers, strict=True)
        ]
    frame = pd.concat(frames, ignore_index=True)
    if "living_outside" in frame:
        frame["living_outside"] = frame["living_outside"].fillna(False).astype(bool)
    rejected = pd.concat([layer.rejected for layer in layers], ignore_index=True)
    return Layer(gpd.GeoDataFrame(frame, crs=crs), rejected, layers[0].file)


#: Demand groups, in Chinese: whose coverage or capacity a rule counts (the 口径).
GROUP_ZH = {
    "residents": "常住人口",
    "elderly": "60岁及以上老年人口",
    "households": "户",
    "villagers": "原村民",
    "renters": "租住人口",
}
GROUP_EN = {
    "residents": "residents",
    "elderly": "residents aged 60+",
    "households": "households",
    "villagers": "original villagers",
    "renters": "renters",
}


def demand_column(group: str) -> str:
    """Return the residents column that counts ``group`` (residents: ``population``)."""
    return "population" if group == "residents" else group


def demand_columns(
    residents: pd.DataFrame,
    groups: set[str],
    *,
    elderly_share: float | None = None,
    household_size: float | None = None,
    strict: bool = False,
    elderly_age: int = 60,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Make sure each demand group a rule counts has a column, and say how it was counted.

    A group with its own column is counted from it. Elderly (60 and over, the definition of
    the 老年人权益保障法 and of Chinese statistics) can be estimated as ``elderly_share`` of the
    residents, households as residents / ``household_size``, when the study declares them;
    the estimate is then named in every output. A group with neither stops the run under
    ``strict``; otherwise a warning says coverage is of all residents and capacity per that
    group is not checked — never total population passed off as the group.

    Parameters
    ----------
    residents : pandas.DataFrame
        Residences with ``population`` and whatever count columns the data have.
    groups : set of str
        Groups the rules count (``residents``, ``elderly``, ``households``, ...).
    elderly_share, household_size : float, optional
        Declared estimates (``[analysis] elderly_share``, ``household_size``).
    elderly_age : int, optional
        The age the elderly counts start at, named in the 口径.
    strict : bool, optional
        Raise instead of warning when a group has no counts and no estimate.

    Returns
    -------
    residents : pandas.DataFrame
        With estimated columns added (a new frame; the input is not modified).
    basis : dict of str to str
        The 口径 of each group, Chinese then English.
    """
    basis = {"residents": "常住人口 (residents, counted)"}
    added = {}
    for group in sorted(groups - {"residents"}):
        zh, en = GROUP_ZH.get(group, group), GROUP_EN.get(group, group)
        if group == "elderly":
            zh, en = f"{elderly_age}岁及以上老年人口", f"residents aged {elderly_age}+"
        if group in residents:
            basis[group] = f"{zh} (数据 counted)"
        elif group == "elderly" and elderly_share is not None:
            added[group] = residents["population"].to_numpy(dtype=float) * elderly_share
            basis[group] = (
                f"{zh}, 估算 = 常住人口 × {elderly_share:.2%} "
                f"({en}, estimated as residents × {elderly_share:.2%}, study setting)"
            )
        elif group == "households" and household_size is not None:
            added[group] = residents["population"].to_numpy(dtype=float) / household_size
            basis[group] = (
                f"{zh}, 估算 = 常住人口 ÷ {household_size:g} 人/户 "
                f"({en}, estimated as residents / {household_size:g} per household)"
            )
        else:
            setting = {"elderly": "elderly_share = 0.22", "households": "household_size = 2.6"}
            fix = f'add {group} = "<column>" to [residents]' + (
                f", or declare an estimate: [analysis] {setting[group]}" if group in setting else ""
            )
            message = f"no {en} counts in the residents data for rules that count them. Fix: {fix}"
            if strict:
                raise input_error("[residents]", f"no {en} counts", fix)
            log.warning(
                "%s; coverage is of all residents, capacity per %s is not checked", message, en
            )
            basis[group] = (
                f"缺{zh}数据: 覆盖率按常住人口计, 容量未核 "
                f"(no {en} counts: coverage of all residents, capacity not checked)"
            )
    return (residents.assign(**added) if added else residents), basis
