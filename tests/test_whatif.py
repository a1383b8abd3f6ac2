"""What-if: the incremental answer equals a full re-analysis of the edited facilities."""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from cjgis._errors import InputError
from cjgis.cli import main
from cjgis.inputs.io import read_facilities
from cjgis.judge.analysis import analyze
from cjgis.plan.whatif import what_if
from cjgis.run.runner import layers_from_study, network_from_study
from cjgis.run.study import load_study


@pytest.fixture(scope="module")
def sample_inputs(sample_study):
    study = load_study(sample_study)
    network = network_from_study(study)
    layers = layers_from_study(study)
    return network, layers, study.options


@pytest.fixture(scope="module")
def sample(sample_inputs):
    network, layers, options = sample_inputs
    return analyze(network, *layers, options=options, verbose=False)


def lonlat(analysis, facility_id, dx=0.0, dy=0.0):
    row = analysis.facilities.set_index("facility_id").loc[facility_id]
    point = gpd.GeoSeries([row.geometry], crs=analysis.crs).to_crs("EPSG:4326").iloc[0]
    return point.x + dx, point.y + dy


def full_reanalysis(inputs, result):
    network, (communities, residents, _), options = inputs
    edited = result.facilities.drop(columns=["street_offset_m", "note"], errors="ignore")
    return analyze(network, communities, residents, edited, options=options, verbose=False)


def assert_same_analysis(got, want):
    pd.testing.assert_frame_equal(got.coverage, want.coverage)
    pd.testing.assert_frame_equal(got.outside_coverage, want.outside_coverage)
    for name in ("residents", "blind_spots", "communities", "facilities", "service_areas"):
        a, b = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), name
    pd.testing.assert_frame_equal(got.district, want.district)
    assert got.categories == want.categories


def assert_diff_is_of(rows, after, before):
    """Each diff row holds the shares, verdict and people of the coverage tables it sums up."""
    after = after.set_index(["community_id", "category"])
    before = before.set_index(["community_id", "category"])
    for row in rows.itertuples():
        key = (row.community_id, row.category)
        assert row.share_after == after.loc[key, "covered_share"]
        assert row.share_before == before.loc[key, "covered_share"]
        assert row.status_after == after.loc[key, "status"]
        change = after.loc[key, "covered_residents"] - before.loc[key, "covered_residents"]
        assert change == pytest.approx(row.newly_covered_residents - row.newly_uncovered_residents)
    return after, before


def some_id(analysis, category, k=0):
    return analysis.facilities.loc[analysis.facilities["category"] == category, "facility_id"].iloc[
        k
    ]


def test_add_move_remove_equals_a_full_reanalysis(sample_inputs, sample):
    from pyproj import Transformer

    moved = some_id(sample, "ceremony_hall")
    new_at, moved_to = lonlat(sample, moved, 0.004, 0.003), lonlat(sample, moved, -0.006, 0.002)
    result = what_if(
        sample,
        add=[
            {
                "category": "elderly_care",
                "lon": new_at[0],
                "lat": new_at[1],
                "name": "村委会旧址日间照料中心",
                "capacity": 30,
            }
        ],
        move={moved: moved_to},
        remove=[some_id(sample, "ev_charging", 3)],
    )
    # the edited facilities stand where asked: lon/lat projected independently, to 1 mm
    to_metric = Transformer.from_crs("EPSG:4326", sample.crs, always_xy=True)
    placed = result.facilities.set_index("facility_id").geometry
    for fid, (lon, lat) in {"W1": new_at, moved: moved_to}.items():
        x, y = to_metric.transform(lon, lat)
        assert abs(placed[fid].x - x) < 1e-3 and abs(placed[fid].y - y) < 1e-3, fid
    assert result.changed == ["elderly_care", "ev_charging", "ceremony_hall"]
    assert_same_analysis(result.analysis, full_reanalysis(sample_inputs, result))
    changes = result.facilities.set_index("facility_id")["change"]
    assert changes["W1"] == "added" and changes[moved] == "moved"
    assert len(result.facilities) == len(sample.facilities)  # one in, one out


