"""Properties on random small networks and points (Hypothesis).

- Walking distances equal a brute-force oracle: every edge checked for the nearest point,
  networkx Dijkstra between the ends, the walk along a shared edge taken directly.
- Every input row ends in the analysis or in the rejected list, people included.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from conftest import X0, Y0, graph_from_segments
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cjgis.judge.analysis import analyze
from cjgis.judge.settings import AnalysisOptions
from cjgis.reach.access import walking_distances
from cjgis.streets.network import MIN_EDGE_WEIGHT_M, network_from_graph
from cjgis.streets.snapping import attach_points

SIZE_M = 1000


@st.composite
def networks(draw):
    """A connected random street graph: a random tree plus a few extra streets."""
    n = draw(st.integers(3, 12))
    coords = draw(
        st.lists(
            st.tuples(st.integers(0, SIZE_M), st.integers(0, SIZE_M)),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    edges = {(p, i + 1) for i, p in enumerate(parents)}
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    edges |= {(min(a, b), max(a, b)) for a, b in extra if a != b}
    return dict(enumerate(coords)), sorted(edges)


points = st.lists(
    st.tuples(
        st.floats(-100, SIZE_M + 100, allow_nan=False),
        st.floats(-100, SIZE_M + 100, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


def oracle(nodes, edges, facilities, residences):
    """Nearest facility's walk for each residence, by brute force and networkx."""
    lines = [shapely.LineString([nodes[a], nodes[b]]) for a, b in edges]
    graph = nx.Graph()
    for (a, b), line in zip(edges, lines, strict=True):
        graph.add_edge(a, b, w=line.length)

    def snap(point):
        d = [line.distance(point) for line in lines]
        e = int(np.argmin(d))
        near = sorted(d)
        if len(near) > 1 and near[1] - near[0] < 1e-6:  # a tie between two streets
            other = int(np.argsort(d)[1])
            gap = (
                lines[e]
                .interpolate(lines[e].project(point))
                .distance(lines[other].interpolate(lines[other].project(point)))
            )
            assume(gap < 1e-6)  # ties only where both streets meet (a node): same walk
        return e, lines[e].project(point), d[e]

    best = np.full(len(residences), np.inf)
    for f in facilities:
        fe, fp, fo = snap(f)
        a, b = edges[fe]
        from_a = nx.single_source_dijkstra_path_length(graph, a, weight="w")
        from_b = nx.single_source_dijkstra_path_length(graph, b, weight="w")
        flen = lines[fe].length
        for k, r in enumerate(residences):
            re_, rp, ro = snap(r)
            c, d = edges[re_]
            rlen = lines[re_].length
            to = {
                n: fo + min(fp + from_a.get(n, np.inf), flen - fp + from_b.get(n, np.inf))
                for n in (c, d)
            }
            walk = min(rp + to[c], rlen - rp + to[d])
            if re_ == fe:
                walk = min(walk, fo + abs(rp - fp))
            best[k] = min(best[k], ro + walk)
    return best


@settings(max_examples=80, deadline=None)
@given(networks(), points, points)
def test_walks_equal_a_brute_force_oracle(network, facility_xy, residence_xy):
    nodes, edges = network
    net = network_from_graph(graph_from_segments(nodes, edges), components="all")
    local = (
        [shapely.Point(x, y) for x, y in facility_xy],
        [shapely.Point(x, y) for x, y in residence_xy],
    )
    expected = oracle(nodes, edges, *local)
    shift = lambda pts: shapely.points([(X0 + p.x, Y0 + p.y) for p in pts])  # noqa: E731
    got, _ = walking_distances(
        net, attach_points(net, shift(local[0])), attach_points(net, shift(local[1]))
    )
    # exact but for zero-length links (a point on a node), which weigh MIN_EDGE_WEIGHT_M each
    np.testing.assert_allclose(got, expected, rtol=0, atol=4 * MIN_EDGE_WEIGHT_M + 1e-9)


@settings(max_examples=25, deadline=None)
@given(networks(), points, st.lists(st.floats(0, 500, allow_nan=False), min_size=8, max_size=8))
def test_every_row_is_analysed_or_rejected(network, residence_xy, people):
    nodes, edges = network
    net = network_from_graph(graph_from_segments(nodes, edges), components="all")
    communities = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["甲"]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + SIZE_M + 50, Y0 + SIZE_M + 50)],
        crs="EPSG:4549",
    )
    residents = gpd.GeoDataFrame(
        {
            "resident_id": [f"r{i}" for i in range(len(residence_xy))],
            "population": people[: len(residence_xy)],
        },
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in residence_xy],
        crs="EPSG:4549",
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["f"], "name": ["站"], "category": ["x"]},
        geometry=[shapely.Point(X0 + nodes[0][0], Y0 + nodes[0][1])],
        crs="EPSG:4549",
    )
    result = analyze(
        net,
        communities,
        residents,
        facilities,
        options=AnalysisOptions(max_snap_m=60),
        verbose=False,
    )
    rejected = result.rejected[result.rejected["layer"] == "residents"]
    assert len(result.residents) + len(rejected) == len(residents)
    assert set(result.residents["resident_id"]).isdisjoint(rejected["id"])
    people_in = result.residents["population"].sum() + rejected["population"].sum()
    assert people_in == np.float64(residents["population"].sum()) or np.isclose(
        people_in, residents["population"].sum()
    )
