"""Walking distances from the nearest of many facilities: one multi-source pass.

Each facility becomes a virtual node with one-way links to both ends of the edge it is
attached to, weighted by its off-network stretch plus the partial edge. One call of
``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` from all virtual nodes then gives,
for every network node, the distance to the nearest facility and which facility it is.
A residence adds its own partial edge and off-network stretch; a residence on the same edge
as a facility may also walk straight along that edge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cjgis.streets.network import MIN_EDGE_WEIGHT_M, Network
from cjgis.streets.snapping import Attachment


@dataclass(frozen=True)
class NodeReach:
    """Distance from every network node to its nearest source.

    Attributes
    ----------
    distance_m : numpy.ndarray
        Per node; ``inf`` where no source is reached (within the limit).
    source : numpy.ndarray
        Per node, index of the nearest source; ``-1`` where none is reached.
    """

    distance_m: np.ndarray
    source: np.ndarray


def graph_with_sources(network: Network, sources: Attachment) -> csr_matrix:
    """Return the network's CSR graph with one virtual node per source appended.

    Virtual node ``n + i`` has one-way links to both ends of source ``i``'s edge, weighted by
    its offset plus the partial edge to that end. Existing rows are untouched, so the new
    matrix shares its layout with the network's (no sort).
    """
    base = network.graph
    n, k = network.n_nodes, len(sources)
    e = sources.edge
    length = network.edge_length_m[e]
    cols = np.column_stack([network.edge_u[e], network.edge_v[e]]).ravel()
    weights = np.column_stack(
        [sources.offset_m + sources.position_m, sources.offset_m + length - sources.position_m]
    ).ravel()
    indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, k + 1)])
    indices = np.concatenate([base.indices, cols]).astype(base.indices.dtype, copy=False)
    data = np.concatenate([base.data, np.maximum(weights, MIN_EDGE_WEIGHT_M)])
    return csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def node_reach(network: Network, sources: Attachment, *, limit_m: float = np.inf) -> NodeReach:
    """Distance from every node to the nearest source, by one multi-source Dijkstra.

    Parameters
    ----------
    network : Network
        The walking network.
    sources : Attachment
        Where the sources (facilities) join the network; all must be attached.
    limit_m : float, optional
        Stop the search beyond this distance (nodes farther away get ``inf``).

    Returns
    -------
    NodeReach
        Per-node distance and nearest-source index.
    """
    n, k = network.n_nodes, len(sources)
    if k == 0:
        return NodeReach(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
    if not sources.attached.all():
        raise ValueError("every source must be attached to the network")
    graph = graph_with_sources(network, sources)
    dist, _pred, origin = dijkstra(
        graph,
        directed=True,
        indices=np.arange(n, n + k),
        limit=limit_m,
        min_only=True,
        return_predecessors=True,
    )
    source = np.where(np.isfinite(dist[:n]), origin[:n] - n, -1).astype(np.int64)
    return NodeReach(dist[:n], source)


def target_distances(
    network: Network, reach: NodeReach, sources: Attachment, targets: Attachment
) -> tuple[np.ndarray, np.ndarray]:
    """Return the walking distance from each target to its nearest source.

    Parameters
    ----------
    network : Network
        The walking network.
    reach : NodeReach
        Result of :func:`node_reach` for ``sources``.
    sources, targets : Attachment
        Where sources and targets join the network.

    Returns
    -------
    distance_m : numpy.ndarray
        Per target: offset + partial edge + network distance (``inf`` if unreached).
    nearest : numpy.ndarray
        Per target, index of the nearest source (``-1`` if unreached).
    """
    nt = len(targets)
    dist = np.full(nt, np.inf)
    nearest = np.full(nt, -1, dtype=np.int64)
    ok = np.flatnonzero(targets.attached)
    e = targets.edge[ok]
    pos = targets.position_m[ok]
    u, v = network.edge_u[e], network.edge_v[e]
    via_u = reach.distance_m[u] + pos
    via_v = reach.distance_m[v] + network.edge_length_m[e] - pos
    use_v = via_v < via_u
    dist[ok] = np.where(use_v, via_v, via_u)
    nearest[ok] = np.where(use_v, reach.source[v], reach.source[u])
    _along_same_edge(sources, targets, dist, nearest)
    reached = np.isfinite(dist)
    dist[reached] += targets.offset_m[reached]
    nearest[~reached] = -1
    return dist, nearest


def _along_same_edge(
    sources: Attachment, targets: Attachment, dist: np.ndarray, nearest: np.ndarray
) -> None:
    """Lower ``dist``/``nearest`` in place where a source on the target's edge is nearer."""
    if len(sources) == 0:
        return
    order = np.argsort(sources.edge, kind="stable")
    src_edge = sources.edge[order]
    lo = np.searchsorted(src_edge, targets.edge, side="left")
    hi = np.searchsorted(src_edge, targets.edge, side="right")
    count = np.where(targets.attached, hi - lo, 0)
    if count.sum() == 0:
        return
    tgt = np.repeat(np.arange(len(targets)), count)
    first = np.repeat(lo, count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    src = order[first + step]
    along = np.abs(targets.position_m[tgt] - sources.position_m[src]) + sources.offset_m[src]
    best = np.lexsort((along, tgt))
    keep = best[np.r_[True, tgt[best][1:] != tgt[best][:-1]]]
    better = along[keep] < dist[tgt[keep]]
    dist[tgt[keep][better]] = along[keep][better]
    nearest[tgt[keep][better]] = src[keep][better]


def walking_distances(
    network: Network, sources: Attachment, targets: Attachment, *, limit_m: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each target to the nearest source: one search for all sources.

    Parameters
    ----------
    network : Network
        The walking network.
    sources, targets : Attachment
        Attachments of facilities and residences.
    limit_m : float, optional
        Search limit in metres; targets beyond it get ``inf``.

    Returns
    -------
    distance_m, nearest : numpy.ndarray
        See :func:`target_distances`.
    """
    reach = node_reach(network, sources, limit_m=limit_m)
    dist, nearest = target_distances(network, reach, sources, targets)
    dist[dist > limit_m] = np.inf
    nearest[~np.isfinite(dist)] = -1
    return dist, nearest


def tile_reach(
    network: Network, sources: Attachment, *, limit_m: float
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each source's own distances within ``limit_m``, searched tile by tile.

    Sources are grouped in squares of :data:`TILE_M`; each group is searched on the nodes that
    can lie within ``limit_m`` of it (a walk is never shorter than the straight line, so the
    distances are exact), not on the whole city. For per-facility service areas and for
    2SFCA, where every facility in reach counts, not only the nearest.

    Yields
    ------
    rows : numpy.ndarray
        Indices into ``sources`` (attached ones only).
    nodes : numpy.ndarray
        The tile's network nodes.
    node_dist : numpy.ndarray
        ``(len(rows), len(nodes) + 1)`` walking distances, ``inf`` beyond ``limit_m``; the last
        column is ``inf``, for lookups of nodes outside the tile.
    """
    n = network.n_nodes
    graph = graph_with_sources(network, sources)
    for rows, nodes in _tiles(network, sources, limit_m=limit_m):
        keep = np.concatenate([nodes, n + rows])
        dist = np.atleast_2d(
            dijkstra(
                graph[keep][:, keep],
                directed=True,
                indices=len(nodes) + np.arange(len(rows)),
                limit=limit_m,
            )
        )
        node_dist = dist[:, : len(nodes) + 1]
        node_dist[:, len(nodes)] = np.inf  # the column of every node outside the tile
        yield rows, nodes, node_dist


def distances_within(
    network: Network, sources: Attachment, targets: Attachment, *, limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within ``limit_m`` walking, with its distance.

    Used where capacity is shared among all facilities in reach (2SFCA), not only the nearest.

    Returns
    -------
    source, target : numpy.ndarray
        Indices into ``sources`` and ``targets``.
    distance_m : numpy.ndarray
        Walking distance of each pair, at most ``limit_m``.
    """
    n, n_edges = network.n_nodes, network.n_edges
    node_lo, node_hi, node_edges = network.incident_edges
    t_edge_all = np.where(targets.attached, targets.edge, -1)
    t_order = np.argsort(t_edge_all, kind="stable")
    t_edge = t_edge_all[t_order]
    found_s, found_t, found_d = [], [], []
    local = np.full(n, -1, dtype=np.int64)  # global node -> column of the tile's matrix
    for rows, nodes, node_dist in tile_reach(network, sources, limit_m=limit_m):
        local[nodes] = np.arange(len(nodes))
        # (source, edge) pairs: edges touching a reached node, and each source's own edge
        row, col = np.nonzero(node_dist[:, : len(nodes)] <= limit_m)
        node = nodes[col]
        pair_row = np.concatenate(
            [np.repeat(row, node_hi[node] - node_lo[node]), np.arange(len(rows))]
        )
        pair_edge = np.concatenate(
            [node_edges[concat_ranges(node_lo[node], node_hi[node])], sources.edge[rows]]
        )
        key = np.unique(pair_row * n_edges + pair_edge)
        pair_row, pair_edge = key // n_edges, key % n_edges
        # (source, target) pairs: the targets on those edges
        lo = np.searchsorted(t_edge, pair_edge, side="left")
        hi = np.searchsorted(t_edge, pair_edge, side="right")
        src_row = np.repeat(pair_row, hi - lo)
        tgt = t_order[concat_ranges(lo, hi)]
        e, pos = targets.edge[tgt], targets.position_m[tgt]
        col_u, col_v = local[network.edge_u[e]], local[network.edge_v[e]]
        col_u[col_u < 0], col_v[col_v < 0] = len(nodes), len(nodes)
        walk = np.minimum(
            node_dist[src_row, col_u] + pos,
            node_dist[src_row, col_v] + network.edge_length_m[e] - pos,
        )
        local[nodes] = -1
        i = rows[src_row]
        same = e == sources.edge[i]  # along the shared edge, without passing a node
        walk[same] = np.minimum(
            walk[same],
            np.abs(pos[same] - sources.position_m[i[same]]) + sources.offset_m[i[same]],
        )
        walk += targets.offset_m[tgt]
        hit = walk <= limit_m
        found_s.append(i[hit])
        found_t.append(tgt[hit])
        found_d.append(walk[hit])
    if not found_s:
        return np.array([], dtype=int), np.array([], dtype=int), np.array([])
    return np.concatenate(found_s), np.concatenate(found_t), np.concatenate(found_d)


#: Sources are grouped in squares this size for :func:`distances_within`.
TILE_M = 4000.0


def _tiles(network: Network, sources: Attachment, *, limit_m: float):
    """Yield (sources of a square tile, the nodes that can be within ``limit_m`` of them).

    A walk is never shorter than the straight line, and leaves a source's edge at one of its
    two ends: every node a source reaches within ``limit_m`` - and every street on the way -
    lies within ``limit_m`` of one end of the source's edge. Searching the nodes of that box
    gives the exact distances, on a graph of thousands of nodes instead of the whole city.
    Only node coordinates are used (no edge geometry), so a search-only network works too.
    """
    ok = np.flatnonzero(sources.attached)
    if len(ok) == 0:
        return
    if not np.isfinite(limit_m):
        yield ok, np.arange(network.n_nodes)
        return
    e = sources.edge[ok]
    ends_x = np.column_stack([network.node_x[network.edge_u[e]], network.node_x[network.edge_v[e]]])
    ends_y = np.column_stack([network.node_y[network.edge_u[e]], network.node_y[network.edge_v[e]]])
    lo = np.column_stack([ends_x.min(axis=1), ends_y.min(axis=1)])
    hi = np.column_stack([ends_x.max(axis=1), ends_y.max(axis=1)])
    mid = (lo + hi) / 2
    cell = np.floor((mid - mid.min(axis=0)) / TILE_M).astype(np.int64)
    key = cell[:, 0] * (cell[:, 1].max() + 1) + cell[:, 1]
    order = np.argsort(key, kind="stable")
    bins = _node_bins(network)
    for group in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        (x0, y0), (x1, y1) = lo[group].min(axis=0) - limit_m, hi[group].max(axis=0) + limit_m
        near = bins.within(x0, y0, x1, y1)
        x, y = network.node_x[near], network.node_y[near]
        yield ok[group], np.sort(near[(x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)])


@dataclass(frozen=True)
class _NodeBins:
    """Nodes sorted by square bins (column, then row): a box's candidates in a few slices."""

    x0: float
    y0: float
    size_m: float
    rows: int
    key: np.ndarray  # sorted bin key (column * rows + row) of each node in ``node``
    node: np.ndarray

    def within(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Nodes in the bins a box touches (a superset of the nodes in the box)."""
        c0, c1 = (int(np.floor((v - self.x0) / self.size_m)) for v in (x0, x1))
        r0 = max(int(np.floor((y0 - self.y0) / self.size_m)), 0)
        r1 = min(int(np.floor((y1 - self.y0) / self.size_m)), self.rows - 1)
        columns = range(max(c0, 0), c1 + 1)
        lo = np.searchsorted(self.key, [c * self.rows + r0 for c in columns], "left")
        hi = np.searchsorted(self.key, [c * self.rows + r1 for c in columns], "right")
        return self.node[concat_ranges(lo, hi)] if len(lo) else self.node[:0]


#: Bin size of :func:`_node_bins`: an eighth of a tile.
_BIN_M = TILE_M / 8


def _node_bins(network: Network) -> _NodeBins:
    x0, y0 = float(network.node_x.min()), float(network.node_y.min())
    col = np.floor((network.node_x - x0) / _BIN_M).astype(np.int64)
    row = np.floor((network.node_y - y0) / _BIN_M).astype(np.int64)
    rows = int(row.max()) + 1
    key = col * rows + row
    node = np.argsort(key, kind="stable")
    return _NodeBins(x0, y0, _BIN_M, rows, key[node], node)


def concat_ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(lo[i], hi[i])`` over ``i``, vectorised."""
    count = hi - lo
    return np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(count.sum())
