"""Road designs as CAD drawings (DXF) and bridges in road lines (issue 27, item 3).

The drawings are built with ezdxf, as AutoCAD 2010 (UTF-8) and as AutoCAD 2000 in GBK with
the ANSI_936 code page, and read through GDAL as a planner's would be. Exact answers on a
hand-drawn junction with a bridge over it; the sample's streets drawn as a DXF make the same
network as the same lines in a GeoPackage.
"""

from __future__ import annotations

import ezdxf
import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import X0, Y0

from cjgis import InputError, StudyFileError, load_study
from cjgis.inputs.cad import dxf_encoding, read_dxf_lines
from cjgis.streets.road_lines import graph_from_lines
from cjgis.streets.sources import network_from_file, read_street_graph

#: The junction (local metres from X0, Y0): a street west-east along y = 0, a street
#: north-south at x = 200 whose middle (y -60 ... 60) is a bridge over it, a street up
#: x = 400 and back along y = 160, and a ramp landing on the west-east street at x = 300.
ROADS = {
    "west_east": [(0, 0), (400, 0)],
    "south": [(200, -160), (200, -60)],
    "north": [(200, 60), (200, 160)],
    "east": [(400, 0), (400, 160)],
    "top": [(400, 160), (200, 160)],
}
BRIDGES = {"bridge": [(200, -60), (200, 60)], "ramp": [(300, -50), (300, 0)]}


def _at(points):
    return [(X0 + x, Y0 + y) for x, y in points]


def _drawing(path, *, version="R2010", encoding=None, text=True):
    """The junction as a CAD drawing: roads on 道路中心线, bridges on 桥梁, a house on 建筑."""
    doc = ezdxf.new(version)
    for name in ("道路中心线", "桥梁", "建筑"):
        doc.layers.add(name)
    msp = doc.modelspace()
    for points in ROADS.values():
        msp.add_lwpolyline(_at(points), dxfattribs={"layer": "道路中心线"})
    for points in BRIDGES.values():
        msp.add_line(*_at(points), dxfattribs={"layer": "桥梁"})
    msp.add_lwpolyline(
        _at([(50, 50), (80, 50), (80, 80), (50, 80)]), close=True, dxfattribs={"layer": "建筑"}
    )
    if text:
        msp.add_text("沈家路", dxfattribs={"layer": "道路中心线"}).set_placement(_at([(10, 5)])[0])
    if encoding is None:
        doc.saveas(path)
    else:
        doc.saveas(path, encoding=encoding)
    return path


def _node_at(graph, x, y):
    return min(
        graph.nodes,
        key=lambda n: np.hypot(graph.nodes[n]["x"] - X0 - x, graph.nodes[n]["y"] - Y0 - y),
    )


def _walk_m(graph, a, b):
    return nx.shortest_path_length(graph, _node_at(graph, *a), _node_at(graph, *b), weight="length")


def _lines(bridges: bool) -> gpd.GeoDataFrame:
    every = {**ROADS, **BRIDGES}
    return gpd.GeoDataFrame(
        {
            "name": list(every),
            "bridge": ["yes" if bridges and k in BRIDGES else "no" for k in every],
        },
        geometry=[shapely.LineString(_at(p)) for p in every.values()],
        crs="EPSG:4549",
    )


def test_a_bridge_crosses_a_street_without_a_junction():
    flat, _ = graph_from_lines(_lines(bridges=False))
    graph, _ = graph_from_lines(_lines(bridges=True))
    # drawn flat, the crossing at (200, 0) is a junction: straight across, 360 m
    assert _walk_m(flat, (0, 0), (200, -160)) == pytest.approx(200 + 160)
    # a bridge: round by the east street and over the bridge, 400 + 160 + 200 + 320 m
    assert _walk_m(graph, (0, 0), (200, -160)) == pytest.approx(400 + 160 + 200 + 320)
    assert not any(np.hypot(d["x"] - X0 - 200, d["y"] - Y0) < 1 for _, d in graph.nodes(data=True))
    # the ramp lands on the west-east street at x = 300: the street is split there
    assert _walk_m(graph, (0, 0), (300, -50)) == pytest.approx(300 + 50)
    elevated = {d.get("name") for *_, d in graph.edges(data=True) if d.get("elevated")}
    assert elevated == {"bridge", "ramp"}


