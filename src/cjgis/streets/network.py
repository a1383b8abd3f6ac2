"""The walking network as arrays: nodes, undirected edges with geometry, and a CSR graph.

A :class:`Network` is built once from an osmnx-style graph (GraphML for now) and holds only
numpy arrays in a metric CRS, so that shortest paths run on ``scipy.sparse.csgraph`` without a
networkx graph in the hot path. Edges are undirected (walking ignores one-way rules); each
edge's geometry runs from ``edge_u`` to ``edge_v`` and its length is the projected length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property

import networkx as nx
import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from cjgis._errors import input_error
from cjgis.inputs.coords import projector, resolve_metric_crs

log = logging.getLogger(__name__)

#: OSM highway values pedestrians may not use (expressways; roads under construction).
NOT_WALKABLE_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk_link",
        "construction",
        "proposed",
        "raceway",
        "bus_guideway",
        "escape",
    }
)
#: Car roads whose tunnels have no footway unless a sidewalk is tagged.
_CAR_ROADS = frozenset({"trunk", "primary", "secondary", "tertiary", "unclassified"})
#: OSM way tags cjgis reads besides osmnx's defaults (for the walk filter).
WALK_TAGS = ("foot", "sidewalk", "motorroad")

#: Smallest edge weight in a search graph: zero-length edges (and zero-length facility or
#: residence connectors) get it, so a sparse matrix keeps them as edges. A walk over n such
#: edges is at most n µm too long.
MIN_EDGE_WEIGHT_M = 1e-6


@dataclass(frozen=True, eq=False)
class Network:
    """An undirected walking network in a metric CRS, stored as arrays.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of every coordinate below (metres).
    node_id : numpy.ndarray
        Original node ids (e.g. OSM ids), position = node index.
    node_x, node_y : numpy.ndarray
        Node coordinates in metres.
    edge_u, edge_v : numpy.ndarray
        Node indices of each edge's ends.
    edge_length_m : numpy.ndarray
        Length of each edge's geometry in metres.
    edge_geometry : numpy.ndarray
        Shapely LineStrings, oriented from ``edge_u`` to ``edge_v``.
    dropped_edges : int
        Source edges left out as not walkable (reported, not silently lost).
    fragment_geometry : numpy.ndarray
        Walkable edges left out because they are not connected to the main network; kept so
        that points whose nearest street is such a fragment can be reported.
    edge_name : numpy.ndarray
        Street name of each edge (``""`` where the source gives none), or empty when the
        source has no names at all; names suggested sites after their street.
    barrier_geometry : numpy.ndarray
        Roads the walk filter refused (expressways, motorways, tunnels without sidewalks), in
        metres: drawn on the map and figures as barriers, the reason a walk goes round.
    edge_elevated : numpy.ndarray
        True for edges off the ground (a planned bridge or tunnel): walked along, but no
        residence or facility attaches to them (nobody enters a footbridge from its side).
        Empty when none is.
    """

    crs: CRS
    node_id: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    dropped_edges: int = 0
    fragment_geometry: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    edge_name: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    barrier_geometry: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    edge_elevated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

    def __repr__(self) -> str:
        """One line of counts (the arrays are too long to print)."""
        crs = self.crs.to_string() if self.crs is not None else "no CRS"
        elevated = int(self.edge_elevated_or_false().sum())
        return (
            f"Network: {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{float(self.edge_length_m.sum()) / 1000:,.1f} km in {crs}; "
            f"{self.dropped_edges:,} source edges not walkable, "
            f"{len(self.fragment_geometry):,} edges in small pieces left out"
            + (f", {elevated} bridge or tunnel edges" if elevated else "")
        )

    def _repr_html_(self) -> str:
        """:meth:`__repr__` as HTML."""
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"

    def edge_elevated_or_false(self) -> np.ndarray:
        """Return :attr:`edge_elevated` with one value per edge (all False where empty)."""
        if len(self.edge_elevated) != self.n_edges:
            return np.zeros(self.n_edges, dtype=bool)
        return self.edge_elevated

    def street_name(self, edge: np.ndarray) -> np.ndarray:
        """Return the street names of edges (``""`` where unknown)."""
        if len(self.edge_name) != self.n_edges:
            return np.full(len(edge), "", dtype=object)
        return self.edge_name[edge]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return len(self.edge_u)

    @cached_property
    def graph(self) -> csr_matrix:
        """Symmetric CSR adjacency matrix weighted by edge length in metres."""
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        weights = np.concatenate([self.edge_length_m, self.edge_length_m])
        return csr_min(rows, cols, weights, self.n_nodes)

    @cached_property
    def fragment_tree(self) -> shapely.STRtree:
        """Spatial index over the disconnected fragments left out of the network."""
        return shapely.STRtree(self.fragment_geometry)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over ``edge_geometry`` for nearest-edge queries."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def incident_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per node, the edges that touch it: ``(start, end, edges)`` slices of a sorted array.

        Node ``i``'s edges are ``edges[start[i]:end[i]]``. Built once per network (the
        searches of 2SFCA and of per-facility areas all use it).
        """
        ends = np.concatenate([self.edge_u, self.edge_v])
        order = np.argsort(ends, kind="stable")
        edges = np.concatenate([np.arange(self.n_edges)] * 2)[order]
        bounds = np.searchsorted(ends[order], np.arange(self.n_nodes + 1))
        return bounds[:-1], bounds[1:], edges

    @cached_property
    def segments(self) -> Segments:
        """The straight segments of every edge, as arrays (see :class:`Segments`)."""
        return segments_of(self.edge_geometry)

    @cached_property
    def piece_index(self) -> PieceIndex:
        """KD-tree over short pieces of the ground edges' segments (nearest-edge queries)."""
        return piece_index_of(self.segments, keep=self.ground_edges)

    @cached_property
    def ground_edges(self) -> np.ndarray | None:
        """Indices of the edges points may attach to (all but :attr:`edge_elevated`), or None.

        None when every edge takes attachments.
        """
        if not len(self.edge_elevated) or not self.edge_elevated.any():
            return None
        return np.flatnonzero(~self.edge_elevated)

    @cached_property
    def ground_tree(self) -> shapely.STRtree:
        """R-tree over the ground edges (:attr:`ground_edges`; all edges where None)."""
        if self.ground_edges is None:
            return self.edge_tree
        return shapely.STRtree(self.edge_geometry[self.ground_edges])

    def points_along(self, edge: np.ndarray, position_m: np.ndarray) -> np.ndarray:
        """Return ``(n, 2)`` coordinates at ``position_m`` along each ``edge`` (vectorised).

        The same points as ``shapely.line_interpolate_point``, several times faster for
        millions of positions.
        """
        seg = self.segments
        edge = np.asarray(edge, dtype=np.int64)
        along = seg.edge_start_m[edge] + np.asarray(position_m, dtype=float)
        i = seg.first[edge]
        # an edge of one segment needs no search (most edges of a simplified graph)
        multi = np.flatnonzero(seg.first[edge + 1] - i > 1)
        if len(multi):
            e = edge[multi]
            found = np.searchsorted(seg.cum_start_m, along[multi], side="right") - 1
            i[multi] = np.clip(found, seg.first[e], seg.first[e + 1] - 1)
        t = along - seg.cum_start_m[i]
        t /= np.maximum(seg.length_m[i], 1e-12)
        np.clip(t, 0, 1, out=t)
        xy = np.empty((len(i), 2))
        x0, y0 = seg.x0[i], seg.y0[i]
        xy[:, 0] = x0 + t * (seg.x1[i] - x0)
        xy[:, 1] = y0 + t * (seg.y1[i] - y0)
        return xy

    def substrings(self, edge: np.ndarray, start_m: np.ndarray, end_m: np.ndarray) -> np.ndarray:
        """Return the stretches ``start_m``..``end_m`` of each ``edge`` as LineStrings.

        The same lines as ``shapely.ops.substring`` (its end points, and every vertex of the
        edge strictly between them), built for all stretches at once.
        """
        seg = self.segments
        edge = np.asarray(edge, dtype=np.int64)
        start_m, end_m = np.asarray(start_m, dtype=float), np.asarray(end_m, dtype=float)
        base = seg.edge_start_m[edge]
        # inner vertices are the starts of an edge's segments after its first one
        lo = np.searchsorted(seg.cum_start_m, base + start_m, side="right")
        hi = np.searchsorted(seg.cum_start_m, base + end_m, side="left")
        lo = np.clip(lo, seg.first[edge] + 1, seg.first[edge + 1])
        hi = np.clip(hi, lo, seg.first[edge + 1])
        inner = hi - lo
        count = inner + 2
        at = np.cumsum(count) - count  # where each line's coordinates begin
        xy = np.empty((int(count.sum()), 2))
        xy[at] = self.points_along(edge, start_m)
        xy[at + count - 1] = self.points_along(edge, end_m)
        k = np.repeat(lo - (np.cumsum(inner) - inner), inner) + np.arange(inner.sum())
        slot = np.repeat(at + 1 - (np.cumsum(inner) - inner), inner) + np.arange(inner.sum())
        xy[slot] = np.column_stack([seg.x0[k], seg.y0[k]])
        return shapely.linestrings(xy, indices=np.repeat(np.arange(len(edge)), count))

    def to_networkx(self) -> nx.MultiGraph:
        """Return a networkx view (for inspection and oracles, not for the analysis)."""
        graph = nx.MultiGraph(crs=self.crs.to_string())
        for i, (x, y) in enumerate(zip(self.node_x, self.node_y, strict=True)):
            graph.add_node(i, x=float(x), y=float(y), osmid=self.node_id[i])
        for e in range(self.n_edges):
            graph.add_edge(
                int(self.edge_u[e]),
                int(self.edge_v[e]),
                length=float(self.edge_length_m[e]),
                geometry=self.edge_geometry[e],
            )
        return graph


