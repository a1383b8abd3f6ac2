"""Coverage table: population-weighted shares and medians computed by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cjgis.judge.coverage import _most_served_by, coverage_table, weighted_median
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.verdict import assess


def _rule(target: float, *, minutes: float = 15.0) -> AnalysisOptions:
    from cjgis.judge.rules import CategoryRule

    rule = CategoryRule("x", "x", minutes * 60, 1.0, target_share=target, basis="standard")
    return AnalysisOptions(rules=(rule,))


def test_weighted_median_by_hand():
    assert weighted_median(np.array([1.0, 5.0, 9.0]), np.array([1.0, 1.0, 5.0])) == 9.0
    assert weighted_median(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])) == 2.0
    assert weighted_median(np.array([1.0, np.inf]), np.array([1.0, 3.0])) == np.inf
    assert np.isnan(weighted_median(np.array([1.0]), np.array([0.0])))


def test_coverage_is_weighted_by_population():
    comm = gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "community_name": ["甲社区", "乙社区"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)],
        crs="EPSG:4549",
    )
    residents = pd.DataFrame(
        {
            "community_id": ["A", "A", "A", "B"],
            "population": [100.0, 300.0, 600.0, 50.0],
            "elderly": [10.0, 30.0, 60.0, 5.0],
            "walk_min_elderly_care": [4.0, 14.9, 20.0, np.nan],
        }
    )
    fac = gpd.GeoDataFrame(
        {"category": ["elderly_care"]}, geometry=[shapely.Point(5, 5)], crs="EPSG:4549"
    )
    from cjgis.judge.rules import CategoryRule

    rule = CategoryRule("elderly_care", "养老", 900, 1.0, target_share=0.4, basis="standard")
    table = assess(
        coverage_table(
            residents, comm, fac, ["elderly_care"], options=AnalysisOptions(rules=(rule,))
        )
    )
    a, b = table.iloc[0], table.iloc[1]
    assert a["covered_residents"] == 400 and a["uncovered_residents"] == 600
    assert a["covered_share"] == pytest.approx(0.4) and a["status"] == "met"
    assert a["status_zh"] == "达标"
    # tiers walked at 1 m/s: 300 m = 5 min (100 people), 500 m = 8.3 min (100), 1000 m (400)
    assert (a["share_300m"], a["share_500m"], a["share_1000m"]) == (0.1, 0.1, 0.4)
    assert a["covered_elderly"] == 40
    assert a["median_walk_min"] == 20.0 and a["max_walk_min"] == 20.0
    assert a["facilities_inside"] == 1 and b["facilities_inside"] == 0
    assert b["covered_share"] == 0 and b["status"] == "not_met"
    assert b["unreachable_residents"] == 50 and np.isinf(b["max_walk_min"])
    assert a["category_zh"] == "养老服务设施"


def test_status_follows_the_target_share():
    comm = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["甲"]},
        geometry=[shapely.box(0, 0, 1, 1)],
        crs="EPSG:4549",
    )
    residents = pd.DataFrame(
        {"community_id": ["A", "A"], "population": [90.0, 10.0], "walk_min_x": [5.0, 30.0]}
    )
    fac = gpd.GeoDataFrame({"category": ["x"]}, geometry=[shapely.Point(9, 9)], crs="EPSG:4549")
    ok = assess(coverage_table(residents, comm, fac, ["x"], options=_rule(0.9)))
    gap = assess(coverage_table(residents, comm, fac, ["x"], options=_rule(0.91)))
    assert ok["status"].item() == "met" and gap["status"].item() == "not_met"


def test_nearest_facility_of_a_community_is_the_one_nearest_to_most_people():
    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    nearest = pd.Series(["F2", "F1", "F2", "F9", "F3", None, None, "F4"])
    pop = np.array([10.0, 25.0, 10.0, 5.0, 5.0, 100.0, 100.0, 1.0])
    most = _most_served_by(codes, 4, nearest, pop)
    # F1 serves 25 against F2's 20; a tie (5 and 5) goes to the id sorting first; a community
    # whose residents reach nothing has None, and people reaching nothing do not vote
    assert most.tolist() == ["F1", "F3", "F4", None]
