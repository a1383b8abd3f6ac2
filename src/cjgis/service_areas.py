"""Service areas: the part of the street network reached within a walking budget.

A service area is the reached network, not a circle or a convex hull: every edge whose
whole length is within the budget, the reached stretch of each partly reached edge, the
stretch around each facility on its own edge, and the facility's walk to the street, widened
by ``buffer_m`` on each side (where doors open onto the street). Rivers, rail yards and
gated land that no street crosses stay outside.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.ops import substring

from cjgis.access import NodeReach, node_reach, per_source_reach
from cjgis.network import Network
from cjgis.snapping import Attachment, attachment_points

_QUAD_SEGS = 4
#: Up to this many reached edges, areas are the exact union of buffered pieces; above it
#: (a city), they are rasterised (:func:`raster_band_areas`), which scales with the area.
EXACT_MAX_EDGES = 20_000
#: Largest raster for one category; the cell grows to keep within it (a city: about 15 m).
MAX_CELLS = 8_000_000
#: Smallest raster cell in metres.
MIN_CELL_M = 2.0


def reached_lines(
    network: Network,
    reach: NodeReach,
    sources: Attachment,
    *,
    budget_m: float,
    source_points: np.ndarray | None = None,
) -> np.ndarray:
    """Return the pieces of network reached within ``budget_m`` of the sources.

    Parameters
    ----------
    network : Network
        The walking network.
    reach : NodeReach
        Node distances from these sources (:func:`cjgis.access.node_reach`).
    sources : Attachment
        Where the sources join the network.
    budget_m : float
        Walking budget in metres.
    source_points : numpy.ndarray, optional
        The sources' own points; if given, their walk to the street is included.

    Returns
    -------
    numpy.ndarray
        Shapely geometries: whole and partial edges, connectors, and, as points, nodes
        reached with nothing to spare (no piece of edge starts there, yet they are inside).
    """
    length = network.edge_length_m
    left_u = budget_m - reach.distance_m[network.edge_u]
    left_v = budget_m - reach.distance_m[network.edge_v]
    full = (left_u >= length) | (left_v >= length)
    full |= (left_u >= 0) & (left_v >= 0) & (left_u + left_v >= length)
    pieces = list(network.edge_geometry[full])
    geoms = network.edge_geometry
    for e in np.flatnonzero(~full & (left_u > 0)):
        pieces.append(substring(geoms[e], 0.0, left_u[e]))
    for e in np.flatnonzero(~full & (left_v > 0)):
        pieces.append(substring(geoms[e], length[e] - left_v[e], length[e]))
    left_s = budget_m - sources.offset_m
    for i in np.flatnonzero(left_s > 0):
        e, pos = sources.edge[i], sources.position_m[i]
        start, end = max(pos - left_s[i], 0.0), min(pos + left_s[i], length[e])
        pieces.append(substring(geoms[e], start, end))
    if source_points is not None:
        near = left_s >= 0
        ends = shapely.get_coordinates(attachment_points(network, sources.subset(near)))
        starts = shapely.get_coordinates(source_points[near])
        pieces.extend(shapely.linestrings(np.stack([starts, ends], axis=1)))
    # a node reached with nothing to spare has no piece of its own: keep it as a point
    spare = budget_m - reach.distance_m
    exact_nodes = np.flatnonzero((spare >= 0) & (spare < 1e-6))
    pieces.extend(shapely.points(network.node_x[exact_nodes], network.node_y[exact_nodes]))
    return np.asarray(pieces, dtype=object)


def area_from_lines(lines: np.ndarray, *, buffer_m: float) -> shapely.Geometry:
    """Widen reached lines by ``buffer_m`` and dissolve them into one (multi)polygon."""
    if len(lines) == 0:
        return shapely.Polygon()
    # Buffering each piece and dissolving once is ~16x faster than buffering one collection
    # (GEOS, 700 pieces of the sample district: 0.06 s against 0.92 s).
    pieces = shapely.buffer(np.asarray(lines, dtype=object), buffer_m, quad_segs=_QUAD_SEGS)
    return shapely.union_all(pieces)


def band_areas(
    network: Network,
    sources: Attachment,
    reach: NodeReach,
    *,
    budgets_m: tuple[float, ...],
    buffer_m: float,
    source_points: np.ndarray | None = None,
    cell_m: float | None = None,
) -> list[shapely.Geometry]:
    """Nested service areas for several walking budgets, from one multi-source search.

    Exact (:func:`area_from_lines`) for a district; rasterised (:func:`raster_band_areas`)
    when more than :data:`EXACT_MAX_EDGES` edges are reached or when ``cell_m`` is given.

    Parameters
    ----------
    network, sources, reach :
        As for :func:`reached_lines`.
    budgets_m : tuple of float
        Walking budgets in metres, one area each.
    buffer_m : float
        Street half-width in metres.
    source_points : numpy.ndarray, optional
        Facility points, to include their walk to the street.
    cell_m : float, optional
        Force the raster method with this cell size.

    Returns
    -------
    list of shapely.Geometry
        One (multi)polygon per budget.
    """
    top = max(budgets_m, default=0.0)
    ends = np.minimum(reach.distance_m[network.edge_u], reach.distance_m[network.edge_v])
    if cell_m is None and int((ends <= top).sum()) <= EXACT_MAX_EDGES:
        return [
            area_from_lines(
                reached_lines(network, reach, sources, budget_m=b, source_points=source_points),
                buffer_m=buffer_m,
            )
            for b in budgets_m
        ]
    return raster_band_areas(
        network,
        sources,
        reach,
        budgets_m=budgets_m,
        buffer_m=buffer_m,
        source_points=source_points,
        cell_m=cell_m,
    )


def _walk_samples(
    network: Network,
    sources: Attachment,
    reach: NodeReach,
    *,
    budget_m: float,
    step_m: float,
    source_points: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` along the reached network, with their walking distance."""
    length = network.edge_length_m
    d_u, d_v = reach.distance_m[network.edge_u], reach.distance_m[network.edge_v]
    edges = np.flatnonzero(np.minimum(d_u, d_v) <= budget_m)
    count = np.ceil(length[edges] / step_m).astype(np.int64) + 1
    edge = np.repeat(edges, count)
    first = np.repeat(np.cumsum(count) - count, count)
    k = np.arange(len(edge)) - first
    pos = length[edge] * k / np.repeat(np.maximum(count - 1, 1), count)  # 0-length edges: 0
    walk = np.minimum(d_u[edge] + pos, d_v[edge] + length[edge] - pos)
    # stretches from each source along its own edge (shorter than via either end)
    left = budget_m - sources.offset_m
    near = np.flatnonzero(left > 0)
    span = np.minimum(left[near], length[sources.edge[near]])
    n_src = np.ceil(2 * span / step_m).astype(np.int64) + 1
    src = np.repeat(near, n_src)
    t = (np.arange(len(src)) - np.repeat(np.cumsum(n_src) - n_src, n_src)) / np.repeat(
        np.maximum(n_src - 1, 1), n_src
    )
    src_pos = np.clip(
        sources.position_m[src] + (2 * t - 1) * np.repeat(span, n_src), 0, length[sources.edge[src]]
    )
    edge = np.concatenate([edge, sources.edge[src]])
    pos = np.concatenate([pos, src_pos])
    walk = np.concatenate([walk, sources.offset_m[src] + np.abs(src_pos - sources.position_m[src])])
    xy = network.points_along(edge, pos)
    if source_points is not None and len(near):
        # the walk from the facility to its street: a straight line of length offset_m
        ends = shapely.get_coordinates(attachment_points(network, sources.subset(near)))
        starts = shapely.get_coordinates(source_points[near])
        n_con = np.ceil(sources.offset_m[near] / step_m).astype(np.int64) + 1
        c = np.repeat(np.arange(len(near)), n_con)
        f = (np.arange(len(c)) - np.repeat(np.cumsum(n_con) - n_con, n_con)) / np.maximum(
            np.repeat(n_con - 1, n_con), 1
        )
        xy = np.concatenate([xy, starts[c] + (ends[c] - starts[c]) * f[:, None]])
        walk = np.concatenate([walk, sources.offset_m[near][c] * f])
    return xy[:, 0], xy[:, 1], walk


