"""A new resettlement site handed over as its own layers: `[planned.*]` sections on the sample.

The site lies in the empty block of the sample between 南环路 (y = 3,352,201), 东湖路
(y = 3,352,712) and 杨公路 (x = 525,477), in EPSG:4549: a spine joining both streets, two
branches meeting it in T-junctions (one ending 13 m short of 杨公路), a short road to a
footbridge over 东湖路 (``竖向`` = 1), four buildings with only 户数 (households), and the site
boundary as a layer with its own columns.
"""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cjgis._errors import CjgisError
from cjgis.run.site import run_site_study
from cjgis.run.study import load_study

ROADS = {
    "R1": [(525745, 3352201), (525745, 3352712)],  # spine, street to street
    "R2": [(525745, 3352450), (525900, 3352450)],  # T off the spine, dead end
    "R3": [(525745, 3352350), (525490, 3352350)],  # T off the spine, 13 m short of 杨公路
    "R4": [(525745, 3352650), (525620, 3352650)],  # T off the spine, to the bridge
    "R5": [(525620, 3352650), (525620, 3352780)],  # footbridge over 东湖路 to 杨公村9弄
}
#: Buildings: id, 户数, x, y (4# stands 10 m from the bridge deck, 12 m from 东湖路).
BUILDINGS = [("1#", 120, 525600, 3352300), ("2#", 96, 525850, 3352400)]
BUILDINGS += [("3#", 80, 525700, 3352550), ("4#", 64, 525630, 3352700)]

PLANNED = """[planned]
communities = { path = "site.gpkg", id = "地块", name = "名称" }

[planned.roads]
path = "site_roads.gpkg"
id = "道路编号"
name = "道路名称"
grade = "竖向"

[planned.residents]
path = "site_buildings.csv"
id = "楼号"
households = "户数"
household_size = 2.8
elderly_share = 0.2
"""


def _site_folder(sample_study, folder):
    shutil.copytree(sample_study.parent, folder)
    names = ["规划一路", "规划二路", "规划三路", "规划四路", "规划人行桥"]
    gpd.GeoDataFrame(
        {"道路编号": list(ROADS), "道路名称": names, "竖向": [0, 0, 0, 0, 1]},
        geometry=[shapely.LineString(c) for c in ROADS.values()],
        crs="EPSG:4549",
    ).to_file(folder / "site_roads.gpkg")
    gpd.GeoDataFrame(
        {"地块": ["S1"], "名称": ["杨公安置房"]},
        geometry=[shapely.box(525490, 3352215, 526000, 3352700)],
        crs="EPSG:4549",
    ).to_file(folder / "site.gpkg")
    ids, households, x, y = zip(*BUILDINGS, strict=True)
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs="EPSG:4549").to_crs("EPSG:4326")
    pd.DataFrame({"楼号": ids, "户数": households, "经度": points.x, "纬度": points.y}).to_csv(
        folder / "site_buildings.csv", index=False, encoding="utf-8-sig"
    )
    text = (folder / "study.toml").read_text(encoding="utf-8")
    start, end = text.index("[planned]"), text.index("[map]")
    (folder / "study.toml").write_text(text[:start] + PLANNED + "\n" + text[end:], "utf-8")
    return folder / "study.toml"


@pytest.fixture(scope="module")
def site(sample_study, tmp_path_factory):
    study = _site_folder(sample_study, tmp_path_factory.mktemp("site") / "study")
    return run_site_study(load_study(study), verbose=False)


@pytest.fixture
def site_study(sample_study, tmp_path):
    return _site_folder(sample_study, tmp_path / "study")


def test_each_planned_road_is_named_with_its_join(site):
    joins = site.joins.set_index(["road_id", "end"])
    assert list(site.joins["road_name"].unique()) == [
        "规划一路",
        "规划二路",
        "规划三路",
        "规划四路",
        "规划人行桥",
    ]
    status = site.joins.drop_duplicates("road_id").set_index("road_id")["status"]
    assert status.to_dict() == {
        "R1": "joined",
        "R2": "connected",
        "R3": "joined",
        "R4": "connected",
        "R5": "joined",
    }
    assert joins.loc[("R3", "end"), "street"] == "杨公路"
    assert joins.loc[("R3", "end"), "distance_m"] == pytest.approx(525490 - 525477, abs=0.5)
    assert joins.loc[("R5", "end"), "street"] == "杨公村9弄"
    assert joins.loc[("R5", "start"), "node"] == joins.loc[("R4", "end"), "node"]
    assert joins.loc[("R2", "end"), "joined"] == "none"
    assert list(site.roads["status"]) == list(status)


