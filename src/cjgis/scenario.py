"""Planned scenarios: add planned roads to a street graph, compare two analyses.

For a new resettlement site the roads and facilities exist only in the design drawing. This
module merges planned road lines into the street graph (their ends join existing nodes within
``join_m``) and compares the analysis as-is with the analysis as-planned, per community and
category.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from cjgis._atomic import atomic_path, write_csv
from cjgis._errors import InputError
from cjgis.analysis import (
    Analysis,
    analyze,
    load_study_layers,
    read_study_facilities,
    read_study_residents,
    study_street_graph,
)
from cjgis.coords import metric_crs_for
from cjgis.demand import combine
from cjgis.io import Layer
from cjgis.network import network_from_graph
from cjgis.siting import SiteSuggestion, suggest_sites
from cjgis.study import Study


def add_planned_roads(
    graph: nx.MultiDiGraph, roads, *, join_m: float = 30.0
) -> tuple[nx.MultiDiGraph, pd.DataFrame]:
    """Return a copy of ``graph`` with planned road lines added, and how their ends joined.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        osmnx-style street graph (nodes ``x``/``y`` in ``graph.graph["crs"]``, WGS84 default).
    roads : geopandas.GeoDataFrame
        Planned roads as LineStrings, in any CRS.
    join_m : float, optional
        A road end within this distance of an existing node joins it; otherwise it becomes a
        new node (a dead end).

    Returns
    -------
    graph : networkx.MultiDiGraph
        The new graph; the input graph is not modified.
    joins : pandas.DataFrame
        One row per road end: ``road`` (row), ``end`` (``start``/``end``), ``node``,
        ``distance_m`` (``nan`` for a new node).
    """
    lines = roads.geometry
    if not lines.geom_type.isin(["LineString"]).all():
        raise InputError(
            "planned roads must be LineStrings. Fix: explode multi-part lines "
            "first (e.g. roads.explode(ignore_index=True))"
        )
    graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    nodes = list(graph.nodes)
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
    lonlat = Transformer.from_crs(graph_crs, "EPSG:4326", always_xy=True)
    metric = metric_crs_for(*lonlat.transform(*xy.mean(axis=0)))
    to_metric = Transformer.from_crs(graph_crs, metric, always_xy=True)
    node_tree = shapely.STRtree(shapely.points(np.column_stack(to_metric.transform(*xy.T))))
    lines_metric = roads.to_crs(metric).geometry.to_numpy()
    lines_graph = roads.to_crs(graph_crs).geometry.to_numpy()
    out = graph.copy()
    joins, next_id = [], max((n for n in nodes if isinstance(n, int)), default=0) + 1
    for row, (line_m, line_g) in enumerate(zip(lines_metric, lines_graph, strict=True)):
        ends = []
        for which, k in (("start", 0), ("end", -1)):
            idx, dist = node_tree.query_nearest(shapely.get_point(line_m, k), return_distance=True)
            if len(idx) and dist[0] <= join_m:
                node, d = nodes[idx[0]], float(dist[0])
            else:
                node, d = next_id, np.nan
                x, y = shapely.get_coordinates(shapely.get_point(line_g, k))[0]
                out.add_node(node, x=float(x), y=float(y))
                next_id += 1
            ends.append(node)
            joins.append({"road": row + 1, "end": which, "node": node, "distance_m": d})
        length = float(line_m.length)
        attrs = {"highway": "planned", "length": length, "oneway": False, "osmid": -row - 1}
        out.add_edge(ends[0], ends[1], geometry=line_g, reversed=False, **attrs)
        out.add_edge(ends[1], ends[0], geometry=shapely.reverse(line_g), reversed=True, **attrs)
    return out, pd.DataFrame(joins)


def compare(before: Analysis, after: Analysis) -> pd.DataFrame:
    """Per community x category: coverage, walks and status as-is and as-planned.

    Returns
    -------
    pandas.DataFrame
        ``community_id, community_name, category, category_zh``, then for each of
        ``covered_residents, covered_share, median_walk_min, max_walk_min, status`` a
        ``_before`` and ``_after`` column, plus ``covered_residents_change`` and
        ``status_change`` (e.g. ``gap -> ok``).
    """
    keys = ["community_id", "community_name", "category", "category_zh"]
    values = ["covered_residents", "covered_share", "median_walk_min", "max_walk_min", "status"]
    table = before.coverage[keys + values].merge(
        after.coverage[keys + values], on=keys, how="outer", suffixes=("_before", "_after")
    )
    table["covered_residents_change"] = table["covered_residents_after"].fillna(0) - table[
        "covered_residents_before"
    ].fillna(0)
    changed = table["status_before"] != table["status_after"]
    table["status_change"] = np.where(
        changed,
        table["status_before"].fillna("—") + " -> " + table["status_after"].fillna("—"),
        "",
    )
    return table


def with_planned_facilities(existing: Layer, planned: Layer, *, prefix: str = "P") -> Layer:
    """Existing and planned facilities as one layer; planned ids get ``prefix`` (kept apart).

    Both layers' rejected rows are kept; the planned layer is reprojected to the existing one.
    """
    frame = pd.concat(
        [
            existing.frame,
            planned.frame.to_crs(existing.frame.crs).assign(
                facility_id=prefix + planned.frame["facility_id"].astype(str), planned=True
            ),
        ],
        ignore_index=True,
    )
    frame["planned"] = frame["planned"].fillna(False).astype(bool)
    rejected = pd.concat([existing.rejected, planned.rejected], ignore_index=True)
    return Layer(gpd.GeoDataFrame(frame, crs=existing.frame.crs), rejected, existing.file)


@dataclass(frozen=True)
class SiteStudy:
    """A planned site analysed as-is and as-planned, with suggested sites.

    Attributes
    ----------
    before, after : Analysis
        The analysis of the existing state and of the planned state.
    changes : pandas.DataFrame
        :func:`compare` of the two.
    joins : pandas.DataFrame
        How the planned roads joined the network (:func:`add_planned_roads`).
    suggestions : dict of str to SiteSuggestion
        Per category that still misses its target as planned.
    """

    before: Analysis
    after: Analysis
    changes: pd.DataFrame
    joins: pd.DataFrame
    suggestions: dict[str, SiteSuggestion]


def run_site_study(study: Study, *, verbose: bool = True) -> SiteStudy:
    """Analyse a study as-is and with its ``[planned]`` layers; suggest sites for the gaps.

    The street graph is parsed once; planned roads are merged into a copy. Existing and
    planned facilities are kept; suggested sites only add to them.
    """
    graph = study_street_graph(study)
    communities, residents, facilities = load_study_layers(study)
    opts = study.options

    def run(graph, residents, facilities) -> Analysis:
        network = network_from_graph(graph, crs=opts.crs)
        return analyze(network, communities, residents, facilities, options=opts, verbose=verbose)

    before = run(graph, residents, facilities)
    planned = study.planned
    joins = pd.DataFrame(columns=["road", "end", "node", "distance_m"])
    if "roads" in planned:
        roads = gpd.read_file(planned["roads"])
        graph, joins = add_planned_roads(graph, roads, join_m=float(planned.get("join_m", 30)))
    if "facilities" in planned:
        facilities = with_planned_facilities(
            facilities, read_study_facilities(study, planned["facilities"])
        )
    if "residents" in planned:
        new = read_study_residents(study, planned["residents"])
        new = Layer(
            new.frame.assign(resident_id="planned-" + new.frame["resident_id"]),
            new.rejected,
            new.file,
        )
        residents = combine(residents, new)
    after = run(graph, residents, facilities)
    siting = {k: v for k, v in study.siting.items() if k != "candidates"}
    if "candidates" in study.siting:
        siting["candidates"] = gpd.read_file(study.siting["candidates"])
    gaps = after.coverage.loc[after.coverage["status"] == "gap", "category"].unique()
    suggestions = {c: suggest_sites(after, c, **siting) for c in after.categories if c in gaps}
    return SiteStudy(before, after, compare(before, after), joins, suggestions)


def write_site_outputs(site: SiteStudy, output_dir: str | Path) -> dict[str, Path]:
    """Write ``before_after.csv``, ``suggested_sites.csv``/``.gpkg`` and the road joins."""
    out = Path(output_dir)
    paths = {
        "before_after": out / "before_after.csv",
        "suggested_sites_csv": out / "suggested_sites.csv",
        "suggested_sites": out / "suggested_sites.gpkg",
        "planned_road_joins": out / "planned_road_joins.csv",
    }
    write_csv(site.changes.replace([np.inf, -np.inf], np.nan).round(4), paths["before_after"])
    write_csv(site.joins, paths["planned_road_joins"])
    sites = suggested_sites_table(site)
    write_csv(pd.DataFrame(sites.drop(columns="geometry")), paths["suggested_sites_csv"])
    with atomic_path(paths["suggested_sites"]) as tmp:
        sites.to_file(tmp, layer="suggested_sites", driver="GPKG")
    return paths


def suggested_sites_table(site: SiteStudy) -> gpd.GeoDataFrame:
    """All categories' suggested sites in one table (empty, with columns, if none)."""
    frames = [s.sites for s in site.suggestions.values() if len(s.sites)]
    if not frames:
        return gpd.GeoDataFrame({"rank": [], "category": []}, geometry=[], crs=site.after.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=site.after.crs)
