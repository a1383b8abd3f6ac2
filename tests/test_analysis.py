"""The whole pipeline on a hand-built river district: every number checked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import X0, Y0
from geopandas.testing import assert_geodataframe_equal

from cjgis.analysis import analyze
from cjgis.settings import AnalysisOptions


def frame(rows, **cols):
    geoms = [
        shapely.Point(X0 + x, Y0 + y) if not isinstance(x, shapely.Geometry) else x for x, y in rows
    ]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs="EPSG:4549")


@pytest.fixture
def district(river_network):
    south = shapely.box(X0 - 50, Y0 - 80, X0 + 2050, Y0 + 90)
    north = shapely.box(X0 - 50, Y0 + 110, X0 + 2050, Y0 + 280)
    communities = gpd.GeoDataFrame(
        {"community_id": ["S", "N"], "community_name": ["南村社区", "北村社区"]},
        geometry=[south, north],
        crs="EPSG:4549",
    )
    # south residents 20 m off the street; the facility is on the north street at x = 500
    residents = frame(
        [(500, -20), (1000, -20), (1900, -20), (100, 220), (1500, 220)],
        resident_id=["s1", "s2", "s3", "n1", "n2"],
        population=[100.0, 200.0, 300.0, 50.0, 150.0],
        elderly=[10.0, 20.0, 30.0, 5.0, 15.0],
    )
    facilities = frame(
        [(500, 200)], facility_id=["f1"], name=["北村照料中心"], category=["elderly_care"]
    )
    return river_network, communities, residents, facilities


def test_walks_round_by_the_bridge_and_counts_people(district):
    network, communities, residents, facilities = district
    before = residents.copy()
    result = analyze(
        network,
        communities,
        residents.to_crs("EPSG:4326"),
        facilities,
        options=AnalysisOptions(minutes=15, walk_speed_m_s=1.0),
        verbose=False,
    )
    pd_res = result.residents.set_index("resident_id")
    # s1: 500 east to the bridge, 200 over, 500 back west, 20 to the door = 1220 m
    expected_m = {"s1": 1220, "s2": 720, "s3": 1620, "n1": 420, "n2": 1020}
    for rid, metres in expected_m.items():
        assert pd_res.loc[rid, "walk_min_elderly_care"] == pytest.approx(metres / 60, abs=1e-6)
        assert pd_res.loc[rid, "nearest_elderly_care"] == "f1"
    cov = result.coverage.set_index("community_id")
    assert cov.loc["S", "covered_residents"] == 200 and cov.loc["S", "residents"] == 600
    assert cov.loc["S", "covered_share"] == 0.333  # kept to 0.1 %, toward the verdict
    assert cov.loc["S", "median_walk_min"] == pytest.approx(1220 / 60)  # weighted: 100|200|300
    assert cov.loc["S", "covered_elderly"] == 20
    assert cov.loc["N", "covered_share"] == pytest.approx(50 / 200)
    assert cov.loc["N", "facilities_inside"] == 1 and cov.loc["S", "facilities_inside"] == 0
    assert (cov["status"] == "no_standard").all()  # no profile: no standard to meet
    spots = result.blind_spots
    assert sorted(spots["resident_id"]) == ["n2", "s1", "s3"]
    assert len(result.rejected) == 0
    assert_geodataframe_equal(residents, before)  # input untouched


def _planner_rule(metres: float, target: float) -> AnalysisOptions:
    from cjgis.rules import CategoryRule

    rule = CategoryRule(
        "elderly_care", "养老", metres, 1.0, target_share=target, basis="planner rule"
    )
    return AnalysisOptions(rules=(rule,))


def test_target_share_and_threshold_change_the_status(district):
    network, communities, residents, facilities = district
    opts = _planner_rule(1620, 1.0)
    cov = analyze(
        network, communities, residents, facilities, options=opts, verbose=False
    ).coverage.set_index("community_id")
    assert cov.loc["S", "status"] == "met" and cov.loc["S", "max_walk_min"] == pytest.approx(27)
    assert cov.loc["S", "status_zh"] == "满足建议值"  # a planner rule is never 达标
    opts = _planner_rule(1619, 0.5)
    cov = analyze(
        network, communities, residents, facilities, options=opts, verbose=False
    ).coverage.set_index("community_id")
    assert cov.loc["S", "covered_share"] == pytest.approx(0.5) and cov.loc["S", "status"] == "met"
    opts = _planner_rule(1619, 0.51)
    cov = analyze(
        network, communities, residents, facilities, options=opts, verbose=False
    ).coverage.set_index("community_id")
    assert cov.loc["S", "status"] == "not_met" and cov.loc["S", "status_zh"] == "未满足建议值"


def test_each_category_gets_its_own_single_search(district):
    network, communities, residents, facilities = district
    more = frame([(1900, 0)], facility_id=["f2"], name=["南村充电点"], category=["ev_charging"])
    both = gpd.GeoDataFrame(
        gpd.pd.concat([facilities, more], ignore_index=True), crs=facilities.crs
    )
    result = analyze(network, communities, residents, both, verbose=False)
    assert result.categories == ["elderly_care", "ev_charging"]
    res = result.residents.set_index("resident_id")
    assert res.loc["s3", "walk_min_ev_charging"] == pytest.approx(20 / 60)
    assert res.loc["n1", "walk_min_ev_charging"] == pytest.approx((20 + 900 + 200 + 900) / 60)
    assert np.isfinite(result.residents.filter(like="walk_min").to_numpy()).all()


def test_residence_beside_a_disconnected_fragment_is_attached_and_noted():
    from conftest import graph_from_segments

    from cjgis.network import network_from_graph

    # a 2 km street, and a 60 m path 30 m north of it whose link is missing in the data
    nodes = {i: (100.0 * i, 0.0) for i in range(21)} | {100: (500.0, 30.0), 101: (560.0, 30.0)}
    edges = [(i, i + 1) for i in range(20)] + [(100, 101)]
    net = network_from_graph(graph_from_segments(nodes, edges))
    assert net.n_edges == 20 and len(net.fragment_geometry) == 1
    assert (
        len(
            network_from_graph(
                graph_from_segments(nodes, edges), components="all"
            ).fragment_geometry
        )
        == 0
    )
    comm = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["甲"]},
        geometry=[shapely.box(X0 - 10, Y0 - 100, X0 + 2010, Y0 + 100)],
        crs="EPSG:4549",
    )
    res = frame(
        [(530, 40), (1500, 10)], resident_id=["near_path", "plain"], population=[10.0, 10.0]
    )
    fac = frame([(0, 0)], facility_id=["f"], name=["x"], category=["c"])
    result = analyze(net, comm, res, fac, verbose=False)
    out = result.residents.set_index("resident_id")
    assert out.loc["near_path", "walk_min_c"] == pytest.approx((530 + 40) / 60)  # not lost
    assert out.loc["near_path", "street_offset_m"] == pytest.approx(40)
    assert out.loc["near_path", "note"].startswith("nearest street (10 m) is a disconnected")
    assert out["note"].isna().sum() == 1 and len(result.rejected) == 0
