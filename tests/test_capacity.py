"""2SFCA by hand: three facilities, four residences on a line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import pts

from cjgis.judge.capacity import gaussian_weight, two_step_fca
from cjgis.reach.access import distances_within
from cjgis.streets.snapping import attach_points

# facilities at x = 0, 1000, 2000 with 10, 20, 30 places; residences at 200, 700, 1300, 1900
# with 100, 200, 300, 400 people; catchment 750 m:
#   F1 reaches R1 (200 m), R2 (700 m)        -> R_F1 = 10 / 300
#   F2 reaches R2 (300 m), R3 (300 m)        -> R_F2 = 20 / 500
#   F3 reaches R3 (700 m), R4 (100 m)        -> R_F3 = 30 / 700
SUPPLY = np.array([10.0, 20.0, 30.0])
DEMAND = np.array([100.0, 200.0, 300.0, 400.0])
RATIO = np.array([10 / 300, 20 / 500, 30 / 700])
ACCESS = np.array([10 / 300, 10 / 300 + 20 / 500, 20 / 500 + 30 / 700, 30 / 700])


def test_pairs_on_the_network(line_network):
    fac = attach_points(line_network, pts((0, 0), (1000, 0), (2000, 0)))
    res = attach_points(line_network, pts((200, 0), (700, 0), (1300, 0), (1900, 0)))
    s, t, d = distances_within(line_network, fac, res, limit_m=750)
    pairs = sorted(zip(s.tolist(), t.tolist(), np.round(d, 3).tolist(), strict=True))
    assert pairs == [(0, 0, 200), (0, 1, 700), (1, 1, 300), (1, 2, 300), (2, 2, 700), (2, 3, 100)]
    ratio, access = two_step_fca(s, t, d, SUPPLY, DEMAND, threshold_m=750)
    np.testing.assert_allclose(ratio, RATIO)
    np.testing.assert_allclose(access, ACCESS)
    assert (DEMAND * access).sum() == pytest.approx(SUPPLY.sum())  # nothing lost or doubled


def test_gaussian_decay_by_hand():
    s, t, d = np.array([0, 0]), np.array([0, 1]), np.array([0.0, 500.0])
    w = (np.exp(-0.5 * (500 / 1000) ** 2) - np.exp(-0.5)) / (1 - np.exp(-0.5))
    assert gaussian_weight(np.array([0.0, 1000.0, 1200.0]), 1000).tolist() == [1.0, 0.0, 0.0]
    ratio, access = two_step_fca(
        s, t, d, np.array([6.0]), np.array([10.0, 20.0]), threshold_m=1000, decay="gaussian"
    )
    assert ratio[0] == pytest.approx(6 / (10 + 20 * w))
    np.testing.assert_allclose(access, [ratio[0], ratio[0] * w])


def test_unreached_facility_has_no_ratio():
    ratio, access = two_step_fca(
        np.array([0]),
        np.array([0]),
        np.array([100.0]),
        np.array([5.0, 7.0]),
        np.array([10.0]),
        threshold_m=500,
    )
    assert ratio.tolist() == [0.5, 0.0] and access.tolist() == [0.5]


def test_pairs_across_the_middle_of_long_edges_are_kept():
    """Two 1 km edges: pairs on one edge (through its middle) and across the node between.

    F1 at 300 m and R1 at 700 m share the first edge: 400 m apart straight along it, 1,000 m
    by either end node, beyond the 950 m limit. F2 at 1,950 m and R2 at 1,050 m: 900 m along
    the second edge; R2 reaches F1 through the node (750 m). R3 at 950 m reaches F1 along the
    first edge (650 m); F2 is 1,000 m away through the node, beyond the limit.
    """
    from conftest import graph_from_segments

    from cjgis.streets.network import network_from_graph

    network = network_from_graph(
        graph_from_segments({0: (0, 0), 1: (1000, 0), 2: (2000, 0)}, [(0, 1), (1, 2)])
    )
    fac = attach_points(network, pts((300, 0), (1950, 0)))
    res = attach_points(network, pts((700, 0), (1050, 0), (950, 0)))
    s, t, d = distances_within(network, fac, res, limit_m=950)
    pairs = sorted(zip(s.tolist(), t.tolist(), np.round(d, 6).tolist(), strict=True))
    assert pairs == [(0, 0, 400.0), (0, 1, 750.0), (0, 2, 650.0), (1, 1, 900.0)]
    ratio, access = two_step_fca(
        s, t, d, np.array([10.0, 20.0]), np.array([100.0, 200.0, 300.0]), threshold_m=950
    )
    np.testing.assert_allclose(ratio, [10 / 600, 20 / 200])
    np.testing.assert_allclose(access, [10 / 600, 10 / 600 + 20 / 200, 10 / 600])
    # mid-edge, 500 m from either end node: no node is within 300 m, the pair is all the same
    s, t, d = distances_within(
        network,
        attach_points(network, pts((500, 0))),
        attach_points(network, pts((700, 0))),
        limit_m=300,
    )
    assert (s.tolist(), t.tolist(), np.round(d, 6).tolist()) == ([0], [0], [200.0])
