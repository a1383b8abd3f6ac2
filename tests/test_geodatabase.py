"""Layers of an ArcGIS File Geodatabase or a many-layer GeoPackage as inputs (issue 27, item 1).

The bureau's base data comes as one ``.gdb`` (a folder) with Chinese layer and field names:
``layer = "社区边界"`` reads one; a file of several layers without ``layer`` stops with their
names, as does a layer that is not there.
"""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import append_to_study, edit_study

from cjgis import InputError, StudyFileError, analyze_study, load_study

COMMUNITIES = """[communities]
path = "communities.geojson"
id = "community_id"
name = "name"
"""
RESIDENTS = """[residents]
path = "buildings.gpkg"
id = "building_id"
population = "population"
households = "households"
elderly = "elderly"
"""


@pytest.fixture
def gdb_study(study_dir):
    """The sample with its communities and buildings moved into 基础数据.gdb, Chinese names."""
    gdb = study_dir / "基础数据.gdb"
    communities = gpd.read_file(study_dir / "communities.geojson").rename(
        columns={"community_id": "社区编号", "name": "社区名称"}
    )
    buildings = gpd.read_file(study_dir / "buildings.gpkg").rename(
        columns={"building_id": "楼栋编号", "population": "人口", "households": "户数"}
    )
    counts = buildings.select_dtypes("int64").columns  # a geodatabase's integers are 32-bit
    buildings[counts] = buildings[counts].astype("int32")
    pyogrio.write_dataframe(communities, gdb, layer="社区边界", driver="OpenFileGDB")
    pyogrio.write_dataframe(buildings, gdb, layer="居民楼栋", driver="OpenFileGDB")
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    assert COMMUNITIES in text and RESIDENTS in text
    edit_study(
        study_dir,
        COMMUNITIES,
        '[communities]\npath = "基础数据.gdb"\nlayer = "社区边界"\nid = "社区编号"\n'
        'name = "社区名称"\n',
    )
    return edit_study(
        study_dir,
        RESIDENTS,
        '[residents]\npath = "基础数据.gdb"\nlayer = "居民楼栋"\nid = "楼栋编号"\n'
        'population = "人口"\nhouseholds = "户数"\nelderly = "elderly"\n',
    )


def test_a_geodatabase_gives_the_verdicts_of_the_files(gdb_study, sample_analysis):
    got = analyze_study(load_study(gdb_study), verbose=False)
    columns = ["community_id", "category", "covered_share", "status", "residents"]
    pd.testing.assert_frame_equal(got.coverage[columns], sample_analysis.coverage[columns])
    assert len(got.residents) == len(sample_analysis.residents)
    assert set(got.communities["community_name"]) == set(
        sample_analysis.communities["community_name"]
    )


