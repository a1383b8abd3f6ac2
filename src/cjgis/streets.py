"""Where street networks come from: files on disk, road-line drawings, or osmnx online.

Every reader returns an osmnx-style ``networkx.MultiDiGraph`` (nodes with ``x``/``y`` in
``graph.graph["crs"]``, edges with ``geometry``, ``length`` and the OSM tags of the walk
filter); :func:`cjgis.network.network_from_graph` then applies the walk filter and turns it
into arrays. Sources:

- ``.graphml``: osmnx GraphML;
- ``.osm`` / ``.xml`` / ``.osm.pbf``: an OpenStreetMap extract, read with pyosmium in one
  pass, clipped to the study area plus a margin, and turned into arrays without networkx
  (:func:`network_from_osm`; :func:`graph_from_osm` gives the graph when one is wanted);
- ``.gpkg`` / ``.shp`` / ``.geojson`` / ``.json``: road lines (a design institute's drawing),
  split at crossings and shared vertices, with ends that stop short of another line joined;
- ``place`` / ``bbox``: downloaded through osmnx (with its response cache).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from cjgis._errors import input_error
from cjgis.coords import metric_crs_for, resolve_metric_crs
from cjgis.network import WALK_TAGS, Network, is_walkable, largest_component, network_from_graph

log = logging.getLogger(__name__)

#: Tags that must match for osmnx to merge two ways into one edge when simplifying.
_SIMPLIFY_DIFFER = ["highway", "access", "tunnel", "name", *WALK_TAGS]
_FORMATS = "give a GraphML (osmnx.save_graphml), .osm, .osm.pbf or road-line layer"
#: Suffixes of road-line layers.
LINE_SUFFIXES = frozenset({".gpkg", ".shp", ".geojson", ".json"})
#: Road-line columns carried to the graph (the walk filter reads them).
_LINE_TAGS = ("highway", "name", "access", "tunnel", "bridge", *WALK_TAGS)
#: Coordinates of road lines are rounded to this grid (metres) when they are split.
GRID_M = 0.01
#: Piece ends closer than this are one node (snap rounding can leave a crossing 1 cm off).
MERGE_M = 0.05


def is_pbf(path: Path) -> bool:
    """Return whether ``path`` names an OSM PBF extract."""
    return path.name.lower().endswith(".pbf")


def is_osm(path: Path) -> bool:
    """Return whether ``path`` names an OSM extract (XML or PBF)."""
    return is_pbf(path) or path.suffix.lower() in {".osm", ".xml"}


def read_street_graph(
    path: str | Path,
    *,
    clip_lonlat: tuple[float, float, float, float] | None = None,
    crs: str | None = None,
    join_m: float = 1.0,
) -> nx.MultiDiGraph:
    """Read a street network file as an osmnx-style graph, with a clear error if it cannot be.

    Parameters
    ----------
    path : str or pathlib.Path
        GraphML, OSM XML, OSM PBF or a road-line layer (see the module docstring).
    clip_lonlat : tuple of float, optional
        ``(west, south, east, north)`` in WGS84: a PBF extract keeps only ways with a node
        inside it (a city extract is clipped to the study area). Other sources ignore it.
    crs : str, optional
        CRS of a road-line layer that declares none (``"gcj02"``, ``"EPSG:4549"``, ...).
    join_m : float, optional
        Road-line ends within this distance of another line are joined to it.

    Returns
    -------
    networkx.MultiDiGraph
        The street graph, every way in both directions.
    """
    import osmnx as ox  # lazy: heavy import only where a network file is read

    path = Path(path)
    if not path.is_file():
        raise input_error(path, "street network file not found", "check [network] path")
    suffix = path.suffix.lower()
    if suffix in LINE_SUFFIXES:
        graph, joins = graph_from_lines(read_road_lines(path, crs=crs), join_m=join_m)
        _log_joins(path, joins)
        return graph
    try:
        if is_osm(path):
            graph = graph_from_osm(path, clip_lonlat=clip_lonlat)
        else:
            graph = ox.load_graphml(path, edge_dtypes={"walk_excluded_hint": str})
    except Exception as exc:
        kind = "an OSM extract" if suffix in {".osm", ".xml", ".pbf"} else "osmnx GraphML"
        raise input_error(path, f"cannot read as {kind} ({exc})", _FORMATS) from exc
    if graph.number_of_edges() == 0:
        raise input_error(path, "the street network has no edges", "use a non-empty network")
    return graph


@contextlib.contextmanager
def _osmnx_walk_tags(**settings: object) -> Iterator[None]:
    """Keep the walk-filter tags on osmnx edges (and apply ``settings``); restore after."""
    import osmnx as ox

    changes = {"useful_tags_way": sorted({*ox.settings.useful_tags_way, *WALK_TAGS}), **settings}
    saved = {key: getattr(ox.settings, key) for key in changes}
    for key, value in changes.items():
        setattr(ox.settings, key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(ox.settings, key, value)


def _simplify(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Simplify with osmnx, never merges ways whose walk-filter tags differ."""
    import osmnx as ox

    return ox.simplify_graph(graph, edge_attrs_differ=_SIMPLIFY_DIFFER)


