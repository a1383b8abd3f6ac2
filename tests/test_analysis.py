"""The whole pipeline on a hand-built river district: every number checked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import X0, Y0
from geopandas.testing import assert_geodataframe_equal

from cjgis.judge.analysis import analyze, analyze_areas_later
from cjgis.judge.settings import AnalysisOptions


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
        profile="none",
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
    from cjgis.judge.rules import CategoryRule

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
    result = analyze(network, communities, residents, both, verbose=False, profile="none")
    assert result.categories == ["elderly_care", "ev_charging"]
    res = result.residents.set_index("resident_id")
    assert res.loc["s3", "walk_min_ev_charging"] == pytest.approx(20 / 60)
    assert res.loc["n1", "walk_min_ev_charging"] == pytest.approx((20 + 900 + 200 + 900) / 60)
    assert np.isfinite(result.residents.filter(like="walk_min").to_numpy()).all()


def test_residence_beside_a_disconnected_fragment_is_attached_and_noted():
    from conftest import graph_from_segments

    from cjgis.streets.network import network_from_graph

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
    result = analyze(net, comm, res, fac, verbose=False, profile="none")
    out = result.residents.set_index("resident_id")
    assert out.loc["near_path", "walk_min_c"] == pytest.approx((530 + 40) / 60)  # not lost
    assert out.loc["near_path", "street_offset_m"] == pytest.approx(40)
    assert out.loc["near_path", "note"].startswith("nearest street (10 m) is a disconnected")
    assert out["note"].isna().sum() == 1 and len(result.rejected) == 0


def test_a_network_in_two_large_halves_keeps_both_and_says_why(caplog):
    """Each residence walks within its own piece; none is rejected as far from the streets."""
    import logging

    from conftest import graph_from_segments

    from cjgis.streets.network import network_from_graph

    # street A: 2 km along y = 0; street B: 1.5 km along y = 1000, never linked to A
    nodes = {i: (100.0 * i, 0.0) for i in range(21)} | {
        100 + i: (100.0 * i, 1000.0) for i in range(16)
    }
    edges = [(i, i + 1) for i in range(20)] + [(100 + i, 101 + i) for i in range(15)]
    edges += [(50, 51)]  # and a 30 m stray path: a fragment, not a piece
    nodes |= {50: (3000.0, 500.0), 51: (3030.0, 500.0)}
    with caplog.at_level(logging.WARNING, logger="cjgis.streets.network"):
        network = network_from_graph(graph_from_segments(nodes, edges))
    assert "2 large disconnected pieces" in caplog.text and "missing bridge" in caplog.text
    assert len(network.fragment_geometry) == 1  # the stray path only
    communities = gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "community_name": ["甲", "乙"]},
        geometry=[
            shapely.box(X0 - 50, Y0 - 100, X0 + 2050, Y0 + 400),
            shapely.box(X0 - 50, Y0 + 600, X0 + 2050, Y0 + 1100),
        ],
        crs="EPSG:4549",
    )
    residents = frame([(500, -20), (1200, 980)], resident_id=["a", "b"], population=[10.0, 20.0])
    facilities = frame([(200, 1010)], facility_id=["f"], name=["乙站"], category=["x"])
    result = analyze(network, communities, residents, facilities, verbose=False, profile="none")
    assert len(result.rejected) == 0  # no one "about 1,000 m from the nearest street"
    walk = result.residents.set_index("resident_id")["walk_min_x"]
    assert walk["b"] == pytest.approx((20 + 1000 + 10) / 60)  # within its own piece
    assert np.isnan(walk["a"])  # the other piece: out of reach, and counted so
    assert result.coverage.set_index("community_id").loc["A", "unreachable_residents"] == 10


def test_categories_in_chinese_map_to_their_key_and_typos_are_named(district, tmp_path, caplog):
    import logging

    from cjgis._errors import InputError
    from cjgis.inputs.io import read_facilities

    network, communities, residents, _ = district
    points = frame([(500, 200), (1900, 0), (100, -10)]).to_crs("EPSG:4326")
    table = pd.DataFrame(
        {
            "name": ["北村照料中心", "南村照料中心", "南村照料站"],
            "category": ["elderly_care", "养老服务设施", "elderly_car"],
            "lon": points.geometry.x,
            "lat": points.geometry.y,
        }
    )
    table.to_csv(tmp_path / "facilities.csv", index=False, encoding="utf-8-sig")
    layer = read_facilities(tmp_path / "facilities.csv", category="category")
    assert list(layer.frame["category"]) == ["elderly_care", "elderly_care", "elderly_car"]
    with caplog.at_level(logging.WARNING, logger="cjgis.judge.analysis"):
        result = analyze(network, communities, residents, layer, verbose=False, profile="none")
    assert result.categories == ["elderly_care", "elderly_car"]
    assert "1 facilities have the unknown category 'elderly_car'" in caplog.text
    assert "did you mean 'elderly_care' (养老服务设施)?" in caplog.text
    with pytest.raises(InputError, match="did you mean 'elderly_care'"):
        analyze(
            network,
            communities,
            residents,
            layer,
            options=AnalysisOptions(strict=True),
            profile="none",
        )


def test_overlapping_boundaries_are_named_and_share_by_a_stated_rule(district, caplog):
    import logging

    from cjgis._errors import InputError

    network, communities, _, facilities = district
    overlapping = communities.copy()
    # N (was y 110..280) now starts at y = -40: the band y in (-40, 90) belongs to both
    overlapping.loc[overlapping["community_id"] == "N", "geometry"] = shapely.box(
        X0 - 50, Y0 - 40, X0 + 2050, Y0 + 280
    )
    building = shapely.box(X0 + 1000, Y0 - 60, X0 + 1040, Y0 - 10)  # all in S, 30 of 50 m in N
    houses = gpd.GeoDataFrame(
        {"resident_id": ["h1", "p1"], "population": [100.0, 50.0]},
        geometry=[building, shapely.Point(X0 + 1500, Y0 + 15)],  # 75 m inside S, 55 m inside N
        crs="EPSG:4549",
    )
    with caplog.at_level(logging.WARNING, logger="cjgis.judge.analysis"):
        result = analyze(network, overlapping, houses, facilities, verbose=False, profile="none")
    assert "1 pairs of community boundaries overlap (S/N 273,000 m²)" in caplog.text
    res = result.residents.set_index("resident_id")
    assert res.loc["h1", "community_id"] == "S"  # 2,000 m² of it in S, 1,200 m² in N
    assert "counted for S (the larger share of the building)" in res.loc["h1", "note"]
    assert res.loc["p1", "community_id"] == "S"
    assert "counted for S (the boundary it lies deepest inside)" in res.loc["p1", "note"]
    assert result.coverage.set_index("community_id").loc["S", "residents"] == 150
    with pytest.raises(InputError, match="overlap"):
        analyze(
            network,
            overlapping,
            houses,
            facilities,
            options=AnalysisOptions(strict=True),
            profile="none",
        )


def test_areas_later_gives_the_same_analysis_once_finished(district):
    net, comm, res, fac = district
    whole = analyze(net, comm, res, fac, verbose=False, profile="none")
    first, finish = analyze_areas_later(net, comm, res, fac, verbose=False, profile="none")
    # everything but the areas is there at once; the areas' layer is empty, with its columns
    assert len(first.service_areas) == 0
    assert list(first.service_areas.columns) == list(whole.service_areas.columns)
    pd.testing.assert_frame_equal(first.coverage, whole.coverage)
    assert_geodataframe_equal(first.blind_spots, whole.blind_spots)
    done = finish()
    assert_geodataframe_equal(done.service_areas, whole.service_areas)
    pd.testing.assert_frame_equal(done.coverage, whole.coverage)
    _, never = analyze_areas_later(net, comm, res, fac, verbose=False, profile="none")
    assert never(cancel=True) is None


def test_a_repaired_bow_tie_that_loses_residents_says_so(district, tmp_path, caplog):
    """South's corners out of order: its repair keeps two triangles, s2 (200 people) falls out."""
    from cjgis.inputs.io import read_communities

    network, communities, residents, facilities = district
    bowtie = shapely.Polygon(
        [(X0 - 50, Y0 - 80), (X0 + 2050, Y0 + 90), (X0 + 2050, Y0 - 80), (X0 - 50, Y0 + 90)]
    )
    drawn = communities.assign(geometry=[bowtie, communities.geometry.iloc[1]])
    drawn.to_file(tmp_path / "communities.gpkg", driver="GPKG")
    layer = read_communities(
        tmp_path / "communities.gpkg", id="community_id", name="community_name"
    )
    note = layer.frame.set_index("community_id").loc["S", "note"]
    assert "area kept" not in note and "50% of the area within its corners" in note
    result = analyze(network, layer, residents, facilities, verbose=False, profile="none")
    rejected = result.rejected.set_index("id")
    assert list(rejected.index) == ["s2"]
    assert "inside the outline of the repaired boundary of S" in rejected.loc["s2", "reason"]
    assert "communities.gpkg, row 1" in rejected.loc["s2", "reason"]
    assert rejected.loc["s2", "population"] == 200
    south = result.communities.set_index("community_id").loc["S", "note"]
    assert "1 residences (200 residents) inside its outline fell outside it" in south
    warned = [
        r.getMessage() for r in caplog.records if "repaired boundary of S leaves" in r.getMessage()
    ]
    assert len(warned) == 1 and "row 1" in warned[0] and "1 residences (200 residents)" in warned[0]
