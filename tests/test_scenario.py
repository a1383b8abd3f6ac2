"""Planned roads and facilities: exact before/after changes on a hand-built river network."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import X0, Y0, graph_from_segments

from cjgis.inputs.io import Layer
from cjgis.judge.analysis import analyze
from cjgis.plan.scenario import compare, with_planned_facilities
from cjgis.streets.network import network_from_graph
from cjgis.streets.road_lines import add_planned_roads


@pytest.fixture
def river_graph():
    south = {i: (100.0 * i, 0.0) for i in range(21)}
    north = {100 + i: (100.0 * i, 200.0) for i in range(21)}
    edges = [(i, i + 1) for i in range(20)] + [(100 + i, 101 + i) for i in range(20)]
    return graph_from_segments({**south, **north}, [*edges, (10, 110)])


def layer(rows, **cols):
    return gpd.GeoDataFrame(
        cols, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in rows], crs="EPSG:4549"
    )


def lines(*coords):
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame(
        {"name": [f"r{i}" for i in range(len(geoms))]}, geometry=geoms, crs="EPSG:4549"
    )


def test_planned_footbridge_shortens_the_walk_by_the_exact_amount(river_graph):
    communities = gpd.GeoDataFrame(
        {"community_id": ["S"], "community_name": ["南村社区"]},
        geometry=[shapely.box(X0 - 50, Y0 - 80, X0 + 2050, Y0 + 90)],
        crs="EPSG:4549",
    )
    residents = layer([(0, -10)], resident_id=["r1"], population=[100.0])
    facilities = layer(
        [(0, 210)], facility_id=["f1"], name=["北村照料中心"], category=["elderly_care"]
    )
    from cjgis.judge.rules import CategoryRule
    from cjgis.judge.settings import AnalysisOptions

    rule = CategoryRule("elderly_care", "养老", 900, 1.0, target_share=0.9, basis="standard")
    opts = AnalysisOptions(rules=(rule,))
    before = analyze(
        network_from_graph(river_graph),
        communities,
        residents,
        facilities,
        options=opts,
        verbose=False,
    )
    graph, joins = add_planned_roads(river_graph, lines([(0, 0), (0, 200)]), join_m=5)
    assert joins["node"].tolist() == [0, 100] and joins["distance_m"].max() < 1e-6
    assert river_graph.number_of_edges() == 82  # the input graph is untouched
    after = analyze(
        network_from_graph(graph), communities, residents, facilities, options=opts, verbose=False
    )
    table = compare(before, after).iloc[0]
    # before: 10 + 1000 east + 200 over the bridge + 1000 west + 10; after: 10 + 200 + 10
    assert table["median_walk_min_before"] == pytest.approx(2220 / 60)
    assert table["median_walk_min_after"] == pytest.approx(220 / 60)
    assert table["covered_residents_change"] == 100
    assert table["status_change"] == "不达标 -> 达标"


def test_road_end_far_from_any_node_becomes_a_new_dead_end(river_graph):
    graph, joins = add_planned_roads(river_graph, lines([(500, 0), (500, -300)]), join_m=30)
    assert joins["distance_m"].iloc[0] == pytest.approx(0, abs=1e-6)
    assert np.isnan(joins["distance_m"].iloc[1])
    new = joins["node"].iloc[1]
    assert graph.nodes[new]["y"] == pytest.approx(Y0 - 300)
    assert graph.number_of_edges() == river_graph.number_of_edges() + 2


def test_multi_part_roads_are_taken_part_by_part(river_graph):
    """A CAD or shapefile export's MultiLineString: each part a road of the same row."""
    multi = gpd.GeoDataFrame(
        geometry=[
            shapely.MultiLineString(
                [[(X0 + 300, Y0), (X0 + 300, Y0 - 200)], [(X0 + 700, Y0), (X0 + 700, Y0 - 200)]]
            )
        ],
        crs="EPSG:4549",
    )
    graph, joins = add_planned_roads(river_graph, multi)
    assert list(joins["road"]) == [1, 1, 1, 1] and list(joins["status"]) == ["joined"] * 4
    assert graph.number_of_edges() == river_graph.number_of_edges() + 4
    points = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs="EPSG:4549")
    with pytest.raises(ValueError, match=r"planned roads must be lines, not Point"):
        add_planned_roads(river_graph, points)