def raster_band_areas(
    network: Network,
    sources: Attachment,
    reach: NodeReach,
    *,
    budgets_m: tuple[float, ...],
    buffer_m: float,
    source_points: np.ndarray | None = None,
    cell_m: float | None = None,
) -> list[shapely.Geometry]:
    """Nested service areas by rasterising the reached network (scales to a city).

    The reached network is sampled every half cell with each sample's walking distance
    (partial edges included), each cell keeps its shortest walk, and for each budget the
    cells within ``buffer_m`` of a reached cell (a Euclidean distance transform) are
    polygonised: a cell is in when its centre lies within ``buffer_m`` of a reached sample
    (a distance transform decides all cells but a ring along the edge, where a KD-tree of the
    samples does). By construction, with cell size ``c``: every raster point lies within
    ``buffer_m + c/√2`` of the reached lines, and every point within ``buffer_m`` of them lies
    within ``c/2 + c·√2`` of the raster (samples are ``c/2`` apart; pixels are ``c`` wide).
    The tests check both bounds on the real Hangzhou streets at 4 m and 10 m cells.

    Parameters
    ----------
    network, sources, reach, budgets_m, buffer_m, source_points :
        As for :func:`band_areas`.
    cell_m : float, optional
        Cell size in metres; by default the smallest (at least :data:`MIN_CELL_M`) that keeps
        the raster within :data:`MAX_CELLS`.

    Returns
    -------
    list of shapely.Geometry
        One MultiPolygon per budget (in the network's CRS).
    """
    from rasterio.features import shapes
    from rasterio.transform import from_origin
    from scipy.ndimage import distance_transform_edt
    from scipy.spatial import cKDTree

    top = max(budgets_m, default=0.0)
    x0, x1 = network.node_x.min(), network.node_x.max()
    y0, y1 = network.node_y.min(), network.node_y.max()
    if cell_m is None:
        cell_m = max(MIN_CELL_M, float(np.sqrt((x1 - x0) * (y1 - y0) / MAX_CELLS)))
    x, y, walk = _walk_samples(
        network, sources, reach, budget_m=top, step_m=cell_m / 2, source_points=source_points
    )
    if len(walk) == 0:
        return [shapely.MultiPolygon() for _ in budgets_m]
    pad = buffer_m + 2 * cell_m
    left, top_y = x.min() - pad, y.max() + pad
    width = int(np.ceil((x.max() + pad - left) / cell_m))
    height = int(np.ceil((top_y - (y.min() - pad)) / cell_m))
    col = ((x - left) / cell_m).astype(np.int64)
    row = ((top_y - y) / cell_m).astype(np.int64)
    cell = row * width + col
    order = np.argsort(cell, kind="stable")
    starts = np.flatnonzero(np.r_[True, cell[order][1:] != cell[order][:-1]])
    best = np.full(height * width, np.inf)
    best[cell[order][starts]] = np.minimum.reduceat(walk[order], starts)  # shortest per cell
    best = best.reshape(height, width)
    centre_x = left + (np.arange(width) + 0.5) * cell_m
    centre_y = top_y - (np.arange(height) + 0.5) * cell_m
    transform = from_origin(left, top_y, cell_m, cell_m)
    half_diagonal = cell_m * np.sqrt(0.5)
    areas, inner = [None] * len(budgets_m), np.zeros((height, width), dtype=bool)
    for i in np.argsort(budgets_m, kind="stable"):
        # centre-to-centre distance to the nearest reached cell decides every cell but a ring
        # about the edge; there, the distance to the nearest reached sample itself does
        centres_m = distance_transform_edt(best > budgets_m[i], sampling=cell_m)
        near = centres_m <= buffer_m - half_diagonal
        ring = np.nonzero(~near & (centres_m <= buffer_m + half_diagonal))
        reached = walk <= budgets_m[i]
        tree = cKDTree(np.column_stack([x[reached], y[reached]]))
        gap, _ = tree.query(np.column_stack([centre_x[ring[1]], centre_y[ring[0]]]))
        near[ring] = gap <= buffer_m
        near |= inner  # what a smaller budget reaches, a larger one does
        inner = near
        polygons = [
            shapely.geometry.shape(g)
            for g, _ in shapes(near.astype(np.uint8), mask=near, transform=transform)
        ]
        areas[i] = shapely.MultiPolygon(polygons)
    return areas