def test_the_site_is_a_community_of_its_own_as_planned(site):
    planned = site.after.residents[site.after.residents["resident_id"].str.startswith("planned-")]
    assert set(planned["community_id"]) == {"S1"}
    households = sum(h for _, h, _, _ in BUILDINGS)
    assert planned["population"].sum() == pytest.approx(households * 2.8)
    assert planned["elderly"].sum() == pytest.approx(households * 2.8 * 0.2)
    assert planned["note"].str.contains("人口 = 户数 × 2.8").all()
    assert planned["note"].str.contains("规划建议值 \\[planned.residents\\]").all()
    rows = site.changes[site.changes["community_id"] == "S1"]
    assert rows["community_name"].eq("杨公安置房").all()
    assert rows["residents_before"].isna().all()  # the site is not there as-is
    assert rows["residents_after"].to_numpy() == pytest.approx([households * 2.8] * len(rows))
    assert not (site.after.rejected["file"].str.contains("site_buildings")).any()


def test_nobody_enters_the_footbridge_from_its_side(site):
    """4# is 10 m from the deck of R5 and 12 m from 东湖路: it walks from 东湖路."""
    res = site.after.residents.set_index("resident_id")
    assert res.loc["planned-4#", "street_offset_m"] > 11


def test_planned_buildings_outside_every_boundary_name_their_own_file(site_study):
    text = site_study.read_text(encoding="utf-8")
    line = 'communities = { path = "site.gpkg", id = "地块", name = "名称" }\n'
    site_study.write_text(text.replace(line, ""), encoding="utf-8")
    site = run_site_study(load_study(site_study), verbose=False)
    rejected = site.after.rejected
    mine = rejected[rejected["file"].str.endswith("site_buildings.csv")]
    assert sorted(mine["id"]) == ["planned-1#", "planned-2#", "planned-3#", "planned-4#"]
    assert mine["reason"].str.contains("outside every community").all()
    assert mine["row"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('households = "户数"\n', "", r"\[planned.residents\] has no population column"),
        (
            'households = "户数"',
            'households = "户 数"',
            r"site_buildings.csv.*\[planned.residents\]",
        ),
        ("household_size = 2.8", "household_size = 0", r"household_size = 0.0 is no persons"),
        ("elderly_share = 0.2", "elderly_share = 20", r"elderly_share = 20.0 is not a share"),
        ('grade = "竖向"', 'grade = "层"', r"site_roads.gpkg.*\[planned.roads\]"),
        ('id = "地块"', 'id = "编号"', r"site.gpkg.*\[planned.communities\]"),
        ('grade = "竖向"', 'grde = "竖向"', r"unknown key 'grde' in \[planned.roads\].*'grade'"),
    ],
)
def test_errors_name_the_planned_file_and_its_own_section(site_study, old, new, says):
    text = site_study.read_text(encoding="utf-8")
    assert text.count(old) == 1
    site_study.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(CjgisError, match=says):
        run_site_study(load_study(site_study), verbose=False)


def test_a_bare_path_is_read_with_the_existing_sections_columns(site_study):
    text = site_study.read_text(encoding="utf-8")
    start, end = text.index("[planned.residents]"), text.index("[map]")
    site_study.write_text(
        text[:start] + text[end:].replace("[map]", "[map]\n", 1), encoding="utf-8"
    )
    text = site_study.read_text(encoding="utf-8").replace(
        "[planned]\n", '[planned]\nresidents = "site_buildings.csv"\n', 1
    )
    site_study.write_text(text, encoding="utf-8")
    with pytest.raises(CjgisError, match=r"read with the columns of \[residents\]"):
        run_site_study(load_study(site_study), verbose=False)