def test_a_street_end_short_of_a_bridge_side_is_not_joined_to_it():
    lines = _lines(bridges=True)
    stub = gpd.GeoDataFrame(
        {"name": ["stub"], "bridge": ["no"]},
        geometry=[shapely.LineString(_at([(100, 10), (199.5, 10)]))],  # 0.5 m short of it
        crs="EPSG:4549",
    )
    graph, joins = graph_from_lines(gpd.pd.concat([lines, stub], ignore_index=True), join_m=1.0)
    assert joins.empty
    stub_end = _node_at(graph, 199.5, 10)
    assert graph.degree(stub_end) == 2  # its own edge, both directions: nothing else


def test_a_drawing_gives_the_junction_with_its_bridges(tmp_path):
    path = _drawing(tmp_path / "道路设计.dxf")
    assert dxf_encoding(path) == "UTF-8"
    lines = read_dxf_lines(path, layers=["道路中心线"], bridge_layers=["桥梁"])
    assert sorted(set(lines["cad_layer"])) == ["桥梁", "道路中心线"]
    assert (lines["bridge"] == "yes").sum() == 2 and len(lines) == 7  # the text is left out
    graph = read_street_graph(path, crs="EPSG:4549", layers=["道路中心线"], bridge_layers=["桥梁"])
    assert _walk_m(graph, (0, 0), (200, -160)) == pytest.approx(400 + 160 + 200 + 320)
    flat = read_street_graph(path, crs="EPSG:4549", layers=["道路中心线", "桥梁"])
    assert _walk_m(flat, (0, 0), (200, -160)) == pytest.approx(360)


def test_arcs_and_bulged_polylines_become_road_lines(tmp_path):
    doc = ezdxf.new("R2010")
    doc.layers.add("道路中心线")
    msp = doc.modelspace()
    msp.add_arc(
        (X0, Y0), radius=100, start_angle=0, end_angle=90, dxfattribs={"layer": "道路中心线"}
    )
    # a polyline with a half-circle bulge (bulge 1) of radius 50 from (300, 0) to (400, 0)
    msp.add_lwpolyline(
        [(X0 + 300, Y0, 0, 0, 1), (X0 + 400, Y0)],
        format="xyseb",
        dxfattribs={"layer": "道路中心线"},
    )
    doc.saveas(tmp_path / "弯道.dxf")
    lines = read_dxf_lines(tmp_path / "弯道.dxf", layers=["道路中心线"])
    assert lines["entity"].tolist() == ["AcDbArc", "AcDbPolyline"]
    lengths = lines.geometry.length.to_numpy()
    assert lengths[0] == pytest.approx(np.pi * 100 / 2, rel=2e-3)
    assert lengths[1] == pytest.approx(np.pi * 50, rel=2e-3)


def test_the_sample_streets_drawn_as_dxf_make_the_network_of_the_same_lines(tmp_path, sample_study):
    from cjgis.streets.sources import read_street_graph as read

    graph = read(sample_study.parent / "streets.graphml")

    def line(u, v, data):
        xy = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)]
        return data.get("geometry") or shapely.LineString(xy)

    edges = gpd.GeoDataFrame(
        geometry=[line(u, v, d) for u, v, d in graph.edges(data=True) if str(u) < str(v)],
        crs=graph.graph["crs"],
    ).to_crs(4549)
    edges = edges[~edges.geometry.duplicated()]
    doc = ezdxf.new("R2010")
    doc.layers.add("道路中心线")
    msp = doc.modelspace()
    for line in edges.geometry:
        msp.add_lwpolyline(shapely.get_coordinates(line), dxfattribs={"layer": "道路中心线"})
    doc.saveas(tmp_path / "路网.dxf")
    edges.to_file(tmp_path / "路网.gpkg")

    from_dxf = network_from_file(
        tmp_path / "路网.dxf", source_crs="EPSG:4549", layers=["道路中心线"], components="all"
    )
    from_gpkg = network_from_file(tmp_path / "路网.gpkg", components="all")
    assert len(edges) > 400
    assert from_dxf.n_nodes == from_gpkg.n_nodes and from_dxf.n_edges == from_gpkg.n_edges
    np.testing.assert_allclose(
        np.sort(from_dxf.edge_length_m), np.sort(from_gpkg.edge_length_m), atol=0.02
    )
    order_d = np.lexsort((from_dxf.node_y.round(1), from_dxf.node_x.round(1)))
    order_g = np.lexsort((from_gpkg.node_y.round(1), from_gpkg.node_x.round(1)))
    np.testing.assert_allclose(from_dxf.node_x[order_d], from_gpkg.node_x[order_g], atol=0.02)


