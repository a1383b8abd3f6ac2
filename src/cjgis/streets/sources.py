"""Where street networks come from: files on disk, road-line drawings, or osmnx online.

Every reader returns an osmnx-style ``networkx.MultiDiGraph`` (nodes with ``x``/``y`` in
``graph.graph["crs"]``, edges with ``geometry``, ``length`` and the OSM tags of the walk
filter); :func:`cjgis.streets.network.network_from_graph` then applies the walk filter and turns it
into arrays. Sources:

- ``.graphml``: osmnx GraphML, streamed straight into arrays for the analysis
  (:func:`network_from_graphml`, :mod:`cjgis.streets.graphml`), read with osmnx where a graph
  is wanted;
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from cjgis._errors import InputError, input_error
from cjgis.inputs.coords import metric_crs_for, metric_crs_of, projector, resolve_metric_crs
from cjgis.inputs.database import DatabaseSource
from cjgis.streets.cache import CACHE_DIR
from cjgis.streets.network import (
    WALK_TAGS,
    Network,
    is_walkable,
    keep_components,
    network_from_edges,
    network_from_graph,
)
from cjgis.streets.road_lines import (
    LINE_JOIN_M,
    LINE_SUFFIXES,
    graph_from_lines,
    log_joins,
    read_road_lines,
)

log = logging.getLogger(__name__)

#: Tags that must match for osmnx to merge two ways into one edge when simplifying.
_SIMPLIFY_DIFFER = ["highway", "access", "tunnel", "name", *WALK_TAGS]
_FORMATS = "give a GraphML (osmnx.save_graphml), .osm, .osm.pbf or road-line layer"


def is_pbf(path: Path) -> bool:
    """Return whether ``path`` names an OSM PBF extract."""
    return path.name.lower().endswith(".pbf")


def is_osm(path: Path) -> bool:
    """Return whether ``path`` names an OSM extract (XML or PBF)."""
    return is_pbf(path) or path.suffix.lower() in {".osm", ".xml"}


def read_street_graph(
    path: str | Path | DatabaseSource,
    *,
    clip_lonlat: tuple[float, float, float, float] | None = None,
    crs: str | None = None,
    join_m: float = LINE_JOIN_M,
    layer: str | None = None,
    layers: Sequence[str] = (),
    bridge_layers: Sequence[str] = (),
    encoding: str | None = None,
) -> nx.MultiDiGraph:
    """Read a street network file as an osmnx-style graph, with a clear error if it cannot be.

    Parameters
    ----------
    path : str or pathlib.Path or DatabaseSource
        GraphML, OSM XML, OSM PBF or a road-line layer (see the module docstring), or road
        lines in a PostGIS table or query (:class:`~cjgis.inputs.database.DatabaseSource`).
    clip_lonlat : tuple of float, optional
        ``(west, south, east, north)`` in WGS84: a PBF extract keeps only ways with a node
        inside it (a city extract is clipped to the study area). Other sources ignore it.
    crs : str, optional
        CRS of a road-line layer that declares none (``"gcj02"``, ``"EPSG:4549"``, ...).
    join_m : float, optional
        Road-line ends within this distance of another line are joined to it.
    layer : str, optional
        The layer of road lines in a GeoPackage or File Geodatabase holding several.
    layers, bridge_layers : sequence of str, optional
        The CAD layers of a DXF drawing holding road centre lines, and those of bridges
        (kept whole where they cross a road), see :func:`cjgis.inputs.cad.read_dxf_lines`.
    encoding : str, optional
        Text encoding of a shapefile's attributes or a DXF drawing's layer names (``"gbk"``).

    Returns
    -------
    networkx.MultiDiGraph
        The street graph, every way in both directions.
    """
    import osmnx as ox  # lazy: heavy import only where a network file is read

    if isinstance(path, DatabaseSource):  # road lines in a PostGIS table or query
        graph, joins = graph_from_lines(read_road_lines(path, crs=crs), join_m=join_m)
        log_joins(path, joins)
        return graph
    path = Path(path)
    suffix = path.suffix.lower()
    if not (path.is_file() or (suffix == ".gdb" and path.is_dir())):
        raise input_error(path, "street network file not found", "check [network] path")
    _check_layer(path, layer, cad=bool(layers or bridge_layers))
    if suffix in LINE_SUFFIXES:
        lines = read_road_lines(
            path,
            crs=crs,
            layer=layer,
            layers=layers,
            bridge_layers=bridge_layers,
            encoding=encoding,
        )
        graph, joins = graph_from_lines(lines, join_m=join_m)
        log_joins(path, joins)
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


#: Ways that are not streets but barriers a walk must go round or over: drawn, never walked.
BARRIER_TAGS = {
    "waterway": {"river", "canal", "stream"},
    "railway": {"rail", "light_rail", "narrow_gauge"},
}


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
    barriers : numpy.ndarray
        Rivers, canals and railways (:data:`BARRIER_TAGS`) as lon/lat LineStrings.
    """

    tags: list[dict[str, str]]
    way: np.ndarray
    u_ref: np.ndarray
    v_ref: np.ndarray
    lonlat: np.ndarray
    vertex_edge: np.ndarray
    barriers: np.ndarray


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
    tags, refs, lons, lats, owner, barriers = [], [], [], [], [], []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", *BARRIER_TAGS))
    )
    for way in processor:
        nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(nodes) < 2:
            continue
        if not any(west <= x <= east and south <= y <= north for _, x, y in nodes):
            continue
        if "highway" not in way.tags:  # a river or a railway: a barrier, drawn
            if any(way.tags.get(k) in values for k, values in BARRIER_TAGS.items()):
                barriers.append(shapely.LineString([(x, y) for _, x, y in nodes]))
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
    barrier_lines = np.array(barriers, dtype=object)
    if len(ref) == 0:
        empty = np.empty(0, dtype=np.int64)
        return OsmEdges(tags, empty, empty, empty, lonlat.reshape(0, 2), empty, barrier_lines)
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
        barriers=barrier_lines,
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
        shapely.transform(lines, projector("EPSG:4326", metric_crs_for(lon, lat)))
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
    components: str = "major",
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
    components : {"major", "largest", "all"}, optional
        See :func:`cjgis.streets.network.network_from_graph`.
    walkable : callable, optional
        Predicate on a way's tags; :func:`cjgis.streets.network.is_walkable` by default.

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
    project = projector("EPSG:4326", metric)
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
        barrier_geometry=shapely.transform(
            np.concatenate([_osm_lines(edges)[~keep], edges.barriers]), project
        ),
        edge_name=np.array(
            [str(edges.tags[w].get("name", "")) for w in edges.way[keep]], dtype=str
        ),
    )
    return keep_components(network, components)


