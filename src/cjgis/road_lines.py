"""Road lines and planned roads: drawings turned into routable graphs, and graphs edited.

Two kinds of line work reach cjgis as plain lines rather than a routing graph:

- **road-line layers** (a design institute's drawing, GeoPackage/Shapefile/GeoJSON):
  :func:`read_road_lines` checks them, :func:`graph_from_lines` splits them where they cross,
  touch or share a vertex and joins ends that stop just short of another line;
- **planned roads** of a new site: :func:`add_planned_roads` merges them into an existing
  street graph, joining each end to the nearest street (splitting it mid-block if needed).

Both return osmnx-style ``networkx.MultiDiGraph`` objects, like every reader in
:mod:`cjgis.streets`; :func:`cjgis.network.network_from_graph` turns them into arrays.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.ops import substring

from cjgis._errors import InputError, input_error
from cjgis.coords import metric_crs_for, metric_crs_of, projector
from cjgis.io import read_any, with_crs
from cjgis.network import WALK_TAGS, Network, graph_from_network, network_from_graph

log = logging.getLogger(__name__)

#: Suffixes of road-line layers.
LINE_SUFFIXES = frozenset({".gpkg", ".shp", ".geojson", ".json"})
#: Road-line columns carried to the graph (the walk filter reads them).
_LINE_TAGS = ("highway", "name", "access", "tunnel", "bridge", *WALK_TAGS)
#: Road-line ends that stop this close to another line are joined to it (``[network] join_m``).
LINE_JOIN_M = 1.0
#: Planned road ends join the nearest street within this distance (``planned_join_m``).
PLANNED_JOIN_M = 30.0
#: Coordinates of road lines are rounded to this grid (metres) when they are split.
GRID_M = 0.01
#: Piece ends closer than this are one node (snap rounding can leave a crossing 1 cm off).
MERGE_M = 0.05


def read_road_lines(path: str | Path, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a road-line layer, checking it holds lines with a CRS.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, Shapefile or GeoJSON of LineStrings / MultiLineStrings.
    crs : str, optional
        CRS of the coordinates if the file declares none (``"gcj02"`` and ``"bd09"`` too).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row (with ``_row``), in WGS84.
    """
    path = Path(path)
    frame = read_any(path)
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise input_error(path, "no road lines in the layer", "give a layer of LineStrings")
    frame = with_crs(frame, crs, file=path, key="[network]")
    kinds = frame.geometry.geom_type
    bad = ~kinds.isin(["LineString", "MultiLineString"]) | frame.geometry.is_empty
    if bad.any():
        row = int(frame["_row"][bad].iloc[0])
        raise input_error(
            path,
            f"{int(bad.sum())} rows are not road lines (first: {kinds[bad].iloc[0]})",
            "keep only LineStrings in the road layer",
            row=row,
        )
    return frame.to_crs("EPSG:4326")