def test_chinese_layer_names_in_an_old_gbk_drawing(tmp_path):
    gbk = _drawing(tmp_path / "old.dxf", version="R2000", encoding="gbk", text=False)
    text = gbk.read_bytes()
    assert "道路中心线".encode("gbk") in text and b"ANSI_1252" in text
    # the header says ANSI_1252 (as many exporters leave it): the names read garbled
    with pytest.raises(InputError, match=r"read garbled .* encoding = \"gbk\""):
        read_dxf_lines(gbk, layers=["道路中心线"])
    assert len(read_dxf_lines(gbk, layers=["道路中心线"], encoding="gbk")) == 5
    # the header right (ANSI_936, a Chinese AutoCAD's): read without being told
    right = tmp_path / "old936.dxf"
    right.write_bytes(text.replace(b"ANSI_1252", b"ANSI_936", 1))
    assert dxf_encoding(right) is None
    assert len(read_dxf_lines(right, layers=["道路中心线"])) == 5


def test_drawing_errors_name_the_layers(tmp_path):
    path = _drawing(tmp_path / "道路设计.dxf")
    with pytest.raises(InputError) as caught:
        read_dxf_lines(path, layers=["道路"])
    message = str(caught.value)
    assert "no CAD layer '道路'; the drawing's layers are 建筑, 桥梁, 道路中心线" in message
    assert "did you mean '道路中心线'?" in message
    with pytest.raises(InputError, match=r'3 layers .* none named.*layers = \["道路中心线"\]'):
        read_dxf_lines(path, layers=[])
    with pytest.raises(InputError, match=r'layer = .* for a CAD drawing.*layers = \["道路"\]'):
        read_street_graph(path, crs="EPSG:4549", layer="道路")
    with pytest.raises(InputError, match="no lines in the CAD layers 建筑"):
        _only_text(tmp_path)
    with pytest.raises(InputError, match="declares no coordinate reference system"):
        read_street_graph(path, layers=["道路中心线"])


def _only_text(tmp_path):
    doc = ezdxf.new("R2010")
    doc.layers.add("建筑")
    doc.modelspace().add_text("房", dxfattribs={"layer": "建筑"})
    doc.saveas(tmp_path / "text.dxf")
    return read_dxf_lines(tmp_path / "text.dxf", layers=["建筑"])


def test_study_file_keys_of_a_drawing(study_dir, tmp_path):
    from conftest import edit_study

    _drawing(study_dir / "道路设计.dxf")
    path = edit_study(
        study_dir,
        '[network]\npath = "streets.graphml"\n',
        '[network]\npath = "道路设计.dxf"\ncrs = "EPSG:4549"\nlayers = ["道路中心线"]\n'
        'bridge_layers = ["桥梁"]\n',
    )
    study = load_study(path)
    assert study.network.layers == ["道路中心线"] and study.network.bridge_layers == ["桥梁"]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('bridge_layers = ["桥梁"]', 'bridge_layers = "桥梁"'), "utf-8")
    with pytest.raises(StudyFileError, match=r"bridge_layers = '桥梁': a list of CAD layer"):
        load_study(path)
    path.write_text(text.replace('path = "道路设计.dxf"', 'path = "streets.graphml"'), "utf-8")
    from cjgis import network_from_study

    with pytest.raises(InputError, match="name the CAD layers of a DXF drawing"):
        network_from_study(load_study(path))
