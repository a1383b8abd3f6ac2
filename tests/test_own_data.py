"""A planner's own data on the first day (issue 35): tables, sheets, encodings, as they arrive.

Each input is made here the way a planner gets it (a street office's XLSX with a cover sheet
and GCJ-02 coordinates, ...) from the sample's files, and the analysis is compared with the
sample's own.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import edit_study

from cjgis._errors import InputError
from cjgis.inputs.coords import wgs84_to_gcj02
from cjgis.run.runner import analyze_study
from cjgis.run.study import load_study


def facilities_from_amap(folder: Path) -> None:
    """The sample's facilities as an Amap export: GCJ-02 in GBK, declared in the study file."""
    table = pd.read_csv(folder / "facilities.csv", encoding="utf-8-sig")
    table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"].to_numpy(), table["lat"].to_numpy())
    table.to_csv(folder / "facilities.csv", index=False, encoding="gbk")
    edit_study(folder, 'path = "facilities.csv"', 'path = "facilities.csv"\ncrs = "gcj02"')


def replace_section(folder: Path, section: str, body: str) -> Path:
    """Replace ``[section]`` of the study file with ``body`` (its keys)."""
    path = folder / "study.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"[{section}]")
    end = text.index("\n[", start + 1)
    path.write_text(f"{text[:start]}[{section}]\n{body}\n{text[end:]}", encoding="utf-8")
    return path


def street_office_workbook(folder: Path, *, ids=None) -> Path:
    """The sample's buildings as a street office lists them: one row per 楼栋, GCJ-02 degrees,
    Chinese headers, a cover sheet first."""
    build = gpd.read_file(folder / "buildings.gpkg")
    points = build.geometry.representative_point().to_crs("EPSG:4326")
    lon, lat = wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    table = pd.DataFrame(
        {
            "楼栋": build["building_id"] if ids is None else ids,
            "户数": build["households"],
            "人口": build["population"],
            "60岁以上人口": build["elderly"],
            "原村民": build["villagers"],
            "租住人口": build["renters"],
            "经度": lon,
            "纬度": lat,
        }
    )
    path = folder / "residents.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"说明": ["某街道 撤村建居社区 楼栋人口台账", "2026年"]}).to_excel(
            book, sheet_name="封面", index=False
        )
        table.to_excel(book, sheet_name="楼栋", index=False)
    return path


RESIDENTS_XLSX = """path = "residents.xlsx"
sheet = "楼栋"
crs = "gcj02"
id = "楼栋"
population = "人口"
households = "户数"
elderly = "60岁以上人口"
villagers = "原村民"
renters = "租住人口"
"""


def test_residents_from_a_street_office_workbook_in_gcj02(study_dir, sample_analysis):
    street_office_workbook(study_dir)
    study = load_study(replace_section(study_dir, "residents", RESIDENTS_XLSX))
    got = analyze_study(study, verbose=False)
    assert len(got.rejected) == 0
    want = sample_analysis
    key = ["community_id", "category", "resident_group"]
    a = got.coverage_rows().set_index(key)
    b = want.coverage_rows().set_index(key)
    assert a.index.equals(b.index)
    # the same residents, as points (a building's point, read back from GCJ-02 to < 1 mm)
    np.testing.assert_allclose(a["covered_share"], b["covered_share"], atol=1e-9)
    np.testing.assert_allclose(a["covered_residents"], b["covered_residents"])
    walk = [c for c in want.residents if c.startswith("walk_min_")]
    mine = got.residents.set_index("resident_id")[walk]
    theirs = want.residents.set_index("resident_id").loc[mine.index, walk]
    np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), atol=1e-3, equal_nan=True)


def test_the_cover_sheet_is_named_with_the_sheets_to_choose(study_dir):
    street_office_workbook(study_dir)
    body = RESIDENTS_XLSX.replace('sheet = "楼栋"\n', "")
    study = load_study(replace_section(study_dir, "residents", body))
    with pytest.raises(
        InputError,
        match=r"residents\.xlsx: columns? .*not found|sheet '封面' read; its other sheets: 楼栋",
    ) as caught:
        analyze_study(study, verbose=False)
    assert "封面" in str(caught.value) and "楼栋" in str(caught.value)
    wrong = RESIDENTS_XLSX.replace('sheet = "楼栋"', 'sheet = "楼幢"')
    study = load_study(replace_section(study_dir, "residents", wrong))
    with pytest.raises(InputError, match=r"no sheet '楼幢'; its sheets are: 封面, 楼栋\. Fix"):
        analyze_study(study, verbose=False)