def category_service_area(
    network: Network,
    sources: Attachment,
    *,
    budget_m: float,
    buffer_m: float,
    source_points: np.ndarray | None = None,
    reach: NodeReach | None = None,
) -> shapely.Geometry:
    """Dissolved service area of all sources of one category (see :func:`band_areas`).

    Parameters
    ----------
    network : Network
        The walking network.
    sources : Attachment
        Facilities of the category.
    budget_m, buffer_m : float
        Walking budget and street half-width in metres.
    source_points : numpy.ndarray, optional
        Facility points, to include their walk to the street.
    reach : NodeReach, optional
        Reuse a multi-source search already run (with a limit of at least ``budget_m``).

    Returns
    -------
    shapely.Geometry
        (Multi)polygon; empty if nothing is reached.
    """
    if reach is None:
        reach = node_reach(network, sources, limit_m=budget_m)
    (area,) = band_areas(
        network,
        sources,
        reach,
        budgets_m=(budget_m,),
        buffer_m=buffer_m,
        source_points=source_points,
    )
    return area


def facility_service_areas(
    network: Network,
    sources: Attachment,
    *,
    budget_m: float,
    buffer_m: float,
    source_points: np.ndarray | None = None,
) -> list[shapely.Geometry]:
    """One service area per source, each from a search limited to ``budget_m``.

    Built on demand: a limited search per facility is cheap for a district, and for a city
    the dissolved :func:`category_service_area` needs a single search.
    """
    areas = []
    for i, reach in per_source_reach(network, sources, limit_m=budget_m):
        own = sources.subset(np.array([i]))
        points = None if source_points is None else source_points[[i]]
        lines = reached_lines(network, reach, own, budget_m=budget_m, source_points=points)
        areas.append(area_from_lines(lines, buffer_m=buffer_m))
    return areas