def graph_from_network(network: Network) -> nx.MultiDiGraph:
    """Return an osmnx-style graph of a network, for editing (e.g. adding planned roads).

    Nodes keep their ids and metric ``x``/``y``; every edge is stored both ways with its
    geometry oriented along it, as the readers of :mod:`cjgis.streets.sources` return them, so
    :func:`network_from_graph` turns it back into the same network.
    """
    graph = nx.MultiDiGraph(crs=network.crs.to_string())
    ids = network.node_id.tolist()
    names = network.street_name(np.arange(network.n_edges))
    elevated = network.edge_elevated_or_false()
    for node, x, y in zip(ids, network.node_x.tolist(), network.node_y.tolist(), strict=True):
        graph.add_node(node, x=x, y=y)
    for e in range(network.n_edges):
        u, v = ids[network.edge_u[e]], ids[network.edge_v[e]]
        line, length = network.edge_geometry[e], float(network.edge_length_m[e])
        attrs = {"name": names[e]} if names[e] else {}
        if elevated[e]:
            attrs["elevated"] = True
        graph.add_edge(u, v, geometry=line, length=length, reversed=False, **attrs)
        graph.add_edge(v, u, geometry=shapely.reverse(line), length=length, reversed=True, **attrs)
    return graph


@dataclass(frozen=True)
class Segments:
    """Every edge's straight segments, edge after edge, in arrays.

    Attributes
    ----------
    x0, y0, x1, y1 : numpy.ndarray
        Segment ends, oriented along their edge.
    edge : numpy.ndarray
        The edge of each segment.
    length_m : numpy.ndarray
        Segment lengths.
    cum_start_m : numpy.ndarray
        Running total of segment lengths before each segment (over all edges).
    first : numpy.ndarray
        ``first[e]`` is edge ``e``'s first segment; ``first[n_edges]`` the number of segments.
    edge_start_m : numpy.ndarray
        ``cum_start_m`` at each edge's first segment.
    """

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    edge: np.ndarray
    length_m: np.ndarray
    cum_start_m: np.ndarray
    first: np.ndarray
    edge_start_m: np.ndarray

    def start_along_edge_m(self) -> np.ndarray:
        """Distance from each segment's edge start to the segment's start."""
        return self.cum_start_m - self.edge_start_m[self.edge]