def test_the_diff_agrees_with_the_coverage_it_summarises(sample):
    moved = some_id(sample, "elderly_care", 2)
    result = what_if(sample, move={moved: lonlat(sample, moved, 0.006, -0.004)})
    diff = result.diff
    assert len(diff) > 0 and set(diff["category"]) == {"elderly_care"}
    after, before = assert_diff_is_of(diff, result.analysis.coverage, sample.coverage)
    # every pair left out of the diff is unchanged
    rest = after.drop(index=list(zip(diff["community_id"], diff["category"], strict=True)))
    pd.testing.assert_series_equal(
        rest["covered_share"], before.loc[rest.index, "covered_share"], check_names=False
    )
    lines = result.lines()
    assert len(lines) == len(diff) and all("养老服务设施" in line for line in lines)


def test_removing_a_categorys_last_facility_keeps_it_assessed_as_a_reanalysis_does(
    sample_inputs, sample
):
    ids = sample.facilities.loc[sample.facilities["category"] == "tool_storage", "facility_id"]
    result = what_if(sample, remove=list(ids))
    assert result.analysis.categories == sample.categories  # a profile category stays
    rows = result.analysis.coverage[result.analysis.coverage["category"] == "tool_storage"]
    assert (rows["covered_share"] == 0).all() and (rows["facilities_in_study"] == 0).all()
    assert rows["reason"].str.startswith("无设施数据").all()
    assert_same_analysis(result.analysis, full_reanalysis(sample_inputs, result))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"remove": ["F_nope"]}, "no facility has the id 'F_nope'"),
        ({"add": [{"category": "elderly_car", "lon": 120.27, "lat": 30.3}]}, "elderly_care"),
        ({"add": [{"category": "elderly_care", "lon": 121.5, "lat": 31.2}]}, "walkable street"),
        ({"add": [{"category": "elderly_care", "lon": 30.3, "lat": 120.27}]}, "not longitude"),
        ({"add": [{"category": "elderly_care", "x": 1.0}]}, "needs 'y'"),
    ],
)
def test_bad_edits_say_what_and_how_to_fix(sample, edit, message):
    with pytest.raises(InputError, match=message):
        what_if(sample, **edit)


def test_a_taken_id_is_refused(sample):
    taken = some_id(sample, "elderly_care")
    with pytest.raises(InputError, match="is taken"):
        what_if(
            sample,
            add=[{"category": "elderly_care", "lon": 120.27, "lat": 30.3, "facility_id": taken}],
        )