def graph_from_lines(
    lines: gpd.GeoDataFrame, *, join_m: float = LINE_JOIN_M
) -> tuple[nx.MultiDiGraph, pd.DataFrame]:
    """Build a routable graph from road lines: split at crossings, join near-misses.

    Drawn road lines rarely share nodes the way a routing graph needs. Here every line is
    projected to metres, each line end that stops short of another line by at most
    ``join_m`` gets a connector to the nearest point of that line, and all lines and
    connectors are split where they cross, touch or share a vertex (a union on a
    :data:`GRID_M` grid, so near-touches within a centimetre become one node). Every crossing
    becomes a junction: a drawing that puts a bridge over a road without a tag must be split
    by hand.

    Parameters
    ----------
    lines : geopandas.GeoDataFrame
        LineStrings or MultiLineStrings with a CRS; columns named like OSM tags
        (``highway``, ``name``, ``foot``, ``access``, ``tunnel``, ...) reach the walk filter.
    join_m : float, optional
        Largest gap between a line end and another line that is closed.

    Returns
    -------
    graph : networkx.MultiDiGraph
        Nodes and edges in a metric CRS (``graph.graph["crs"]``), both directions.
    joins : pandas.DataFrame
        One row per closed gap: ``row`` (1-based input row), ``end`` (start/end),
        ``to_row`` (the line joined to) and ``gap_m``.
    """
    if lines.crs is None:
        raise input_error("road lines", "the layer has no CRS", "set [network] crs")
    metric = metric_crs_of(lines)
    rows = lines["_row"].to_numpy() if "_row" in lines else np.arange(1, len(lines) + 1)
    parts = lines.assign(_row=rows).to_crs(metric).explode(ignore_index=True)
    geoms = parts.geometry.to_numpy()
    joins, connectors = _close_gaps(geoms, parts["_row"].to_numpy(), join_m=join_m)
    pieces = shapely.get_parts(
        shapely.union_all(np.concatenate([geoms, connectors]), grid_size=GRID_M)
    )
    pieces = pieces[shapely.length(pieces) > 0]
    # each piece takes the tags of the line it lies on (connectors: a plain footway)
    tags = [c for c in _LINE_TAGS if c in parts.columns]
    source_tree = shapely.STRtree(geoms)
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    (piece_idx, line_idx), dist = source_tree.query_nearest(
        mid, return_distance=True, all_matches=False
    )
    source = np.full(len(pieces), -1)
    on_line = dist <= 2 * GRID_M
    source[piece_idx[on_line]] = line_idx[on_line]

    keys, node_of = _cluster_ends(pieces, tolerance_m=MERGE_M)
    graph = nx.MultiDiGraph(crs=metric.to_string())
    for i, (x, y) in enumerate(keys):
        graph.add_node(i, x=float(x), y=float(y))
    for p, geom in enumerate(pieces):
        u, v = int(node_of[0, p]), int(node_of[1, p])
        if source[p] >= 0:
            row = parts.iloc[source[p]]
            attrs = {t: row[t] for t in tags if pd.notna(row[t])}
            osmid = int(row["_row"])
        else:
            attrs, osmid = {"highway": "footway", "name": "gap joined"}, 0
        attrs.update(length=float(geom.length), oneway=False, osmid=osmid)
        graph.add_edge(u, v, geometry=geom, reversed=False, **attrs)
        graph.add_edge(v, u, geometry=shapely.reverse(geom), reversed=True, **attrs)
    log.info(
        "road lines: %d rows -> %d edges, %d nodes; %d gaps up to %.1f m joined",
        len(lines),
        len(pieces),
        len(keys),
        len(joins),
        join_m,
    )
    return graph, joins