@dataclass(frozen=True)
class OsmEdges:
    """The ``highway`` ways of an OSM extract, split into edges at shared nodes (lon/lat).

    Attributes
    ----------
    tags : list of dict
        Tags of each way.
    way : numpy.ndarray
        Per edge, the index of its way in ``tags``.
    u_ref, v_ref : numpy.ndarray
        Per edge, the OSM node ids of its ends.
    lonlat : numpy.ndarray
        ``(m, 2)`` vertices of every edge, edge after edge.
    vertex_edge : numpy.ndarray
        Per vertex, the edge it belongs to.
    """

    tags: list[dict[str, str]]
    way: np.ndarray
    u_ref: np.ndarray
    v_ref: np.ndarray
    lonlat: np.ndarray
    vertex_edge: np.ndarray


def read_osm_edges(
    path: str | Path, *, clip_lonlat: tuple[float, float, float, float] | None = None
) -> OsmEdges:
    """Read the ``highway`` ways of an ``.osm`` / ``.osm.pbf`` file in one pyosmium pass.

    Ways with at least one node inside ``clip_lonlat`` are kept whole (a street leaving the box
    is not cut short). Each way is split at its ends and at every node another way (or the
    same way again) uses, as osmnx does before simplifying; ways are never merged, so edges
    of a footway and the motorway it meets stay apart.

    Parameters
    ----------
    path : str or pathlib.Path
        OSM XML or PBF extract.
    clip_lonlat : tuple of float, optional
        ``(west, south, east, north)`` in WGS84; everything if None.

    Returns
    -------
    OsmEdges
        The edges, their vertices and the tags of their ways.
    """
    import osmium
    import osmium.filter

    west, south, east, north = clip_lonlat or (-180.0, -90.0, 180.0, 90.0)
    tags, refs, lons, lats, owner = [], [], [], [], []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(nodes) < 2:
            continue
        if not any(west <= x <= east and south <= y <= north for _, x, y in nodes):
            continue
        w = len(tags)
        tags.append({t.k: t.v for t in way.tags})
        for ref, x, y in nodes:
            refs.append(ref)
            lons.append(x)
            lats.append(y)
            owner.append(w)
    ref = np.asarray(refs, dtype=np.int64)
    wid = np.asarray(owner, dtype=np.int64)
    lonlat = np.column_stack([np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)])
    if len(ref) == 0:
        empty = np.empty(0, dtype=np.int64)
        return OsmEdges(tags, empty, empty, empty, lonlat.reshape(0, 2), empty)
    _, inverse, counts = np.unique(ref, return_inverse=True, return_counts=True)
    first = np.r_[True, wid[1:] != wid[:-1]]
    last = np.r_[wid[1:] != wid[:-1], True]
    split = np.flatnonzero((counts[inverse] >= 2) | first | last)
    same = wid[split[:-1]] == wid[split[1:]]
    start, end = split[:-1][same], split[1:][same]
    n_vertices = end - start + 1
    offsets = np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    vertex = np.repeat(start, n_vertices) + np.arange(n_vertices.sum()) - offsets
    return OsmEdges(
        tags=tags,
        way=wid[start],
        u_ref=ref[start],
        v_ref=ref[end],
        lonlat=lonlat[vertex],
        vertex_edge=np.repeat(np.arange(len(start)), n_vertices),
    )


def graph_from_osm(
    path: str | Path, *, clip_lonlat: tuple[float, float, float, float] | None = None
) -> nx.MultiDiGraph:
    """Read an OSM extract as an osmnx-style graph (edges both ways, with their way's tags).

    For inspection and for editing (planned roads); :func:`network_from_osm` builds the
    analysis network without networkx.
    """
    edges = read_osm_edges(path, clip_lonlat=clip_lonlat)
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    lines = _osm_lines(edges)
    if len(lines) == 0:
        return graph
    lon, lat = edges.lonlat.mean(axis=0)
    lengths = shapely.length(
        shapely.transform(lines, _projector("EPSG:4326", metric_crs_for(lon, lat)))
    )
    for e, line in enumerate(lines):
        u, v = int(edges.u_ref[e]), int(edges.v_ref[e])
        for n, (x, y) in ((u, line.coords[0]), (v, line.coords[-1])):
            graph.add_node(n, x=x, y=y)
        attrs = {**edges.tags[edges.way[e]], "length": float(lengths[e]), "oneway": False}
        graph.add_edge(u, v, geometry=line, reversed=False, **attrs)
        graph.add_edge(v, u, geometry=shapely.reverse(line), reversed=True, **attrs)
    return graph