def test_a_facility_workbook_with_a_cover_sheet_names_its_sheets(study_dir):
    table = pd.read_csv(study_dir / "facilities.csv", encoding="utf-8-sig")
    with pd.ExcelWriter(study_dir / "facilities.xlsx") as book:
        pd.DataFrame({"说明": ["设施清单"]}).to_excel(book, sheet_name="封面", index=False)
        table.to_excel(book, sheet_name="设施", index=False)
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    (study_dir / "study.toml").write_text(
        text.replace('"facilities.csv"', '"facilities.xlsx"'), encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"sheet '封面' read; its other sheets: 设施"):
        analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    (study_dir / "study.toml").write_text(
        text.replace('"facilities.csv"', '"facilities.xlsx"\nsheet = "设施"'), encoding="utf-8"
    )
    got = analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    assert len(got.facilities) == len(table)


def test_a_resident_row_with_unusable_coordinates_is_rejected_with_its_reason(study_dir):
    path = street_office_workbook(study_dir)
    table = pd.read_excel(path, sheet_name="楼栋")
    table.loc[2, ["经度", "纬度"]] = table.loc[2, ["纬度", "经度"]].to_numpy()  # swapped
    table.loc[5, "经度"] = None
    with pd.ExcelWriter(path) as book:
        table.to_excel(book, sheet_name="楼栋", index=False)
    study = load_study(replace_section(study_dir, "residents", RESIDENTS_XLSX))
    got = analyze_study(study, verbose=False)
    rejected = got.rejected.set_index("row")
    assert list(rejected.index) == [3, 6]
    assert "swapped" in rejected.loc[3, "reason"] and "swap" in rejected.loc[3, "fix"]
    assert "missing or non-numeric 经度/纬度" in rejected.loc[6, "reason"]
    assert rejected.loc[3, "population"] == table.loc[2, "人口"]


def test_building_numbers_that_repeat_in_each_community_keep_every_resident(
    study_dir, sample_analysis, caplog
):
    """1幢, 2幢 ... in every 社区: ids unique within a community are enough."""
    build = gpd.read_file(study_dir / "buildings.gpkg")
    home = sample_analysis.residents.set_index("resident_id").loc[
        build["building_id"].astype(str), "community_id"
    ]
    numbers = pd.Series(1, index=build.index).groupby(home.to_numpy()).cumsum()
    ids = [f"{n}幢" for n in numbers]
    path = street_office_workbook(study_dir, ids=ids)
    table = pd.read_excel(path, sheet_name="楼栋")
    twice = table.iloc[[0]]  # and one row listed twice in its community
    with pd.ExcelWriter(path) as book:
        pd.concat([table, twice], ignore_index=True).to_excel(book, sheet_name="楼栋", index=False)
    caplog.set_level("INFO", logger="cjgis")
    got = analyze_study(
        load_study(replace_section(study_dir, "residents", RESIDENTS_XLSX)), verbose=False
    )
    inside = got.residents[~got.residents["living_outside"].astype(bool)]
    assert len(inside) == len(build)  # every building kept
    assert inside["population"].sum() == build["population"].sum()
    assert set(inside["resident_id"]) == {f"{c}-{i}" for c, i in zip(home, ids, strict=True)}
    assert "ids repeat across communities" in caplog.text
    rejected = got.rejected.set_index("row")
    assert list(rejected.index) == [len(table) + 1]
    assert (
        rejected.iloc[0]["reason"]
        == f"id '1幢' repeats row 1 in community {home.iloc[0]} (first kept)"
    )


def amap_export(folder: Path, rows: list[tuple[str, str]]) -> Path:
    """An Amap POI export as it comes: GBK CSV, 名称/类型/地址/经度/纬度, GCJ-02."""
    lon, lat = wgs84_to_gcj02(np.full(len(rows), 120.262), np.full(len(rows), 30.297))
    table = pd.DataFrame(
        {
            "名称": [r[0] for r in rows],
            "类型": [r[1] for r in rows],
            "地址": "杭州市",
            "经度": lon + np.arange(len(rows)) * 1e-4,
            "纬度": lat,
        }
    )
    path = folder / "amap.csv"
    table.to_csv(path, index=False, encoding="gbk")
    return path


