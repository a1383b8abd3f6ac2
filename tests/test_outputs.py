"""End to end: ``cjgis demo`` writes the tables, layers and map a planner opens."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import walked_categories

from cjgis.cli import main
from cjgis.judge.coverage import COVERAGE_COLUMNS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--folder", str(folder), "--quiet"]) == 0
    return folder


def test_demo_writes_every_output(demo):
    out = demo / "data" / "processed" / "sample"
    for name in (
        "coverage.csv",
        "rejected.csv",
        "residents.gpkg",
        "blind_spots.gpkg",
        "service_areas.gpkg",
        "communities.gpkg",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (demo / "maps" / "sample.html").stat().st_size > 10_000
    assert (demo / "data" / "raw" / "sample" / "study.toml").is_file()
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_coverage_csv_is_excel_ready_and_consistent_with_residents(demo):
    out = demo / "data" / "processed" / "sample"
    raw = (out / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel on Chinese Windows reads UTF-8
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"community_id": str})
    assert list(cov.columns) == [c for c in COVERAGE_COLUMNS if c in cov.columns]
    assert {"covered_share", "status_zh", "reason", "share_300m", "access_gini"} <= set(cov)
    res = gpd.read_file(out / "residents.gpkg")
    build = gpd.read_file(demo / "data" / "raw" / "sample" / "buildings.gpkg")
    away = gpd.read_file(demo / "data" / "raw" / "sample" / "residents_outside.gpkg")
    ids = {*build["building_id"], *("outside-" + away["outside_id"])}
    assert len(res) == len(ids) and set(res["resident_id"]) == ids
    # recompute one community's covered share (of its elderly: the rule's demand) by hand
    row = cov[(cov["category"] == "elderly_care")].iloc[0]
    assert row["demand"] == "elderly" and row["threshold_m"] == 300
    assert row["resident_group"] == "本社区 in the community"
    mine = res[(res["community_id"] == row["community_id"]) & ~res["living_outside"]]
    inside = mine["walk_min_elderly_care"] <= row["threshold_min"] + 1e-6
    assert row["covered_residents"] == mine.loc[inside, "population"].sum()
    share = mine.loc[inside, "elderly"].sum() / mine["elderly"].sum()
    assert row["covered_share"] == pytest.approx(share, abs=1e-3)  # kept to 0.1 %
    assert row["max_walk_min"] == pytest.approx(mine["walk_min_elderly_care"].max(), abs=0.05)


def test_blind_spots_are_exactly_the_uncovered_residences(demo):
    out = demo / "data" / "processed" / "sample"
    res = gpd.read_file(out / "residents.gpkg")
    spots = gpd.read_file(out / "blind_spots.gpkg")
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert spots["resident_id"].is_unique  # one row per residence, with its categories
    left_out = pd.Series(False, index=res.index)
    for category in cov["category"].unique():
        limit = cov.loc[cov["category"] == category, "threshold_min"].iloc[0]
        mine = spots[spots[f"blind_{category}"]]
        out = ~(res[f"walk_min_{category}"] <= limit + 1e-6)
        assert set(mine["resident_id"]) == set(res.loc[out, "resident_id"])
        assert (mine[f"walk_min_{category}"].fillna(np.inf) > limit).all()
        assert mine["categories"].str.split(",").map(lambda keys, c=category: c in keys).all()
        left_out |= out
    assert set(spots["resident_id"]) == set(res.loc[left_out, "resident_id"])
    flags = spots[[f"blind_{c}" for c in cov["category"].unique()]]
    assert (spots["n_categories"] == flags.sum(axis=1)).all()
    assert (spots["categories_zh"].str.count("、") == spots["n_categories"] - 1).all()


def test_service_area_layers(demo):
    path = demo / "data" / "processed" / "sample" / "service_areas.gpkg"
    cats = gpd.read_file(path, layer="category")
    per = gpd.read_file(path, layer="facility")
    assert set(cats["category"]) == set(walked_categories("chcj_2017"))
    # (the nursing home is district-level: no walking catchment, no area)
    assert cats.crs.to_epsg() == 4549 and cats.is_valid.all()
    # bands are the life-circle tier distances below each threshold, then the threshold
    assert sorted(set(cats["metres"])) == [70, 300, 500, 900, 1000]  # 70: waste points
    # each category's threshold area is the union of its facilities' areas
    for category, group in per.groupby("category"):
        union = group.union_all()
        bands = cats[cats["category"] == category].set_index("metres").geometry
        limit = group["metres"].iloc[0]
        assert bands[limit].symmetric_difference(union).area < 1e-3 * bands[limit].area
        # and the bands nest: 300 m inside 500 m inside the threshold
        nested = sorted(bands.index)
        for inner, outer in itertools.pairwise(nested):
            assert bands[inner].difference(bands[outer]).area < 1.0
            assert bands[inner].area < bands[outer].area


def in_page(text: str, html: str) -> bool:
    """Text as shown, or as folium escapes it inside JavaScript strings."""
    return text in html or json.dumps(text)[1:-1] in html


def test_map_has_the_layers_a_reviewer_switches(demo):
    html = (demo / "maps" / "sample.html").read_text(encoding="utf-8")
    assert "L.control.layers" in html
    for label in (
        "社区 communities",
        "服务范围 service area · 养老服务设施",
        "设施 facilities · 电瓶车集中充电点",
        "盲区 blind spots · 红白喜事用房",
        "步行网络 walking network",
        "不可步行道路 roads not walkable",  # the elevated expressway: why walks go round
        "水系与障碍 water and barriers",  # the river ([map] water)
        "图例 Legend",
        "OpenStreetMap contributors",
        "沈家社区",
    ):
        assert in_page(label, html), label


def test_geopackages_open_in_gdal_36_without_warnings(demo):
    """As QGIS 3.28 LTR (GDAL 3.6) opens them: no 'partially supported' version warning."""
    import os
    import shutil
    import subprocess

    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install gdal-bin (see .ci/run)", pytrace=False)
        pytest.skip("no ogrinfo: apt-get install gdal-bin")
    out = demo / "data" / "processed" / "sample"
    files = sorted(out.glob("*.gpkg"))
    assert {f.name for f in files} >= {"communities.gpkg", "facilities.gpkg", "scorecard.gpkg"}
    for path in files:
        run = subprocess.run([ogrinfo, "-so", "-al", str(path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert "Warning" not in run.stdout + run.stderr, (path.name, run.stderr)
        for block in run.stdout.split("Layer name:")[1:]:
            if "\ncategory:" in block:
                assert "\ncategory_zh:" in block, path.name  # the key, and its Chinese name
    info = subprocess.run(
        [ogrinfo, "-so", "-al", str(out / "communities.gpkg")], capture_output=True, text=True
    ).stdout
    for column in (
        "residents: Integer64",
        "elderly: Integer64",
        "households: Integer64",
        "categories_met",
    ):
        assert column in info, column
