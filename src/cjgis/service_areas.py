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
        Shapely geometries: whole and partial edges, connectors, and reached nodes as points
        (so a node reached with nothing to spare is still inside).
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
    reached_nodes = np.flatnonzero(reach.distance_m <= budget_m)
    pieces.extend(shapely.points(network.node_x[reached_nodes], network.node_y[reached_nodes]))
    return np.asarray(pieces, dtype=object)


def area_from_lines(lines: np.ndarray, *, buffer_m: float) -> shapely.Geometry:
    """Widen reached lines by ``buffer_m`` and dissolve them into one (multi)polygon."""
    if len(lines) == 0:
        return shapely.Polygon()
    # Buffering each piece and dissolving once is ~16x faster than buffering one collection
    # (GEOS, 700 pieces of the sample district: 0.06 s against 0.92 s).
    pieces = shapely.buffer(np.asarray(lines, dtype=object), buffer_m, quad_segs=_QUAD_SEGS)
    return shapely.union_all(pieces)


def category_service_area(
    network: Network,
    sources: Attachment,
    *,
    budget_m: float,
    buffer_m: float,
    source_points: np.ndarray | None = None,
    reach: NodeReach | None = None,
) -> shapely.Geometry:
    """Dissolved service area of all sources of one category.

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
    lines = reached_lines(network, reach, sources, budget_m=budget_m, source_points=source_points)
    return area_from_lines(lines, buffer_m=buffer_m)


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