def segments_of(lines: np.ndarray) -> Segments:
    """Split LineStrings into their straight segments (see :class:`Segments`)."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    return segments_of_coordinates(xy, owner, len(lines))


def segments_of_coordinates(xy: np.ndarray, owner: np.ndarray, n_lines: int) -> Segments:
    """:func:`segments_of` the lines whose coordinates are ``xy``, line ``owner[i]`` each."""
    same = owner[1:] == owner[:-1]
    a, b = np.flatnonzero(same), np.flatnonzero(same) + 1
    edge = owner[a]
    length = np.hypot(xy[b, 0] - xy[a, 0], xy[b, 1] - xy[a, 1])
    cum = np.concatenate([[0.0], np.cumsum(length)[:-1]]) if len(length) else length
    first = np.searchsorted(edge, np.arange(n_lines + 1))
    edge_start = np.append(cum, cum[-1] + length[-1] if len(cum) else 0.0)[first[:-1]]
    return Segments(xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1], edge, length, cum, first, edge_start)


#: Segments are cut into pieces at most this long for :class:`PieceIndex`.
PIECE_M = 40.0


@dataclass(frozen=True)
class PieceIndex:
    """Segments cut into pieces of at most :data:`PIECE_M`, with a KD-tree of their midpoints.

    A piece at distance ``d`` from a point has its midpoint within ``d + half_m``, so the
    pieces whose midpoints lie within ``best + half_m`` of a point (``best`` being the
    distance to any piece) include its nearest piece: :func:`cjgis.streets.snapping.attach_points`
    uses this bound to answer exactly from a few KD-tree neighbours.
    """

    x0: np.ndarray
    y0: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    edge: np.ndarray
    start_m: np.ndarray
    length_m: np.ndarray
    half_m: float
    tree: object


def piece_index_of(seg: Segments, *, keep: np.ndarray | None = None) -> PieceIndex:
    """Build the :class:`PieceIndex` of a network's segments (of the edges ``keep``, if given)."""
    from scipy.spatial import cKDTree

    if keep is not None:
        take = np.isin(seg.edge, keep)
        start = seg.start_along_edge_m()[take]
        seg = replace(
            seg,
            x0=seg.x0[take],
            y0=seg.y0[take],
            x1=seg.x1[take],
            y1=seg.y1[take],
            edge=seg.edge[take],
            length_m=seg.length_m[take],
            cum_start_m=start,
            edge_start_m=np.zeros(int(seg.edge.max()) + 1 if len(seg.edge) else 0),
        )
    count = np.maximum(np.ceil(seg.length_m / PIECE_M).astype(np.int64), 1)
    s = np.repeat(np.arange(len(count)), count)
    k = np.arange(len(s)) - np.repeat(np.cumsum(count) - count, count)
    f0, f1 = k / count[s], (k + 1) / count[s]
    dx, dy = seg.x1 - seg.x0, seg.y1 - seg.y0
    x0, y0 = seg.x0[s] + f0 * dx[s], seg.y0[s] + f0 * dy[s]
    pdx, pdy = (f1 - f0) * dx[s], (f1 - f0) * dy[s]
    length = seg.length_m[s] * (f1 - f0)
    mid = np.column_stack([x0 + pdx / 2, y0 + pdy / 2])
    return PieceIndex(
        x0=x0,
        y0=y0,
        dx=pdx,
        dy=pdy,
        edge=seg.edge[s],
        start_m=seg.start_along_edge_m()[s] + seg.length_m[s] * f0,
        length_m=length,
        half_m=float(length.max() / 2) if len(length) else 0.0,
        # unbalanced, 32-point leaves: built in a third of the time, queried as fast
        tree=cKDTree(mid, leafsize=32, balanced_tree=False, compact_nodes=False)
        if len(mid)
        else None,
    )


