"""The what-if widget's logic (events -> what-if -> redraw data), tested without a browser."""

from __future__ import annotations

import pandas as pd
import pytest

from cjgis.inputs.categories import met_colour
from cjgis.judge.verdict import share_text
from cjgis.plan.whatif import what_if
from cjgis.plan.whatif_map import fold, handle, redraw, save, start, what_if_map


def click(session, lon, lat):
    return handle(session, {"type": "click", "coordinates": [lat, lon]})


def test_a_click_adds_a_facility_of_the_chosen_category_and_the_table_follows(sample_analysis):
    session = click(start(sample_analysis, "elderly_care"), 120.27, 30.302)
    assert session.edits[0]["category"] == "elderly_care"
    answer = what_if(
        sample_analysis,
        add=[
            {
                "category": "elderly_care",
                "lon": 120.27,
                "lat": 30.302,
                "facility_id": "W1",
                "name": "新增养老服务设施",
            }
        ],
    )
    pd.testing.assert_frame_equal(session.analysis.coverage, answer.analysis.coverage)
    view = redraw(session)
    cov = answer.analysis.coverage
    cov = cov[cov["category"] == "elderly_care"]
    want = [share_text(r.covered_share, r.target_share, r.coverage_met) for r in cov.itertuples()]
    assert list(view["table"]["覆盖率 share"]) == want  # the same value the tables show
    assert list(view["table"]["结论 verdict"]) == list(cov["status_zh"])
    assert view["lines"] == answer.lines() and len(view["lines"]) > 0
    added = [f for f in view["facilities"] if f["change"] == "added"]
    assert len(added) == 1 and added[0]["lon"] == pytest.approx(120.27, abs=1e-6)
    assert added[0]["lat"] == pytest.approx(30.302, abs=1e-6)  # both coordinates, not just one
    for feature in view["communities"]["features"]:
        status = feature["properties"]["status"]
        assert feature["properties"]["fill"] == met_colour(float(status == "met"), 1.0)
    assert len(view["area"]["features"]) == 1  # the category's area at its threshold


def test_moving_and_removing_an_added_facility_edit_it_and_undo_steps_back(sample_analysis):
    session = click(start(sample_analysis, "elderly_care"), 120.27, 30.302)
    session = handle(session, {"type": "move", "facility_id": "W1", "lon": 120.265, "lat": 30.3})
    add, move, remove = fold(session.edits)
    assert [(a["lon"], a["lat"]) for a in add] == [(120.265, 30.3)] and not move and not remove
    session = handle(session, {"type": "remove", "facility_id": "3"})
    session = handle(session, {"type": "remove", "facility_id": "W1"})
    add, move, remove = fold(session.edits)
    assert add == [] and remove == ["3"]
    session = handle(session, {"type": "undo"})
    assert len(fold(session.edits)[0]) == 1
    session = handle(handle(handle(session, {"type": "undo"}), {"type": "undo"}), {"type": "undo"})
    assert session.edits == () and session.result is None
    assert session.analysis is sample_analysis


def test_other_events_and_category_changes(sample_analysis):
    session = start(sample_analysis)
    assert handle(session, {"type": "mousemove", "coordinates": [0, 0]}) is session
    other = handle(session, {"type": "category", "category": "ev_charging"})
    assert other.category == "ev_charging" and redraw(other)["facilities"]
    assert all(f["facility_id"] for f in redraw(other)["facilities"])


def test_the_ipyleaflet_widget_wires_events_to_the_same_logic(sample_analysis, tmp_path):
    widget = what_if_map(sample_analysis, category="elderly_care", basemap=False)
    leaflet = widget.children[1].children[0]
    leaflet._interaction_callbacks(type="click", coordinates=[30.302, 120.27])
    assert widget.session.edits[0]["type"] == "add"
    marker = next(m for m in leaflet.layers[-1].layers if "(3)" in m.title)
    marker._move_callbacks(event="move", location=[30.297, 120.262])
    assert widget.session.edits[-1] == {
        "type": "move",
        "facility_id": "3",
        "lon": 120.262,
        "lat": 30.297,
    }
    table = widget.children[1].children[1].value
    assert "沈家社区" in table and "<table" in table
    widget.children[0].children[0].value = "ev_charging"  # the category picker
    assert widget.session.category == "ev_charging"
    path = save(widget.session, tmp_path / "scenario.csv")
    saved = pd.read_csv(path, encoding="utf-8-sig", dtype={"facility_id": str})
    assert sorted(saved["change"]) == ["added", "moved"]


def test_undo_then_redo_gives_the_same_edits_and_a_new_edit_clears_redo(sample_analysis):
    first = click(start(sample_analysis, "elderly_care"), 120.27, 30.302)
    second = handle(
        first, {"type": "add", "lon": 120.26, "lat": 30.30, "name": "新站", "capacity": 30}
    )
    assert second.edits[-1]["capacity"] == 30 and second.edits[-1]["name"] == "新站"
    undone = handle(second, {"type": "undo"})
    assert undone.edits == first.edits and undone.undone == (second.edits[-1],)
    again = handle(undone, {"type": "redo"})
    assert again.edits == second.edits and again.undone == ()
    pd.testing.assert_frame_equal(again.result.diff, second.result.diff)
    other = handle(undone, {"type": "click", "lat": 30.31, "lon": 120.27})
    assert other.undone == () and handle(other, {"type": "redo"}).edits == other.edits
    assert handle(start(sample_analysis), {"type": "undo"}).edits == ()  # nothing to undo
    added = [row for row in fold(second.edits)[0] if row["facility_id"] == "W2"]
    assert added[0]["capacity"] == 30
