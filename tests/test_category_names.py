"""A category by its key or its Chinese name, everywhere (issue 38, item 4).

``elderly_care`` and ``养老服务设施`` name one category in analyze, suggest_sites, what_if, the
what-if widget and the CLI; a typo in either language gets the likely one.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from cjgis import InputError, analyze, suggest_sites, what_if
from cjgis.cli import main
from cjgis.inputs.categories import category_info, category_named
from cjgis.plan.whatif_map import start


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("elderly_care", "elderly_care"),
        ("养老服务设施", "elderly_care"),
        (" 电瓶车集中充电点 ", "ev_charging"),
        ("e-bike charging", "ev_charging"),
    ],
)
def test_a_key_or_a_name_finds_the_category(text, key):
    assert category_named(text, ["elderly_care", "ev_charging", "sport"]) == key


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("elderly_car", "elderly_care"), ("养老服务设", "elderly_care"), ("充电点", "ev_charging")],
)
def test_a_typo_in_either_language_gets_the_likely_one(typo, meant):
    with pytest.raises(InputError) as caught:
        category_named(typo, ["elderly_care", "ev_charging", "sport"], where="suggest_sites")
    text = str(caught.value)
    assert text.startswith(f"suggest_sites: no category {typo!r}")
    assert f"did you mean {meant!r} ({category_info(meant).name_zh})?" in text
    assert "sport (运动健身场地)" in text  # every choice listed, with its Chinese name


def test_suggest_sites_takes_the_chinese_name(sample_analysis):
    by_key = suggest_sites(sample_analysis, "elderly_care", k=2)
    by_name = suggest_sites(sample_analysis, "养老服务设施", k=2)
    pd.testing.assert_frame_equal(by_key.sites, by_name.sites)
    assert by_key.message == by_name.message
    with pytest.raises(InputError, match="did you mean 'elderly_care'"):
        suggest_sites(sample_analysis, "养老服务", k=1)


def test_what_if_and_the_widget_take_the_chinese_name(sample_analysis):
    new = {"lon": 120.27, "lat": 30.302, "name": "新中心"}
    by_key = what_if(sample_analysis, add=[{**new, "category": "elderly_care"}])
    by_name = what_if(sample_analysis, add=[{**new, "category": "养老服务设施"}])
    pd.testing.assert_frame_equal(by_key.diff, by_name.diff)
    assert len(by_key.diff) > 0
    with pytest.raises(InputError, match="did you mean 'elderly_care'"):
        what_if(sample_analysis, add=[{**new, "category": "养老服务设"}])
    assert start(sample_analysis, "养老服务设施").category == "elderly_care"
    with pytest.raises(InputError, match="did you mean 'ev_charging'"):
        start(sample_analysis, "ev_chargin")


def test_the_cli_takes_the_chinese_name(sample_study, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    add = "养老服务设施,120.27,30.302,村委会旧址日间照料中心,20"
    assert main(["whatif", "--quiet", str(sample_study), "--add", add]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["whatif", "--quiet", str(sample_study), "--add", "养老服务设,120.27,30.302"]) == 2
    assert "did you mean 'elderly_care'" in capsys.readouterr().err


def test_analyze_reads_chinese_categories_of_a_frame_as_their_keys(sample_analysis):
    """A GeoDataFrame with 养老服务设施 in its category column: one category, not two."""
    a = sample_analysis
    facilities = gpd.GeoDataFrame(
        a.facilities[["facility_id", "name", "category", "geometry"]], crs=a.crs
    )
    named = facilities.assign(
        category=facilities["category"].map(lambda k: category_info(k).name_zh)
    )
    residents = a.residents[["resident_id", "population", "community_id", "geometry"]]
    communities = a.communities[["community_id", "community_name", "geometry"]]
    keys = analyze(a.network, communities, residents, facilities, verbose=False)
    names = analyze(a.network, communities, residents, named, verbose=False)
    assert names.categories == keys.categories
    pd.testing.assert_frame_equal(names.coverage, keys.coverage)
    assert named["category"].iloc[0] == category_info(facilities["category"].iloc[0]).name_zh