def test_planned_facilities_keep_their_own_ids():
    existing = Layer(layer([(0, 0)], facility_id=["1"], name=["a"], category=["x"]))
    planned = Layer(layer([(5, 5)], facility_id=["1"], name=["b"], category=["x"]))
    both = with_planned_facilities(existing, planned)
    assert both.frame["facility_id"].tolist() == ["1", "P1"]
    assert both.frame["planned"].tolist() == [False, True]


def test_cjgis_site_on_the_sample(sample_study, tmp_path, monkeypatch):
    import pandas as pd

    from cjgis.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["site", str(sample_study), "--quiet"]) == 0
    out = tmp_path / "data" / "processed" / "sample" / "site"
    changes = pd.read_csv(out / "before_after.csv", encoding="utf-8-sig")
    changed = changes[changes["covered_residents_change"] != 0]
    # the two planned facilities (钱江 elderly care, 沈家 e-bike charging) and the footbridge
    assert {("钱江社区", "elderly_care"), ("沈家社区", "ev_charging")} <= set(
        zip(changed["community_name"], changed["category"], strict=True)
    )
    assert (changes["covered_residents_change"] >= 0).all()  # planning never takes away
    roads = gpd.read_file(out / "planned_network.gpkg", layer="planned_roads")
    ends = gpd.read_file(out / "planned_network.gpkg", layer="road_ends")
    assert set(roads["status"]) == {"joined"} and len(ends) == 2 * len(roads)
    assert (ends["joined"] == "street").all() and ends.crs == roads.crs
    import json

    page = (tmp_path / "maps" / "sample_site.html").read_text(encoding="utf-8")
    for layer in ("规划道路 planned roads", "规划设施 planned facilities"):
        assert layer in page, layer  # the legend
        assert json.dumps(layer)[1:-1] in page, layer  # the layer control (JSON-escaped)
    assert "planned road 1: joined" in page  # each road's tooltip says its status
    # each share beside the totals and the 口径 it is of, before and after
    for column in ("residents", "elderly", "demand", "demand_basis"):
        assert {f"{column}_before", f"{column}_after"} <= set(changes.columns)
    care = changes[changes["category"] == "elderly_care"]
    assert (care["demand_basis_after"] == "60岁及以上老年人口 (数据 counted)").all()
    covered = care["covered_residents_after"] <= care["residents_after"] + 1e-9
    assert covered.all()
    sites = pd.read_csv(out / "suggested_sites.csv", encoding="utf-8-sig")
    from conftest import walked_categories

    # walked categories only; those without any facility in the sample (sport, market...)
    # get sites too: nobody is within reach of one
    assert set(sites["category"]) <= set(walked_categories("chcj_2017"))
    assert {"sport", "market", "elderly_care"} <= set(sites["category"])
    for _, group in sites.groupby("category"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["cumulative_share"].is_monotonic_increasing
        assert (group["newly_covered_demand"] > 0).all()
    joins = pd.read_csv(out / "planned_road_joins.csv", encoding="utf-8-sig")
    assert len(joins) == 2 and joins["distance_m"].max() < 1  # the bridge met both banks
    assert (tmp_path / "maps" / "sample_site.html").is_file()
    assert not (tmp_path / "data" / "processed" / "sample" / "coverage.csv").exists()


def test_road_meeting_a_street_mid_block_splits_it(river_graph):
    # south street: nodes every 100 m; the new road meets it between x = 200 and x = 300
    graph, joins = add_planned_roads(river_graph, lines([(250, -3), (250, -300)]), join_m=30)
    first = joins.iloc[0]
    assert bool(first["split"]) and first["distance_m"] == pytest.approx(3.0)
    w = first["node"]
    assert graph.nodes[w]["x"] == pytest.approx(X0 + 250) and graph.nodes[w]["y"] == Y0
    assert not graph.has_edge(2, 3)  # the street is split, not doubled
    assert graph.edges[2, w, 0]["length"] == pytest.approx(50.0)
    assert graph.edges[w, 3, 0]["length"] == pytest.approx(50.0)
    net = network_from_graph(graph)
    # the road drawn 3 m short of the street is walked to it: 297 m + 3 m
    assert net.edge_length_m.sum() == pytest.approx(2 * 2000 + 200 + 300, abs=1e-6)


def test_road_end_beside_a_node_joins_the_node(river_graph):
    _, joins = add_planned_roads(river_graph, lines([(300.5, -2), (300.5, -300)]), join_m=30)
    assert joins["node"].iloc[0] == 3 and not joins["split"].iloc[0]


def test_network_planned_roads_enter_every_run(sample_study, sample_analysis):
    """``[network] planned``: the analysis answers for the streets as planned."""
    from cjgis.run.runner import analyze_study
    from cjgis.run.study import load_study

    text = sample_study.read_text(encoding="utf-8")
    planned = text.replace(
        'path = "streets.graphml"',
        'path = "streets.graphml"\nplanned = "planned_roads.geojson"\nplanned_join_m = 5',
    )
    study_file = sample_study.parent / "planned_network.toml"
    study_file.write_text(planned, encoding="utf-8")
    result = analyze_study(load_study(study_file), verbose=False)
    assert result.network.n_edges == sample_analysis.network.n_edges + 1  # the footbridge
    walk = [c for c in result.residents.columns if c.startswith("walk_min_")]
    change = (result.residents[walk] - sample_analysis.residents[walk]).to_numpy()
    found = np.isfinite(sample_analysis.residents[walk].to_numpy())  # no facility: NaN both
    assert np.array_equal(found, np.isfinite(result.residents[walk].to_numpy()))
    assert (change[found] <= 1e-9).all()  # a new road never lengthens a walk
    assert (change[found] < -1).sum() > 10  # and shortens some by over a minute


def test_site_and_analyze_build_the_same_network(sample_study, tmp_path):
    """`cjgis site` reads the study's network as `cjgis analyze` does: components and cache."""
    import osmnx as ox

    from cjgis.run.runner import network_from_study
    from cjgis.run.site import run_site_study
    from cjgis.run.study import load_study

    graph = ox.load_graphml(sample_study.parent / "streets.graphml")
    x, y = graph.nodes[next(iter(graph.nodes))]["x"], graph.nodes[next(iter(graph.nodes))]["y"]
    graph.add_node(-1, x=x + 0.05, y=y + 0.05)  # a stray street ~5 km away, on its own
    graph.add_node(-2, x=x + 0.0505, y=y + 0.05)
    for u, v in ((-1, -2), (-2, -1)):
        graph.add_edge(u, v, length=48.0, highway="footway", oneway=False, reversed=u == -2)
    streets = tmp_path / "streets_with_stray.graphml"
    ox.save_graphml(graph, streets)
    text = sample_study.read_text(encoding="utf-8").replace(
        'path = "streets.graphml"',
        f'path = "{streets.as_posix()}"\ncomponents = "all"\n'
        f'cache_dir = "{tmp_path.as_posix()}/cache"',
    )
    study_file = sample_study.parent / "site_components.toml"
    study_file.write_text(text, encoding="utf-8")
    study = load_study(study_file)
    analyzed = network_from_study(study)
    site = run_site_study(study, verbose=False)
    assert site.before.network.n_edges == analyzed.n_edges
    np.testing.assert_array_equal(site.before.network.edge_length_m, analyzed.edge_length_m)
    assert len(analyzed.fragment_geometry) == 0  # components = "all" keeps the stray street
    largest = network_from_study(load_study(sample_study))
    assert analyzed.n_edges == largest.n_edges + 1
    assert len(list((tmp_path / "cache").glob("network-*.npz"))) == 1  # one cached network


def test_planned_roads_form_a_network_of_their_own(river_graph, caplog):
    """A T-junction, a crossing at grade, a footbridge over a street and a stray road.

    Walks checked by networkx's Dijkstra on the graph returned, against hand-computed
    lengths (the south street runs along y = 0, the north one along y = 200).
    """
    import networkx as nx

    roads = lines(
        [(300, 0), (300, -400)],  # spine: joins the south street at node 3
        [(300, -250), (800, -250)],  # branch from the spine's side (a T), 250 m from streets
        [(650, 80), (650, -80)],  # crosses the south street mid-block, at grade
        [(1450, 170), (1450, -80)],  # footbridge over the south street, joins the north one
        [(1800, -80), (1800, -300)],  # reaches nothing
    )
    roads["bridge"] = [None, None, None, "yes", None]
    graph, joins = add_planned_roads(river_graph, roads, join_m=30)
    status = joins.drop_duplicates("road").set_index("road")["status"]
    assert status.to_dict() == {
        1: "joined",
        2: "connected",
        3: "joined",
        4: "joined",
        5: "left out",
    }
    ends = joins.set_index(["road", "end"])
    assert ends.loc[(2, "start"), "joined"] == "planned road"
    assert ends.loc[(5, "start"), "joined"] == "none"
    assert "planned roads 5 reach no street" in caplog.text

    def walk(a, b):
        return nx.shortest_path_length(graph, a, b, weight="length")

    # the branch's far end: 250 m down the spine, 500 m along the branch
    assert walk(3, ends.loc[(2, "end"), "node"]) == pytest.approx(750)
    # the crossing: from node 6 (x = 600) 50 m to the junction, 80 m down
    assert walk(6, ends.loc[(3, "end"), "node"]) == pytest.approx(130)
    # the bridge has no junction with the south street: from node 14 (x = 1,400) round by
    # the river bridge at x = 1,000 and the north street, then 30 m + 250 m over the bridge
    bridge_end = ends.loc[(4, "end"), "node"]
    assert walk(14, bridge_end) == pytest.approx(400 + 200 + 450 + 30 + 250)
    assert walk(114, bridge_end) == pytest.approx(50 + 30 + 250)


def test_road_joins_say_where_and_which_street(river_graph):
    for u, v, data in river_graph.edges(data=True):
        data["name"] = "南街" if u < 100 and v < 100 else "北街" if u >= 100 and v >= 100 else "桥"
    _, joins = add_planned_roads(river_graph, lines([(250, -3), (250, -300)]), join_m=30)
    start, end = joins.iloc[0], joins.iloc[1]
    assert (start["x"], start["y"]) == (pytest.approx(X0 + 250), pytest.approx(Y0))
    assert start["street"] == "南街" and start["crs"] == "EPSG:4549"
    assert end["street"] == "" and end["joined"] == "none"
    assert end["y"] == pytest.approx(Y0 - 300)


def test_nobody_enters_a_footbridge_from_its_side(river_graph, tmp_path):
    """A residence 10 m from a planned footbridge's deck walks from the street below.

    The deck (x = 1,450, from the north street over the river) is walked along but takes no
    attachments; the residence at (1,460, 100) is 100 m from either street. The flag survives
    a round trip through graph_from_network and the network cache.
    """
    from cjgis.streets.cache import load_network, save_network
    from cjgis.streets.network import graph_from_network
    from cjgis.streets.snapping import attach_points

    roads = lines([(1450, 170), (1450, -80)])
    roads["bridge"] = ["yes"]
    graph, _ = add_planned_roads(river_graph, roads, join_m=30)
    home = np.array([shapely.Point(X0 + 1460, Y0 + 100)])
    on_ground = network_from_graph(graph)
    assert on_ground.edge_elevated.sum() == 1  # the deck, drawn on to the street it joined
    again = network_from_graph(graph_from_network(on_ground))
    saved = load_network(save_network(on_ground, tmp_path / "net.npz"))
    for net in (on_ground, again, saved):
        at = attach_points(net, home)
        assert not net.edge_elevated[at.edge[0]]
        assert at.offset_m[0] == pytest.approx(100)
    plain = graph.copy()
    for _, _, data in plain.edges(data=True):
        data.pop("elevated", None)
    assert attach_points(network_from_graph(plain), home).offset_m[0] == pytest.approx(10)


def test_planned_roads_join_walkable_streets_only(river_graph):
    """An expressway passing over the south street has a node on it (x = 350) that no street
    shares: a planned road ending there joins the street itself, split at that point."""
    import networkx as nx

    graph = river_graph.copy()
    for n, y in ((900, -100.0), (901, 0.0), (902, 100.0)):
        graph.add_node(n, x=X0 + 350, y=Y0 + y)
    for u, v in ((900, 901), (901, 902)):
        for a, b in ((u, v), (v, u)):
            graph.add_edge(a, b, length=100.0, highway="motorway")
    merged, joins = add_planned_roads(graph, lines([(350, -300), (350, 0)]), join_m=30)
    end = joins.set_index("end").loc["end"]
    assert end["node"] != 901 and end["split"]
    start = joins.set_index("end").loc["start", "node"]
    assert nx.shortest_path_length(merged, 3, start, weight="length") == pytest.approx(350)