def _cluster_ends(pieces: np.ndarray, *, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes of the pieces' ends: ends within ``tolerance_m`` (chained) are one node.

    Returns the node coordinates (the first end of each cluster) and a ``(2, n)`` array of the
    node at the start and end of each piece.
    """
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, k)) for k in (0, -1)])
    pairs = cKDTree(ends).query_pairs(r=tolerance_m, output_type="ndarray")
    n = len(ends)
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(links, directed=False)
    _, first = np.unique(label, return_index=True)
    return ends[first], label.reshape(2, -1)


def _close_gaps(
    geoms: np.ndarray, rows: np.ndarray, *, join_m: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Connectors from line ends to other lines within ``join_m`` they do not yet touch."""
    tree = shapely.STRtree(geoms)
    records, connectors, seen = [], [], set()
    for which, k in (("start", 0), ("end", -1)):
        points = shapely.get_point(geoms, k)
        point_idx, line_idx = tree.query(points, predicate="dwithin", distance=join_m)
        other = point_idx != line_idx
        point_idx, line_idx = point_idx[other], line_idx[other]
        gap = shapely.distance(points[point_idx], geoms[line_idx])
        frame = pd.DataFrame({"p": point_idx, "line": line_idx, "gap": gap})
        nearest = frame.sort_values("gap").drop_duplicates("p")
        touches = set(frame.loc[frame["gap"] <= GRID_M / 2, "p"])
        for p, line, d in nearest.itertuples(index=False):
            if p in touches:
                continue
            target = shapely.line_interpolate_point(
                geoms[line], shapely.line_locate_point(geoms[line], points[p])
            )
            segment = shapely.LineString([points[p], target])
            key = tuple(sorted(map(tuple, shapely.get_coordinates(segment).round(2))))
            if key in seen:  # two ends facing each other: one connector closes the gap
                continue
            seen.add(key)
            connectors.append(segment)
            records.append(
                {"row": int(rows[p]), "end": which, "to_row": int(rows[line]), "gap_m": d}
            )
    joins = pd.DataFrame(records, columns=["row", "end", "to_row", "gap_m"])
    return joins, np.array(connectors, dtype=object)


def log_joins(path: Path, joins: pd.DataFrame) -> None:
    """Log the road-line gaps :func:`graph_from_lines` closed (the largest five by name)."""
    if len(joins) == 0:
        log.info("%s: no gaps between road lines needed joining", path.name)
        return
    worst = joins.sort_values("gap_m", ascending=False).head(5)
    listing = ", ".join(
        f"row {r.row} {r.end} -> row {r.to_row} ({r.gap_m:.2f} m)" for r in worst.itertuples()
    )
    log.warning(
        "%s: %d road-line ends joined to a line they stopped short of (largest: %s)",
        path.name,
        len(joins),
        listing,
    )


def add_planned_roads(
    graph: nx.MultiDiGraph, roads, *, join_m: float = PLANNED_JOIN_M
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
    metric = metric_crs_for(*projector(graph_crs, "EPSG:4326")(xy.mean(axis=0, keepdims=True))[0])
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
        self._to_metric = projector(graph_crs, metric)
        self._to_graph = projector(metric, graph_crs)
        self.nodes = list(graph.nodes)
        node_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self.nodes])
        self.node_points = shapely.points(self._to_metric(node_xy))
        self.node_tree = shapely.STRtree(self.node_points)
        self.edges = list({(min(u, v), max(u, v), k) for u, v, k in graph.edges(keys=True)})
        self.edge_geoms = [self._metric_geometry(u, v, k) for u, v, k in self.edges]
        self.edge_tree = shapely.STRtree(np.array(self.edge_geoms, dtype=object))
        self.alive = [True] * len(self.edges)
        self.next_id = max((n for n in self.nodes if isinstance(n, int)), default=0) + 1

    def to_graph_crs(self, geom):
        return shapely.transform(geom, self._to_graph)

    def _metric_geometry(self, u, v, k):
        data = self.graph.edges[u, v, k]
        if "geometry" in data:
            geom = data["geometry"]
        else:
            a, b = self.graph.nodes[u], self.graph.nodes[v]
            geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        geom = shapely.transform(geom, self._to_metric)
        start = shapely.get_point(geom, 0)
        a = self.graph.nodes[u]
        u_point = shapely.points(self._to_metric(np.array([[a["x"], a["y"]]]))[0])
        if shapely.distance(start, u_point) > shapely.distance(
            shapely.get_point(geom, -1), u_point
        ):
            geom = shapely.reverse(geom)  # oriented u -> v
        return geom

    def _new_node(self, point) -> int:
        node, self.next_id = self.next_id, self.next_id + 1
        x, y = self._to_graph(np.array([[point.x, point.y]]))[0]
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


def network_with_planned_roads(
    network: Network,
    roads: gpd.GeoDataFrame,
    *,
    join_m: float = PLANNED_JOIN_M,
    components: str = "major",
) -> tuple[Network, pd.DataFrame]:
    """Return ``network`` with planned road lines merged in (see :func:`add_planned_roads`).

    The network's left-out fragments and its count of non-walkable source edges carry over;
    with ``components`` other than ``"all"`` a planned road that joins no street is left out
    as one more fragment.

    Returns
    -------
    network : Network
        The network as planned, in the same metric CRS.
    joins : pandas.DataFrame
        How each road end joined, as :func:`add_planned_roads` returns it.
    """
    graph, joins = add_planned_roads(graph_from_network(network), roads, join_m=join_m)
    planned = network_from_graph(graph, crs=network.crs, components=components)
    planned = replace(
        planned,
        fragment_geometry=np.concatenate([network.fragment_geometry, planned.fragment_geometry]),
        dropped_edges=network.dropped_edges,
        barrier_geometry=network.barrier_geometry,
    )
    return planned, joins
