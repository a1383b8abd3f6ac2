"""Attach points to the nearest point of the nearest walkable edge.

A residence or facility joins the network where a straight walk to the street is shortest:
the nearest point of the nearest edge, found for all points at once with shapely 2's
vectorised ``STRtree.query_nearest``. The straight stretch (``offset_m``) counts as walking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from cjgis.network import Network


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
    """Attach each point to the nearest point of its nearest edge.

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
    if n == 0:
        return Attachment(edge, position, offset)
    hits, distances = network.edge_tree.query_nearest(
        points, max_distance=max_distance_m, return_distance=True, all_matches=False
    )
    point_idx, edge_idx = hits
    edge[point_idx] = edge_idx
    offset[point_idx] = distances
    position[point_idx] = shapely.line_locate_point(
        network.edge_geometry[edge_idx], points[point_idx]
    )
    return Attachment(edge, position, offset)


def attachment_points(network: Network, attachment: Attachment) -> np.ndarray:
    """Return the points on the network where each attached point joins it."""
    ok = attachment.attached
    out = np.full(len(attachment), None, dtype=object)
    out[ok] = shapely.line_interpolate_point(
        network.edge_geometry[attachment.edge[ok]], attachment.position_m[ok]
    )
    return out
