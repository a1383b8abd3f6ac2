"""One verdict per community x category: computed once, by hand here, and shown alike everywhere."""

from __future__ import annotations

import html
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import X0, Y0

from cjgis.judge.coverage import grouped_gini
from cjgis.judge.verdict import assess, share_text, toward_verdict


def rows(**columns) -> pd.DataFrame:
    base = {
        "community_id": "C",
        "category_zh": "类",
        "residents": 100.0,
        "basis": "standard",
        "target_share": 0.9,
        "covered_share": 1.0,
    }
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    data = {k: v if isinstance(v, list) else [v] * n for k, v in {**base, **columns}.items()}
    return pd.DataFrame(data)


def test_hand_computed_verdicts():
    cov = assess(
        rows(
            covered_share=[0.8996, 0.95, 0.95, 0.5, 0.95, 0.95, 0.95],
            basis=[
                "standard",
                "standard",
                "planner rule",
                "standard",
                "standard",
                "none",
                "standard",
            ],
            capacity_unit_zh=["", "床位", "", "", "平方米", "", ""],
            capacity_basis=["", "standard", "", "", "planner rule", "", ""],
            capacity_required=[np.nan, 10.0, np.nan, np.nan, 100.0, np.nan, np.nan],
            capacity_accessible=[np.nan, 9.6, np.nan, np.nan, 120.0, np.nan, np.nan],
            residents=[100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0],
        )
    )
    # 89.96 % against 90 %: not met, kept and shown as 89.9 % (never "90%")
    first = cov.iloc[0]
    assert first["status_zh"] == "不达标" and first["covered_share"] == 0.899
    assert first["reason"].startswith("覆盖率 89.9% < 目标 90%")
    # covered, but 0.4 of a bed short: not met, shortfall shown as one whole bed
    short = cov.iloc[1]
    assert short["status"] == "not_met" and short["status_zh"] == "不达标"
    assert short["capacity_required"] == 10 and short["capacity_shortfall"] == 1
    assert "capacity short by 1 床位" in short["reason"]
    # a planner rule met reads 满足建议值, never 达标
    assert cov.iloc[2]["status_zh"] == "满足建议值"
    # a standard missed
    assert cov.iloc[3]["status_zh"] == "不达标" and "coverage below target" in cov.iloc[3]["reason"]
    # standard distance met, planner-rule floor area met: the weaker basis names it
    assert cov.iloc[4]["status"] == "met" and cov.iloc[4]["status_zh"] == "满足建议值"
    assert cov.iloc[5]["status_zh"] == "无标准" and cov.iloc[6]["status_zh"] == "无居民"


def test_shares_never_contradict_the_status():
    assert share_text(0.897, 0.9, False) == "89.7%"  # "90%" would read as met
    assert share_text(0.8996, 0.9, False) == "90.0%"  # raw: assess keeps 0.899 first
    assert share_text(0.899, 0.9, False) == "89.9%"
    assert share_text(0.934, 0.9, True) == "93%" and share_text(0.5, 0.9, False) == "50%"
    kept = toward_verdict(
        np.array([0.89996, 0.9001, 0.9343]),
        np.full(3, 0.9),
        np.array([False, True, True]),
        decimals=3,
    )
    np.testing.assert_array_equal(kept, [0.899, 0.9, 0.934])


