"""Layers in memory give what the files give (issue 38, item 2).

A planner's own GeoDataFrames, or a lon/lat DataFrame, become cjgis's layers through
``<layer>_from_frame`` with the study file's keys; :func:`cjgis.analyze` judges them against the
default profile unless told otherwise; what cannot be used is an :class:`InputError` naming the
column, the columns present and the fix.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import edit_study

import cjgis
from cjgis import (
    AnalysisOptions,
    InputError,
    analyze,
    communities_from_frame,
    facilities_from_frame,
    load_profile,
    residents_from_frame,
)
from cjgis.judge.verdict import NO_STANDARD
from cjgis.run.runner import analyze_study
from cjgis.run.study import load_study
from cjgis.streets.sources import network_from_file

QUICK = {"facility_areas": False, "bands": False}
OUTSIDE = """[residents_outside]
# residents not yet moved back, at a 集中过渡地: their own rows in the scorecard
path = "residents_outside.gpkg"
id = "outside_id"
community = "home_community"
population = "population"
elderly = "elderly"
households = "households"
"""


@pytest.fixture(scope="module")
def frames(sample_study):
    """The sample's files as a planner reads them in a notebook: geopandas and pandas."""
    folder = sample_study.parent
    return {
        "communities": gpd.read_file(folder / "communities.geojson"),
        "residents": gpd.read_file(folder / "buildings.gpkg"),
        "facilities": pd.read_csv(folder / "facilities.csv", encoding="utf-8-sig"),
        "network": network_from_file(folder / "streets.graphml"),
    }


def layers(frames):
    """The three layers of the sample's frames, with the study file's keys."""
    communities = communities_from_frame(frames["communities"], id="community_id", name="name")
    residents = residents_from_frame(
        frames["residents"],
        id="building_id",
        population="population",
        households="households",
        elderly="elderly",
        villagers="villagers",
        renters="renters",
    )
    facilities = facilities_from_frame(
        frames["facilities"], category="category", name="name", capacity="capacity"
    )
    return communities, residents, facilities


@pytest.fixture(scope="module")
def in_memory(frames):
    before = {k: v.copy() for k, v in frames.items() if k != "network"}
    analysis = analyze(
        frames["network"], *layers(frames), options=AnalysisOptions(**QUICK), verbose=False
    )
    for key, frame in before.items():  # the planner's frames are not modified
        pd.testing.assert_frame_equal(frames[key], frame)
    return analysis


def test_frames_give_the_verdicts_of_the_study_file(in_memory, study_dir):
    path = edit_study(study_dir, OUTSIDE, "")
    edit_study(study_dir, 'profile = "chcj_2017"', "")  # the default, as analyze's
    from_file = analyze_study(load_study(path, analysis=QUICK), verbose=False)
    columns = [
        "community_id",
        "category",
        "status",
        "covered_share",
        "residents",
        "median_walk_min",
    ]
    pd.testing.assert_frame_equal(
        in_memory.coverage[columns].reset_index(drop=True),
        from_file.coverage[columns].reset_index(drop=True),
    )
    assert (in_memory.coverage["status"] != NO_STANDARD).all()
    assert "against chcj_2017 (默认 default)" in in_memory.summary()
    assert in_memory.summary().split(";")[1] == from_file.summary().split(";")[1]
    assert len(in_memory.residents) == len(from_file.residents)


def test_profile_none_and_a_profile_of_ones_own(frames, in_memory):
    none = analyze(
        frames["network"],
        *layers(frames),
        options=AnalysisOptions(**QUICK),
        profile="none",
        verbose=False,
    )
    pairs = len(none.coverage)
    assert (none.coverage["status"] == NO_STANDARD).all()
    assert f"{pairs} of {pairs} pairs have no standard (无标准)" in none.summary()
    assert "against no standard (无标准)" in none.summary()
    own = analyze(
        frames["network"],
        *layers(frames),
        options=AnalysisOptions(**QUICK),
        profile=load_profile("chcj_2017"),
        verbose=False,
    )
    pd.testing.assert_frame_equal(own.coverage, in_memory.coverage)
    assert "against chcj_2017," in own.summary()


