"""Street sources: OSM PBF, road-line drawings, and osmnx online through a recorded response."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest
import requests
import shapely

from cjgis._errors import InputError
from cjgis.streets.network import network_from_graph
from cjgis.streets.road_lines import graph_from_lines
from cjgis.streets.sources import network_from_download, read_street_graph

OSM = Path(__file__).parent / "data" / "walk_filter.osm"
#: ways and the OSM nodes at their ends, as the hand-written extract has them
WAY_NAMES = {"村中路", "footway", "小区内路", "绕城高速", "无人行道隧道", "有人行道隧道", "禁行路"}


def _edges(graph: nx.MultiDiGraph) -> set[tuple[int, int, str]]:
    return {(int(u), int(v), d["name"]) for u, v, d in graph.edges(data=True)}


@pytest.fixture(scope="module")
def pbf(tmp_path_factory) -> Path:
    """The hand-written extract converted to PBF with pyosmium (the reader's own library)."""
    path = tmp_path_factory.mktemp("pbf") / "walk_filter.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    try:
        for obj in osmium.FileProcessor(str(OSM)):
            writer.add(obj)
    finally:
        writer.close()
    return path


def test_pbf_extract_reads_as_the_xml_it_was_made_from(pbf):
    from_xml, from_pbf = read_street_graph(OSM), read_street_graph(pbf)
    assert _edges(from_pbf) == _edges(from_xml)
    assert {d["name"] for _, _, d in from_pbf.edges(data=True)} == WAY_NAMES
    for u, v, k, data in from_pbf.edges(keys=True, data=True):
        assert data["length"] == pytest.approx(from_xml.edges[u, v, k]["length"], abs=1e-6)


def test_pbf_is_clipped_to_the_box_keeping_whole_ways(pbf):
    # a box around node 11 (120.2700, 30.2980) only: 禁行路 (10 -> 11) is kept whole
    graph = read_street_graph(pbf, clip_lonlat=(120.2695, 30.2975, 120.2705, 30.2985))
    assert {d["name"] for _, _, d in graph.edges(data=True)} == {"禁行路"}
    assert set(graph.nodes) == {10, 11}


# ---- road lines (a design institute's drawing, in metres) -----------------------------------


def _drawing() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(0, 0), (200, 0)]),  # A
        shapely.LineString([(100, -100), (100, 100)]),  # B crosses A, no shared vertex
        shapely.LineString([(200.5, 0), (200.5, 100)]),  # C starts 0.5 m short of A's end
        shapely.LineString([(50, 100), (50, 0.8)]),  # D stops 0.8 m short of A
        shapely.LineString([(300, 0), (400, 0)]),  # E: 99.5 m from C, never joined
        shapely.LineString([(0, -50), (100, -50)]),  # F ends on B's interior
    ]
    x0, y0 = 500_000.0, 3_350_000.0  # EPSG:4549 (CGCS2000 GK, 120E), near Hangzhou
    moved = [shapely.affinity.translate(g, x0, y0) for g in lines]
    return gpd.GeoDataFrame(
        {"name": list("ABCDEF"), "highway": "residential", "_row": range(1, 7)},
        geometry=moved,
        crs="EPSG:4549",
    )


def _walk(graph: nx.MultiDiGraph, a: tuple[float, float], b: tuple[float, float]) -> float:
    simple = nx.Graph()
    for u, v, d in graph.edges(data=True):
        if not simple.has_edge(u, v) or simple[u][v]["length"] > d["length"]:
            simple.add_edge(u, v, length=d["length"])
    xy = {n: (d["x"] - 500_000.0, d["y"] - 3_350_000.0) for n, d in graph.nodes(data=True)}
    node = {p: min(xy, key=lambda n: np.hypot(xy[n][0] - p[0], xy[n][1] - p[1])) for p in (a, b)}
    try:
        return nx.dijkstra_path_length(simple, node[a], node[b], weight="length")
    except nx.NetworkXNoPath:
        return np.inf