def csr_min(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n: int) -> csr_matrix:
    """Build an ``n`` x ``n`` CSR matrix keeping the smallest weight of repeated entries.

    scipy sums duplicate entries, which would turn parallel streets into one long street;
    self-loops are dropped (they never shorten a path).

    Parameters
    ----------
    rows, cols : numpy.ndarray
        Entry positions.
    weights : numpy.ndarray
        Entry weights in metres.
    n : int
        Matrix size.

    Returns
    -------
    scipy.sparse.csr_matrix
        The matrix, with weights at least :data:`MIN_EDGE_WEIGHT_M` so zero-length edges stay edges.
    """
    keep = rows != cols
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    key = rows.astype(np.int64) * n + cols
    order = np.lexsort((weights, key))
    key_sorted = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    sel = order[first]
    data = np.maximum(weights[sel], MIN_EDGE_WEIGHT_M)
    return csr_matrix((data, (rows[sel], cols[sel])), shape=(n, n))


def _tag(data: dict, key: str) -> list[str]:
    value = data.get(key)
    values = value if isinstance(value, list) else [value]
    return [str(v).strip().lower() for v in values if v is not None]


#: The tags :func:`is_walkable` reads (its verdict on an edge depends on these only).
WALK_FILTER_KEYS = (
    "walk_excluded_hint",
    "highway",
    "motorroad",
    "foot",
    "access",
    "tunnel",
    "sidewalk",
)


