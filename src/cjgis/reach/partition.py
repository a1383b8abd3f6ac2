"""One region cut into tiles whose searches run on Dask workers, from plain arrays.

A city too big or too slow for one process is cut into tiles of about equal node counts
(:func:`balanced_tiles`) or along any labelling of its nodes (districts, say). Each tile is one
task that gets arrays only - its nodes' coordinates, its edges' ends and lengths, the facilities
and residences attached to those edges - never a networkx graph or shapely objects. It returns,
for its own (core) nodes, the walk to the nearest facility of each category, and, for the
facilities it owns, every residence within the capacity rule's limit. The parent merges them by
global node, facility and residence index; residences read their walks from the merged node
distances (:func:`cjgis.reach.access.target_distances`) as in one process.

Why it is exact. A walk is never shorter than the straight line between its ends. A tile
searches every node within ``halo_m`` of its core (a box: core nodes' extent widened by the
halo) and every edge touching those nodes; a sub-network only makes walks longer, and every
node of a walk of at most ``halo_m`` to a core node lies in the box. So a core node's walk is
exact whenever it is at most ``halo_m``. Where a residence's street ends are farther than that
from every facility of a category, those ends are searched again - a box around them, with the
halo doubled - until each is within the halo or the box covers the whole network. Walking
minutes, nearest facilities, coverage (medians and maxima included) and service areas (bands
up to the halo) are those of one process; ties between equally near facilities may name the
other one.

2SFCA needs every residence within the limit of a facility (its ratio) and every facility
within the limit of a residence (its score): a two-phase merge. Each facility belongs to the
tile of its edge's first node; that tile, its box widened to the facility's edge and then by the
halo (at least the limit), finds all of the facility's (facility, residence) pairs. The pairs
of all tiles are exactly those of one process, and :func:`cjgis.judge.capacity.two_step_fca`
runs once on them. Dask is an optional extra (``pip install cjgis[dask]``); without a client
the tiles run one after another in this process, with the same results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from cjgis.reach.access import NodeReach, concat_ranges, distances_within, node_reach
from cjgis.streets.network import Network
from cjgis.streets.snapping import Attachment

log = logging.getLogger(__name__)

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Partition:
    """How one analysis is cut into tiles, and where the tiles run.

    Attributes
    ----------
    tiles : int or numpy.ndarray
        Number of balanced tiles (:func:`balanced_tiles`), or a tile label per network node
        (any integers: districts, grid cells).
    halo_m : float, optional
        Width of the halo around each tile's core, in metres; at least the longest walking
        limit of the analysis (its default). A wider halo needs fewer repeated searches where
        walks are long, at the price of bigger tiles.
    client : dask.distributed.Client, optional
        Where the tiles run; one after another in this process if None.
    """

    tiles: int | np.ndarray = 4
    halo_m: float | None = None
    client: Any = None


@dataclass(frozen=True)
class Searches:
    """What the tiles found, merged.

    Attributes
    ----------
    reach : dict of str to NodeReach
        Per category, every node's walk to the nearest facility: exact within the first halo
        and at both ends of every residence's street; ``inf`` elsewhere.
    pairs : dict of str to tuple
        Per capacity category, ``(facility, residence, distance_m)`` within its limit.
    rounds : list of tuple
        ``(halo_m, tasks)`` of each round of searches.
    """

    reach: dict[str, NodeReach]
    pairs: dict[str, Pairs]
    rounds: list[tuple[float, int]]


def balanced_tiles(network: Network, n_tiles: int) -> np.ndarray:
    """Label each node with one of ``n_tiles`` tiles of about equal node counts.

    Columns by x, then each column cut by y (a k-d style cut): tiles are compact boxes.
    """
    n = network.n_nodes
    n_tiles = max(1, min(int(n_tiles), n))
    cols = int(np.ceil(np.sqrt(n_tiles)))
    per_col = np.full(cols, n_tiles // cols)
    per_col[: n_tiles % cols] += 1
    first = np.concatenate([[0], np.cumsum(per_col)])
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(network.node_x, kind="stable")] = np.arange(n)
    col = np.searchsorted(first, rank * n_tiles // n, side="right") - 1
    labels = np.empty(n, dtype=np.int64)
    for c in range(cols):
        members = np.flatnonzero(col == c)
        by_y = members[np.argsort(network.node_y[members], kind="stable")]
        labels[by_y] = first[c] + np.arange(len(by_y)) * per_col[c] // max(len(by_y), 1)
    return labels


def partitioned_searches(
    network: Network,
    sources: dict[str, Attachment],
    targets: Attachment,
    *,
    pair_limits_m: dict[str, float],
    partition: Partition,
    halo_m: float,
    grow: bool = True,
) -> Searches:
    """Nearest-facility walks per category and 2SFCA pairs, searched tile by tile.

    Parameters
    ----------
    network : Network
        The whole walking network.
    sources : dict of str to Attachment
        Per category, where its facilities join the network (all attached).
    targets : Attachment
        Where the residences join the network.
    pair_limits_m : dict of str to float
        Categories whose (facility, residence) pairs are wanted, with their limit.
    partition : Partition
        Tiles and client.
    halo_m : float
        Halo width; at least every pair limit (checked).
    grow : bool, optional
        Search again, with the halo doubled, where a residence's street ends are beyond the
        halo. Without it, walks longer than the halo are left too long or unreached (for tests
        that show the halo matters).

    Returns
    -------
    Searches
    """
    longest = max(pair_limits_m.values(), default=0.0)
    if halo_m < longest:
        raise ValueError(
            f"halo_m = {halo_m:g} m is narrower than the longest limit ({longest:g} m): "
            "answers would change. Fix: a halo at least as wide as the walking limit"
        )
    labels = _labels(network, partition.tiles)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    cores = dict(zip(labels[order[np.r_[0, cuts]]].tolist(), np.split(order, cuts), strict=True))
    index = _Index.of(network)
    n = network.n_nodes
    dist = {c: np.full(n, np.inf) for c in sources}
    nearest = {c: np.full(n, -1, dtype=np.int64) for c in sources}
    exact_to = np.full(n, halo_m)  # a node's walk is exact up to this
    on = targets.edge[targets.attached]
    needed = np.zeros(n, dtype=bool)
    needed[network.edge_u[on]] = needed[network.edge_v[on]] = True
    owner = {c: labels[network.edge_u[sources[c].edge]] for c in pair_limits_m}
    pending = {tile: (list(sources), core) for tile, core in cores.items()}
    pairs: dict[str, list[Pairs]] = {c: [] for c in pair_limits_m}
    rounds, halo = [], halo_m
    while pending:
        tasks = [
            _payload(
                network,
                index,
                core,
                {c: sources[c] for c in categories},
                targets,
                halo_m=halo,
                owned={c: owner[c] == tile for c in pair_limits_m} if not rounds else {},
                pair_limits_m=pair_limits_m,
            )
            for tile, (categories, core) in pending.items()
        ]
        results = _run(tasks, partition.client)
        rounds.append((halo, len(tasks)))
        log.info("partitioned searches: %d tiles, halo %.0f m", len(tasks), halo)
        again: dict[Any, tuple[list[str], np.ndarray]] = {}
        for (tile, (_, core)), task, result in zip(pending.items(), tasks, results, strict=True):
            exact_to[core] = np.inf if task["whole"] else halo
            short = np.zeros(len(core), dtype=bool)
            categories = []
            for c, (d, src) in result["reach"].items():
                dist[c][core], nearest[c][core] = d, src
                mine = needed[core] & (d > exact_to[core])
                if mine.any():
                    categories.append(c)
                    short |= mine
            for c, found in result["pairs"].items():
                pairs[c].append(found)
            if grow and categories:
                # only the street ends still short are searched again, in a smaller box
                again[tile] = (categories, core[short])
        pending, halo = again, halo * 2
    reach = {}
    for c in sources:
        beyond = dist[c] > exact_to  # not searched far enough to be exact: unknown
        reach[c] = NodeReach(np.where(beyond, np.inf, dist[c]), np.where(beyond, -1, nearest[c]))
    merged = {c: _concat(found) for c, found in pairs.items()}
    return Searches(reach=reach, pairs=merged, rounds=rounds)


def search_tile(task: dict) -> dict:
    """Run one tile's searches (a Dask task): arrays in, arrays out.

    Returns
    -------
    dict
        ``reach``: per category ``(distance_m, facility)`` of the core nodes (global facility
        index within the category, ``-1`` where none is reached); ``pairs``: per category
        ``(facility, residence, distance_m)`` of the facilities the tile owns.
    """
    net = Network(
        crs=None,
        node_id=np.arange(len(task["node_x"])),
        node_x=task["node_x"],
        node_y=task["node_y"],
        edge_u=task["edge_u"],
        edge_v=task["edge_v"],
        edge_length_m=task["edge_length_m"],
        edge_geometry=np.empty(0, dtype=object),  # a search-only network: no shapes shipped
    )
    n = len(task["node_x"])
    vars(net)["graph"] = csr_matrix(task["graph"], shape=(n, n))  # its cached property, given
    core, limit = task["core"], task["limit_m"]
    out: dict[str, dict] = {"reach": {}, "pairs": {}}
    for c, s in task["sources"].items():
        at = Attachment(s["edge"], s["position_m"], s["offset_m"])
        r = node_reach(net, at, limit_m=limit)
        src = r.source[core]
        index = s["index"][np.maximum(src, 0)] if len(s["index"]) else src
        out["reach"][c] = (r.distance_m[core], np.where(src >= 0, index, -1))
    t = task["targets"]
    targets = Attachment(t["edge"], t["position_m"], t["offset_m"]) if t else None
    for c, owned in task["owned"].items():
        s = task["sources"][c]
        at = Attachment(s["edge"], s["position_m"], s["offset_m"]).subset(owned)
        i, j, d = distances_within(net, at, targets, limit_m=task["pair_limits_m"][c])
        out["pairs"][c] = (s["index"][owned][i], t["index"][j], d)
    return out


@dataclass(frozen=True)
class _Index:
    """Lookups the payloads need: nodes sorted by x, edges per node, the network's extent."""

    by_x: np.ndarray
    sorted_x: np.ndarray
    incident: tuple[np.ndarray, np.ndarray, np.ndarray]
    extent: tuple[float, float, float, float]

    @classmethod
    def of(cls, network: Network) -> _Index:
        by_x = np.argsort(network.node_x, kind="stable")
        x, y = network.node_x, network.node_y
        return cls(by_x, x[by_x], network.incident_edges, (x.min(), y.min(), x.max(), y.max()))