def network_from_osm(
    path: str | Path,
    *,
    clip_lonlat: tuple[float, float, float, float] | None = None,
    crs: str | None = None,
    components: str = "largest",
    walkable=is_walkable,
) -> Network:
    """Build the walking network of an OSM extract straight into arrays (no networkx).

    Parameters
    ----------
    path : str or pathlib.Path
        ``.osm`` or ``.osm.pbf`` extract.
    clip_lonlat : tuple of float, optional
        See :func:`read_osm_edges`.
    crs : str, optional
        Metric CRS override.
    components : {"largest", "all"}, optional
        See :func:`cjgis.network.network_from_graph`.
    walkable : callable, optional
        Predicate on a way's tags; :func:`cjgis.network.is_walkable` by default.

    Returns
    -------
    Network
        ``dropped_edges`` counts the edges of ways the walk filter refused.
    """
    edges = read_osm_edges(path, clip_lonlat=clip_lonlat)
    way_ok = np.array([bool(walkable(t)) for t in edges.tags], dtype=bool)
    keep = way_ok[edges.way] if len(edges.way) else np.zeros(0, dtype=bool)
    if not keep.any():
        raise input_error(path, "no walkable street in the extract", "check the clip box")
    lon, lat = edges.lonlat.mean(axis=0)
    metric = resolve_metric_crs((float(lon), float(lat)), crs)
    project = _projector("EPSG:4326", metric)
    kept_vertex = keep[edges.vertex_edge]
    renumber = np.cumsum(keep) - 1
    lines = shapely.linestrings(
        project(edges.lonlat[kept_vertex]), indices=renumber[edges.vertex_edge[kept_vertex]]
    )
    node_ref, ends = np.unique(
        np.concatenate([edges.u_ref[keep], edges.v_ref[keep]]), return_inverse=True
    )
    n_kept = int(keep.sum())
    start_xy = shapely.get_coordinates(shapely.get_point(lines, 0))
    end_xy = shapely.get_coordinates(shapely.get_point(lines, -1))
    node_xy = np.empty((len(node_ref), 2))
    node_xy[ends[:n_kept]] = start_xy
    node_xy[ends[n_kept:]] = end_xy
    network = Network(
        crs=metric,
        node_id=node_ref,
        node_x=node_xy[:, 0],
        node_y=node_xy[:, 1],
        edge_u=ends[:n_kept].astype(np.int64),
        edge_v=ends[n_kept:].astype(np.int64),
        edge_length_m=shapely.length(lines),
        edge_geometry=lines,
        dropped_edges=int((~keep).sum()),
    )
    return largest_component(network) if components == "largest" else network


def _osm_lines(edges: OsmEdges) -> np.ndarray:
    if len(edges.way) == 0:
        return np.empty(0, dtype=object)
    return shapely.linestrings(edges.lonlat, indices=edges.vertex_edge)


def _projector(source, target):
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))