def is_walkable(data: dict) -> bool:
    """Return whether a source edge is walkable (the walk filter).

    Not walkable: ``walk_excluded_hint = "True"`` (the shared Hangzhou streets' elevated
    roads, expressways and tunnels; merged edges only partly so, ``[False, True]``, stay
    walkable); ``highway`` in :data:`NOT_WALKABLE_HIGHWAYS` (motorways, trunk links, roads
    under construction); ``motorroad=yes`` (expressways such as 高架 tagged as trunk);
    ``foot=no`` or ``access=no`` without ``foot=yes``; a tunnel of a car road
    (:data:`_CAR_ROADS`) without a tagged sidewalk. Everything else is walkable, including
    footways, paths, steps, living and residential streets, and ``access=private`` ways: the
    paths inside residential compounds (小区) that residents walk, which osmnx's ``walk``
    filter drops. Pass another predicate to :func:`network_from_graph` to change it.

    Parameters
    ----------
    data : dict
        The edge's attributes (OSM tags as osmnx keeps them).

    Returns
    -------
    bool
        True if pedestrians may use the edge.
    """
    hint = data.get("walk_excluded_hint")
    if hint is True or (isinstance(hint, str) and hint.strip().lower() == "true"):
        return False  # mixed hints (a list, e.g. partly elevated merged edges) stay walkable
    highway = set(_tag(data, "highway"))
    if highway & NOT_WALKABLE_HIGHWAYS or "yes" in _tag(data, "motorroad"):
        return False
    foot = set(_tag(data, "foot"))
    if "no" in foot or ("no" in _tag(data, "access") and not foot & {"yes", "designated"}):
        return False
    tunnel = set(_tag(data, "tunnel")) - {"no"}
    sidewalk = set(_tag(data, "sidewalk")) & {"both", "left", "right", "yes", "separate"}
    return not (tunnel and highway & _CAR_ROADS and not sidewalk)


#: What ``components`` may say: keep the major pieces (default), the largest only, or all.
COMPONENTS = ("major", "largest", "all")
#: A disconnected piece with at least this share of the largest piece's street length, and at
#: least MAJOR_PIECE_M of street, is a major piece (a district cut off by a clipped extract or
#: a missing bridge), not a stray fragment (a compound path whose link is missing).
MAJOR_PIECE_SHARE, MAJOR_PIECE_M = 0.1, 1000.0


def keep_components(network: Network, components: str = "major") -> Network:
    """Keep the network's connected pieces as ``components`` says; the rest become fragments.

    ``"major"``: the largest piece and every piece with at least :data:`MAJOR_PIECE_SHARE` of
    its street length (and :data:`MAJOR_PIECE_M`), each analysed on its own (a residence
    walks within its piece; a facility in another is out of reach), with a warning naming
    the pieces and the likely cause. ``"largest"``: the largest piece only. ``"all"``: every
    piece. Edges left out become ``fragment_geometry``: a residence beside one (a compound path
    whose link is missing in the data) is attached to the kept network instead, and noted.
    """
    if components not in COMPONENTS:
        raise ValueError(f"components must be one of {COMPONENTS}, got {components!r}")
    if network.n_edges == 0 or components == "all":
        return network
    _, labels = connected_components(network.graph, directed=False)
    piece = labels[network.edge_u]
    length_m = np.bincount(piece, weights=network.edge_length_m, minlength=labels.max() + 1)
    largest = length_m.argmax()
    if components == "largest":
        major = np.array([largest])
    else:
        floor_m = max(MAJOR_PIECE_SHARE * length_m[largest], MAJOR_PIECE_M)
        major = np.union1d([largest], np.flatnonzero(length_m >= floor_m))
    keep_edge = np.isin(piece, major)
    if len(major) > 1:
        sizes = ", ".join(
            f"{np.isin(labels, [p]).sum()} nodes / {length_m[p] / 1000:.1f} km"
            for p in major[np.argsort(-length_m[major])]
        )
        log.warning(
            "the street network has %d large disconnected pieces (%s): residents in one cannot "
            "walk to facilities in another. Likely a clipped extract or a missing bridge or "
            "link; check [network] (clip_margin_m, the extract) or add the link",
            len(major),
            sizes,
        )
    if keep_edge.all():
        return network
    keep_node = np.isin(labels, major)
    index = np.full(network.n_nodes, -1, dtype=np.int64)
    index[keep_node] = np.arange(keep_node.sum())
    log.info(
        "kept %d of %d edges in %d piece(s); %d edges in %d small pieces left out",
        keep_edge.sum(),
        network.n_edges,
        len(major),
        (~keep_edge).sum(),
        len(np.unique(piece[~keep_edge])),
    )
    return replace(
        network,
        node_id=network.node_id[keep_node],
        node_x=network.node_x[keep_node],
        node_y=network.node_y[keep_node],
        edge_u=index[network.edge_u[keep_edge]],
        edge_v=index[network.edge_v[keep_edge]],
        edge_length_m=network.edge_length_m[keep_edge],
        edge_geometry=network.edge_geometry[keep_edge],
        fragment_geometry=np.concatenate(
            [network.fragment_geometry, network.edge_geometry[~keep_edge]]
        ),
        edge_name=network.edge_name[keep_edge] if len(network.edge_name) else network.edge_name,
        edge_elevated=network.edge_elevated[keep_edge]
        if len(network.edge_elevated)
        else network.edge_elevated,
    )


