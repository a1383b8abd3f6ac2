"""Independent oracles on the real streets of 三墩/蒋村/文新 (../shared/data/hangzhou).

The oracle shares no code with cjgis's network, snapping or access modules: osmnx projects
the graph, brute force finds the nearest edge of each point, networkx Dijkstra walks from
both ends of each facility's edge.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely

from cjgis.reach.access import node_reach, walking_distances
from cjgis.reach.service_areas import category_service_area
from cjgis.streets.snapping import attach_points

CRS = "EPSG:4549"


@pytest.fixture(scope="module")
def oracle(hangzhou_streets):
    """Projected walkable edges (u, v, geometry oriented u->v) and an undirected nx graph."""
    graph = ox.load_graphml(hangzhou_streets, edge_dtypes={"walk_excluded_hint": str})
    drop = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if d.get("walk_excluded_hint") == "True"
    ]
    graph.remove_edges_from(drop)
    projected = ox.project_graph(graph, to_crs=CRS)
    edges = ox.graph_to_gdfs(projected, nodes=False).reset_index()
    # one street, one edge: drop each edge whose reverse (same coordinates reversed) is kept,
    # so that two points on a street snap to the same edge whatever the float ties
    seen, keep = set(), []
    for a, b, geom in zip(edges["u"], edges["v"], edges.geometry, strict=True):
        xy = shapely.get_coordinates(geom)
        key = (a, b, xy.tobytes()) if a <= b else (b, a, xy[::-1].tobytes())
        keep.append(key not in seen)
        seen.add(key)
    edges = edges[keep].reset_index(drop=True)
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    geoms = edges.geometry.to_numpy()
    lengths = shapely.length(geoms)
    walk = nx.Graph()
    for a, b, w in zip(u, v, lengths, strict=True):
        if a != b and (not walk.has_edge(a, b) or walk[a][b]["w"] > w):
            walk.add_edge(a, b, w=w)
    node_index = {n: i for i, n in enumerate(projected.nodes)}
    return {
        "u": u,
        "v": v,
        "geoms": geoms,
        "lengths": lengths,
        "graph": walk,
        "node_index": node_index,
        "ui": np.array([node_index[n] for n in u]),
        "vi": np.array([node_index[n] for n in v]),
        "bounds": shapely.total_bounds(geoms),
    }


def snap_brute_force(oracle, points):
    """Nearest edge by checking every edge; position along it; straight distance."""
    d = shapely.distance(points[:, None], oracle["geoms"][None, :])
    edge = d.argmin(axis=1)
    pos = shapely.line_locate_point(oracle["geoms"][edge], points)
    return edge, pos, d[np.arange(len(points)), edge]


def node_array(oracle, lengths_by_node):
    """networkx's {node: distance} as an array over the nodes u and v refer to."""
    nodes = oracle["node_index"]
    out = np.full(len(nodes), np.inf)
    for n, d in lengths_by_node.items():
        out[nodes[n]] = d
    return out


def oracle_distances(oracle, facilities, targets):
    """Walk from the nearest facility to each target, given as points or (edge, pos, offset)."""
    fe, fp, fo = snap_brute_force(oracle, facilities)
    re_, rp, ro = snap_brute_force(oracle, targets) if not isinstance(targets, tuple) else targets
    g, lengths = oracle["graph"], oracle["lengths"]
    ui, vi = oracle["ui"], oracle["vi"]
    best = np.full(len(re_), np.inf)
    for e, p, o in zip(fe, fp, fo, strict=True):
        du, dv = (
            node_array(oracle, nx.single_source_dijkstra_path_length(g, end[e], weight="w"))
            for end in (oracle["u"], oracle["v"])
        )
        to_node = o + np.minimum(p + du, lengths[e] - p + dv)
        d = np.minimum(rp + to_node[ui[re_]], lengths[re_] - rp + to_node[vi[re_]])
        same = re_ == e
        d[same] = np.minimum(d[same], o + np.abs(rp[same] - p))
        best = np.minimum(best, ro + d)
    return best


def random_points(oracle, n, seed):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = oracle["bounds"]
    return shapely.points(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))


