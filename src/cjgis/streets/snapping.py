"""Attach points to the nearest point of the nearest walkable edge.

A residence or facility joins the network where a straight walk to the street is shortest:
the nearest point of the nearest edge, found for all points at once: a KD-tree over short
pieces of the edges gives a few candidates per point and a distance bound proves which are
enough (exact, not approximate); the rare rest go to shapely 2's vectorised
``STRtree.query_nearest``. The straight stretch (``offset_m``) counts as walking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from cjgis.streets.network import Network


@dataclass(frozen=True)
class Attachment:
    """Where points join a network; arrays aligned with the input points.

    Attributes
    ----------
    edge : numpy.ndarray
        Index of the edge each point attaches to, ``-1`` where none lies within reach.
    position_m : numpy.ndarray
        Distance along the edge from its ``edge_u`` end to the attachment point.
    offset_m : numpy.ndarray
        Straight distance from the point to the attachment point (``inf`` if unattached).
    """

    edge: np.ndarray
    position_m: np.ndarray
    offset_m: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    @property
    def attached(self) -> np.ndarray:
        """Boolean mask of points that reached an edge."""
        return self.edge >= 0

    def subset(self, mask: np.ndarray) -> Attachment:
        """Return the attachments selected by a boolean mask or index array."""
        return Attachment(self.edge[mask], self.position_m[mask], self.offset_m[mask])


def attach_points(
    network: Network, points: np.ndarray, *, max_distance_m: float | None = None
) -> Attachment:
    """Attach each point to the nearest point of its nearest edge (bridges and tunnels not).

    Edges off the ground (:attr:`Network.edge_elevated`, a planned footbridge) take no
    attachments: a building beside a bridge deck walks from the street below.

    Parameters
    ----------
    network : Network
        The walking network (metric CRS).
    points : numpy.ndarray
        Shapely Points in the network's CRS.
    max_distance_m : float, optional
        Points farther than this from every edge stay unattached (``edge == -1``).

    Returns
    -------
    Attachment
        Edge, position along it and off-network offset for every point.
    """
    points = np.asarray(points, dtype=object)
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    position = np.full(n, np.nan)
    offset = np.full(n, np.inf)
    ground = network.ground_edges  # None: every edge; else not the bridges and tunnels
    if n == 0 or network.n_edges == 0 or (ground is not None and len(ground) == 0):
        return Attachment(edge, position, offset)
    x, y = shapely.get_x(points), shapely.get_y(points)
    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    e, pos, dist, exact = _nearest_pieces(network.piece_index, x[valid], y[valid])
    edge[valid[exact]], position[valid[exact]], offset[valid[exact]] = e, pos, dist
    rest = valid[~exact]  # a few points whose bound needs more neighbours: the R-tree
    if len(rest):
        (i, e), d = network.ground_tree.query_nearest(
            points[rest], return_distance=True, all_matches=False
        )
        e = e if ground is None else ground[e]
        edge[rest[i]], offset[rest[i]] = e, d
        position[rest[i]] = shapely.line_locate_point(network.edge_geometry[e], points[rest[i]])
    if max_distance_m is not None:
        far = offset > max_distance_m
        edge[far], position[far], offset[far] = -1, np.nan, np.inf
    return Attachment(edge, position, offset)


#: KD-tree neighbours examined per point before falling back to the R-tree.
_NEIGHBOURS = 8


def _nearest_pieces(index, x: np.ndarray, y: np.ndarray):
    """Nearest piece of every point from its KD-tree neighbours; ``exact`` where provably so."""
    k = min(_NEIGHBOURS, len(index.edge))
    mid_d, j = index.tree.query(np.column_stack([x, y]), k=k, workers=-1)
    mid_d, j = mid_d.reshape(len(x), k), j.reshape(len(x), k)
    dx, dy = index.dx[j], index.dy[j]
    px, py = x[:, None] - index.x0[j], y[:, None] - index.y0[j]
    squared = dx * dx + dy * dy
    t = np.clip((px * dx + py * dy) / np.where(squared > 0, squared, 1.0), 0.0, 1.0)
    dist = np.hypot(px - t * dx, py - t * dy)
    best = dist.argmin(axis=1)
    rows = np.arange(len(x))
    piece, d, t = j[rows, best], dist[rows, best], t[rows, best]
    exact = (k == len(index.edge)) | (mid_d[:, -1] > d + index.half_m)
    position = index.start_m[piece] + t * index.length_m[piece]
    return index.edge[piece][exact], position[exact], d[exact], exact


def attachment_points(network: Network, attachment: Attachment) -> np.ndarray:
    """Return the points on the network where each attached point joins it."""
    ok = attachment.attached
    out = np.full(len(attachment), None, dtype=object)
    xy = network.points_along(attachment.edge[ok], attachment.position_m[ok])
    out[ok] = shapely.points(xy)
    return out