def network_from_graph(
    graph: nx.MultiDiGraph,
    *,
    crs: str | None = None,
    components: str = "major",
    walkable=is_walkable,
) -> Network:
    """Build a :class:`Network` from an osmnx-style graph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Nodes with ``x``/``y`` in the CRS of ``graph.graph["crs"]`` (WGS84 if absent);
        edges optionally with ``geometry`` (LineString), ``highway`` and
        ``walk_excluded_hint``.
    crs : str, optional
        Metric CRS to project into; chosen from the data if ``None``.
    components : {"major", "largest", "all"}, optional
        Which connected pieces to keep (see :func:`keep_components`).
    walkable : callable, optional
        Edge-attribute predicate; :func:`is_walkable` by default.

    Returns
    -------
    Network
        Undirected, deduplicated, projected network.
    """
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
    edges = list(graph.edges(data=True))
    street_edges = StreetEdges(
        crs=str(graph.graph.get("crs", "EPSG:4326")),
        node_id=np.asarray(nodes),
        node_xy=xy.reshape(-1, 2),
        u=np.array([index[u] for u, _, _ in edges], dtype=np.int64),
        v=np.array([index[v] for _, v, _ in edges], dtype=np.int64),
        lines=np.array([d.get("geometry") for _, _, d in edges], dtype=object),
        walkable=np.array([bool(walkable(d)) for _, _, d in edges], dtype=bool),
        name=[d.get("name") for _, _, d in edges],
        length=[d.get("length") for _, _, d in edges],
        elevated=np.array([bool(d.get("elevated", False)) for _, _, d in edges], dtype=bool),
    )
    return network_from_edges(street_edges, crs=crs, components=components)


@dataclass(frozen=True)
class StreetEdges:
    """A source street graph's nodes and edges as arrays, the walk filter applied.

    Attributes
    ----------
    crs : str
        CRS of the coordinates.
    node_id : numpy.ndarray
        Source node ids.
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates.
    u, v : numpy.ndarray
        Each edge's end nodes, as indices into ``node_id``.
    lines : numpy.ndarray
        Edge geometries (``None`` where the edge is straight).
    walkable : numpy.ndarray
        The walk filter's verdict on each edge.
    name, length : list
        Given street names (text, or lists for merged ways) and lengths; ``None`` if absent.
    elevated : numpy.ndarray
        True for edges marked ``elevated`` (a planned bridge or tunnel: no attachments);
        empty when none is.
    """

    crs: str
    node_id: np.ndarray
    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    lines: np.ndarray
    walkable: np.ndarray
    name: list
    length: list
    elevated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