def test_walking_times_agree_with_networkx_dijkstra(hangzhou_network, oracle):
    facilities = random_points(oracle, 12, seed=7)
    residences = random_points(oracle, 150, seed=8)
    expected = oracle_distances(oracle, facilities, residences)
    net = hangzhou_network
    got, _ = walking_distances(net, attach_points(net, facilities), attach_points(net, residences))
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)  # exact up to float sums
    assert np.median(expected) > 500  # the check spans real walks, not doorsteps


def test_service_area_holds_reached_streets_and_nothing_far_beyond(hangzhou_network, oracle):
    net, budget, buffer = hangzhou_network, 900.0, 40.0
    facilities = random_points(oracle, 5, seed=11)
    sources = attach_points(net, facilities)
    area = category_service_area(
        net, sources, budget_m=budget, buffer_m=buffer, source_points=facilities
    )
    # sample every street every 10 m and walk to each sample point with the oracle
    steps = [np.arange(0, length, 10.0) for length in oracle["lengths"]]
    edge = np.repeat(np.arange(len(steps)), [len(s) for s in steps])
    pos = np.concatenate(steps)
    samples = shapely.line_interpolate_point(oracle["geoms"][edge], pos)
    dist = oracle_distances(oracle, facilities, (edge, pos, np.zeros(len(pos))))
    reached = samples[dist <= budget - 0.5]
    assert len(reached) > 200
    assert shapely.contains_xy(area.buffer(1e-6), *shapely.get_coordinates(reached).T).all()
    # every reached node is inside
    reach = node_reach(net, sources, limit_m=budget)
    inside = reach.distance_m <= budget
    assert shapely.contains_xy(area.buffer(1e-6), net.node_x[inside], net.node_y[inside]).all()
    # nothing lies farther than the buffer from a reached street (10 m sampling slack)
    allowed = shapely.union_all(
        shapely.buffer(np.concatenate([samples[dist <= budget + 10], facilities]), buffer + 10.5)
    )
    assert area.difference(allowed).area < 1.0
    # and the area is far smaller than the circles a Euclidean buffer would claim
    circles = shapely.union_all(shapely.buffer(facilities, budget + buffer))
    assert area.area < 0.5 * circles.area


@pytest.mark.parametrize("cell_m", [4.0, 10.0])
def test_rasterised_areas_match_the_exact_union_on_real_streets(hangzhou_network, oracle, cell_m):
    """The city-scale dissolve against true distances, within bounds that follow from its method.

    A cell is in when its centre lies within the buffer of a reached sample, and samples lie
    on the reached lines at most half a cell apart. So every raster point lies within the
    buffer plus half a cell diagonal of the reached lines, and every point within the buffer
    of them (here: the boundary of the exact union, which lies inside that) lies within half
    a cell (the last sample before a reach ends) plus a cell diagonal (the pixel grid) of the
    raster. Both bounds are in cells, from the construction, not from measurement; distances
    are measured to the lines themselves, not to a buffered polygon.
    """
    from cjgis.reach.service_areas import raster_band_areas, reached_lines

    net = hangzhou_network
    facilities = random_points(oracle, 15, seed=7)
    src = attach_points(net, facilities)
    reach = node_reach(net, src)
    budgets, buffer_m = (300.0, 600.0, 900.0), 40.0
    raster = raster_band_areas(
        net,
        src,
        reach,
        budgets_m=budgets,
        buffer_m=buffer_m,
        source_points=facilities,
        cell_m=cell_m,
    )
    for budget, approx in zip(budgets, raster, strict=True):
        lines = reached_lines(net, reach, src, budget_m=budget, source_points=facilities)
        assert_raster_bounds(approx, lines, buffer_m=buffer_m, cell_m=cell_m)
    for inner, outer in itertools.pairwise(raster):
        assert inner.difference(outer).area < 1e-6  # nested bands