def test_a_profile_twice_or_unknown_is_refused(frames, in_memory):
    network, *three = frames["network"], *layers(frames)
    with pytest.raises(InputError, match="carry rules already"):
        analyze(network, *three, options=in_memory.options, profile="none", verbose=False)
    with pytest.raises(InputError, match="chcj_2017"):
        analyze(network, *three, profile="gb_50180", verbose=False)
    with pytest.raises(InputError, match="is not a profile"):
        analyze(network, *three, profile=15, verbose=False)


def test_minutes_set_in_the_options_apply_to_every_category(frames):
    quick = AnalysisOptions(minutes=10, **QUICK)
    analysis = analyze(frames["network"], *layers(frames), options=quick, verbose=False)
    walked = analysis.rules_table()
    walked = walked[walked["scale"] == "walk"] if "scale" in walked else walked
    assert set(walked["threshold_m"].dropna().round(6)) <= {600.0, 480.0}  # 10 min at 1.0/0.8


def test_a_missing_column_names_the_columns_present(frames):
    with pytest.raises(InputError, match=r"'populaton'.*'population'.*did you mean 'population'"):
        residents_from_frame(frames["residents"], population="populaton")
    with pytest.raises(InputError, match="no population column named"):
        residents_from_frame(frames["residents"], population=None)
    with pytest.raises(InputError, match=r"'nam'.*communities_from_frame"):
        communities_from_frame(frames["communities"], id="community_id", name="nam")
    table = pd.DataFrame({"名称": ["养老院"], "人口": [3]})
    with pytest.raises(InputError, match="no lon column found"):
        residents_from_frame(table, population="人口")
    with pytest.raises(InputError, match="need polygons"):
        communities_from_frame(pd.DataFrame({"id": [1]}), id="id", name="id")
    with pytest.raises(InputError, match="got list"):
        facilities_from_frame([1, 2], category="c")


def test_no_crs_is_an_error_or_declared(frames):
    naive = frames["communities"].set_crs(None, allow_override=True)
    with pytest.raises(InputError, match=r"no coordinate reference system.*set_crs"):
        communities_from_frame(naive, id="community_id", name="name")
    layer = communities_from_frame(naive, id="community_id", name="name", crs="EPSG:4326")
    assert layer.frame.crs == "EPSG:4326" and len(layer.frame) == len(naive)


def test_a_lon_lat_table_in_gcj02_is_converted(frames):
    table = frames["facilities"]
    wgs = facilities_from_frame(table, category="category", name="name")
    gcj = table.assign(lon=table["lon"] + 0.0045, lat=table["lat"] - 0.0025)
    moved = facilities_from_frame(gcj, category="category", name="name", crs="gcj02")
    shift_m = wgs.frame.to_crs(4549).distance(moved.frame.to_crs(4549))
    assert shift_m.max() < 600 and shift_m.min() > 0  # converted, not just relabelled
    assert wgs.rejected.empty and list(wgs.frame["_row"]) == list(range(1, len(table) + 1))


def test_rejected_rows_are_named_by_position(frames):
    table = frames["facilities"].copy()
    table.loc[3, "lon"] = None
    layer = facilities_from_frame(table, category="category", name="name")
    assert len(layer.frame) + len(layer.rejected) == len(table)
    row = layer.rejected.iloc[0]
    assert row["row"] == 4 and row["file"] == "facilities_from_frame()"


def test_analyze_names_what_a_raw_frame_lacks(frames):
    network = frames["network"]
    communities, residents, facilities = layers(frames)
    bare = residents.frame.drop(columns="resident_id")
    with pytest.raises(InputError, match=r"no column 'resident_id'.*residents_from_frame"):
        analyze(network, communities, bare, facilities, verbose=False)
    with pytest.raises(InputError, match="without geometry"):
        analyze(network, communities, residents, pd.DataFrame(facilities.frame), verbose=False)
    naive = residents.frame.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match=r"no CRS.*set_crs"):
        analyze(network, communities, naive, facilities, verbose=False)


def test_the_public_errors_are_exported():
    assert issubclass(cjgis.StudyFileError, cjgis.InputError)
    assert issubclass(cjgis.InputError, cjgis.CjgisError) and issubclass(
        cjgis.InputError, ValueError
    )
    names = dir(cjgis)
    assert "TYPE_CHECKING" not in names and "importlib" not in names
    assert {"InputError", "residents_from_frame", "Profile"} <= set(names)
    assert all(not n.startswith("_") or n == "__version__" for n in names)
