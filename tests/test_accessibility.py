"""cjgis.accessibility: 2SFCA of one category as a function (issue 38, item 5).

Exact answers on a hand-built street, worked by hand below; on the sample, the same scores as
the analysis's own capacity check, and capacity neither lost nor counted twice.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import street_layers

import cjgis
from cjgis import AnalysisOptions, InputError, analyze
from cjgis.judge.capacity import E2SFCA_WEIGHTS, e2sfca_weight


@pytest.fixture
def street(line_network):
    """Facilities at x = 0 (10 places) and 1000 (60); residents at 200, 700, 1300 and 1900."""
    communities, residents, facilities = street_layers(
        {
            "r1": (200, 0, 100.0),
            "r2": (700, 0, 200.0),
            "r3": (1300, 0, 100.0),
            "r4": (1900, 0, 50.0),
        },
        [("f1", "一站", 0, 0), ("f2", "二站", 1000, 0)],
    )
    facilities = facilities.assign(capacity=[10.0, 60.0])
    options = AnalysisOptions(minutes=10, facility_areas=False, bands=False)  # 600 m
    return analyze(
        line_network,
        communities,
        residents,
        facilities,
        options=options,
        profile="none",
        verbose=False,
    )


def test_plain_2sfca_on_a_street_worked_by_hand(street):
    got = cjgis.accessibility(street, "c", threshold_m=800).set_index("resident_id")
    # f1 reaches r1 (200 m) and r2 (700 m): 10 / 300 people; f2 reaches r1 (800 m), r2 and r3
    # (300 m each), not r4 (900 m): 60 / 400 people
    f1, f2 = 10 / 300, 60 / 400
    want = {"r1": f1 + f2, "r2": f1 + f2, "r3": f2, "r4": 0.0}
    column = "access_capacity_per_1000_residents"
    for rid, score in want.items():
        assert got.loc[rid, column] == pytest.approx(1000 * score)
    assert list(got["facilities_within"]) == [2, 2, 1, 0]
    assert got.loc["r1", "walk_m_nearest"] == pytest.approx(200)
    assert np.isnan(got.loc["r4", "walk_m_nearest"])
    assert (got[column] / 1000 * got["demand_residents"]).sum() == pytest.approx(70)
    assert got.attrs["threshold_m"] == 800 and got.attrs["supply"] == "capacity"


def test_the_rule_threshold_and_the_enhanced_steps(street):
    plain = cjgis.accessibility(street, "c").set_index("resident_id")  # the rule's 600 m
    # 600 m: f1 reaches r1 only (10 / 100), f2 reaches r2 and r3 (60 / 300)
    column = "access_capacity_per_1000_residents"
    assert list(plain[column]) == pytest.approx([100.0, 200.0, 200.0, 0.0])
    e2 = cjgis.accessibility(street, "c", method="e2sfca", threshold_m=800)
    w1, w2, w3 = E2SFCA_WEIGHTS  # zones 0-267, 267-533, 533-800 m
    f1 = 10 / (100 * w1 + 200 * w3)  # r1 at 200 m, r2 at 700 m
    f2 = 60 / (100 * w3 + 200 * w2 + 100 * w2)  # r1 at 800 m, r2 and r3 at 300 m
    want = [f1 * w1 + f2 * w3, f1 * w3 + f2 * w2, f2 * w2, 0.0]
    assert list(e2[column]) == pytest.approx([1000 * s for s in want])
    assert e2.attrs["method"] == "e2sfca"


def test_each_facility_as_one(street):
    got = cjgis.accessibility(street, "c", supply="facilities", threshold_m=800)
    f1, f2 = 1 / 300, 1 / 400
    column = "access_facilities_per_1000_residents"
    assert list(got[column]) == pytest.approx([1000 * (f1 + f2), 1000 * (f1 + f2), 1000 * f2, 0])


def test_e2sfca_weights_step_at_thirds():
    d = np.array([0, 266, 267, 533, 534, 800, 801])
    assert list(e2sfca_weight(d, 800)) == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]


def test_the_sample_scores_are_the_analysis_own(sample_analysis):
    a = sample_analysis
    for method, column in (
        ("2sfca", "access_elderly_care"),
        ("gaussian", "access_gauss_elderly_care"),
    ):
        got = cjgis.accessibility(a, "养老服务设施", method=method)
        score = [c for c in got if c.startswith("access_")]
        assert score == ["access_m2_per_1000_households"]  # unit and group in the name
        np.testing.assert_allclose(got[score[0]] / 1000, a.residents[column].to_numpy())
        reached = got[score[0]] / 1000 * got["demand_households"]
        assert reached.sum() == pytest.approx(got.attrs["supply_total"])  # none lost or doubled
    assert list(got["resident_id"]) == list(a.residents["resident_id"])
    assert got.crs == a.crs


def test_what_cannot_be_computed_says_why(sample_analysis, street):
    with pytest.raises(InputError, match="did you mean 'elderly_care'"):
        cjgis.accessibility(sample_analysis, "elderly_car")
    with pytest.raises(InputError, match="method='3sfca'"):
        cjgis.accessibility(sample_analysis, "elderly_care", method="3sfca")
    no_capacity = street.facilities.drop(columns="capacity")
    from dataclasses import replace

    bare = replace(street, facilities=no_capacity)
    with pytest.raises(InputError, match="supply='facilities'"):
        cjgis.accessibility(bare, "c", supply="capacity")
    assert cjgis.accessibility(bare, "c").attrs["supply"] == "facilities"
    with pytest.raises(InputError, match="no elderly counts"):
        cjgis.accessibility(street, "c", group="elderly")