def test_road_lines_split_at_crossings_and_join_short_gaps():
    graph, joins = graph_from_lines(_drawing(), join_m=1.0)
    assert sorted(zip(joins["row"], joins["end"], joins["to_row"], strict=True)) == [
        (3, "start", 1),
        (4, "end", 1),
    ]
    assert sorted(joins["gap_m"].round(6)) == [0.5, 0.8]
    # D's top to B's top: 99.2 down D + 0.8 gap + 50 along A + 100 up B
    assert _walk(graph, (50, 100), (100, 100)) == pytest.approx(250.0, abs=0.02)
    # A and B cross without a shared vertex: the crossing is a junction
    assert _walk(graph, (0, 0), (100, -100)) == pytest.approx(200.0, abs=0.02)
    # F ends on B's interior (a T): F's start to B's bottom = 100 + 50
    assert _walk(graph, (0, -50), (100, -100)) == pytest.approx(150.0, abs=0.02)
    # C joined at A's end: A's start to C's top = 200 + 0.5 + 100
    assert _walk(graph, (0, 0), (200.5, 100)) == pytest.approx(300.5, abs=0.02)
    assert _walk(graph, (0, 0), (400, 0)) == np.inf  # E is 99.5 m away: not joined
    net = network_from_graph(graph)  # largest piece; E is left out and kept as a fragment
    assert len(net.fragment_geometry) == 1
    assert shapely.length(net.fragment_geometry[0]) == pytest.approx(100.0)
    assert net.edge_length_m.sum() == pytest.approx(200 + 200 + 100 + 99.2 + 100 + 0.5 + 0.8)


def test_a_smaller_tolerance_leaves_the_gap_open():
    graph, joins = graph_from_lines(_drawing(), join_m=0.6)
    assert list(joins["row"]) == [3]  # C's 0.5 m gap, not D's 0.8 m
    assert _walk(graph, (50, 100), (100, 100)) == np.inf


def test_road_lines_from_a_file_in_chinese_coordinates(tmp_path):
    drawing = _drawing()
    from cjgis.inputs.coords import from_wgs84_geometries

    lonlat = drawing.to_crs("EPSG:4326")
    gcj = lonlat.set_geometry(from_wgs84_geometries(lonlat.geometry.to_numpy(), "gcj02"))
    path = tmp_path / "roads.geojson"
    gcj.drop(columns="_row").to_file(path)  # GCJ-02 numbers, declared as lon/lat
    graph = read_street_graph(path, crs="gcj02", join_m=1.0)
    net = network_from_graph(graph, crs="EPSG:4549")
    # back in WGS84 the drawing sits where it was drawn (sub-decimetre), not 500 m away
    assert net.node_x.min() == pytest.approx(500_000.0, abs=0.1)
    assert net.node_y.min() == pytest.approx(3_350_000.0 - 100, abs=0.1)


def test_road_layer_with_points_names_the_row(tmp_path):
    frame = _drawing().drop(columns="_row")
    frame.loc[2, "geometry"] = shapely.Point(500_000, 3_350_000)
    path = tmp_path / "roads.gpkg"
    frame.to_file(path)
    with pytest.raises(InputError, match=r"roads.gpkg, row 3: 1 rows are not road lines"):
        read_street_graph(path)


# ---- online, through a recorded Overpass and Nominatim response -----------------------------


def _overpass_json() -> dict:
    """The hand-written extract as the Overpass API returns it to osmnx: highway ways only."""
    root = ET.parse(OSM).getroot()
    elements = []
    for el in root:
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if el.tag == "node":
            node = {"type": "node", "id": int(el.get("id"))}
            node.update(lat=float(el.get("lat")), lon=float(el.get("lon")))
            elements.append(node)
        elif el.tag == "way" and "highway" in tags:
            nodes = [int(nd.get("ref")) for nd in el.findall("nd")]
            elements.append({"type": "way", "id": int(el.get("id")), "nodes": nodes, "tags": tags})
    return {"version": 0.6, "elements": elements}


PLACE = {
    "place_id": 1,
    "osm_type": "relation",
    "osm_id": 1,
    "lat": "30.3",
    "lon": "120.272",
    "display_name": "测试村, 杭州市",
    "class": "boundary",
    "type": "administrative",
    "importance": 0.5,
    "boundingbox": ["30.29", "30.31", "120.26", "120.28"],
    "geojson": shapely.geometry.mapping(shapely.box(120.26, 30.29, 120.28, 30.31)),
}