def assert_raster_bounds(approx, lines, *, buffer_m, cell_m):
    """A rasterised area against the exact union of ``lines`` widened by ``buffer_m``.

    Every raster point lies within the buffer plus half a cell diagonal of the lines, and every
    point of the exact union lies within half a cell plus a cell diagonal of the raster.
    """
    outward_m = buffer_m + cell_m * np.sqrt(0.5)
    inward_m = cell_m / 2 + cell_m * np.sqrt(2)

    def boundary_points(area):
        return shapely.points(shapely.get_coordinates(shapely.segmentize(area.boundary, 1.0)))

    assert approx.is_valid
    to_lines = shapely.STRtree(lines).query_nearest(boundary_points(approx), return_distance=True)[
        1
    ]
    assert to_lines.max() <= outward_m + 1e-6
    assert to_lines.max() > buffer_m  # the bound is not vacuous: pixels do reach past it
    exact = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
    points = boundary_points(exact)
    shapely.prepare(approx)
    outside = points[~shapely.contains(approx, points)]
    edges = shapely.get_parts(shapely.segmentize(approx.boundary, 50.0))
    to_raster = shapely.STRtree(edges).query_nearest(outside, return_distance=True)[1]
    assert to_raster.max() <= inward_m + 1e-6


def oracle_pieces(oracle, facility, budget_m):
    """What one facility reaches within ``budget_m``, built independently of cjgis.

    networkx Dijkstra from both ends of the brute-force nearest edge, and
    ``shapely.ops.substring`` for partly reached edges, edge by edge.
    """
    from shapely.ops import substring

    (e,), (p,), (o,) = snap_brute_force(oracle, np.array([facility]))
    g, lengths, geoms = oracle["graph"], oracle["lengths"], oracle["geoms"]
    du, dv = (
        node_array(oracle, nx.single_source_dijkstra_path_length(g, end[e], weight="w"))
        for end in (oracle["u"], oracle["v"])
    )
    to_node = o + np.minimum(p + du, lengths[e] - p + dv)
    pieces = []
    for k in range(len(geoms)):
        left_u = budget_m - to_node[oracle["ui"][k]]
        left_v = budget_m - to_node[oracle["vi"][k]]
        if max(left_u, left_v) >= lengths[k] or (
            min(left_u, left_v) >= 0 and (left_u + left_v >= lengths[k])
        ):
            pieces.append(geoms[k])
            continue
        if left_u > 0:
            pieces.append(substring(geoms[k], 0, left_u))
        if left_v > 0:
            pieces.append(substring(geoms[k], lengths[k] - left_v, lengths[k]))
    left = budget_m - o
    if left > 0:
        pieces.append(substring(geoms[e], max(p - left, 0), min(p + left, lengths[e])))
        on_street = shapely.line_interpolate_point(geoms[e], p)
        pieces.append(shapely.LineString([facility, on_street]))
    return np.array(pieces, dtype=object)


def test_facility_areas_in_bulk_are_the_exact_union_of_what_each_reaches(hangzhou_network, oracle):
    """Per-facility areas (tiled searches, pieces in bulk) against networkx + substring."""
    from cjgis.reach.service_areas import facility_service_areas

    net = hangzhou_network
    facilities = random_points(oracle, 8, seed=21)
    areas = facility_service_areas(
        net, attach_points(net, facilities), budget_m=500, buffer_m=30, source_points=facilities
    )
    total_m2 = 0.0
    for facility, area in zip(facilities, areas, strict=True):
        lines = oracle_pieces(oracle, facility, 500)
        exact = shapely.union_all(shapely.buffer(lines, 30, quad_segs=4))
        total_m2 += exact.area
        assert shapely.symmetric_difference(area, exact).area < 1e-7 * exact.area
        assert shapely.hausdorff_distance(area, exact) < 1e-3
    assert total_m2 > 8 * 50_000  # real reaches, not doorsteps