def test_road_geojson_in_metres_without_a_crs_says_where_crs_goes(site_study):
    roads = gpd.read_file(site_study.parent / "site_roads.gpkg")
    features = [
        {
            "type": "Feature",
            "properties": {"道路编号": rid},
            "geometry": shapely.geometry.mapping(g),
        }
        for rid, g in zip(roads["道路编号"], roads.geometry, strict=True)
    ]
    import json

    (site_study.parent / "site_roads.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    text = site_study.read_text(encoding="utf-8")
    text = text.replace('path = "site_roads.gpkg"', 'path = "site_roads.geojson"')
    text = text.replace('grade = "竖向"\n', "").replace('name = "道路名称"\n', "")
    site_study.write_text(text, encoding="utf-8")
    with pytest.raises(CjgisError, match=r"site_roads.geojson.*\[planned.roads\]"):
        run_site_study(load_study(site_study), verbose=False)
    site_study.write_text(
        site_study.read_text(encoding="utf-8").replace(
            'path = "site_roads.geojson"', 'path = "site_roads.geojson"\ncrs = "EPSG:4549"'
        ),
        encoding="utf-8",
    )
    site = run_site_study(load_study(site_study), verbose=False)
    assert site.joins["road_id"].nunique() == 5


def test_the_sites_junctions_are_siting_candidates(site):
    """Each T-junction on the spine is a candidate: the node where most streets meet wins."""
    from cjgis.plan.siting import node_candidates

    ends = site.joins.set_index(["road_id", "end"])["node"]
    tees = {f"n{ends[(road, 'start')]}" for road in ("R2", "R3", "R4")}
    assert tees <= set(node_candidates(site.after)["candidate"])


def test_the_map_names_each_planned_road(site, tmp_path):
    import json

    from cjgis.outputs.maps import gap_map

    page = gap_map(site.after, planned_roads=site.roads).get_root().render()
    for label in ("planned road R5 规划人行桥: joined", "planned road R2 规划二路: connected"):
        assert json.dumps(label)[1:-1] in page  # the GeoJSON holds it \u-escaped


def test_one_figure_per_site_framed_on_it(site, tmp_path):
    from cjgis.outputs.figures import FRAME_MARGIN, gap_figure
    from cjgis.plan.scenario import SITE_SURROUNDINGS, write_site_outputs

    paths = write_site_outputs(site, tmp_path)
    assert paths["figure_site_S1"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    x0, y0, x1, y1 = 525490, 3352215, 526000, 3352700  # the site's boundary
    grow = SITE_SURROUNDINGS * 510
    frame = (x0 - grow, y0 - grow, x1 + grow, y1 + grow)
    ax = gap_figure(site.after, frame=frame, planned_roads=site.roads).axes[0]
    pad = FRAME_MARGIN * (x1 - x0 + 2 * grow)
    assert ax.get_xlim() == pytest.approx((frame[0] - pad, frame[2] + pad))
    assert ax.get_ylim() == pytest.approx((frame[1] - pad, frame[3] + pad))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "规划道路 planned roads" in labels


def test_cjgis_site_on_the_samples_new_site(sample_study, tmp_path, monkeypatch):
    """`cjgis site new_site.toml`: the sample's site as handed over (GeoPackages, an Excel
    sheet of 户数), every output written; twelve buildings, 1,104 households x 2.8.

    A site whose every household must be reached (a 100 % target) once made CBC call a
    feasible cover infeasible: such a need is now a plain cover of every point.
    """
    from cjgis.cli import main
    from cjgis.inputs.sample import NEW_SITE_BUILDINGS

    monkeypatch.chdir(tmp_path)
    assert main(["site", str(sample_study.parent / "new_site.toml"), "--quiet"]) == 0
    out = tmp_path / "data" / "processed" / "sample_new_site" / "site"
    joins = pd.read_csv(out / "planned_road_joins.csv", encoding="utf-8-sig")
    status = joins.drop_duplicates("road_id").set_index("road_id")["status"].to_dict()
    assert status == {
        "R1": "joined",
        "R2": "connected",
        "R3": "joined",
        "R4": "connected",
        "R5": "joined",
    }
    changes = pd.read_csv(out / "before_after.csv", encoding="utf-8-sig")
    site = changes[changes["community_id"] == "S1"]
    households = sum(h for _, h, _, _ in NEW_SITE_BUILDINGS)
    assert site["residents_after"].to_numpy() == pytest.approx([households * 2.8] * len(site))
    assert site["elderly_after"].to_numpy() == pytest.approx([households * 2.8 * 0.22] * len(site))
    assert (out / "figure_site_S1.png").is_file()
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert not rejected["file"].astype(str).str.contains("new_site").any()
