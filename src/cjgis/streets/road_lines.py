"""Road lines and planned roads: drawings turned into routable graphs, and graphs edited.

Two kinds of line work reach cjgis as plain lines rather than a routing graph:

- **road-line layers** (a design institute's drawing, GeoPackage/Shapefile/GeoJSON):
  :func:`read_road_lines` checks them, :func:`graph_from_lines` splits them where they cross,
  touch or share a vertex and joins ends that stop just short of another line;
- **planned roads** of a new site: :func:`add_planned_roads` merges them into an existing
  street graph, joining each end to the nearest street (splitting it mid-block if needed).

Both return osmnx-style ``networkx.MultiDiGraph`` objects, like every reader in
:mod:`cjgis.streets.sources`; :func:`cjgis.streets.network.network_from_graph` turns them into
arrays.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
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
from cjgis.inputs.cad import read_dxf_lines
from cjgis.inputs.coords import metric_crs_for, metric_crs_of, projector
from cjgis.inputs.database import DatabaseSource
from cjgis.inputs.io import read_any, source_of, with_crs
from cjgis.streets.network import (
    WALK_TAGS,
    Network,
    graph_from_network,
    is_walkable,
    network_from_graph,
)

log = logging.getLogger(__name__)

#: Suffixes of road-line layers.
LINE_SUFFIXES = frozenset({".gpkg", ".gdb", ".shp", ".geojson", ".json", ".dxf"})
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


def read_road_lines(
    path: str | Path | DatabaseSource,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    layers: Sequence[str] = (),
    bridge_layers: Sequence[str] = (),
    section: str = "[network]",
) -> gpd.GeoDataFrame:
    """Read a road-line layer or a CAD drawing's road lines, checking they are lines with a CRS.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, File Geodatabase, Shapefile or GeoJSON of LineStrings /
        MultiLineStrings, a DXF drawing (:func:`cjgis.inputs.cad.read_dxf_lines`), or a
        PostGIS table or query (:class:`~cjgis.inputs.database.DatabaseSource`).
    crs : str, optional
        CRS of the coordinates if the file declares none (``"gcj02"`` and ``"bd09"`` too; a
        drawing declares none: usually ``"EPSG:4549"``, CGCS2000 3° GK at 120°E).
    encoding : str, optional
        Text encoding of a shapefile's attributes or a drawing's layer names (``"gbk"``).
    layer : str, optional
        The layer of a GeoPackage or File Geodatabase (``.gdb``) holding several.
    layers, bridge_layers : sequence of str, optional
        A drawing's CAD layers of road centre lines, and of bridges (``bridge = "yes"``).
    section : str, optional
        The study-file section that names the file, named in errors (where ``crs`` goes).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row (with ``_row``), in WGS84.
    """
    path = source_of(path)
    if isinstance(path, Path) and path.suffix.lower() == ".dxf":
        frame = read_dxf_lines(
            path, layers=layers, bridge_layers=bridge_layers, encoding=encoding, section=section
        )
    else:
        frame = read_any(path, encoding=encoding, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise input_error(path, "no road lines in the layer", "give a layer of LineStrings")
    frame = with_crs(frame, crs, file=path, key=section)
    kinds = frame.geometry.geom_type
    bad = ~kinds.isin(["LineString", "MultiLineString"]) | frame.geometry.is_empty
    if bad.any():
        row = int(frame["_row"][bad].iloc[0])
        raise input_error(
            path,
            f"{int(bad.sum())} rows are not road lines (first: {kinds[bad].iloc[0]})",
            "keep only LineStrings or MultiLineStrings in the road layer",
            row=row,
        )
    return frame.to_crs("EPSG:4326")


def graph_from_lines(
    lines: gpd.GeoDataFrame, *, join_m: float = LINE_JOIN_M
) -> tuple[nx.MultiDiGraph, pd.DataFrame]:
    """Build a routable graph from road lines: split at crossings, join near-misses.

    Drawn road lines rarely share nodes the way a routing graph needs. Here every line is
    projected to metres, each line end that stops short of a line at grade by at most
    ``join_m`` gets a connector to the nearest point of that line, and the lines at grade and
    the connectors are split where they cross, touch or share a vertex (a union on a
    :data:`GRID_M` grid, so near-touches within a centimetre become one node). Bridges and
    tunnels (``bridge``/``tunnel`` other than no, or ``layer`` other than 0; a CAD drawing's
    bridge layers, ``[network] bridge_layers``) stay whole: they cross everything without a
    junction, join at their ends only, and take no attachments (``elevated``). A drawing that
    puts a bridge over a road with no such mark must mark it, or every crossing is a junction.

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
    over = _structures(parts)
    joins, connectors = _close_gaps(geoms, parts["_row"].to_numpy(), join_m=join_m, over=over)
    # lines at grade split at every crossing and where a structure's end lands on them
    landings = shapely.get_point(geoms[over], [[0], [-1]]).ravel() if over.any() else []
    pieces, source = _planned_pieces(geoms, ~over, connectors, list(landings))
    # each piece takes the tags of the line it lies on (connectors: a plain footway)
    tags = [c for c in _LINE_TAGS if c in parts.columns]

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
        if source[p] >= 0 and over[source[p]]:
            attrs["elevated"] = True  # walked along, entered at its ends only
        attrs.update(length=float(geom.length), oneway=False, osmid=osmid)
        graph.add_edge(u, v, geometry=geom, reversed=False, **attrs)
        graph.add_edge(v, u, geometry=shapely.reverse(geom), reversed=True, **attrs)
    log.info(
        "road lines: %d rows -> %d edges, %d nodes; %d gaps up to %.1f m joined; "
        "%d bridge or tunnel lines kept whole",
        len(lines),
        len(pieces),
        len(keys),
        len(joins),
        join_m,
        int(over.sum()),
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
    geoms: np.ndarray, rows: np.ndarray, *, join_m: float, over: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Connectors from line ends to other lines within ``join_m`` they do not yet touch.

    With ``over`` (bridges and tunnels), a connector only reaches a line at grade: an end
    never joins the side of a structure, which is entered at its ends only.
    """
    tree = shapely.STRtree(geoms)
    records, connectors, seen = [], [], set()
    for which, k in (("start", 0), ("end", -1)):
        points = shapely.get_point(geoms, k)
        point_idx, line_idx = tree.query(points, predicate="dwithin", distance=join_m)
        other = point_idx != line_idx
        if over is not None:
            other &= ~over[line_idx]
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
    """Return a copy of ``graph`` with planned road lines added, and how each road joined.

    Planned roads form a network of their own: they are split where they cross or touch,
    and a road end within ``join_m`` of another planned road joins it (a T-junction drawn a
    little short). A planned road crossing an existing street at grade meets it in a new
    junction. A **free end** (an end that meets no other planned road) joins the nearest
    street within ``join_m``: at its node when a node is about as near as the street itself
    (within 1 m more), otherwise at the nearest point of the street, which is split there.
    Bridges and tunnels (``bridge``/``tunnel`` other than no, or ``layer`` other than 0)
    cross everything without a junction and join only at their ends.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        osmnx-style street graph (nodes ``x``/``y`` in ``graph.graph["crs"]``, WGS84 default).
    roads : geopandas.GeoDataFrame
        Planned roads as LineStrings or MultiLineStrings (each part a road, said in the log),
        in any CRS; optional ``bridge``, ``tunnel``, ``layer`` columns.
    join_m : float, optional
        Largest distance from a road end to the street or planned road it joins.

    Returns
    -------
    graph : networkx.MultiDiGraph
        The new graph; the input graph is not modified.
    joins : pandas.DataFrame
        One row per road end: ``road`` (row), ``end`` (``start``/``end``), ``node``,
        ``distance_m`` (to the street it joined; ``nan`` where it joined none), ``split``
        (True where a street was split), ``joined`` (``street``, ``planned road`` or
        ``none``) and the road's ``status``: ``joined`` (to a street), ``connected``
        (through other planned roads) or ``left out`` (reaches no street: a run with
        ``[network] components`` other than ``"all"`` leaves it out, with this reason);
        ``x``, ``y`` (the node, in the graph's ``crs``, which a column names) and the
        ``street`` it met (names of the streets at the node, where it joined one).
    """
    lines, rows, over = _planned_lines(roads)
    graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    metric = metric_crs_for(*projector(graph_crs, "EPSG:4326")(xy.mean(axis=0, keepdims=True))[0])
    streets = _MetricStreets(graph.copy(), graph_crs, metric)
    lines_m = gpd.GeoSeries(lines, crs=roads.crs).to_crs(metric).to_numpy()
    grade = ~over
    _, connectors = _close_gaps(lines_m[grade], rows[grade], join_m=join_m)
    crossings = _cross_streets(streets, lines_m[grade])
    pieces, source = _planned_pieces(lines_m, grade, connectors, [p for p, _ in crossings])
    keys, node_of = _cluster_ends(pieces, tolerance_m=MERGE_M)
    degree = np.bincount(node_of.ravel(), minlength=len(keys))
    crossing_at = cKDTree(keys).query_ball_point(
        np.array([(p.x, p.y) for p, _ in crossings]).reshape(-1, 2), r=MERGE_M
    )
    node_id: dict[int, object] = {}
    for (_, node), near in zip(crossings, crossing_at, strict=True):
        for k in near:
            node_id[k] = node
    ends = {}  # cluster -> (node, distance to the street, split, on a street)
    for k, (x, y) in enumerate(keys):
        if k in node_id:
            ends[k] = (node_id[k], 0.0, True, True)
            continue
        if degree[k] == 1:  # a free end: it may join a street
            node, distance, split = streets.join(shapely.Point(x, y), join_m=join_m)
            node_id[k] = node
            ends[k] = (node, distance, split, bool(np.isfinite(distance)))
        else:
            node_id[k] = streets._new_node(shapely.Point(x, y))
            ends[k] = (node_id[k], np.nan, False, False)
    for p, geom in enumerate(pieces):
        geom = _reaching(geom, streets, ends[int(node_of[0, p])], ends[int(node_of[1, p])])
        row = rows[source[p]] if source[p] >= 0 else 0
        attrs = {"highway": "planned", "length": float(geom.length), "oneway": False}
        if source[p] >= 0 and over[source[p]]:
            attrs.update(bridge="yes", elevated=True)  # walked along, entered at its ends only
        u, v = node_id[int(node_of[0, p])], node_id[int(node_of[1, p])]
        line_g = streets.to_graph_crs(geom)
        streets.graph.add_edge(u, v, geometry=line_g, reversed=False, **attrs, osmid=-int(row))
        streets.graph.add_edge(
            v, u, geometry=shapely.reverse(line_g), reversed=True, **attrs, osmid=-int(row)
        )
    joins = _planned_joins(lines_m, rows, pieces, source, keys, node_of, ends, degree)
    joins = _with_places(joins, streets.graph, graph_crs)
    for status in ("connected", "left out"):
        named = sorted(set(joins.loc[joins["status"] == status, "road"]))
        if named and status == "left out":
            log.warning(
                "planned roads %s reach no street (no end within %g m of a street, none "
                "joined through other planned roads): left out of the network",
                ", ".join(map(str, named)),
                join_m,
            )
        elif named:
            log.info("planned roads %s join the streets through other planned roads", named)
    return streets.graph, joins


def _reaching(geom, streets, start, end):
    """Return the piece drawn on to the street nodes its ends joined (the gap is walked)."""
    xy = shapely.get_coordinates(geom)
    for at, (node, distance, _, on_street) in ((0, start), (-1, end)):
        if on_street and distance > 0:
            data = streets.graph.nodes[node]
            there = streets._to_metric(np.array([[data["x"], data["y"]]]))[0]
            xy = np.vstack([there, xy]) if at == 0 else np.vstack([xy, there])
    return shapely.LineString(xy)


def _with_places(joins: pd.DataFrame, graph: nx.MultiDiGraph, crs: CRS) -> pd.DataFrame:
    """Add each end's node coordinates (``x``, ``y`` in the graph's ``crs``) and the street met."""
    nodes = joins["node"].tolist()
    x = [graph.nodes[n]["x"] for n in nodes]
    y = [graph.nodes[n]["y"] for n in nodes]
    streets = []
    for node, joined in zip(nodes, joins["joined"], strict=True):
        names = {
            str(data.get("name"))
            for _, _, data in graph.edges(node, data=True)
            if data.get("highway") != "planned" and data.get("name") not in (None, "")
        }
        streets.append("; ".join(sorted(names)) if joined == "street" and names else "")
    return joins.assign(x=x, y=y, crs=crs.to_string(), street=streets)


def _planned_lines(roads) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Single lines of the planned roads, their 1-based rows and whether each is a structure."""
    kinds = set(roads.geometry.geom_type)
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(
            f"planned roads must be lines, not {', '.join(sorted(kinds))}. Fix: give the road "
            "centre lines (LineString or MultiLineString)"
        )
    rows = np.arange(1, len(roads) + 1)
    over = _structures(roads)
    parts = roads.assign(_road=rows, _over=over).explode(ignore_index=True)
    if len(parts) > len(roads):
        log.info(
            "planned roads: %d multi-part rows split into their %d lines",
            int((roads.geometry.geom_type == "MultiLineString").sum()),
            len(parts) - len(roads) + int((roads.geometry.geom_type == "MultiLineString").sum()),
        )
    return (
        parts.geometry.to_numpy(),
        parts["_road"].to_numpy(),
        parts["_over"].to_numpy(dtype=bool),
    )


def _structures(roads) -> np.ndarray:
    """Bridges and tunnels: ``bridge``/``tunnel`` tagged (not no), or ``layer`` other than 0."""
    over = np.zeros(len(roads), dtype=bool)
    for tag in ("bridge", "tunnel"):
        if tag in roads:
            text = roads[tag].astype("string").str.strip().str.lower().fillna("")
            over |= ~text.isin(["", "no", "false", "0", "none"]).to_numpy()
    if "layer" in roads:
        layer = pd.to_numeric(roads["layer"], errors="coerce").fillna(0.0)
        over |= (layer != 0).to_numpy()
    return over


def _cross_streets(streets, lines: np.ndarray) -> list[tuple[object, object]]:
    """Junctions where planned lines cross existing streets at grade (the street split there).

    Returns (point, street node) pairs; an end touching a street is a join, not a crossing.
    """
    found = []
    for line in lines:
        ends = shapely.get_point(line, [0, -1])
        old = [e for e in streets.edge_tree.query(line, predicate="intersects") if streets.alive[e]]
        new = range(len(streets.edge_tree), len(streets.edges))
        points = []
        for e in [*old, *(e for e in new if streets.alive[e])]:
            cut = shapely.intersection(line, streets.edge_geoms[e])
            points += [g for g in shapely.get_parts(cut) if g.geom_type == "Point"]
        for point in points:
            if shapely.distance(point, ends).min() <= 1.0:
                continue
            node, _, _ = streets.join(point, join_m=MERGE_M)
            found.append((point, node))
    return found


def _planned_pieces(lines, grade, connectors, crossings) -> tuple[np.ndarray, np.ndarray]:
    """Planned lines split where they cross, touch or meet a street; each piece's source line.

    Lines at grade and the connectors closing their short gaps are split at every crossing
    (a union on the :data:`GRID_M` grid) and at the street crossings; bridges and tunnels
    stay whole. ``source`` is the index of the line a piece lies on (-1: a connector).
    """
    flat = np.concatenate([lines[grade], connectors]) if len(connectors) else lines[grade]
    pieces = shapely.get_parts(shapely.union_all(flat, grid_size=GRID_M)) if len(flat) else []
    pieces = [p for p in pieces if p.length > 0]
    if crossings and pieces:  # only the pieces a cut lies on are split (a tree finds them)
        cuts = np.array(crossings, dtype=object)
        cut_idx, piece_idx = shapely.STRtree(pieces).query(
            cuts, predicate="dwithin", distance=GRID_M
        )
        on = pd.Series(cut_idx).groupby(piece_idx).agg(list)
        split = {p: _split_at(pieces[p], shapely.MultiPoint(list(cuts[c]))) for p, c in on.items()}
        pieces = [part for i, p in enumerate(pieces) for part in split.get(i, [p])]
    pieces = np.array([*pieces, *lines[~grade]], dtype=object)
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(lines)
    (piece_idx, line_idx), dist = tree.query_nearest(mid, return_distance=True, all_matches=False)
    source = np.full(len(pieces), -1)
    on = dist <= 2 * GRID_M
    source[piece_idx[on]] = line_idx[on]
    n_grade = len(pieces) - int((~grade).sum())
    source[n_grade:] = np.flatnonzero(~grade)  # structures are their own source
    return pieces, source


def _split_at(piece, points) -> list:
    """Split a line at the points lying on it (within a centimetre), ends excluded."""
    near = [p for p in shapely.get_parts(points) if shapely.distance(piece, p) <= GRID_M]
    at = sorted(
        {shapely.line_locate_point(piece, p) for p in near} - {0.0, piece.length},
    )
    at = [a for a in at if GRID_M < a < piece.length - GRID_M]
    bounds = [0.0, *at, piece.length]
    return [substring(piece, a, b) for a, b in itertools.pairwise(bounds)]


def _planned_joins(lines, rows, pieces, source, keys, node_of, ends, degree) -> pd.DataFrame:
    """One row per planned road end: where it joined, and each road's status."""
    # components of the planned pieces: a road is joined if a node of its component is a street's
    n = len(keys)
    links = coo_matrix((np.ones(len(pieces)), (node_of[0], node_of[1])), shape=(n, n))
    _, component = connected_components(links, directed=False)
    on_street = {component[k] for k, end in ends.items() if end[3]}
    end_tree = cKDTree(keys)
    records = []
    for i, line in enumerate(lines):
        mine = {int(node_of[j, p]) for p in np.flatnonzero(source == i) for j in (0, 1)}
        joined_self = any(ends[k][3] for k in mine)
        reaches = any(component[k] in on_street for k in mine)
        status = "joined" if joined_self else "connected" if reaches else "left out"
        for which, at in (("start", 0), ("end", -1)):
            point = shapely.get_coordinates(shapely.get_point(line, at))[0]
            k = int(end_tree.query(point)[1])
            node, distance, split, at_street = ends[k]
            joined = "street" if at_street else "planned road" if degree[k] > 1 else "none"
            records.append(
                {
                    "road": int(rows[i]),
                    "end": which,
                    "node": node,
                    "distance_m": distance,
                    "split": split,
                    "joined": joined,
                    "status": status,
                }
            )
    return pd.DataFrame(records)


class _MetricStreets:
    """A graph being edited, with its streets indexed in metres (for :func:`add_planned_roads`)."""

    def __init__(self, graph: nx.MultiDiGraph, graph_crs: CRS, metric: CRS) -> None:
        self.graph = graph
        self._to_metric = projector(graph_crs, metric)
        self._to_graph = projector(metric, graph_crs)
        # only walkable streets are joined, crossed or split: an expressway's node on a street
        # it passes over is no junction, nor is a node that no street reaches
        walk = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if is_walkable(d)]
        ends = {n for u, v, _ in walk for n in (u, v)}
        self.nodes = [n for n in graph.nodes if n in ends]
        node_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self.nodes])
        self.node_points = shapely.points(self._to_metric(node_xy.reshape(-1, 2)))
        self.node_tree = shapely.STRtree(self.node_points)
        self.edges = list({(min(u, v), max(u, v), k) for u, v, k in walk})
        self.edge_geoms = [self._metric_geometry(u, v, k) for u, v, k in self.edges]
        self.edge_tree = shapely.STRtree(np.array(self.edge_geoms, dtype=object))
        self.alive = [True] * len(self.edges)
        self.next_id = max((n for n in graph.nodes if isinstance(n, int)), default=0) + 1

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