def network_from_edges(
    edges: StreetEdges, *, crs: str | None = None, components: str = "major"
) -> Network:
    """Build a :class:`Network` from a street graph's edges given as arrays.

    The one place a source graph (networkx, or GraphML read as a stream) becomes a network:
    edges the walk filter refused become barriers; an edge that repeats an earlier one
    between the same nodes with the same coordinates (the other direction of a street, or a
    copy) is left out (:func:`_repeats`); everything is projected to a metric CRS.

    Parameters
    ----------
    edges : StreetEdges
        The source nodes and edges.
    crs, components :
        As for :func:`network_from_graph`.

    Returns
    -------
    Network
        Undirected, deduplicated, projected network.
    """
    if components not in COMPONENTS:
        raise ValueError(f"components must be one of {COMPONENTS}, got {components!r}")
    node_xy, u, v = edges.node_xy, edges.u, edges.v
    source_crs = CRS.from_user_input(edges.crs)
    centre = projector(source_crs, "EPSG:4326")(np.median(node_xy, axis=0, keepdims=True))[0]
    metric = resolve_metric_crs(tuple(centre), crs)
    project = projector(source_crs, metric)
    node_x, node_y = project(node_xy).T
    lines = np.asarray(edges.lines, dtype=object).copy()
    straight = np.array([g is None for g in lines], dtype=bool)
    if straight.any():
        lines[straight] = shapely.linestrings(
            np.stack([node_xy[u[straight]], node_xy[v[straight]]], axis=1)
        )
    refused = np.flatnonzero(~edges.walkable)
    refused = refused[~_repeats(u[refused], v[refused], lines[refused], node_xy)]
    kept = np.flatnonzero(edges.walkable)
    kept = kept[~_repeats(u[kept], v[kept], lines[kept], node_xy)]
    edge_geometry = _project_edge_geometries(
        list(lines[kept]), u[kept], v[kept], node_x, node_y, project
    )
    _report_lengths([edges.length[e] for e in kept], shapely.length(edge_geometry))
    network = Network(
        edge_name=np.array([_name(edges.name[e]) for e in kept], dtype=str),
        edge_elevated=edges.elevated[kept] if edges.elevated.any() else np.empty(0, dtype=bool),
        barrier_geometry=shapely.transform(lines[refused], project),
        crs=metric,
        node_id=np.asarray(edges.node_id),
        node_x=np.asarray(node_x, dtype=float),
        node_y=np.asarray(node_y, dtype=float),
        edge_u=u[kept].astype(np.int64),
        edge_v=v[kept].astype(np.int64),
        edge_length_m=shapely.length(edge_geometry),
        edge_geometry=edge_geometry,
        dropped_edges=int((~edges.walkable).sum()),
    )
    return keep_components(network, components)


def _repeats(u: np.ndarray, v: np.ndarray, lines: np.ndarray, node_xy: np.ndarray) -> np.ndarray:
    """Return whether each edge repeats an earlier one (same two nodes, same coordinates).

    Twins are recognised by their end nodes and their exact coordinates, oriented the same way
    (from the lower node; a loop so that its second vertex is the lower): never by a rounded
    length, so parallel streets between the same junctions stay two streets and the two
    directions of one street become one. Edges are ordered by nodes, vertex count and a sum
    of their coordinates, and neighbours in that order compared exactly.
    """
    n = len(lines)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    count = np.bincount(owner, minlength=n)
    start = np.cumsum(count) - count
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    first, last = xy[start], xy[start + count - 1]
    flip = np.hypot(*(first - node_xy[lo]).T) > np.hypot(*(last - node_xy[lo]).T)
    second, before_last = xy[start + np.minimum(1, count - 1)], xy[start + np.maximum(count - 2, 0)]
    loop_flip = (count > 2) & (
        (second[:, 0] > before_last[:, 0])
        | ((second[:, 0] == before_last[:, 0]) & (second[:, 1] > before_last[:, 1]))
    )
    flip = np.where(u == v, loop_flip, flip)
    k = np.arange(len(xy)) - start[owner]
    oriented = xy[np.where(flip[owner], start[owner] + count[owner] - 1 - k, start[owner] + k)]
    checksum = np.bincount(owner, weights=oriented[:, 0] + 3.0 * oriented[:, 1], minlength=n)
    order = np.lexsort((np.arange(n), checksum, count, hi, lo))
    a, b = order[:-1], order[1:]
    same = (
        (lo[a] == lo[b]) & (hi[a] == hi[b]) & (count[a] == count[b]) & (checksum[a] == checksum[b])
    )
    a, b = a[same], b[same]
    if len(a) == 0:
        return out
    c = count[a]
    offsets = np.repeat(np.cumsum(c) - c, c)
    step = np.arange(c.sum()) - offsets
    equal = oriented[np.repeat(start[a], c) + step] == oriented[np.repeat(start[b], c) + step]
    pair_equal = np.logical_and.reduceat(equal.all(axis=1), np.cumsum(c) - c)
    out[b[pair_equal]] = True
    return out


