"""Bad input gets a clear error naming the file, the row and the fix; nothing is lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from conftest import X0, Y0, edit_study

from cjgis._errors import InputError, StudyFileError
from cjgis.cli import main
from cjgis.run.runner import analyze_study
from cjgis.run.study import load_study


def living_outside(folder: Path) -> int:
    """Residences of the sample's [residents_outside] (集中过渡地), analysed with the buildings."""
    return len(gpd.read_file(folder / "residents_outside.gpkg"))


def run(folder: Path, **kw):
    return analyze_study(load_study(folder / "study.toml"), verbose=False, **kw)


def test_missing_file_names_it(study_dir):
    (study_dir / "facilities.csv").unlink()
    with pytest.raises(InputError, match=r"facilities\.csv: file not found\. Fix: check the path"):
        run(study_dir)


def test_missing_network_names_it(study_dir):
    edit_study(study_dir, '"streets.graphml"', '"nowhere.graphml"')
    with pytest.raises(InputError, match=r"nowhere\.graphml: street network file not found"):
        run(study_dir)


def test_unknown_column_suggests_the_right_one(study_dir):
    edit_study(
        study_dir, 'population = "population"\nhouseholds', 'population = "populaton"\nhouseholds'
    )
    with pytest.raises(
        InputError,
        match=r"buildings\.gpkg: unknown column 'populaton'.*"
        r"Fix: did you mean 'population'\?.*\[residents\]",
    ):
        run(study_dir)


def test_wrong_geometry_type_names_the_row(study_dir):
    comm = gpd.read_file(study_dir / "communities.geojson")
    comm.loc[2, "geometry"] = comm.loc[2, "geometry"].centroid
    comm.to_file(study_dir / "communities.geojson", driver="GeoJSON")
    with pytest.raises(
        InputError,
        match=r"communities\.geojson, row 3: community boundaries "
        r"must be MultiPolygon or Polygon, found Point",
    ):
        run(study_dir)


def test_layer_without_crs_says_how_to_declare_it(study_dir):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        build.set_crs(None, allow_override=True).to_file(study_dir / "nocrs.gpkg", driver="GPKG")
    edit_study(study_dir, '"buildings.gpkg"', '"nocrs.gpkg"')
    with pytest.raises(
        InputError,
        match=r"nocrs\.gpkg: the layer declares no coordinate "
        r"reference system.*Fix: add crs = \"EPSG:4326\"",
    ):
        run(study_dir)
    edit_study(study_dir, '"nocrs.gpkg"', '"nocrs.gpkg"\ncrs = "EPSG:4326"')
    assert len(run(study_dir).residents) == len(build) + living_outside(study_dir)