def test_real_streets_move_equals_a_full_reanalysis(hangzhou_streets, tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from district import write_district

    study = load_study(
        write_district(tmp_path, n_residences=600, n_facilities=96, streets=hangzhou_streets)
    )
    network = network_from_study(study)
    layers = layers_from_study(study)
    inputs = (network, layers, study.options)
    before = analyze(network, *layers, options=study.options, verbose=False)
    moved = some_id(before, "elderly_care")
    result = what_if(
        before,
        move={moved: lonlat(before, moved, 0.01, 0.005)},
        add=[
            {
                "category": "ev_charging",
                "lon": lonlat(before, moved)[0],
                "lat": lonlat(before, moved)[1],
            }
        ],
    )
    assert len(result.diff) > 0
    assert_same_analysis(result.analysis, full_reanalysis(inputs, result))


def test_saved_scenario_reads_as_planned_facilities(sample, tmp_path):
    moved = some_id(sample, "ceremony_hall")
    result = what_if(
        sample,
        move={moved: lonlat(sample, moved, 0.002, 0.0)},
        add=[{"category": "kindergarten", "lon": 120.268, "lat": 30.301, "name": "新幼儿园"}],
        remove=[some_id(sample, "ev_charging")],
    )
    from cjgis.plan.whatif import save_scenario

    path = save_scenario(result, tmp_path / "scenario.csv")
    planned = read_facilities(path, id="facility_id", capacity="capacity")
    assert list(planned.frame["category"]) == ["ceremony_hall", "kindergarten"]
    assert len(planned.rejected) == 0
    xy = planned.frame.to_crs(sample.crs).geometry
    want = result.facilities.set_index("facility_id").loc[[moved, "W1"]].geometry
    assert np.allclose(xy.x, want.x, atol=1e-3) and np.allclose(xy.y, want.y, atol=1e-3)
    removed = pd.read_csv(tmp_path / "scenario_removed.csv", encoding="utf-8-sig", dtype=str)
    assert list(removed["facility_id"]) == [str(some_id(sample, "ev_charging"))]


def test_cli_prints_the_verdict_lines_and_writes_the_diff(
    sample_study, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "whatif",
            "--quiet",
            str(sample_study),
            "--add",
            "elderly_care,120.27,30.302,村委会旧址日间照料中心,20",
            "--remove",
            "11",
            "--move",
            "3,120.262,30.297",
            "--save",
            "scenario.csv",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    diff = pd.read_csv(
        tmp_path / "data/processed/sample/whatif/whatif_diff.csv", encoding="utf-8-sig"
    )
    assert len(diff) > 0
    for row in diff.itertuples():
        assert f"{row.community_name} {row.category_zh}:" in out
    assert "1 added, 1 moved, 1 removed" in out
    assert (tmp_path / "scenario.csv").is_file()
    assert main(["whatif", str(sample_study), "--add", "elderly_care,120.27"]) == 2
    roads = str(sample_study.parent / "planned_roads.geojson")
    assert main(["whatif", "--quiet", str(sample_study), "--roads", roads]) == 0
    out = capsys.readouterr().out
    assert "1 planned roads; 14 categories searched again" in out
    joins = pd.read_csv(tmp_path / "data/processed/sample/whatif/planned_road_joins.csv")
    assert list(joins["end"]) == ["start", "end"]


def test_other_settings_equal_a_full_analysis_of_a_study_file_with_them(
    sample_study, sample_inputs, sample
):
    """ "What if the standard said 10 minutes?": the rules a study file with them would give."""
    from dataclasses import replace

    network, layers, options = sample_inputs
    slower = replace(options, walk_speed_m_s=0.8, minutes=10.0)
    result = what_if(sample, options=slower)
    assert result.changed == sample.categories
    # the oracle: the study file read with those [analysis] values, analysed from scratch
    study = load_study(sample_study, analysis={"minutes": 10.0, "walk_speed_m_s": 0.8})
    want = analyze(network, *layers, options=study.options, verbose=False)
    assert_same_analysis(result.analysis, want)
    assert not result.diff.empty  # 800 m (10 min at 0.8 m/s) is not the profile's distances
    rule = result.analysis.options.rule_for("elderly_care")
    assert rule.threshold_m == pytest.approx(480.0) and rule.basis == "planner rule"
    changed = set(result.diff["category"])
    assert {"elderly_care", "health_centre"} <= changed
    with pytest.raises(InputError, match="max_snap_m differs"):
        what_if(sample, options=replace(options, max_snap_m=50.0))


def test_other_minutes_on_rules_passed_in_resolved_are_refused_with_the_fix(sample_inputs):
    from dataclasses import replace

    network, layers, options = sample_inputs
    bare = replace(options, standards=None)  # rules given, not how they were chosen
    analysis = analyze(network, *layers, options=bare, verbose=False)
    with pytest.raises(InputError, match=r"cannot be resolved again\. Fix: pass options"):
        what_if(analysis, options=replace(bare, minutes=10.0))


def planned_reanalysis(inputs, result, roads):
    from cjgis.streets.road_lines import network_with_planned_roads

    network, layers, options = inputs
    planned, _ = network_with_planned_roads(network, roads)
    return full_reanalysis((planned, layers, options), result)


def test_planned_roads_equal_a_full_analysis_on_the_planned_network(
    sample_study, sample_inputs, sample
):
    """The sample's planned footbridge over the river, with a facility added beside it."""
    from cjgis.streets.road_lines import read_road_lines

    roads = read_road_lines(sample_study.parent / "planned_roads.geojson")
    end = gpd.GeoSeries([roads.geometry.iloc[0].boundary.geoms[1]], crs=roads.crs).iloc[0]
    result = what_if(
        sample,
        roads=roads,
        add=[{"category": "elderly_care", "lon": end.x + 0.001, "lat": end.y, "capacity": 20}],
    )
    assert result.changed == sample.categories  # the network changed: every category
    assert result.joins is not None and len(result.joins) == 2 * len(roads)
    assert result.analysis.network.n_edges > sample.network.n_edges
    assert_same_analysis(result.analysis, planned_reanalysis(sample_inputs, result, roads))
    # the bridge shortens walks across the river (health centres: up to 10 minutes)
    shorter = (
        sample.residents["walk_min_health_centre"]
        - result.analysis.residents["walk_min_health_centre"]
    )
    assert (shorter > 1e-9).sum() > 50 and (shorter >= -1e-12).all()


def test_planned_road_at_a_fragment_residence_moves_its_note(hangzhou_streets, tmp_path):
    """A residence noted as nearest a disconnected fragment gets a planned road at its door:
    its offset and note become those of a full analysis on the planned network."""
    import shapely

    sys.path.insert(0, str(REPO / "benchmarks"))
    from district import write_district

    study = load_study(
        write_district(tmp_path, n_residences=1_500, n_facilities=96, streets=hangzhou_streets)
    )
    network = network_from_study(study)
    layers = layers_from_study(study)
    before = analyze(network, *layers, options=study.options, verbose=False)
    noted = before.residents[before.residents["note"].notna()]
    assert len(noted) >= 1  # the shared streets leave one residence nearest a fragment
    door = noted.geometry.iloc[0].representative_point()
    node = np.argmin(np.hypot(network.node_x - door.x, network.node_y - door.y))
    road = shapely.LineString(
        [(door.x + 1.0, door.y), (network.node_x[node], network.node_y[node])]
    )
    roads = gpd.GeoDataFrame(geometry=[road], crs=network.crs)
    result = what_if(before, roads=roads)
    after = result.analysis
    assert_same_analysis(after, planned_reanalysis((network, layers, study.options), result, roads))
    resident = noted["resident_id"].iloc[0]
    row = after.residents.set_index("resident_id").loc[resident]
    assert row["street_offset_m"] < 1.5
    assert "note" not in after.residents  # its fragment note was the only one: gone, as in full


def test_planned_roads_warn_of_residences_left_out_as_far_from_streets(sample_study, sample):
    """A residence rejected as too far from every street might be reached by a planned road;
    the what-if cannot count it (it keeps the analysed residences) and says so."""
    from dataclasses import replace

    import shapely

    from cjgis.judge.layers import attach as _attach

    x0, y0, _, _ = sample.communities.total_bounds
    far = gpd.GeoDataFrame(
        {"resident_id": ["R_far"], "population": [120.0], "_row": [7]},
        geometry=[shapely.Point(x0 - 5_000, y0 - 5_000)],
        crs=sample.crs,
    )
    _, _, rejected = _attach(
        sample.network,
        far,
        layer="residents",
        file="buildings.gpkg",
        id_column="resident_id",
        max_snap_m=sample.options.max_snap_m,
    )
    assert len(rejected) == 1
    before = replace(sample, rejected=pd.concat([sample.rejected, *rejected], ignore_index=True))
    roads = str(sample_study.parent / "planned_roads.geojson")
    (warning,) = what_if(before, roads=roads).warnings
    assert warning.startswith("1 residences (120 people) were left out") and "cjgis site" in warning
    assert what_if(before, move={}).warnings == []  # no road, nothing to say


def test_a_facility_beside_a_transition_site_shows_in_the_diff(sample_inputs, sample):
    """Residents living outside (集中过渡地) are in the diff, with the outside table's values."""
    from cjgis.judge.coverage import LIVING_OUTSIDE

    away = sample.residents[sample.residents["living_outside"].astype(bool)]
    site = gpd.GeoSeries([away.geometry.iloc[0]], crs=sample.crs).to_crs("EPSG:4326").iloc[0]
    home = away["community_id"].iloc[0]
    result = what_if(
        sample, add=[{"category": "culture_station", "lon": site.x + 0.0003, "lat": site.y}]
    )
    rows = result.diff[result.diff["resident_group"] == LIVING_OUTSIDE]
    pairs = set(zip(rows["community_id"], rows["category"], strict=True))
    assert (home, "culture_station") in pairs
    assert_diff_is_of(rows, result.analysis.outside_coverage, sample.outside_coverage)
    assert (rows["newly_covered_residents"] > 0).all()
    assert any("安置在外 living outside" in line for line in result.lines())
    assert_same_analysis(result.analysis, full_reanalysis(sample_inputs, result))


def test_threshold_areas_are_those_the_whole_answer_draws(sample_analysis):
    """What the what-if maps draw after an edit: the threshold areas, drawn alone."""
    fac = sample_analysis.facilities
    fid = str(fac.loc[fac["category"] == "elderly_care", "facility_id"].iloc[0])
    answer = what_if(sample_analysis, move={fid: (120.266, 30.300)})
    light = answer.threshold_areas
    assert set(light["category"]) == {"elderly_care"} and light["facility_id"].isna().all()
    full = answer.analysis.service_areas
    rule = answer.analysis.options.rule_for("elderly_care")
    whole = full[
        (full["category"] == "elderly_care")
        & full["facility_id"].isna()
        & (full["metres"] == rule.threshold_m)
    ]
    assert list(light["metres"]) == [rule.threshold_m]
    difference = light.geometry.iloc[0].symmetric_difference(whole.geometry.iloc[0]).area
    assert difference < 1e-6 * whole.geometry.iloc[0].area