def test_gini_by_hand():
    codes = np.array([0, 0, 1, 1, 1, 2])
    values = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 5.0])
    weights = np.array([1.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    gini = grouped_gini(codes, 4, values, weights)
    assert gini[0] == pytest.approx(0.5)  # two people, one holds everything
    assert gini[1] == pytest.approx(0.0) and gini[2] == pytest.approx(0.0)  # all equal
    assert np.isnan(gini[3])  # no one
    # weights count people: (0 x 3 people, 1 x 1 person): Gini = 1 - 1/4 = 0.75
    assert grouped_gini(np.zeros(2, int), 1, np.array([0.0, 1.0]), np.array([3.0, 1.0]))[
        0
    ] == pytest.approx(0.75)


@pytest.fixture
def no_elderly(river_network):
    communities = gpd.GeoDataFrame(
        {"community_id": ["S"], "community_name": ["南村社区"]},
        geometry=[shapely.box(X0 - 50, Y0 - 80, X0 + 2050, Y0 + 90)],
        crs="EPSG:4549",
    )
    residents = gpd.GeoDataFrame(
        {"resident_id": ["a", "b"], "population": [100.0, 300.0]},
        geometry=[shapely.Point(X0 + 100, Y0 - 20), shapely.Point(X0 + 1900, Y0 - 20)],
        crs="EPSG:4549",
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["f"],
            "name": ["照料中心"],
            "category": ["elderly_care"],
            "capacity": [5.0],
        },
        geometry=[shapely.Point(X0 + 100, Y0 - 10)],
        crs="EPSG:4549",
    )
    return river_network, communities, residents, facilities


def _elderly_options(**kw):
    from cjgis.judge.rules import CapacityRule, CategoryRule
    from cjgis.judge.settings import AnalysisOptions

    cap = CapacityRule("beds", "床位", 40, 1000, "elderly", basis="standard")
    rule = CategoryRule("elderly_care", "养老", 300, 0.8, "elderly", 0.9, cap, "standard")
    return AnalysisOptions(rules=(rule,), **kw)


def test_missing_elderly_counts_are_never_population_in_disguise(no_elderly, caplog):
    from cjgis._errors import InputError
    from cjgis.judge.analysis import analyze

    result = analyze(*no_elderly, options=_elderly_options(), verbose=False)
    row = result.coverage.iloc[0]
    assert "no residents aged 60+ counts" in caplog.text and "elderly_share" in caplog.text
    assert row["demand_basis"].startswith("缺60岁及以上老年人口数据")
    assert np.isnan(row["capacity_required"])  # not 40 beds per 1,000 residents
    assert "容量未核" in row["reason"]
    with pytest.raises(InputError, match=r"no residents aged 60\+ counts.*elderly_share"):
        analyze(*no_elderly, options=_elderly_options(strict=True), verbose=False)
    declared = analyze(*no_elderly, options=_elderly_options(elderly_share=0.25), verbose=False)
    row = declared.coverage.iloc[0]
    assert row["demand_basis"].startswith("60岁及以上老年人口, 估算 = 常住人口 × 25.00%")
    older = analyze(
        *no_elderly, options=_elderly_options(elderly_share=0.15, elderly_age=65), verbose=False
    )
    assert older.coverage.iloc[0]["demand_basis"].startswith("65岁及以上老年人口, 估算")
    assert row["capacity_required"] == np.ceil(40 * 400 * 0.25 / 1000)  # 4 beds


def test_non_numeric_totals_and_capacities_are_rejected_rows(sample_study, tmp_path):
    from cjgis.inputs.io import read_facilities
    from cjgis.run.runner import layers_from_study
    from cjgis.run.study import load_study

    table = pd.read_csv(sample_study.parent / "facilities.csv", encoding="utf-8-sig")
    table["capacity"] = table["capacity"].astype(object)
    table.loc[0, "capacity"] = "12床"
    table.loc[1, "capacity"] = None  # empty: "not given", kept
    path = tmp_path / "facilities.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    layer = read_facilities(path, capacity="capacity")
    assert len(layer.frame) == len(table) - 1
    rej = layer.rejected.set_index("row")
    assert rej.loc[1, "reason"] == "capacity '12床' is not a number"
    assert "write the number only" in rej.loc[1, "fix"]

    communities = gpd.read_file(sample_study.parent / "communities.geojson")
    communities["人口"] = ["12o0", *(str(1000 * (i + 1)) for i in range(len(communities) - 1))]
    communities.to_file(tmp_path / "communities.geojson")
    text = sample_study.read_text(encoding="utf-8")
    text = re.sub(r"\[residents\][^\[]*", '[residents]\ncommunity_totals = "人口"\n\n', text)
    text = text.replace(
        'path = "communities.geojson"', f'path = "{tmp_path.as_posix()}/communities.geojson"'
    )
    study_file = sample_study.parent / "totals_study.toml"
    study_file.write_text(text, encoding="utf-8")
    text = text.replace('path = "facilities.csv"', f'path = "{path.as_posix()}"')
    study_file.write_text(text, encoding="utf-8")
    communities_l, residents, _ = layers_from_study(load_study(study_file))
    from cjgis.outputs.report import write_outputs
    from cjgis.run.runner import analyze_study

    written = write_outputs(analyze_study(load_study(study_file), verbose=False), tmp_path / "out")
    rejected_csv = pd.read_csv(written["rejected"], encoding="utf-8-sig")
    reasons = set(rejected_csv["reason"])
    assert "capacity '12床' is not a number" in reasons
    assert "population total '人口' '12o0' is not a number" in reasons
    rej = residents.rejected
    bad = rej[rej["layer"] == "communities"]
    assert list(bad["reason"]) == ["population total '人口' '12o0' is not a number"]
    assert len(communities_l.frame) == len(communities) - 1  # left out, and listed
    assert bad["id"].item() not in set(communities_l.frame["community_id"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("三墩镇居家养老服务照料中心", "elderly_care"),
        ("蒋村街道托老所", "elderly_care"),
        ("文新街道老年食堂(助餐点)", "elderly_care"),
        ("西湖区社会养老保险服务中心", None),
        ("杭州市第一社会福利院", "nursing_home"),
        ("紫金港小区电动自行车充电棚", "ev_charging"),
        ("塘苗路换电柜", "ev_charging"),
        ("三墩社区电动自行车充停场所", "ev_charging"),
        ("文新农村文化礼堂", "ceremony_hall"),
        ("杭州第十四中学礼堂", None),
        ("村民家宴中心", "ceremony_hall"),
        ("农用具集中放置点", "tool_storage"),
        ("祥符社区警务室", "police_room"),
        ("三墩镇社区卫生服务中心", "health_centre"),
    ],
)
def test_keyword_rules_on_real_names(name, expected):
    from cjgis.inputs.categories import category_from_text

    got = category_from_text(pd.Series([name])).iloc[0]
    assert (None if pd.isna(got) else got) == expected


def test_osm_car_chargers_and_community_centres_are_not_taken():
    from cjgis.inputs.categories import category_from_text

    texts = pd.Series(
        [
            "Tesla Supercharger amenity=charging_station",
            "充电站 amenity=charging_station bicycle=yes",
            "Community Hall amenity=community_centre",
        ]
    )
    got = category_from_text(texts)
    assert pd.isna(got[0]) and got[1] == "ev_charging" and pd.isna(got[2])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from cjgis.cli import main

    folder = tmp_path_factory.mktemp("verdict_demo")
    assert main(["demo", "--folder", str(folder), "--quiet"]) == 0
    return folder


def test_every_output_shows_the_same_verdict(demo, capsys):

    from cjgis.cli import main

    out = demo / "data" / "processed" / "sample"
    key = ["community_id", "category", "resident_group"]
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"community_id": str})
    card = pd.read_csv(out / "scorecard.csv", encoding="utf-8-sig", dtype={"community_id": str})
    xlsx = pd.read_excel(
        out / "scorecard.xlsx",
        sheet_name="分类别 by category",
        header=1,
        dtype={"community_id": str},
    )
    for other in (card, xlsx):
        merged = cov.merge(other, on=key, suffixes=("", "_o"))
        assert len(merged) == len(cov) == 14 * 8 + 14 * 2  # and the two groups living outside
        assert (merged["status_zh"] == merged["status_zh_o"]).all()
        assert (merged["reason"] == merged["reason_o"]).all()
        assert np.allclose(merged["covered_share"], merged["covered_share_o"])
    layer = gpd.read_file(out / "scorecard.gpkg", layer="communities").set_index("community_id")
    comm = gpd.read_file(out / "communities.gpkg").set_index("community_id")
    summary = pd.read_excel(
        out / "scorecard.xlsx", sheet_name="汇总 summary", header=1, dtype={"community_id": str}
    ).set_index("community_id")
    own = cov[cov["resident_group"] == "本社区 in the community"]
    for row in own.itertuples():
        assert layer.loc[row.community_id, f"status_{row.category}"] == row.status_zh
        assert layer.loc[row.community_id, f"share_{row.category}"] == pytest.approx(
            row.covered_share
        )
    met = own[own["status"] == "met"].groupby("community_id").size()
    met = met.reindex(comm.index, fill_value=0)
    for frame in (comm, layer, summary.reindex(comm.index)):
        assert (frame["categories_met"].to_numpy() == met.to_numpy()).all()
    # the map: every popup row shows the same share text and status words, labels the count
    page = html.unescape((demo / "maps" / "sample.html").read_text(encoding="utf-8"))
    page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)  # JSON
    for row in own.itertuples():
        text = share_text(row.covered_share, row.target_share, row.coverage_met)
        assert f"{text}</td>" in page, (row.community_id, row.category, text)
    for _, r in comm.iterrows():
        assert f"{r['community_name']}: {r['categories_met']}/{r['categories_required']}" in page
    # the terminal: the same share text and code per cell
    capsys.readouterr()
    assert (
        main(
            ["analyze", str(demo / "data" / "raw" / "sample" / "study.toml"), "--quiet", "--no-map"]
        )
        == 0
    )
    terminal = capsys.readouterr().out
    for row in own.itertuples():
        text = share_text(row.covered_share, row.target_share, row.coverage_met)
        code = {"met": "ok", "not_met": "CAP" if row.coverage_met else "GAP"}[row.status]
        line = next(x for x in terminal.splitlines() if x.startswith(row.community_name))
        assert f"{text} {code}" in line, (line, text, code)