@pytest.fixture
def recorded(monkeypatch):
    """Overpass and Nominatim answer from a recording; counts the downloads."""
    import osmnx._nominatim
    import osmnx._overpass

    calls = {"overpass": 0, "nominatim": 0}

    def overpass(data):
        calls["overpass"] += 1
        assert "highway" in data["data"]
        return _overpass_json()

    def nominatim(params, request_type="search"):
        calls["nominatim"] += 1
        return [PLACE]

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", overpass)
    monkeypatch.setattr(osmnx._nominatim, "_nominatim_request", nominatim)
    return calls


def test_place_download_goes_through_osmnx_and_the_walk_filter(recorded, tmp_path):
    net = network_from_download(place="测试村, 杭州市", cache_dir=tmp_path, components="all")
    offline = network_from_graph(read_street_graph(OSM), components="all")
    assert recorded == {"overpass": 1, "nominatim": 1}
    assert net.n_edges == offline.n_edges == 6
    assert net.dropped_edges == offline.dropped_edges
    assert net.edge_length_m.sum() == pytest.approx(offline.edge_length_m.sum(), abs=1e-6)


def test_bbox_download(recorded, tmp_path):
    net = network_from_download(bbox=(120.26, 30.29, 120.28, 30.31), cache_dir=tmp_path)
    assert recorded["overpass"] == 1 and recorded["nominatim"] == 0
    assert net.edge_length_m.sum() == pytest.approx(3 * 96.2 + 3 * 110.9, rel=0.02)


def test_study_downloads_once_then_reads_the_cache(recorded, sample_study, tmp_path):
    from cjgis.run.runner import network_from_study
    from cjgis.run.study import load_study

    text = sample_study.read_text(encoding="utf-8")
    line = next(s for s in text.splitlines() if s.startswith("path = ") and "graphml" in s)
    study_file = sample_study.parent / "online.toml"
    bbox = 'bbox = [120.26, 30.29, 120.28, 30.31]\ncache_dir = "{}"'.format(
        (tmp_path / "c").as_posix()
    )
    study_file.write_text(text.replace(line, bbox), encoding="utf-8")
    study = load_study(study_file)
    first = network_from_study(study)
    second = network_from_study(study)
    assert recorded["overpass"] == 1  # the second run came from cjgis's network cache
    assert np.array_equal(first.edge_length_m, second.edge_length_m)


def test_offline_download_says_what_to_do(monkeypatch, tmp_path):
    import osmnx._overpass

    def refuse(data):
        raise requests.ConnectionError("no route to overpass-api.de")

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", refuse)
    with pytest.raises(InputError, match=r"cannot download the streets.*\.osm\.pbf"):
        network_from_download(bbox=(120.26, 30.29, 120.28, 30.31), cache_dir=tmp_path)


def test_the_sample_drawn_as_road_lines_gives_the_same_walks(sample_study, sample_analysis):
    """The sample's streets exported as plain lines (one per street, no nodes) and rebuilt."""
    import osmnx as ox

    from cjgis.run.runner import analyze_study
    from cjgis.run.study import load_study

    folder = sample_study.parent
    edges = ox.graph_to_gdfs(ox.load_graphml(folder / "streets.graphml"), nodes=False)
    edges = edges.reset_index()
    lines = edges[edges["u"] < edges["v"]][["highway", "name", "geometry"]]
    lines.to_file(folder / "roads.gpkg")
    text = sample_study.read_text(encoding="utf-8")
    study_file = folder / "lines.toml"
    study_file.write_text(text.replace('"streets.graphml"', '"roads.gpkg"'), encoding="utf-8")
    drawn = analyze_study(load_study(study_file), verbose=False)
    walk = [c for c in sample_analysis.residents.columns if c.startswith("walk_min_")]
    assert len(walk) == 14  # the walked categories of chcj_2017
    for column in walk:
        got, want = drawn.residents[column], sample_analysis.residents[column]
        assert got.isna().equals(want.isna()), column  # no facility of the category: all NaN
        difference_min = (got - want).abs().fillna(0.0)
        assert difference_min.max() < 0.01, column  # < 1 m: the 1 cm grid, nothing else
    assert drawn.network.dropped_edges > 0  # the elevated expressway's pieces: not walkable


def test_rivers_and_railways_of_an_osm_extract_are_barriers_not_streets():
    from cjgis.streets.sources import network_from_osm

    net = network_from_osm(OSM, components="all")
    assert "新塘河" not in set(net.edge_name)  # never walked
    lengths = sorted(round(float(length)) for length in shapely.length(net.barrier_geometry))
    # the motorway and the tunnel without sidewalks the walk filter refused, the river and
    # the railway (each about 385 m along 30.302 N and 30.2975 N)
    assert len(lengths) == 5 and lengths[-2:] == [385, 385]