def download_street_graph(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: str | Path = "cache",
) -> nx.MultiDiGraph:
    """Download a street network through osmnx (needs the Overpass API; cached on disk).

    Every OSM way with a ``highway`` tag is fetched (osmnx's ``"all"``, which keeps private
    compound paths); cjgis's walk filter then decides what is walkable. osmnx's response
    cache lives in ``cache_dir/osmnx``, so a second download of the same area is read from
    disk.

    Parameters
    ----------
    place : str, optional
        A place name that Nominatim resolves to a polygon (e.g. ``"西湖区, 杭州市"``).
    bbox : tuple of float, optional
        ``(west, south, east, north)`` in WGS84, as osmnx 2 takes it.
    cache_dir : str or pathlib.Path, optional
        Folder of the download cache.

    Returns
    -------
    networkx.MultiDiGraph
        The street graph, every way in both directions.
    """
    import osmnx as ox
    import requests

    if (place is None) == (bbox is None):
        raise ValueError("give exactly one of place or bbox")
    what = f'place = "{place}"' if place is not None else f"bbox = {list(bbox)}"
    folder = Path(cache_dir) / "osmnx"
    settings = {
        "use_cache": True,
        "cache_folder": str(folder),
        "bidirectional_network_types": ["all"],
    }
    try:
        with _osmnx_walk_tags(**settings):
            kw = {"network_type": "all", "simplify": False, "retain_all": True}
            if place is not None:
                graph = ox.graph_from_place(place, **kw)
            else:
                graph = ox.graph_from_bbox(tuple(float(v) for v in bbox), **kw)
    except (requests.RequestException, OSError) as exc:
        raise input_error(
            f"[network] {what}",
            f"cannot download the streets ({type(exc).__name__}: {exc})",
            "work online once (the download is cached), or download an OSM extract "
            "(.osm.pbf) and set [network] path",
        ) from exc
    except (ox._errors.InsufficientResponseError, TypeError, ValueError) as exc:
        raise input_error(
            f"[network] {what}",
            f"osmnx found no streets ({exc})",
            "check the place name or the bbox order (west, south, east, north)",
        ) from exc
    return _simplify(graph)


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
    from cjgis.io import _with_crs, read_any

    path = Path(path)
    frame = read_any(path)
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise input_error(path, "no road lines in the layer", "give a layer of LineStrings")
    frame = _with_crs(frame, crs, file=path, key="[network]")
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
    lines: gpd.GeoDataFrame, *, join_m: float = 1.0
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
    lon, lat = lines.to_crs("EPSG:4326").union_all().centroid.coords[0]
    metric = metric_crs_for(lon, lat)
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
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

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


def _log_joins(path: Path, joins: pd.DataFrame) -> None:
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


def network_from_file(
    path: str | Path,
    *,
    crs: str | None = None,
    components: str = "largest",
    clip_lonlat: tuple[float, float, float, float] | None = None,
    source_crs: str | None = None,
    join_m: float = 1.0,
) -> Network:
    """Read a street network file into a :class:`~cjgis.network.Network`.

    Parameters
    ----------
    path : str or pathlib.Path
        Any source :func:`read_street_graph` reads.
    crs : str, optional
        Metric CRS override.
    components : {"largest", "all"}, optional
        See :func:`cjgis.network.network_from_graph`.
    clip_lonlat, source_crs, join_m : optional
        Passed to :func:`read_street_graph` (``source_crs`` as its ``crs``).

    Returns
    -------
    Network
        The walkable network; the number of dropped edges is logged.
    """
    path = Path(path)
    if is_osm(path) and path.is_file():
        try:
            net = network_from_osm(path, clip_lonlat=clip_lonlat, crs=crs, components=components)
        except RuntimeError as exc:  # pyosmium's parse errors
            raise input_error(path, f"cannot read as an OSM extract ({exc})", _FORMATS) from exc
        return checked_network(net, path.name)
    graph = read_street_graph(path, clip_lonlat=clip_lonlat, crs=source_crs, join_m=join_m)
    return checked_network(network_from_graph(graph, crs=crs, components=components), path.name)


def network_from_download(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: str | Path = "cache",
    crs: str | None = None,
    components: str = "largest",
) -> Network:
    """Download a street network (see :func:`download_street_graph`) as a Network."""
    graph = download_street_graph(place=place, bbox=bbox, cache_dir=cache_dir)
    label = place if place is not None else f"bbox {list(bbox)}"
    return checked_network(network_from_graph(graph, crs=crs, components=components), label)


def checked_network(net: Network, label: str) -> Network:
    """Raise if no walkable street is left; log the network's size."""
    if net.n_edges == 0:
        raise input_error(label, "no walkable street is left", "check the walk filter")
    log.info(
        "network %s: %d nodes, %d walkable edges (%.1f km), %d source edges not walkable",
        label,
        net.n_nodes,
        net.n_edges,
        net.edge_length_m.sum() / 1000,
        net.dropped_edges,
    )
    return net


def lonlat_box(frame: gpd.GeoDataFrame, *, margin_m: float) -> tuple[float, float, float, float]:
    """WGS84 ``(west, south, east, north)`` of ``frame`` grown by ``margin_m`` on every side."""
    lon, lat = frame.to_crs("EPSG:4326").union_all().centroid.coords[0]
    metric = metric_crs_for(lon, lat)
    x0, y0, x1, y1 = frame.to_crs(metric).total_bounds
    back = Transformer.from_crs(metric, "EPSG:4326", always_xy=True)
    xs, ys = back.transform(
        [x0 - margin_m, x1 + margin_m, x0 - margin_m, x1 + margin_m],
        [y0 - margin_m, y0 - margin_m, y1 + margin_m, y1 + margin_m],
    )
    return (min(xs), min(ys), max(xs), max(ys))