def _name(value) -> str:
    """Return a street name as text (osmnx stores merged ways' names as lists)."""
    if isinstance(value, list | tuple):
        return "/".join(dict.fromkeys(str(v) for v in value if v))
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


#: A given edge length this far (and this share) from its geometry's length is reported.
LENGTH_MISMATCH_M, LENGTH_MISMATCH_SHARE = 1.0, 0.02


def _report_lengths(given: list, measured_m: np.ndarray) -> None:
    """Log edges whose ``length`` is missing, not positive or far from their geometry.

    Walking distances always use the projected geometry's length; a source that disagrees is
    worth knowing about (a GraphML saved without lengths, or in another unit).
    """
    values = np.array([np.nan if g is None else float(g) for g in given], dtype=float)
    missing = np.isnan(values)
    not_positive = ~missing & (values <= 0)
    gap = np.abs(values - measured_m)
    far = (
        ~missing
        & ~not_positive
        & (gap > np.maximum(LENGTH_MISMATCH_M, LENGTH_MISMATCH_SHARE * measured_m))
    )
    if missing.any() or not_positive.any() or far.any():
        log.warning(
            "edge lengths computed from the projected geometry: %d edges had no length, %d a "
            "zero or negative one, %d one more than %g m (and %g %%) from their geometry's "
            "(largest gap %.0f m)",
            missing.sum(),
            not_positive.sum(),
            far.sum(),
            LENGTH_MISMATCH_M,
            LENGTH_MISMATCH_SHARE * 100,
            np.nanmax(np.where(far, gap, np.nan)) if far.any() else 0.0,
        )


def _project_edge_geometries(
    geoms: list,
    us: list[int],
    vs: list[int],
    node_x: np.ndarray,
    node_y: np.ndarray,
    project,
) -> np.ndarray:
    """Project edge geometries, fill straight lines where missing, orient each u -> v.

    ``project`` maps ``(n, 2)`` coordinates (:func:`cjgis.inputs.coords.projector`).
    """
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    out = np.empty(len(geoms), dtype=object)
    has = np.array([g is not None for g in geoms], dtype=bool)
    if has.any():
        out[has] = shapely.transform(np.array([g for g in geoms if g is not None]), project)
    straight = np.stack(
        [np.column_stack([node_x[u], node_y[u]]), np.column_stack([node_x[v], node_y[v]])], axis=1
    )
    out[~has] = shapely.linestrings(straight[~has])
    start = shapely.get_point(out, 0)
    d_u = shapely.distance(start, shapely.points(node_x[u], node_y[u]))
    d_v = shapely.distance(start, shapely.points(node_x[v], node_y[v]))
    flip = d_v < d_u
    if flip.any():
        out[flip] = shapely.reverse(out[flip])
    return out


def network_from_arrays(
    node_x: np.ndarray,
    node_y: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    *,
    crs: str,
    node_id: np.ndarray | None = None,
) -> Network:
    """Build a :class:`Network` of straight edges from arrays, without networkx.

    Parameters
    ----------
    node_x, node_y : numpy.ndarray
        Node coordinates in the metric ``crs``.
    edge_u, edge_v : numpy.ndarray
        Node indices of each undirected edge.
    crs : str
        The projected CRS of the coordinates.
    node_id : numpy.ndarray, optional
        Original node ids (positions if None).

    Returns
    -------
    Network
        Edges are straight lines; lengths are their Euclidean lengths in metres.
    """
    metric = CRS.from_user_input(crs)
    if not metric.is_projected:
        raise input_error("network arrays", f"{crs} is not projected", "give metres")
    x, y = np.asarray(node_x, dtype=float), np.asarray(node_y, dtype=float)
    u, v = np.asarray(edge_u, dtype=np.int64), np.asarray(edge_v, dtype=np.int64)
    coords = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    geometry = shapely.linestrings(coords)
    return Network(
        crs=metric,
        node_id=np.arange(len(x)) if node_id is None else np.asarray(node_id),
        node_x=x,
        node_y=y,
        edge_u=u,
        edge_v=v,
        edge_length_m=shapely.length(geometry),
        edge_geometry=geometry,
    )