@pytest.mark.parametrize(("cell_m", "max_cells"), [(4.0, 8_000_000), (10.0, 8_000_000), (4.0, 1)])
def test_facility_areas_rasterised_keep_the_raster_bounds(
    hangzhou_network, oracle, cell_m, max_cells, monkeypatch
):
    """Per-facility areas the city way: windows side by side in one raster (or, with room for
    one window only, a raster each), each area within the raster bounds."""
    import cjgis.reach.service_areas
    from cjgis.reach.service_areas import facility_service_areas

    monkeypatch.setattr(cjgis.reach.service_areas, "MAX_CELLS", max_cells)

    net = hangzhou_network
    facilities = random_points(oracle, 5, seed=22)
    areas = facility_service_areas(
        net,
        attach_points(net, facilities),
        budget_m=600,
        buffer_m=40,
        source_points=facilities,
        cell_m=cell_m,
    )
    for facility, area in zip(facilities, areas, strict=True):
        assert_raster_bounds(area, oracle_pieces(oracle, facility, 600), buffer_m=40, cell_m=cell_m)


def test_attachment_is_the_brute_force_nearest_edge(hangzhou_network, oracle):
    """KD-tree candidates + distance bound (+ R-tree fallback) = checking every edge."""
    net = hangzhou_network
    x0, y0, x1, y1 = oracle["bounds"]
    rng = np.random.default_rng(11)
    # in the streets and up to 3 km outside them (where the bound needs the fallback)
    pts = shapely.points(rng.uniform(x0 - 3000, x1 + 3000, 600), rng.uniform(y0 - 3000, y1, 600))
    att = attach_points(net, pts)
    brute = shapely.distance(pts[:, None], net.edge_geometry[None, :])
    assert att.offset_m == pytest.approx(brute.min(axis=1), abs=1e-6)
    on_street = shapely.get_coordinates(
        shapely.line_interpolate_point(net.edge_geometry[att.edge], att.position_m)
    )
    assert np.hypot(*(on_street - shapely.get_coordinates(pts)).T) == pytest.approx(
        att.offset_m, abs=1e-6
    )
    capped = attach_points(net, pts, max_distance_m=200)
    assert np.array_equal(capped.attached, att.offset_m <= 200)


@pytest.mark.parametrize("tile_m", [500.0, 4000.0])
def test_pairs_within_reach_match_one_search_per_facility(
    hangzhou_network, oracle, tile_m, monkeypatch
):
    """2SFCA's pairs (searched tile by tile, near reached streets) = a whole-city search each."""
    import cjgis.reach.access
    from cjgis.reach.access import distances_within

    monkeypatch.setattr(cjgis.reach.access, "TILE_M", tile_m)

    net = hangzhou_network
    fac = attach_points(net, random_points(oracle, 12, seed=3))
    res = attach_points(net, random_points(oracle, 400, seed=4))
    s, t, d = distances_within(net, fac, res, limit_m=900)
    got = {(int(a), int(b)): float(c) for a, b, c in zip(s, t, d, strict=True)}
    expected = {}
    for i in range(len(fac)):
        dist, _ = walking_distances(net, fac.subset(np.array([i])), res, limit_m=900)
        expected.update({(i, int(j)): float(dist[j]) for j in np.flatnonzero(dist <= 900)})
    assert set(got) == set(expected), set(got) ^ set(expected)
    assert len(got) > 50
    assert max(abs(got[key] - expected[key]) for key in got) < 1e-6


def test_streets_whose_two_directions_round_apart_are_one_street(hangzhou_streets, oracle):
    """Reverse twins are recognised by their coordinates, not a rounded length.

    On the streets whose two stored directions carry lengths that round differently at 0.1 m
    (415.55 vs 415.54999999999995), a facility and a residence on the same street must be
    a walk along that street apart, as the networkx oracle says, for every residence.
    """
    graph = ox.load_graphml(hangzhou_streets, edge_dtypes={"walk_excluded_hint": str})
    split = {
        (u, v)
        for u, v, d in graph.edges(data=True)
        if d.get("walk_excluded_hint") != "True"
        and u != v
        and any(
            round(d["length"], 1) != round(t["length"], 1)
            for t in graph.get_edge_data(v, u, default={}).values()
            if shapely.equals_exact(t.get("geometry"), shapely.reverse(d.get("geometry")), 0)
        )
    }
    assert len(split) >= 20  # both directions of each
    mine = [
        e for e, (a, b) in enumerate(zip(oracle["u"], oracle["v"], strict=True)) if (a, b) in split
    ]
    lines = np.repeat(oracle["geoms"][mine], 5)  # five pairs per street, a few metres off it
    rng = np.random.default_rng(3)
    at = rng.uniform(0.05, 0.95, (2, len(lines)))
    off = rng.uniform(-6, 6, (2, len(lines), 2))

    def beside(t, shift):
        xy = shapely.get_coordinates(shapely.line_interpolate_point(lines, t, normalized=True))
        return shapely.points(xy + shift)

    facilities, residences = beside(at[0], off[0]), beside(at[1], off[1])
    net = hangzhou_network_all(hangzhou_streets)
    got, _ = walking_distances(net, attach_points(net, facilities), attach_points(net, residences))
    for k in range(0, len(lines), 5):  # each pair on its own: the nearest facility is its own
        one = slice(k, k + 1)
        expected = oracle_distances(oracle, facilities[one], residences[one])
        walk, _ = walking_distances(
            net, attach_points(net, facilities[one]), attach_points(net, residences[one])
        )
        np.testing.assert_allclose(walk, expected, rtol=0, atol=1e-3)
    np.testing.assert_allclose(got, oracle_distances(oracle, facilities, residences), atol=1e-3)