def test_gdal_36_sees_the_chinese_layer_names(gdb_study):
    """What ArcGIS and QGIS LTR (GDAL 3.6) read: the layers, their Chinese names intact."""
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.fail("no ogrinfo: apt-get install gdal-bin (.ci/run installs it)")
    listed = subprocess.run(
        [ogrinfo, "-ro", "-q", str(gdb_study.parent / "基础数据.gdb")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "社区边界" in listed and "居民楼栋" in listed


def test_several_layers_and_none_named_lists_them(gdb_study):
    text = gdb_study.read_text(encoding="utf-8").replace('layer = "社区边界"\n', "")
    gdb_study.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"2 layers \('社区边界', '居民楼栋'\) and none named"):
        analyze_study(load_study(gdb_study), verbose=False)


def test_a_layer_that_is_not_there_lists_those_that_are(gdb_study):
    text = gdb_study.read_text(encoding="utf-8").replace('layer = "社区边界"', 'layer = "社区边"')
    gdb_study.write_text(text, encoding="utf-8")
    with pytest.raises(
        InputError, match=r"no layer '社区边'; its layers are .*did you mean '社区边界'"
    ):
        analyze_study(load_study(gdb_study), verbose=False)


def test_a_geopackage_of_two_layers_no_longer_gives_its_first_silently(study_dir):
    buildings = gpd.read_file(study_dir / "buildings.gpkg")
    pyogrio.write_dataframe(buildings.iloc[:5], study_dir / "buildings.gpkg", layer="草稿")
    with pytest.raises(InputError, match=r"buildings\.gpkg: 2 layers .* and none named"):
        analyze_study(load_study(study_dir / "study.toml"), verbose=False)


def test_a_layer_for_a_table_is_refused(study_dir):
    edit_study(study_dir, 'path = "facilities.csv"', 'path = "facilities.csv"\nlayer = "x"')
    with pytest.raises(InputError, match="layer = 'x' given, but the file is a table"):
        analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    assert issubclass(StudyFileError, InputError)


def test_every_layer_also_in_one_geodatabase_as_gdal_36_reads_it(study_dir, monkeypatch):
    """[output] formats = ["gpkg", "gdb"]: the same layers and tables in <name>.gdb."""
    from cjgis.cli import main

    study = append_to_study(study_dir, '[output]\nformats = ["gpkg", "gdb"]\n')
    monkeypatch.chdir(study_dir)
    for _ in range(2):  # the second run replaces the first geodatabase whole
        assert main(["analyze", str(study), "--quiet", "--no-map"]) == 0
    out = study_dir / "data" / "processed" / "sample"
    gdb = out / "sample.gdb"
    names = [str(n) for n in pyogrio.list_layers(gdb)[:, 0]]
    assert {"communities", "facilities", "service_areas", "coverage", "rejected"} <= set(names)
    assert {"residents_points", "residents_polygons"} <= set(names)  # outside points apart
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".gdb")) == ["sample.gdb"]
    gpkg = gpd.read_file(out / "communities.gpkg")
    mine = gpd.read_file(gdb, layer="communities")
    for column in ("community_name", "categories_met", "categories_required"):
        assert list(mine[column]) == list(gpkg[column]), column
    coverage = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    table = pyogrio.read_dataframe(gdb, layer="coverage")
    assert list(table["status_zh"]) == list(coverage["status_zh"])
    assert list(table["covered_share"]) == pytest.approx(list(coverage["covered_share"]))
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.fail("no ogrinfo: apt-get install gdal-bin (.ci/run installs it)")
    shown = subprocess.run(
        [ogrinfo, "-ro", "-al", "-q", str(gdb), "communities"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "沈家社区" in shown and "categories_met (Integer) = 0" in shown  # 32-bit, as 3.6 reads


def test_a_format_list_without_gpkg_is_refused(study_dir):
    study = append_to_study(study_dir, '[output]\nformats = ["gdb"]\n')
    with pytest.raises(StudyFileError, match=r'formats = \["gpkg", "gdb"\]'):
        load_study(study)


def test_road_lines_from_a_geodatabase_layer_make_the_same_network(tmp_path):
    """[network] path = "基础数据.gdb", layer = "道路中心线": the network of the same lines."""
    from conftest import X0, Y0

    from cjgis.streets.cache import cache_key
    from cjgis.streets.sources import network_from_file

    lines = gpd.GeoDataFrame(
        {"name": ["东湖路", "杭海路", "规划一路"], "highway": ["residential"] * 3},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 800, Y0)]),
            shapely.LineString([(X0 + 400, Y0 - 300), (X0 + 400, Y0 + 300)]),
            shapely.LineString([(X0 + 800, Y0), (X0 + 800, Y0 + 500)]),
        ],
        crs="EPSG:4549",
    )
    pyogrio.write_dataframe(lines, tmp_path / "roads.gpkg")
    gdb = tmp_path / "基础数据.gdb"
    pyogrio.write_dataframe(lines, gdb, layer="道路中心线", driver="OpenFileGDB")
    pyogrio.write_dataframe(lines.iloc[:1], gdb, layer="其他", driver="OpenFileGDB")
    want = network_from_file(tmp_path / "roads.gpkg")
    got = network_from_file(gdb, layer="道路中心线")
    assert (got.n_nodes, got.n_edges) == (want.n_nodes, want.n_edges) == (6, 5)  # split at +
    assert got.edge_length_m.sum() == pytest.approx(want.edge_length_m.sum())
    with pytest.raises(InputError, match=r"2 layers .* and none named"):
        network_from_file(gdb)
    assert cache_key(gdb, layer="道路中心线") != cache_key(gdb, layer="其他")
    before = cache_key(gdb, layer="道路中心线")
    (gdb / "a0000000a.gdbtable").write_bytes(b"edited")  # a changed geodatabase: a new key
    assert cache_key(gdb, layer="道路中心线") != before


def test_a_layer_for_a_street_graph_is_refused(study_dir):
    from cjgis import network_from_study

    path = edit_study(
        study_dir, 'path = "streets.graphml"', 'path = "streets.graphml"\nlayer = "x"'
    )
    with pytest.raises(InputError, match="layer = 'x', but the file is no road-line layer"):
        network_from_study(load_study(path))


def test_water_and_buildings_from_layers_of_a_geodatabase(gdb_study):
    """[map] water_layer and [residents] buildings_layer name their layers of a .gdb."""
    import re

    from cjgis.run.runner import layers_from_study

    folder = gdb_study.parent
    gdb = folder / "基础数据.gdb"
    river = gpd.read_file(folder / "river.geojson")
    pyogrio.write_dataframe(river, gdb, layer="水系", driver="OpenFileGDB")
    text = gdb_study.read_text(encoding="utf-8")
    drawn = text.replace('water = "river.geojson"', 'water = "基础数据.gdb"\nwater_layer = "水系"')
    gdb_study.write_text(drawn, encoding="utf-8")
    water = load_study(gdb_study).map_options["water"]
    assert isinstance(water, gpd.GeoDataFrame) and len(water) == len(river)
    assert (
        water.to_crs(4549).symmetric_difference(river.to_crs(4549)).area.max() < 1.0
    )  # m², GDB grid

    unnamed = text.replace('water = "river.geojson"', 'water = "基础数据.gdb"')
    gdb_study.write_text(unnamed, encoding="utf-8")
    with pytest.raises(InputError, match=r"3 layers \(.*'水系'\) and none named"):
        load_study(gdb_study).map_options  # noqa: B018 - reading the water is the point

    # residents as community totals spread over the buildings of a .gdb layer (by footprint)
    totals = re.sub(
        r"\[residents\][^\[]*",
        '[residents]\ncommunity_totals = "人口"\nbuildings = "基础数据.gdb"\n'
        'buildings_layer = "居民楼栋"\n\n',
        text,
    )
    communities = gpd.read_file(gdb, layer="社区边界")
    communities["人口"] = (np.arange(1, len(communities) + 1) * 1000).astype("int32")
    pyogrio.write_dataframe(communities, gdb, layer="社区边界", driver="OpenFileGDB")
    gdb_study.write_text(totals, encoding="utf-8")
    _, residents, _ = layers_from_study(load_study(gdb_study))
    home = residents.frame[~residents.frame["living_outside"]]  # [residents_outside] apart
    assert home["population"].sum() == pytest.approx(communities["人口"].sum())
    assert home.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert len(home) == len(gpd.read_file(gdb, layer="居民楼栋"))
