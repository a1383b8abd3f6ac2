"""Reading street networks: an OSM XML extract offline, and the documented walk filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmnx as ox
import pytest

from cjgis.streets.network import is_walkable
from cjgis.streets.sources import network_from_file, read_street_graph

OSM = Path(__file__).parent / "data" / "walk_filter.osm"


def test_walk_filter_on_a_hand_written_osm_extract():
    graph = read_street_graph(OSM)
    verdict = {}
    for _, _, data in graph.edges(data=True):
        verdict[data["name"]] = is_walkable(data)
    assert verdict == {
        "村中路": True,  # residential street
        "footway": True,
        "小区内路": True,  # access=private compound path: residents walk it
        "有人行道隧道": True,  # tunnel with a sidewalk
        "绕城高速": False,  # motorway
        "无人行道隧道": False,  # car tunnel without a sidewalk
        "禁行路": False,  # foot=no
    }
    before = list(ox.settings.useful_tags_way)
    read_street_graph(OSM)
    assert ox.settings.useful_tags_way == before  # osmnx's settings left as they were


def test_osm_extract_becomes_a_walking_network():
    net = network_from_file(OSM, components="all")
    assert net.crs.to_epsg() == 4549
    assert net.dropped_edges == 3  # three ways, one edge each
    # kept: 村中路 300 m (3 x 0.001 deg lon), footway and compound path 111 m, tunnel 111 m
    assert net.edge_length_m.sum() == pytest.approx(3 * 96.2 + 3 * 110.9, rel=0.02)


def test_walkable_predicate_is_overridable():
    from cjgis.streets.network import network_from_graph

    graph = read_street_graph(OSM)
    everything = network_from_graph(graph, components="all", walkable=lambda data: True)
    assert everything.dropped_edges == 0 and everything.n_edges == 9  # 村中路 splits twice


def test_osm_arrays_match_the_graph_route():
    from cjgis.streets.network import network_from_graph
    from cjgis.streets.sources import graph_from_osm, network_from_osm

    direct = network_from_osm(OSM, components="all")
    via_graph = network_from_graph(graph_from_osm(OSM), components="all")
    assert direct.n_edges == via_graph.n_edges == 6
    assert sorted(direct.edge_length_m) == pytest.approx(sorted(via_graph.edge_length_m))
    used = np.unique(np.concatenate([via_graph.edge_u, via_graph.edge_v]))
    assert set(direct.node_id) == set(via_graph.node_id[used])  # nodes of walkable edges
    everything = network_from_osm(OSM, components="all", walkable=lambda tags: True)
    assert everything.dropped_edges == 0 and everything.n_edges == 9


def test_a_graph_without_lengths_loses_no_street_and_says_so(hangzhou_streets, caplog):
    """Lengths come from the projected geometry; missing ones never merge parallel streets."""
    import logging

    import osmnx as ox

    from cjgis.streets.network import network_from_graph

    graph = ox.load_graphml(hangzhou_streets, edge_dtypes={"walk_excluded_hint": str})
    full = network_from_graph(graph, components="all")
    for _, _, data in graph.edges(data=True):
        del data["length"]
    with caplog.at_level(logging.WARNING, logger="cjgis.streets.network"):
        bare = network_from_graph(graph, components="all")
    assert bare.n_edges == full.n_edges  # parallel streets between two junctions stay two
    np.testing.assert_array_equal(bare.edge_length_m, full.edge_length_m)
    assert f"{full.n_edges} edges had no length" in caplog.text
    for _, _, data in graph.edges(data=True):
        data["length"] = 1.0  # wrong everywhere: measured lengths still rule, and it is said
    with caplog.at_level(logging.WARNING, logger="cjgis.streets.network"):
        wrong = network_from_graph(graph, components="all")
    np.testing.assert_array_equal(wrong.edge_length_m, full.edge_length_m)
    assert "one more than 1 m" in caplog.text