def hangzhou_network_all(path):
    from cjgis.streets.sources import network_from_file

    return network_from_file(path, components="all")


def _street_at(oracle, x: float, y0: float, y1: float, *, index: int = 0) -> shapely.Point:
    """The ``index``-th point (south to north) where the vertical x = ``x`` meets a street."""
    probe = shapely.LineString([(x, y0), (x, y1)])
    hits = [
        g
        for e in shapely.STRtree(oracle["geoms"]).query(probe, predicate="intersects")
        for g in shapely.get_parts(shapely.intersection(probe, oracle["geoms"][e]))
    ]
    return sorted(hits, key=lambda p: p.y)[index]


def _site_plan(oracle) -> list[tuple[shapely.LineString, bool]]:
    """A site in the wedge of 湖州街, 莫干山路 and 萍水东街 (EPSG:4549), as (line, bridge).

    A spine from the street south of the site to 湖州街's near carriageway (both ends exactly
    on the streets, mid-block); an east branch in a T off the spine crossing both carriageways
    of 萍水东街 at grade to a dead end; a west branch in a T to a dead end; from that dead
    end a footbridge over both carriageways of 湖州街 onto a street north of it. Every free
    end is on a street or farther than ``join_m`` from any line, so the oracle below needs
    only exact crossings and touches.
    """
    south = _street_at(oracle, 511600, 3355800, 3356000)
    north = _street_at(oracle, 511600, 3356000, 3356200)
    spine = shapely.LineString([south, north])
    east_t = spine.interpolate(3356030 - south.y)
    west_t = spine.interpolate(3355960 - south.y)
    east = shapely.LineString([east_t, (511900, east_t.y)])
    west = shapely.LineString([west_t, (511480, west_t.y)])
    beyond = _street_at(oracle, 511430, 3356100, 3356300)  # north of 湖州街
    bridge = shapely.LineString([(511480, west_t.y), beyond])
    return [(spine, False), (east, False), (west, False), (bridge, True)]