def _osm_lines(edges: OsmEdges) -> np.ndarray:
    if len(edges.way) == 0:
        return np.empty(0, dtype=object)
    return shapely.linestrings(edges.lonlat, indices=edges.vertex_edge)


def download_street_graph(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: str | Path = CACHE_DIR,
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


def network_from_file(  # noqa: PLR0913 - one keyword per [network] key
    path: str | Path | DatabaseSource,
    *,
    crs: str | None = None,
    components: str = "major",
    clip_lonlat: tuple[float, float, float, float] | None = None,
    source_crs: str | None = None,
    join_m: float = LINE_JOIN_M,
    layer: str | None = None,
    layers: Sequence[str] = (),
    bridge_layers: Sequence[str] = (),
    encoding: str | None = None,
) -> Network:
    """Read a street network file into a :class:`~cjgis.streets.network.Network`.

    Parameters
    ----------
    path : str or pathlib.Path
        Any source :func:`read_street_graph` reads.
    crs : str, optional
        Metric CRS override.
    components : {"major", "largest", "all"}, optional
        See :func:`cjgis.streets.network.network_from_graph`.
    clip_lonlat, source_crs, join_m, layer, layers, bridge_layers, encoding : optional
        Passed to :func:`read_street_graph` (``source_crs`` as its ``crs``).

    Returns
    -------
    Network
        The walkable network; the number of dropped edges is logged.
    """
    if isinstance(path, DatabaseSource):
        if layers or bridge_layers:
            raise input_error(
                path,
                "layers and bridge_layers name the CAD layers of a DXF drawing",
                "remove them (bridges in a table: a bridge column, yes or no)",
            )
        graph = read_street_graph(path, crs=source_crs, join_m=join_m)
        return checked_network(network_from_graph(graph, crs=crs, components=components), path.name)
    path = Path(path)
    _check_layer(path, layer, cad=bool(layers or bridge_layers))
    if is_osm(path) and path.is_file():
        try:
            net = network_from_osm(path, clip_lonlat=clip_lonlat, crs=crs, components=components)
        except RuntimeError as exc:  # pyosmium's parse errors
            raise input_error(path, f"cannot read as an OSM extract ({exc})", _FORMATS) from exc
        return checked_network(net, path.name)
    if path.suffix.lower() == ".graphml" and path.is_file():
        return checked_network(
            network_from_graphml(path, crs=crs, components=components), path.name
        )
    graph = read_street_graph(
        path,
        clip_lonlat=clip_lonlat,
        crs=source_crs,
        join_m=join_m,
        layer=layer,
        layers=layers,
        bridge_layers=bridge_layers,
        encoding=encoding,
    )
    return checked_network(network_from_graph(graph, crs=crs, components=components), path.name)


def _check_layer(path: Path, layer: str | None, *, cad: bool = False) -> None:
    """Refuse a layer where there is none to choose, and CAD layers but for a DXF drawing.

    ``[network] layer`` names a layer of a GeoPackage or ``.gdb``; GraphML, OSM and DXF have
    none (a drawing's CAD layers are ``layers`` and ``bridge_layers``).
    """
    suffix = path.suffix.lower()
    if layer is not None and suffix == ".dxf":
        raise input_error(
            path,
            f"[network] layer = {layer!r} given for a CAD drawing",
            f'name its CAD layers instead: layers = ["{layer}"] (bridges: bridge_layers = [...])',
        )
    if layer is not None and suffix not in LINE_SUFFIXES:
        raise input_error(
            path, f"[network] layer = {layer!r}, but the file is no road-line layer", "remove layer"
        )
    if cad and suffix != ".dxf":
        raise input_error(
            path,
            "[network] layers and bridge_layers name the CAD layers of a DXF drawing, "
            "but the file is none",
            'remove them (a layer of a GeoPackage or .gdb: layer = "..."; bridges there: '
            "a bridge column)",
        )


def network_from_graphml(
    path: str | Path, *, crs: str | None = None, components: str = "major", walkable=is_walkable
) -> Network:
    """Build the walking network of an osmnx GraphML file in one streaming pass (no networkx).

    The same network as ``network_from_graph(osmnx.load_graphml(path))``, in a fraction of
    the memory and time (:mod:`cjgis.streets.graphml`).
    """
    from xml.etree.ElementTree import ParseError

    from cjgis.streets.graphml import read_graphml_edges

    try:
        edges = read_graphml_edges(path, walkable=walkable)
    except InputError:  # said already, with the file, the edge and the fix
        raise
    except (ParseError, KeyError, ValueError, TypeError) as exc:
        raise input_error(path, f"cannot read as osmnx GraphML ({exc})", _FORMATS) from exc
    if len(edges.u) == 0:
        raise input_error(path, "the street network has no edges", "use a non-empty network")
    return network_from_edges(edges, crs=crs, components=components)


def network_from_download(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: str | Path = CACHE_DIR,
    crs: str | None = None,
    components: str = "major",
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
    metric = metric_crs_of(frame)
    x0, y0, x1, y1 = frame.to_crs(metric).total_bounds
    corners = np.array(
        [
            [x0 - margin_m, y0 - margin_m],
            [x1 + margin_m, y0 - margin_m],
            [x0 - margin_m, y1 + margin_m],
            [x1 + margin_m, y1 + margin_m],
        ]
    )
    lonlat = projector(metric, "EPSG:4326")(corners)
    return (*lonlat.min(axis=0), *lonlat.max(axis=0))