def test_the_name_outranks_the_amap_type_and_says_so(tmp_path, caplog):
    from cjgis.inputs.io import read_facilities

    path = amap_export(
        tmp_path,
        [
            ("朱家社区居家养老服务照料中心", "生活服务;养老服务;养老院"),
            ("三墩镇敬老院", "医疗保健服务;医疗保健服务场所;养老院"),
            ("某某服务点", "生活服务;养老服务;居家养老"),
        ],
    )
    layer = read_facilities(path, crs="gcj02")
    frame = layer.frame.set_index("name")
    assert frame.loc["朱家社区居家养老服务照料中心", "category"] == "elderly_care"
    assert frame.loc["朱家社区居家养老服务照料中心", "classified_by"] == "name"
    assert frame.loc["三墩镇敬老院", "category"] == "nursing_home"
    assert frame.loc["某某服务点", "classified_by"] == "type"  # the name says nothing
    assert frame.loc["某某服务点", "category"] == "elderly_care"
    assert "1 facilities' names and types say different categories; the name's is used" in (
        caplog.text
    )
    assert "row 1 '朱家社区居家养老服务照料中心': elderly_care by its name, nursing_home" in (
        caplog.text
    )


def test_a_category_column_of_amap_types_stops_with_the_fix(tmp_path):
    from cjgis.inputs.io import read_facilities

    path = amap_export(
        tmp_path, [("甲", "生活服务;养老服务;养老院"), ("乙", "体育休闲服务;运动场馆;运动场所")]
    )
    with pytest.raises(
        InputError, match=r"holds Amap types .*Fix: read it as the type: type = \"类型\""
    ):
        read_facilities(path, crs="gcj02", category="类型")