def test_empty_facility_list(study_dir):
    (study_dir / "facilities.csv").write_text("name,category,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"facilities\.csv: the facility list is empty"):
        run(study_dir)


def test_bad_facility_rows_are_listed_with_reasons(study_dir):
    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    table["lon"] = table["lon"].astype(object)
    table.loc[0, "category"] = None
    table.loc[0, "name"] = "某某小卖部"  # and a name no keyword rule knows
    table.loc[4, "category"] = None  # its name, 居家养老服务照料中心, gives elderly_care
    table.loc[1, "lon"] = "abc"
    table.loc[2, "lat"] = 130.0  # not a latitude
    table.to_csv(path, index=False, encoding="utf-8-sig")
    result = run(study_dir)
    rej = result.rejected.set_index("row")
    assert rej.loc[1, "reason"].startswith("no category: none given and no keyword rule")
    assert "lon/lat" in rej.loc[2, "reason"] and "lon/lat" in rej.loc[3, "reason"]
    assert len(result.facilities) == len(table) - 3
    assert result.facilities.set_index("facility_id").loc["5", "category"] == "elderly_care"


def test_residence_far_outside_the_network(study_dir):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    far = build.iloc[[0]].copy()
    far["building_id"] = "FAR1"
    far["geometry"] = far.geometry.to_crs("EPSG:4549").translate(0, 3000).to_crs(build.crs)
    comm = gpd.read_file(study_dir / "communities.geojson")
    far["community_id"] = comm["community_id"].iloc[0]
    pd.concat([build, far]).to_file(study_dir / "buildings.gpkg", driver="GPKG")
    edit_study(study_dir, 'renters = "renters"', 'renters = "renters"\ncommunity = "community_id"')
    result = run(study_dir)
    rej = result.rejected
    assert list(rej["id"]) == ["FAR1"]
    assert rej["row"].item() == len(build) + 1
    assert "from the nearest walkable street (limit 500 m)" in rej["reason"].item()
    assert "GCJ-02" in rej["fix"].item()
    assert len(result.residents) == len(build) + living_outside(study_dir)
    edit_study(study_dir, "[analysis]", "[analysis]\nstrict = true")
    with pytest.raises(InputError, match=rf"buildings\.gpkg, row {len(build) + 1}: about "):
        run(study_dir)


def test_residence_outside_every_community_is_rejected_not_lost(study_dir):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    comm = gpd.read_file(study_dir / "communities.geojson").to_crs("EPSG:4549")
    metric = build.to_crs("EPSG:4549")
    first = metric.geometry.iloc[0]
    # 40 m south of every community, 30-odd metres from the southern arterial
    shift = comm.total_bounds[1] - 40 - first.centroid.y
    metric.loc[metric.index[0], "geometry"] = shapely.affinity.translate(first, 0, shift)
    metric.to_crs(build.crs).to_file(study_dir / "buildings.gpkg", driver="GPKG")
    result = run(study_dir)
    assert len(result.residents) == len(build) - 1 + living_outside(study_dir)
    rej = result.rejected
    assert rej["id"].tolist() == [build["building_id"].iloc[0]] and rej["row"].tolist() == [1]
    assert rej["reason"].item() == "outside every community boundary"
    assert "[residents] community" in rej["fix"].item()


def test_study_file_typo_is_caught(study_dir):
    path = edit_study(study_dir, "[analysis]", "[analysis]\nminute = 15")
    with pytest.raises(
        StudyFileError,
        match=r"unknown key 'minute' in \[analysis\]\. "
        r"Fix: did you mean 'minutes'\?",
    ):
        load_study(path)


def test_study_file_bad_value(study_dir):
    path = edit_study(study_dir, "[analysis]", "[analysis]\nwalk_speed_m_s = -1")
    with pytest.raises(StudyFileError, match="walk_speed_m_s must be a positive number"):
        load_study(path)


def test_study_paths_are_relative_to_the_study_file(study_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    study = load_study(study_dir / "study.toml")
    assert study.facilities.path == (study_dir / "facilities.csv").resolve()
    assert study.output_dir == Path("data/processed/sample")
    assert study.map_path == Path("maps/sample.html")
    assert study.options.minutes == 15 and study.options.walk_speed_m_s == 1.0
    assert study.options.rule_for("elderly_care").walk_speed_m_s == 0.8  # hangzhou_2017


def test_inputs_are_never_modified(study_dir, tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in study_dir.iterdir()}
    edit_study(
        study_dir,
        "[analysis]",
        f'[output]\ndir = "{tmp_path / "out"}"\nmap = "{tmp_path / "map.html"}"\n\n[analysis]',
    )
    before["study.toml"] = hashlib.sha256((study_dir / "study.toml").read_bytes()).hexdigest()
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 0
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in study_dir.iterdir()}
    assert after == before
    assert (tmp_path / "out" / "coverage.csv").is_file() and (tmp_path / "map.html").is_file()


def test_cli_error_is_one_line_with_the_fix(capsys, tmp_path):
    assert main(["analyze", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("cjgis: error: ") and "Fix:" in err[0]


def test_amap_export_in_gcj02_is_converted(study_dir):
    from cjgis.inputs.coords import wgs84_to_gcj02

    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    truth = run(study_dir).facilities.geometry
    table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"], table["lat"])
    table.to_csv(study_dir / "amap.csv", index=False, encoding="gb18030")  # GBK, as exported
    edit_study(study_dir, '"facilities.csv"', '"amap.csv"\ncrs = "gcj02"')
    got = run(study_dir).facilities.geometry  # metric CRS
    assert got.distance(truth).max() < 1e-3  # metres


def test_undeclared_gcj02_export_is_caught(study_dir):
    from cjgis.inputs._validate import CoordinateWarning
    from cjgis.inputs.coords import wgs84_to_gcj02

    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"], table["lat"])
    table.to_csv(path, index=False, encoding="utf-8-sig")  # GCJ-02, but nothing says so
    with pytest.warns(
        CoordinateWarning,
        match=r"facilities\.csv: read as WGS84 the points sit "
        r"a median \d+ m .* read as GCJ02 only \d+ m\. "
        r'Fix: .*add crs = "gcj02" to \[facilities\]',
    ):
        run(study_dir)
    edit_study(study_dir, "[analysis]", "[analysis]\nstrict = true")
    with pytest.raises(InputError, match="read as GCJ02"):
        run(study_dir)


def test_amap_export_with_chinese_headers_needs_no_column_settings(study_dir):
    from cjgis.inputs.categories import category_from_text
    from cjgis.inputs.sample import write_amap_export

    export = write_amap_export(study_dir)
    table = pd.read_csv(export, encoding="gb18030")
    truth = table["类别"].tolist()
    table = table.drop(columns="类别")  # as Amap exports it: no cjgis category column
    table.loc[len(table)] = ["某某超市", "购物服务;超市", "杭州市", 120.27, 30.30]
    table.to_csv(export, index=False, encoding="gb18030")
    text = (study_dir / "study.toml").read_text(encoding="utf-8")
    start, end = text.index("[facilities]"), text.index("[standards]")
    text = (
        text[:start] + '[facilities]\npath = "amap_facilities.csv"\ncrs = "gcj02"\n\n' + text[end:]
    )
    (study_dir / "study.toml").write_text(text, encoding="utf-8")
    result = run(study_dir)
    assert result.facilities["category"].tolist() == truth  # from 类型 by the keyword rules
    rej = result.rejected.set_index("row")
    assert rej.loc[len(table), "reason"].startswith("no category")
    assert (
        category_from_text(pd.Series(["电动自行车充电站", "充电宝租借"])).tolist()[0]
        == "ev_charging"
    )
    assert pd.isna(category_from_text(pd.Series(["充电宝租借"]))[0])  # 充电 alone is not e-bike


def test_swapped_and_foreign_coordinates_are_rejected_with_their_reason(study_dir):
    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    table.loc[3, ["lon", "lat"]] = table.loc[3, ["lat", "lon"]].to_numpy()  # one row swapped
    table.loc[6, ["lon", "lat"]] = [2.35, 48.86]  # Paris: a typo'd or test row
    table.to_csv(path, index=False, encoding="utf-8-sig")
    result = run(study_dir)
    rej = result.rejected.set_index("row")
    assert rej.loc[4, "reason"] == "lon/lat swapped (lon holds a latitude)"
    assert rej.loc[4, "fix"] == "swap the two numbers of this row"
    assert rej.loc[7, "reason"] == "outside China"
    assert len(result.facilities) == len(table) - 2


def test_swapped_columns_are_an_error_with_the_fix(study_dir):
    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    table = table.rename(columns={"lon": "lat", "lat": "lon"})  # the whole list swapped
    table.to_csv(path, index=False, encoding="utf-8-sig")
    n = len(table)
    with pytest.raises(InputError, match=rf'look swapped: {n} of {n} rows.*Fix: set lon = "lat"'):
        run(study_dir)


def test_osm_export_gets_categories_from_its_tags(tmp_path):
    from cjgis.inputs.io import read_facilities

    osm = gpd.GeoDataFrame(
        {
            "name": ["颐和家园", "Sunset Home", "充电桩", "文化家园", "咖啡馆"],
            "amenity": ["nursing_home", "social_facility", "charging_station", None, "cafe"],
            "social_facility": [None, "group_home", None, None, None],
            "social_facility:for": [None, "senior", None, None, None],
            "addr": ["三墩镇1号", None, None, None, None],
        },
        geometry=[shapely.Point(120.1 + i / 1000, 30.3) for i in range(5)],
        crs="EPSG:4326",
    )
    osm.loc[3, "amenity"] = "community_centre"
    path = tmp_path / "osm_pois.geojson"
    osm.to_file(path)
    layer = read_facilities(path)
    # a nursing home is a residential home (养老院), not day care; a car charger is not an
    # e-bike charging point; a community centre is not a ceremony hall (文化家园: culture)
    assert list(layer.frame["category"]) == ["nursing_home", "elderly_care", "culture_station"]
    assert layer.frame["address"].iloc[0] == "三墩镇1号"
    assert list(layer.rejected["row"]) == [3, 5]  # car charger and café: listed, not dropped
    assert layer.rejected["reason"].iloc[0].startswith("no category")


@pytest.mark.parametrize(
    ("encoding", "text", "expected"),
    [
        ("shift_jis", "名前,lon,lat\n東京老人ホーム,120.1,30.2\n", "garbled from the header line"),
        ("big5", "名稱,lon,lat\n養老服務中心,120.1,30.2\n", "garbled from the header line"),
        ("latin-1", "name,lon,lat\ncafé élevé,120.1,30.2\n", "neither UTF-8 nor GBK/GB18030"),
        ("utf-16", "名称,lon,lat\n养老服务中心,120.1,30.2\n", "neither UTF-8 nor GBK/GB18030"),
    ],
)
def test_a_csv_in_another_encoding_is_an_error_not_garbled_text(tmp_path, encoding, text, expected):
    from cjgis.inputs.io import read_any

    path = tmp_path / "facilities.csv"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(InputError, match=expected) as info:
        read_any(path)
    assert "facilities.csv" in str(info.value) and "UTF-8" in str(info.value)


def test_gbk_with_a_rare_character_still_reads(tmp_path):
    from cjgis.inputs.io import read_any

    names = ["三墩镇社区服务中心", "蒋村街道养老服务中心", "文新街道堃园充电点"]  # 堃: GBK only
    lines = ["名称,lon,lat", *(f"{n},120.1,30.2" for n in names)]
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    assert list(read_any(path)["名称"]) == names


def _communities_file(tmp_path, rings, ids=("A", "B")):
    frame = gpd.GeoDataFrame(
        {"cid": list(ids), "cname": ["甲", "乙"][: len(ids)]},
        geometry=[shapely.Polygon([(X0 + x, Y0 + y) for x, y in ring]) for ring in rings],
        crs="EPSG:4549",
    )
    path = tmp_path / "communities.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def test_a_bow_tie_boundary_is_repaired_with_its_whole_area_and_noted(tmp_path):
    from cjgis.inputs.io import read_communities

    bowtie = [(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)]
    square = [(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)]
    layer = read_communities(_communities_file(tmp_path, [bowtie, square]), id="cid", name="cname")
    a = layer.frame.set_index("community_id").loc["A"]
    assert a.geometry.is_valid and a.geometry.area == pytest.approx(5000)  # both triangles
    assert a["note"].startswith("boundary repaired (Self-intersection")
    assert "area kept" not in a["note"]  # 5,000 of the 10,000 m² within its corners
    assert "50% of the area within its corners; its corners may be out of order" in a["note"]
    assert pd.isna(layer.frame.set_index("community_id").loc["B", "note"])


def test_a_repair_that_keeps_the_whole_outline_says_area_kept(tmp_path):
    from cjgis.inputs.io import read_communities

    spiked = [(0, 0), (100, 0), (100, 100), (50, 50), (100, 100), (0, 100), (0, 0)]  # inward spike
    square = [(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)]
    layer = read_communities(_communities_file(tmp_path, [spiked, square]), id="cid", name="cname")
    a = layer.frame.set_index("community_id").loc["A"]
    assert a.geometry.area == pytest.approx(10_000)
    assert a["note"].startswith("boundary repaired (") and a["note"].endswith("area kept")


def test_a_boundary_whose_repair_loses_area_stops_the_run_naming_it(tmp_path):
    from cjgis.inputs.io import read_communities

    overlapping = [
        (0, 0),
        (100, 0),
        (100, 100),
        (0, 100),
        (0, 20),
        (80, 20),
        (80, 80),
        (20, 80),
        (20, 0),
        (0, 0),
    ]  # the ring runs over itself
    square = [(200, 0), (300, 0), (300, 100), (200, 100), (200, 0)]
    with pytest.raises(
        InputError, match=r"communities\.gpkg, row 1: the boundary of A is invalid .* 62% of its"
    ):
        read_communities(_communities_file(tmp_path, [overlapping, square]), id="cid", name="cname")


def test_a_duplicated_community_id_stops_the_run_naming_both_rows(tmp_path):
    from cjgis.inputs.io import read_communities

    squares = [
        [(0, 0), (100, 0), (100, 100), (0, 100)],
        [(200, 0), (300, 0), (300, 100), (200, 100)],
    ]
    path = _communities_file(tmp_path, squares, ids=("A", "A"))
    with pytest.raises(InputError, match=r"rows 1, 2 share the community id 'A'"):
        read_communities(path, id="cid", name="cname")


def test_a_facility_listed_twice_is_rejected_not_counted_twice(study_dir):
    from cjgis.inputs.io import read_facilities

    path = study_dir / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    again = table.iloc[[2]].copy()
    same_building = table.iloc[[2]].assign(name="同址另一设施")  # same place, another facility
    other = "ceremony_hall" if table.loc[2, "category"] != "ceremony_hall" else "ev_charging"
    # 0.5 m east: the same name under another category is another facility; under the same
    # category it is the same one, listed again (by distance, not by rounded coordinates)
    east = table.iloc[[2]].assign(lon=table.loc[2, "lon"] + 0.0000052)
    table = pd.concat(
        [table, again, same_building, east.assign(category=other), east], ignore_index=True
    )
    table.to_csv(path, index=False, encoding="utf-8-sig")
    layer = read_facilities(path, capacity="capacity")
    rej = layer.rejected.set_index("row")
    n = len(table)
    assert list(rej.index) == [n - 3, n]  # the repeats (data rows), not the neighbours
    assert rej.loc[n - 3, "reason"] == "the same facility as row 3 (same name, category and place)"
    assert rej.loc[n, "reason"] == "the same facility as row 3 (same name, category and place)"
    assert len(layer.frame) == n - 2
    assert (layer.frame["category"] == other).sum() == (table["category"] == other).sum()


@pytest.mark.parametrize("column", ["population", "elderly", "households"])
def test_a_negative_resident_count_is_rejected_with_its_row(study_dir, column):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    build.loc[4, column] = -12
    build.to_file(study_dir / "buildings.gpkg", driver="GPKG")
    result = run(study_dir)
    rejected = result.rejected[result.rejected["layer"] == "residents"]
    assert list(rejected["row"]) == [5]  # the data row, 1-based
    assert "-12 is negative" in rejected["reason"].iloc[0] and column in rejected["reason"].iloc[0]
    assert str(build.loc[4, "building_id"]) not in set(result.residents["resident_id"])
    left_out = rejected["population"].iloc[0]
    assert np.isnan(left_out) if column == "population" else left_out == build.loc[4, "population"]


def test_an_invalid_footprint_is_repaired_and_noted(study_dir):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    x0, y0, x1, y1 = build.geometry.iloc[0].bounds
    build.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # bow-tie
    assert not build.geometry.iloc[0].is_valid
    build.to_file(study_dir / "buildings.gpkg", driver="GPKG")
    result = run(study_dir)
    res = result.residents.set_index("resident_id")
    first = build["building_id"].iloc[0]
    assert res.loc[first, "note"].startswith("footprint repaired (Self-intersection")
    assert result.residents.geometry.is_valid.all()
    assert len(result.rejected) == 0


def test_an_excel_export_with_a_title_row_finds_its_header(study_dir, caplog):
    import logging

    from cjgis.inputs.io import read_facilities

    table = pd.read_csv(study_dir / "facilities.csv", encoding="utf-8-sig")
    path = study_dir / "facilities.xlsx"
    with pd.ExcelWriter(path) as writer:  # a bureau's sheet: a title, then the header
        pd.DataFrame([["三墩镇养老服务设施清单(2017年)"]]).to_excel(
            writer, header=False, index=False
        )
        table.to_excel(writer, startrow=1, index=False)
    with caplog.at_level(logging.WARNING, logger="cjgis.inputs.io"):
        layer = read_facilities(path, capacity="capacity")
    assert len(layer.frame) == len(table) and len(layer.rejected) == 0
    assert "1 title row(s) above the header skipped; columns read: name, category" in caplog.text


def test_a_missing_column_names_the_columns_read_and_the_title_row(study_dir):
    from cjgis.inputs.io import read_facilities

    table = pd.read_csv(study_dir / "facilities.csv", encoding="utf-8-sig")
    table.rename(columns={"lon": "东经"}).to_csv(study_dir / "f.csv", index=False)
    with pytest.raises(
        InputError, match=r"no lon column found .* columns read are: name, .*东经.*title row"
    ):
        read_facilities(study_dir / "f.csv")


def test_metres_labelled_as_degrees_stop_before_anything_is_written(study_dir, tmp_path):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    metres = build.to_crs("EPSG:4549").set_crs("EPSG:4326", allow_override=True)
    metres.to_file(study_dir / "buildings.gpkg", driver="GPKG")
    out = tmp_path / "out"
    edit_study(study_dir, "[analysis]", f'[output]\ndir = "{out.as_posix()}"\n\n[analysis]')
    with pytest.raises(
        InputError, match=r"buildings\.gpkg: coordinates such as .* cannot be longitude/latitude"
    ):
        run(study_dir)
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 2
    assert not out.exists()  # nothing written


def test_an_empty_csv_and_an_output_folder_that_is_a_file_are_one_line_errors(study_dir, capsys):
    (study_dir / "facilities.csv").write_bytes(b"")
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 2
    assert "facilities.csv: the file is empty (no header row)" in capsys.readouterr().err
    blocker = study_dir / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    edit_study(study_dir, "[analysis]", '[output]\ndir = "blocker/out"\n\n[analysis]')
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "blocker: is a file" in err and "Fix:" in err and "Traceback" not in err


def test_ctrl_c_is_one_line_and_exit_130(study_dir, monkeypatch, capsys):
    import cjgis.run.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cjgis.run.runner, "analyze_areas_later", interrupted)
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "cjgis: interrupted; outputs already written are complete, none is half-written"
    ]


def test_ctrl_c_while_the_areas_are_drawn_stops_their_process(study_dir, monkeypatch, capsys):
    import multiprocessing
    import time

    import cjgis.judge.analysis
    import cjgis.outputs.report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def slow(*args, **kwargs):
        time.sleep(120)

    monkeypatch.setattr(cjgis.judge.analysis, "draw_areas", slow)  # still drawing when ...
    monkeypatch.setattr(cjgis.outputs.report, "write_tables", interrupted)  # ... Ctrl-C comes
    started = time.perf_counter()
    assert main(["analyze", str(study_dir / "study.toml"), "--quiet"]) == 130
    assert time.perf_counter() - started < 60  # not waiting for the drawing
    assert "cjgis: interrupted" in capsys.readouterr().err
    assert multiprocessing.active_children() == []  # its process is stopped


def test_a_layer_in_the_wrong_projected_crs_stops_the_run(study_dir):
    build = gpd.read_file(study_dir / "buildings.gpkg")
    wrong = build.to_crs("EPSG:4549").set_crs("EPSG:32650", allow_override=True)  # UTM 50N
    wrong.to_file(study_dir / "buildings.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"buildings\.gpkg: 388 of 390 rows lie more than 20 km"):
        run(study_dir)