@pytest.mark.parametrize("group", ["renters", "villagers", "elderly"])
def test_a_demand_group_weights_by_its_own_counts(sample_study, tmp_path, group):
    """Shares of a group weight by that group, with ratios that vary from building to building.

    In the sample each community has one elderly and one villager ratio, so a share weighted
    by population would equal the group's; here every building has its own.
    """
    import shutil
    from dataclasses import replace

    import geopandas as gpd

    from cjgis.judge.analysis import analyze
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study

    folder = tmp_path / "study"
    shutil.copytree(sample_study.parent, folder)
    buildings = gpd.read_file(folder / "buildings.gpkg")
    ratio = np.random.default_rng(7).uniform(0.05, 0.95, len(buildings))
    counts = np.round(buildings["population"] * ratio)
    buildings[group] = counts.astype(int)
    if group != "elderly":  # villagers and renters add up to the population
        other = "villagers" if group == "renters" else "renters"
        buildings[other] = (buildings["population"] - counts).astype(int)
    buildings.to_file(folder / "buildings.gpkg", driver="GPKG")
    study = load_study(folder / "study.toml")
    rules = tuple(
        replace(r, demand=group) if r.key == "kindergarten" else r for r in study.options.rules
    )
    result = analyze(
        network_from_study(study),
        *layers_from_study(study),
        options=replace(study.options, rules=rules),
        verbose=False,
    )
    cov = result.coverage[result.coverage["category"] == "kindergarten"].set_index("community_id")
    res = result.residents[~result.residents["living_outside"]]
    differs = 0
    for cid, mine in res.groupby("community_id"):
        inside = mine["walk_min_kindergarten"] <= cov.loc[cid, "threshold_min"] + 1e-6
        share = mine.loc[inside, group].sum() / mine[group].sum()
        by_people = mine.loc[inside, "population"].sum() / mine["population"].sum()
        assert cov.loc[cid, "covered_share"] == pytest.approx(share, abs=1e-3), cid
        differs += abs(share - by_people) > 0.01
    assert differs >= 2  # a population-weighted share would fail in these communities
    assert cov["demand_basis"].str.contains("counted").all()
