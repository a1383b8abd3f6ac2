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
from shapely.ops import substring

from cjgis._atomic import write_csv
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
from cjgis.report import write_gpkg
from cjgis.siting import SiteSuggestion, suggest_sites
from cjgis.study import Study


def add_planned_roads(
    graph: nx.MultiDiGraph, roads, *, join_m: float = 30.0
) -> tuple[nx.MultiDiGraph, pd.DataFrame]:
    """Return a copy of ``graph`` with planned road lines added, and how their ends joined.

    A road end joins the nearest street within ``join_m``: at its node when a node is about as
    near as the street itself (within 1 m more), otherwise at the nearest point of the street,
    which is split there (a new road meeting an existing one mid-block). An end with no street
    within ``join_m`` becomes a dead end.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        osmnx-style street graph (nodes ``x``/``y`` in ``graph.graph["crs"]``, WGS84 default).
    roads : geopandas.GeoDataFrame
        Planned roads as LineStrings, in any CRS.
    join_m : float, optional
        Largest distance from a road end to the street it joins.

    Returns
    -------
    graph : networkx.MultiDiGraph
        The new graph; the input graph is not modified.
    joins : pandas.DataFrame
        One row per road end: ``road`` (row), ``end`` (``start``/``end``), ``node``,
        ``distance_m`` (``nan`` for a dead end) and ``split`` (True where a street was split).
    """
    lines = roads.geometry
    if not lines.geom_type.isin(["LineString"]).all():
        raise InputError(
            "planned roads must be LineStrings. Fix: explode multi-part lines "
            "first (e.g. roads.explode(ignore_index=True))"
        )
    graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    lonlat = Transformer.from_crs(graph_crs, "EPSG:4326", always_xy=True)
    metric = metric_crs_for(*lonlat.transform(*xy.mean(axis=0)))
    streets = _MetricStreets(graph.copy(), graph_crs, metric)
    lines_metric = roads.to_crs(metric).geometry.to_numpy()
    joins = []
    for row, line_m in enumerate(lines_metric):
        ends = []
        for which, k in (("start", 0), ("end", -1)):
            node, distance, split = streets.join(shapely.get_point(line_m, k), join_m=join_m)
            ends.append(node)
            joins.append(
                {
                    "road": row + 1,
                    "end": which,
                    "node": node,
                    "distance_m": distance,
                    "split": split,
                }
            )
        line_g = streets.to_graph_crs(line_m)
        attrs = {"highway": "planned", "length": float(line_m.length), "oneway": False}
        streets.graph.add_edge(
            ends[0], ends[1], geometry=line_g, reversed=False, **attrs, osmid=-row - 1
        )
        streets.graph.add_edge(
            ends[1],
            ends[0],
            geometry=shapely.reverse(line_g),
            reversed=True,
            **attrs,
            osmid=-row - 1,
        )
    return streets.graph, pd.DataFrame(joins)


class _MetricStreets:
    """A graph being edited, with its streets indexed in metres (for :func:`add_planned_roads`)."""

    def __init__(self, graph: nx.MultiDiGraph, graph_crs: CRS, metric: CRS) -> None:
        self.graph = graph
        self._to_metric = Transformer.from_crs(graph_crs, metric, always_xy=True)
        self._to_graph = Transformer.from_crs(metric, graph_crs, always_xy=True)
        self.nodes = list(graph.nodes)
        node_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self.nodes])
        self.node_points = shapely.points(np.column_stack(self._to_metric.transform(*node_xy.T)))
        self.node_tree = shapely.STRtree(self.node_points)
        self.edges = list({(min(u, v), max(u, v), k) for u, v, k in graph.edges(keys=True)})
        self.edge_geoms = [self._metric_geometry(u, v, k) for u, v, k in self.edges]
        self.edge_tree = shapely.STRtree(np.array(self.edge_geoms, dtype=object))
        self.alive = [True] * len(self.edges)
        self.next_id = max((n for n in self.nodes if isinstance(n, int)), default=0) + 1

    def to_graph_crs(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self._to_graph.transform(*c.T)))

    def _metric_geometry(self, u, v, k):
        data = self.graph.edges[u, v, k]
        if "geometry" in data:
            geom = data["geometry"]
        else:
            a, b = self.graph.nodes[u], self.graph.nodes[v]
            geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        geom = shapely.transform(geom, lambda c: np.column_stack(self._to_metric.transform(*c.T)))
        start = shapely.get_point(geom, 0)
        a = self.graph.nodes[u]
        u_point = shapely.points(*self._to_metric.transform(a["x"], a["y"]))
        if shapely.distance(start, u_point) > shapely.distance(
            shapely.get_point(geom, -1), u_point
        ):
            geom = shapely.reverse(geom)  # oriented u -> v
        return geom

    def _new_node(self, point) -> int:
        node, self.next_id = self.next_id, self.next_id + 1
        x, y = self._to_graph.transform(point.x, point.y)
        self.graph.add_node(node, x=float(x), y=float(y))
        return node

    def join(self, point, *, join_m: float) -> tuple[object, float, bool]:
        """Node the point joins (splitting a street if needed), its distance, whether split."""
        idx, dist = self.node_tree.query_nearest(point, return_distance=True)
        node_m = float(dist[0]) if len(idx) else np.inf
        candidates = [
            e
            for e in self.edge_tree.query(point, predicate="dwithin", distance=join_m)
            if self.alive[e]
        ]
        candidates += [e for e in range(len(self.edge_tree), len(self.edges)) if self.alive[e]]
        gaps = [shapely.distance(point, self.edge_geoms[e]) for e in candidates]
        edge_m = min(gaps, default=np.inf)
        if node_m <= join_m and node_m <= edge_m + 1.0:
            return self.nodes[idx[0]], node_m, False
        if edge_m > join_m:
            return self._new_node(point), np.nan, False
        e = candidates[int(np.argmin(gaps))]
        return self._split(e, point), edge_m, True

    def _split(self, e: int, point) -> int:
        u, v, k = self.edges[e]
        geom = self.edge_geoms[e]
        at = shapely.line_locate_point(geom, point)
        where = shapely.line_interpolate_point(geom, at)
        node = self._new_node(where)
        data = dict(self.graph.edges[u, v, k])
        for a, b in ((u, v), (v, u)):
            if self.graph.has_edge(a, b, k):
                self.graph.remove_edge(a, b, k)
        self.alive[e] = False
        for a, b, piece in (
            (u, node, substring(geom, 0, at)),
            (node, v, substring(geom, at, geom.length)),
        ):
            attrs = {**data, "length": float(piece.length)}
            attrs.pop("reversed", None)
            line_g = self.to_graph_crs(piece)
            self.graph.add_edge(a, b, **{**attrs, "geometry": line_g, "reversed": False})
            self.graph.add_edge(
                b, a, **{**attrs, "geometry": shapely.reverse(line_g), "reversed": True}
            )
            self.edges.append((a, b, 0))
            self.edge_geoms.append(piece)
            self.alive.append(True)
        return node


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
    write_gpkg({"suggested_sites": sites}, paths["suggested_sites"])
    return paths


def suggested_sites_table(site: SiteStudy) -> gpd.GeoDataFrame:
    """All categories' suggested sites in one table (empty, with columns, if none)."""
    frames = [s.sites for s in site.suggestions.values() if len(s.sites)]
    if not frames:
        return gpd.GeoDataFrame({"rank": [], "category": []}, geometry=[], crs=site.after.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=site.after.crs)