def _payload(network, index: _Index, core, sources, targets, *, halo_m, owned, pair_limits_m):
    """Return one tile's task: its box's nodes, the edges touching them, what is on them."""
    xs, ys = [network.node_x[core]], [network.node_y[core]]
    for c, mine in owned.items():  # an owned facility's whole edge lies in the widened box
        e = sources[c].edge[mine]
        for end in (network.edge_u[e], network.edge_v[e]):
            xs.append(network.node_x[end])
            ys.append(network.node_y[end])
    x, y = np.concatenate(xs), np.concatenate(ys)
    x0, y0, x1, y1 = x.min() - halo_m, y.min() - halo_m, x.max() + halo_m, y.max() + halo_m
    ex0, ey0, ex1, ey1 = index.extent
    whole = x0 <= ex0 and y0 <= ey0 and x1 >= ex1 and y1 >= ey1
    lo = np.searchsorted(index.sorted_x, x0, side="left")
    hi = np.searchsorted(index.sorted_x, x1, side="right")
    band = index.by_x[lo:hi]
    y_band = network.node_y[band]
    in_box = band[(y_band >= y0) & (y_band <= y1)]
    start, end, incident = index.incident
    edges = _members(incident[concat_ranges(start[in_box], end[in_box])], network.n_edges)
    nodes = _members(
        np.concatenate([in_box, network.edge_u[edges], network.edge_v[edges]]), network.n_nodes
    )
    graph = network.graph[nodes][:, nodes]  # the city's own matrix, cut: nothing rebuilt
    local_edge = np.full(network.n_edges, -1, dtype=np.int64)
    local_edge[edges] = np.arange(len(edges))

    def on_tile(att: Attachment) -> dict:
        """Return the attachments on the tile's edges, in local edge numbers, and their rows."""
        rows = np.flatnonzero((att.edge >= 0) & (local_edge[np.maximum(att.edge, 0)] >= 0))
        return {
            "edge": local_edge[att.edge[rows]],
            "position_m": att.position_m[rows],
            "offset_m": att.offset_m[rows],
            "index": rows,
        }

    shipped = {c: on_tile(att) for c, att in sources.items()}
    own = {c: mine[shipped[c]["index"]] for c, mine in owned.items() if c in shipped}
    t = on_tile(targets) if own else None
    return {
        "graph": (graph.data, graph.indices, graph.indptr),
        "node_x": network.node_x[nodes],
        "node_y": network.node_y[nodes],
        "edge_u": np.searchsorted(nodes, network.edge_u[edges]),
        "edge_v": np.searchsorted(nodes, network.edge_v[edges]),
        "edge_length_m": network.edge_length_m[edges],
        "core": np.searchsorted(nodes, core),
        "limit_m": np.inf if whole else halo_m,
        "whole": bool(whole),
        "sources": shipped,
        "owned": own,
        "pair_limits_m": dict(pair_limits_m),
        "targets": t,
    }


def _labels(network: Network, tiles) -> np.ndarray:
    if np.ndim(tiles) == 0:
        return balanced_tiles(network, int(tiles))
    labels = np.asarray(tiles)
    if labels.shape != (network.n_nodes,):
        raise ValueError(
            f"tiles: {labels.shape[0]} labels for {network.n_nodes} network nodes. Fix: one "
            "label per node (network.node_x order), or a number of tiles"
        )
    return labels


def _run(tasks: list[dict], client) -> list[dict]:
    if client is None:
        return [search_tile(task) for task in tasks]
    shipped = client.scatter(tasks)  # the arrays go to the workers as data, not in the graph
    return client.gather(client.map(search_tile, shipped, pure=False))


def _members(items: np.ndarray, n: int) -> np.ndarray:
    """Return the distinct values of ``items`` (all in ``range(n)``), sorted."""
    seen = np.zeros(n, dtype=bool)
    seen[items] = True
    return np.flatnonzero(seen)


def _concat(found: list[Pairs]) -> Pairs:
    if not found:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([])
    return tuple(np.concatenate(part) for part in zip(*found, strict=True))