def arcgis_shapefile(folder: Path, encoding: str, names=None, field="名称") -> Path:
    """The sample's boundaries as ArcGIS writes them: EPSG:4549, short or Chinese field names,
    attributes in ``encoding``, no .cpg file."""
    comm = gpd.read_file(folder / "communities.geojson").to_crs("EPSG:4549")
    comm = comm.rename(columns={"community_id": "cid", "name": field})
    if names is not None:
        comm[field] = names
    path = folder / "communities.shp"
    comm.to_file(path, encoding=encoding, engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_a_shapefile_without_cpg_reads_chinese_names(study_dir, encoding, caplog):
    """ArcGIS's shapefile in EPSG:4549 with GBK (or UTF-8) attributes and no .cpg file."""
    from cjgis.inputs.io import read_communities

    names = list(gpd.read_file(study_dir / "communities.geojson")["name"])
    path = arcgis_shapefile(study_dir, encoding)
    assert names[0].encode(encoding) in path.with_suffix(".dbf").read_bytes()
    caplog.set_level("INFO", logger="cjgis")
    layer = read_communities(path, id="cid", name="名称")
    assert list(layer.frame["community_name"]) == names
    assert f"read as {'GB18030' if encoding == 'gbk' else 'UTF-8'}" in caplog.text
    # the whole study on it: the names in the outputs are the Chinese ones
    replace_section(study_dir, "communities", 'path = "communities.shp"\nid = "cid"\nname = "名称"')
    got = analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    assert set(got.coverage["community_name"]) == set(names)


def test_a_dbf_in_neither_encoding_stops_with_the_fix(study_dir):
    from cjgis.inputs.io import read_communities

    path = arcgis_shapefile(study_dir, "big5", names=["臺灣社區鄉鎮"] * 8, field="mc")  # Big5
    with pytest.raises(
        InputError, match=r"communities\.dbf: read as GB18030 .*garbled.*Fix: add a \.cpg"
    ):
        read_communities(path, id="cid", name="mc")


def test_the_encoding_key_overrides_the_guess(study_dir):
    from cjgis.inputs.io import read_communities

    path = arcgis_shapefile(study_dir, "gbk")
    names = list(gpd.read_file(study_dir / "communities.geojson")["name"])
    assert (
        list(read_communities(path, id="cid", name="名称", encoding="gbk").frame["community_name"])
        == names
    )
    with pytest.raises(InputError, match=r"encoding = 'gbkk' is no text encoding"):
        read_communities(path, id="cid", name="名称", encoding="gbkk")
    replace_section(
        study_dir,
        "communities",
        'path = "communities.shp"\nid = "cid"\nname = "名称"\nencoding = "gbk"',
    )
    study = load_study(study_dir / "study.toml")
    assert study.communities.encoding == "gbk"
    got = analyze_study(study, verbose=False)
    assert set(got.communities["community_name"]) == set(names)


def test_a_run_that_rejects_many_rows_says_so_with_counts_reasons_and_fix(study_dir, caplog):
    path = street_office_workbook(study_dir)
    table = pd.read_excel(path, sheet_name="楼栋")
    bad = table.index[::8]  # one row in eight: "120人", as typed in a street office
    people = table.loc[bad, "人口"].sum()
    table["人口"] = table["人口"].astype(object)
    table.loc[bad, "人口"] = [f"{p}人" for p in table.loc[bad, "人口"]]
    with pd.ExcelWriter(path) as book:
        table.to_excel(book, sheet_name="楼栋", index=False)
    got = analyze_study(
        load_study(replace_section(study_dir, "residents", RESIDENTS_XLSX)), verbose=False
    )
    assert len(got.rejected) == len(bad)
    warned = [r.getMessage() for r in caplog.records if "rows rejected" in r.getMessage()]
    assert len(warned) == 1
    assert f"residents.xlsx: {len(bad)} of {len(table)} rows rejected (13 %)" in warned[0]
    assert f"population '人口' … is not a number ({len(bad)})" in warned[0]
    assert "Fix: enter a count of 0 or more" in warned[0]
    # the people of those rows are unknown ("120人" is no count): named as rows, not people
    assert got.summary().endswith(
        f"{len(bad)} input rows rejected (0 of {got.residents['population'].sum():,.0f} "
        "residents left out)"
    )
    assert people > 0


@pytest.mark.parametrize("crs", ["EPSG:4326", "gcj02", "EPSG:4549"])
def test_a_saved_what_if_read_back_as_planned_gives_the_shares_it_printed(study_dir, crs):
    """what-if -> save -> [planned] facilities -> cjgis site: the same shares, in any CRS.

    The study's own facilities are an Amap export (GCJ-02, declared): the saved file says its
    CRS and is read back in it, and the moved facility stands at its new place only.
    """
    from pyproj import Transformer

    from cjgis.plan.whatif import save_scenario, what_if
    from cjgis.run.site import run_site_study

    facilities_from_amap(study_dir)
    replace_section(study_dir, "planned", 'facilities = "scenario.csv"')
    study = load_study(study_dir / "study.toml")
    before = analyze_study(study, verbose=False)
    care = before.facilities[before.facilities["category"] == "elderly_care"]
    moved = str(care["facility_id"].iloc[0])
    wgs = gpd.GeoSeries(care.geometry.iloc[:2], crs=before.crs).to_crs("EPSG:4326")
    lon = np.array([wgs.x.iloc[0] + 0.004, wgs.x.iloc[1] - 0.003])
    lat = np.array([wgs.y.iloc[0] + 0.002, wgs.y.iloc[1] + 0.003])
    if crs == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif crs == "EPSG:4549":
        lon, lat = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    result = what_if(
        before,
        add=[{"category": "elderly_care", "lon": lon[0], "lat": lat[0], "name": "新增照料中心"}],
        move={moved: (lon[1], lat[1])},
        crs=crs,
    )
    saved = save_scenario(result, study_dir / "scenario.csv", crs=crs)
    written = pd.read_csv(saved, encoding="utf-8-sig")
    assert set(written["crs"]) == {crs} and sorted(written["change"]) == ["added", "moved"]
    np.testing.assert_allclose(written.sort_values("change")[["lon", "lat"]], np.c_[lon, lat])
    site = run_site_study(study, verbose=False)
    key = ["community_id", "category"]
    want = result.analysis.coverage.set_index(key)["covered_share"]
    got = site.after.coverage.set_index(key)["covered_share"]
    pd.testing.assert_series_equal(got.loc[want.index], want)
    ids = set(site.after.facilities["facility_id"].astype(str))
    assert moved not in ids and f"P{moved}" in ids  # moved, not copied
    assert len(site.after.facilities) == len(before.facilities) + 1


def test_a_what_if_takes_chinese_category_names_and_suggests_for_a_typo(sample_analysis):
    from cjgis.inputs.categories import category_info
    from cjgis.plan.whatif import what_if

    name = category_info("elderly_care").name_zh
    site = gpd.GeoSeries([sample_analysis.facilities.geometry.iloc[0]], crs=sample_analysis.crs)
    lonlat = site.to_crs("EPSG:4326").iloc[0]
    by_name = what_if(sample_analysis, add=[{"category": name, "lon": lonlat.x, "lat": lonlat.y}])
    assert by_name.facilities["category"].iloc[-1] == "elderly_care"
    with pytest.raises(InputError, match=rf"did you mean 'elderly_care' \({name}\)\?"):
        what_if(sample_analysis, add=[{"category": name[:-1], "lon": lonlat.x, "lat": lonlat.y}])


def test_suggested_sites_say_their_crs_and_give_amap_coordinates(
    study_dir, tmp_path, monkeypatch, capsys
):
    from cjgis.cli import main

    facilities_from_amap(study_dir)
    monkeypatch.chdir(tmp_path)
    assert main(["site", str(study_dir / "study.toml"), "--quiet"]) == 0
    out = capsys.readouterr().out
    sites = pd.read_csv(
        tmp_path / "data" / "processed" / "sample" / "site" / "suggested_sites.csv",
        encoding="utf-8-sig",
    )
    assert len(sites) > 0 and set(sites["crs"]) == {"EPSG:4326"}
    lon, lat = wgs84_to_gcj02(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    np.testing.assert_allclose(sites["lon_gcj02"], lon, atol=2e-6)
    np.testing.assert_allclose(sites["lat_gcj02"], lat, atol=2e-6)
    first = sites.iloc[0]
    assert f"{first['lon']:.5f}, {first['lat']:.5f} WGS84; " in out
    assert f"{first['lon_gcj02']:.5f}, {first['lat_gcj02']:.5f} GCJ-02 (Amap)" in out


def test_a_misspelled_chinese_category_in_the_file_gets_did_you_mean(study_dir, caplog):
    from cjgis.inputs.categories import category_info

    name = category_info("ceremony_hall").name_zh
    table = pd.read_csv(study_dir / "facilities.csv", encoding="utf-8-sig")
    table.loc[table["category"] == "ceremony_hall", "category"] = name[:-1]  # 红白喜事用 (typo)
    table.to_csv(study_dir / "facilities.csv", index=False, encoding="utf-8-sig")
    analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    assert f"unknown category '{name[:-1]}'" in caplog.text
    assert f"did you mean 'ceremony_hall' ({name})?" in caplog.text


def sparse_grid():
    """Streets every 300 m over 4.2 km (a car network's sparse blocks), near Hangzhou."""
    from conftest import graph_from_segments

    from cjgis.streets.network import network_from_graph

    n = 15
    nodes = {i * n + j: (300.0 * i, 300.0 * j) for i in range(n) for j in range(n)}
    edges = [(i * n + j, i * n + j + 1) for i in range(n) for j in range(n - 1)]
    edges += [(i * n + j, (i + 1) * n + j) for i in range(n - 1) for j in range(n)]
    return network_from_graph(graph_from_segments(nodes, edges))


def lonlat_of(network, local_xy):
    """WGS84 lon/lat of points given in metres from the grid's origin."""
    from conftest import X0, Y0
    from pyproj import Transformer

    x, y = np.asarray(local_xy, float).T
    return Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True).transform(x + X0, y + Y0)


def test_gcj02_is_advised_for_a_real_export_and_not_for_points_deep_in_blocks():
    """Issue 36: a shift of 500 m anywhere lands points deep in large blocks nearer a street;
    only a reading that beats the same shift turned in other directions is advised."""
    import shapely

    from cjgis.inputs._validate import CoordinateWarning, check_chinese_offset

    network = sparse_grid()
    rng = np.random.default_rng(3)
    # correct WGS84 points 70-85 m inside blocks, in the grid's middle (a shift stays inside)
    cells = rng.integers(4, 10, size=(60, 2)) * 300.0
    inside = cells + np.column_stack([rng.uniform(70, 85, 60), rng.uniform(100, 200, 60)])
    lon, lat = lonlat_of(network, inside)
    quiet = check_chinese_offset(shapely.points(lon, lat), network, file="f.csv", key="[f]")
    assert quiet is None
    # an Amap export of points on the streets: its GCJ-02 numbers read as WGS84
    along = cells + np.column_stack([rng.uniform(20, 280, 60), np.full(60, 2.0)])
    lon, lat = wgs84_to_gcj02(*lonlat_of(network, along))
    with pytest.warns(CoordinateWarning, match=r'add crs = "gcj02"'):
        check_chinese_offset(shapely.points(lon, lat), network, file="f.csv", key="[f]")