def test_graphml_streamed_into_arrays_is_the_network_osmnx_and_networkx_give(hangzhou_streets):
    """The streaming GraphML reader (no networkx) = load_graphml + network_from_graph, exactly."""
    import numpy as np
    import osmnx as ox
    import shapely

    from cjgis.streets.network import network_from_graph
    from cjgis.streets.sources import network_from_graphml

    streamed = network_from_graphml(hangzhou_streets, components="all")
    graph = ox.load_graphml(hangzhou_streets, edge_dtypes={"walk_excluded_hint": str})
    expected = network_from_graph(graph, components="all")
    assert streamed.n_edges == expected.n_edges > 3000
    assert streamed.dropped_edges == expected.dropped_edges > 100  # 高架 and tunnels refused
    for name in ("node_id", "node_x", "node_y", "edge_u", "edge_v", "edge_length_m", "edge_name"):
        assert np.array_equal(getattr(streamed, name), getattr(expected, name)), name
    assert shapely.equals_exact(streamed.edge_geometry, expected.edge_geometry, 0).all()
    assert shapely.equals_exact(streamed.barrier_geometry, expected.barrier_geometry, 0).all()


def test_graphml_in_another_layout_is_read_by_the_xml_parser_to_the_same_network(
    hangzhou_streets, tmp_path
):
    """A GraphML with comments (not osmnx's plain layout) falls back to the XML parser."""
    import numpy as np

    from cjgis.streets.sources import network_from_graphml

    text = hangzhou_streets.read_text(encoding="utf-8")
    other = tmp_path / "commented.graphml"
    other.write_text(
        text.replace("<graph ", "<!-- <node id='not-a-node'/> -->\n<graph ", 1), encoding="utf-8"
    )
    plain, parsed = network_from_graphml(hangzhou_streets), network_from_graphml(other)
    assert parsed.n_edges == plain.n_edges > 3000
    for name in ("node_id", "edge_u", "edge_v", "edge_length_m", "edge_name"):
        assert np.array_equal(getattr(parsed, name), getattr(plain, name)), name


@pytest.mark.parametrize("layout", ["osmnx", "commented"])
def test_graphml_names_with_xml_entities_read_back_unescaped(tmp_path, layout):
    """``&amp;`` and ``&lt;`` in a street's name come back as ``&`` and ``<``, in both readers."""
    import osmnx as ox
    from conftest import graph_from_segments

    from cjgis.streets.sources import network_from_graphml

    graph = graph_from_segments({1: (0, 0), 2: (100, 0), 3: (100, 100)}, [(1, 2), (2, 3)])
    names = {(1, 2): "文一路 & 古墩路口", (2, 1): "文一路 & 古墩路口", (2, 3): '<规划>支路 "甲"'}
    names[(3, 2)] = names[(2, 3)]
    for u, v, data in graph.edges(data=True):
        data["name"] = names[(u, v)]
        data["highway"] = "residential"
    path = tmp_path / "entities.graphml"
    ox.save_graphml(graph, path)
    text = path.read_text(encoding="utf-8")
    assert "&amp;" in text and "&lt;规划&gt;" in text  # escaped on disk, as osmnx writes it
    if layout == "commented":
        path.write_text(text.replace("<graph ", "<!-- a comment -->\n<graph ", 1), "utf-8")
    net = network_from_graphml(path, components="all")
    assert set(net.edge_name) == {"文一路 & 古墩路口", '<规划>支路 "甲"'}


def test_graphml_geometry_that_is_not_wkt_names_the_edge_and_the_fix(sample_study, tmp_path):
    import re

    from cjgis._errors import InputError
    from cjgis.streets.sources import network_from_graphml

    text = (sample_study.parent / "streets.graphml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.graphml"
    broken.write_text(re.sub(r">LINESTRING \(", ">LINESTRING ((", text, count=1), "utf-8")
    with pytest.raises(
        InputError,
        match=r"broken\.graphml: edge \d+ \(from node \S+ to \S+\) "
        r"has a geometry that is not WKT: 'LINESTRING \(\(.*Fix: write",
    ):
        network_from_graphml(broken)