def _oracle_with_plan(oracle, plan) -> tuple[nx.Graph, dict]:
    """networkx graph of the streets and the plan, noded by shapely alone; ends' node keys.

    Every at-grade planned line is cut where it meets a street or another planned line, and so
    is every street it meets; a bridge only at its two ends. Lengths come from positions
    along each line (``line_locate_point``), nothing from cjgis.
    """
    from scipy.spatial import cKDTree

    lines = [line for line, _ in plan]
    tree = shapely.STRtree(oracle["geoms"])
    meets: dict[tuple[str, int], list[shapely.Point]] = {}
    for i, (line, bridge) in enumerate(plan):
        ends = shapely.get_point(line, [0, -1])
        near = tree.query(line, predicate="dwithin", distance=1e-6)
        others = [("street", int(e)) for e in near]
        others += [("plan", j) for j in range(len(plan)) if j != i]
        for kind, j in others:
            other = oracle["geoms"][j] if kind == "street" else lines[j]
            points = [
                g
                for g in shapely.get_parts(shapely.intersection(line, other))
                if g.geom_type == "Point"
            ]
            if bridge or (kind == "plan" and plan[j][1]):  # a bridge meets lines at its ends
                points = [p for p in points if shapely.distance(p, ends).min() < 1e-6]
            # an end placed on a line may lie a float's width off it: a touch all the same
            points += [
                end
                for end in ends
                if shapely.distance(end, other) < 1e-6
                and all(shapely.distance(end, p) >= 1e-6 for p in points)
            ]
            meets.setdefault(("plan", i), []).extend(points)
            meets.setdefault((kind, j), []).extend(points)
    for i, line in enumerate(lines):
        meets.setdefault(("plan", i), []).extend(shapely.get_point(line, [0, -1]))
    every = [p for points in meets.values() for p in points]
    xy = shapely.get_coordinates(np.array(every, dtype=object))
    key = {}  # one node per place (1 cm): the first point's index
    for a, b in sorted(cKDTree(xy).query_pairs(0.01)):
        key.setdefault(b, key.get(a, a))
    node = [f"plan-{key.get(k, k)}" for k in range(len(every))]
    at = iter(node)
    placed = {owner: [next(at) for _ in points] for owner, points in meets.items()}

    graph = oracle["graph"].copy()
    for (kind, j), points in meets.items():
        line = oracle["geoms"][j] if kind == "street" else lines[j]
        along = shapely.line_locate_point(line, np.array(points, dtype=object))
        order = np.argsort(along)
        chain = [placed[(kind, j)][k] for k in order]
        spots = list(along[order])
        if kind == "street":
            u, v = int(oracle["u"][j]), int(oracle["v"][j])
            graph.remove_edge(u, v)  # the street is cut where the plan meets it
            chain, spots = [u, *chain, v], [0.0, *spots, float(line.length)]
        for a, b, s, t in zip(chain, chain[1:], spots, spots[1:], strict=False):
            if a != b:
                graph.add_edge(a, b, w=t - s)
    ends = {}
    for i, line in enumerate(lines):
        points = meets[("plan", i)]
        for name, at_end in (("start", 0), ("end", -1)):
            spot = shapely.get_point(line, at_end)
            k = int(np.argmin(shapely.distance(np.array(points, dtype=object), spot)))
            ends[(i + 1, name)] = placed[("plan", i)][k]
    return graph, ends


def test_planned_roads_walk_as_an_independent_networkx_graph_says(hangzhou_network, oracle):
    """The plan merged by cjgis walks as far as on a graph noded by shapely and networkx.

    From three street corners, the walk to each of the plan's eight road ends (T-junctions,
    dead ends, the joins on the streets, the bridge's landings) agrees within 2 cm (the
    1 cm grid the planned lines are noded on).
    """
    import geopandas as gpd
    from scipy.sparse.csgraph import dijkstra

    from cjgis.streets.road_lines import network_with_planned_roads

    plan = _site_plan(oracle)
    roads = gpd.GeoDataFrame(
        {"bridge": ["yes" if b else None for _, b in plan]},
        geometry=[line for line, _ in plan],
        crs=CRS,
    )
    net, joins = network_with_planned_roads(hangzhou_network, roads, join_m=30)
    status = joins.drop_duplicates("road").set_index("road")["status"].to_dict()
    assert status == {1: "joined", 2: "joined", 3: "connected", 4: "joined"}
    graph, ends = _oracle_with_plan(oracle, plan)
    index = {n: i for i, n in enumerate(net.node_id.tolist())}
    sources = [1704782973, 332253456, 5019425492]  # 湖州街 x 萍水东街, 萍水东街 south, a lane
    from_cjgis = dijkstra(net.graph, directed=False, indices=[index[s] for s in sources])
    for row, source in enumerate(sources):
        truth = nx.single_source_dijkstra_path_length(graph, source, weight="w")
        for (road, end), node in ends.items():
            mine = joins.set_index(["road", "end"]).loc[(road, end), "node"]
            assert from_cjgis[row, index[mine]] == pytest.approx(truth[node], abs=0.02), (
                road,
                end,
                source,
            )
