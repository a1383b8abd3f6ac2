"""Every table's columns are the ones its docstring lists (issue 38, items 5 and 7).

The ``Columns:`` paragraph of each attribute names the columns always present, then, after
"where given:", those that depend on the data; ``<category>`` stands for each category key.
"""

from __future__ import annotations

import inspect
import re

import pytest
from conftest import straight_street, street_layers

from cjgis import AnalysisOptions, analyze, suggest_sites, what_if
from cjgis.judge.analysis import Analysis
from cjgis.plan.siting import SiteSuggestion
from cjgis.plan.whatif import WhatIf

TABLES = (
    "communities",
    "residents",
    "facilities",
    "coverage",
    "outside_coverage",
    "service_areas",
    "blind_spots",
    "rejected",
    "district",
    "not_assessed",
)


def documented(cls: type, attribute: str) -> tuple[set[str], set[str]]:
    """The column names an attribute's docstring lists: always present, and where given."""
    lines = inspect.getdoc(cls).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{attribute} : "))
    block = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        block.append(line.strip())
    text = " ".join(block)
    if "Columns:" not in text:
        assert "The same columns" in text, f"{cls.__name__}.{attribute} lists no columns"
        return documented(cls, "coverage")
    always, _, optional = text.split("Columns:", 1)[1].partition("where given:")

    def names(part: str) -> set[str]:
        found = re.findall(r"``([^`]+)``", part)
        return {n for n in found if re.fullmatch(r"[a-z0-9_<>]+", n)}

    return names(always), names(optional)


def expand(names: set[str], categories: list[str]) -> set[str]:
    return {n.replace("<category>", c) for n in names for c in (categories if "<" in n else [""])}


def assert_documented(cls, attribute, frame, categories):
    always, optional = documented(cls, attribute)
    always, optional = expand(always, categories), expand(optional, categories)
    columns = set(map(str, frame.columns))
    assert columns - always - optional == set(), f"{attribute}: undocumented columns"
    assert always - columns == set(), f"{attribute}: documented, yet missing"


@pytest.fixture(scope="module")
def minimal(line_network_module):
    """An analysis with nothing optional: no elderly, households, capacity or outside rows."""
    communities, residents, facilities = street_layers(
        {"r1": (200, 0, 100.0), "r2": (1900, 0, 50.0)}, [("f1", "一站", 0, 0)]
    )
    options = AnalysisOptions(minutes=5)
    return analyze(
        line_network_module,
        communities,
        residents,
        facilities,
        options=options,
        profile="none",
        verbose=False,
    )


@pytest.fixture(scope="module")
def line_network_module():
    return straight_street()


@pytest.mark.parametrize("table", TABLES)
def test_the_analysis_tables_are_documented(sample_analysis, minimal, table):
    for analysis in (sample_analysis, minimal):
        assert_documented(Analysis, table, getattr(analysis, table), analysis.categories)


def test_the_diff_and_the_sites_are_documented(sample_analysis):
    fid = sample_analysis.facilities.loc[
        sample_analysis.facilities["category"] == "elderly_care", "facility_id"
    ].iloc[0]
    result = what_if(sample_analysis, remove=[fid])
    assert len(result.diff) > 0
    assert_documented(WhatIf, "diff", result.diff, [])
    sites = suggest_sites(sample_analysis, "elderly_care", k=2)
    assert_documented(SiteSuggestion, "sites", sites.sites, [])


def test_dtypes_say_what_the_values_are(sample_analysis, minimal):
    cov = sample_analysis.coverage
    assert cov["coverage_met"].dtype == bool
    assert str(cov["capacity_met"].dtype) == "boolean"  # <NA> where capacity is not checked
    checked = cov["capacity_met"].notna()
    assert checked.any() and (~checked).any()
    assert str(minimal.coverage["capacity_met"].dtype) == "boolean"
    assert minimal.coverage["capacity_met"].isna().all()
    for column in ("facilities_inside", "facilities_in_study"):
        assert cov[column].dtype.kind == "i"
    for column in ("categories_met", "categories_required"):
        assert sample_analysis.communities[column].dtype.kind == "i"
    spots = sample_analysis.blind_spots
    assert all(spots[f"blind_{c}"].dtype == bool for c in sample_analysis.categories)
