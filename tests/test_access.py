"""Walking distances: exact answers on hand-built networks, oracles on the real streets."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import pts

from cjgis.reach.access import walking_distances
from cjgis.streets.snapping import attach_points


def walk(network, facilities, residences, **kw):
    return walking_distances(
        network, attach_points(network, facilities), attach_points(network, residences), **kw
    )


def test_reach_ends_exactly_900_m_out_in_the_middle_of_an_edge(line_network):
    # facility at x = 50: 900 m of walking ends at x = 950, the middle of edge 900-1000
    dist, nearest = walk(line_network, pts((50, 0)), pts((949, 0), (950, 0), (951, 0)))
    np.testing.assert_allclose(dist, [899.0, 900.0, 901.0], atol=1e-6)
    assert (nearest == 0).all()


def test_off_network_stretch_counts_as_walking(line_network):
    dist, _ = walk(line_network, pts((50, 0)), pts((400, 30), (400, -45)))
    np.testing.assert_allclose(dist, [350 + 30, 350 + 45], atol=1e-6)


def test_facility_off_the_street_walks_to_it_too(line_network):
    dist, _ = walk(line_network, pts((50, 20)), pts((400, 30)))
    np.testing.assert_allclose(dist, [20 + 350 + 30], atol=1e-6)


def test_same_edge_walks_straight_along_it(line_network):
    # both on edge 1000-1100: 30 m apart, not 50 + 20 via the node at 1000
    dist, _ = walk(line_network, pts((1050, 0)), pts((1020, 0)))
    np.testing.assert_allclose(dist, [30.0], atol=1e-6)


def test_facility_across_the_river_walks_round_by_the_bridge(river_network):
    dist, _ = walk(river_network, pts((0, 210)), pts((0, -10)))
    # 10 to the street, 1000 east, 200 over the bridge, 1000 back west, 10 to the door
    np.testing.assert_allclose(dist, [10 + 1000 + 200 + 1000 + 10], atol=1e-6)


def test_nearest_of_several_facilities_is_reported(line_network):
    dist, nearest = walk(
        line_network, pts((100, 0), (1500, 0), (1900, 0)), pts((0, 0), (1400, 0), (2000, 0))
    )
    np.testing.assert_allclose(dist, [100, 100, 100], atol=1e-6)
    np.testing.assert_array_equal(nearest, [0, 1, 2])


def test_limit_leaves_farther_residences_unreached(line_network):
    dist, nearest = walk(line_network, pts((0, 0)), pts((500, 0), (1500, 0)), limit_m=900)
    assert dist[0] == pytest.approx(500)
    assert np.isinf(dist[1]) and nearest[1] == -1


def test_disconnected_residence_is_unreachable():
    from conftest import graph_from_segments

    from cjgis.streets.network import network_from_graph

    g = graph_from_segments({0: (0, 0), 1: (100, 0), 2: (0, 500), 3: (100, 500)}, [(0, 1), (2, 3)])
    dist, nearest = walk(
        network_from_graph(g, components="all"), pts((10, 0)), pts((50, 500), (60, 0))
    )
    assert np.isinf(dist[0]) and nearest[0] == -1
    assert dist[1] == pytest.approx(50)


def test_multi_source_equals_minimum_of_single_source(hangzhou_network):
    rng = np.random.default_rng(1)
    net = hangzhou_network
    x0, y0 = net.node_x.min(), net.node_y.min()
    span = np.array([net.node_x.max() - x0, net.node_y.max() - y0])

    def random_points(n):
        xy = np.array([x0, y0]) + rng.random((n, 2)) * span
        return np.array([__import__("shapely").Point(p) for p in xy])

    fac = attach_points(net, random_points(25))
    res = attach_points(net, random_points(300))
    multi, nearest = walking_distances(net, fac, res)
    singles = np.column_stack(
        [walking_distances(net, fac.subset(np.array([i])), res)[0] for i in range(len(fac))]
    )
    np.testing.assert_allclose(multi, singles.min(axis=1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(singles[np.arange(len(res)), nearest], multi, atol=1e-6)
