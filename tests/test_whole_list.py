"""The whole list: every category of the profile in every output, settings as documented.

Issue 24: categories without facilities are assessed (nobody within reach, 无设施数据), those
left out on purpose are 未评价 everywhere, a study without ``[standards]`` uses ``chcj_2017``,
and the documented capacity overrides work from a study file.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import walked_categories

from cjgis._errors import StudyFileError
from cjgis.run.runner import analyze_study
from cjgis.run.study import Study, load_study


def study_with(sample_study, name: str, standards: str) -> Study:
    """The sample's study file with its [standards] section replaced by ``standards``."""
    text = sample_study.read_text(encoding="utf-8")
    head, rest = text.split("[standards]", 1)
    tail = rest[rest.index("\n[", 1) :]
    path = sample_study.parent / f"{name}.toml"
    path.write_text(f"{head}{standards}\n{tail}", encoding="utf-8")
    return load_study(path)


def test_categories_without_facilities_are_assessed_and_named(study_dir):
    """The sample without its sport grounds and waste points: both still assessed."""
    from cjgis.outputs.scorecard import gap_table_text

    table = pd.read_csv(study_dir / "facilities.csv", encoding="utf-8-sig")
    table = table[~table["category"].isin(["sport", "waste_point"])]
    table.to_csv(study_dir / "facilities.csv", index=False, encoding="utf-8-sig")
    analysis = analyze_study(load_study(study_dir / "study.toml"), verbose=False)
    cov = analysis.coverage
    assert list(dict.fromkeys(cov["category"])) == walked_categories("chcj_2017")
    sport = cov[cov["category"] == "sport"]
    assert len(sport) == 8 and (sport["covered_share"] == 0).all()
    assert (sport["facilities_in_study"] == 0).all()
    assert set(sport["status_zh"]) == {"不达标"}  # a GB 50180 item: against the standard
    assert sport["reason"].str.startswith("无设施数据 (no facility of this category").all()
    culture = cov[cov["category"] == "culture_station"]
    assert (culture["facilities_in_study"] > 0).all()
    assert not culture["reason"].str.contains("无设施数据").any()
    assert analysis.categories_without_facilities() == ["sport", "waste_point"]
    summary = analysis.summary()
    assert "2 categories without any facility (无设施数据)" in summary
    assert "15 categories assessed" in summary and "in 13 categories" in summary
    line = analysis.missing_lines()[0]
    assert "运动场地" in line and 'exclude = ["sport", "waste_point"]' in line
    rules = analysis.rules_table().set_index("category")
    assert rules.loc["sport", "assessment"].startswith("无设施数据")
    text = gap_table_text(cov).splitlines()
    assert text[-1].startswith("无设施数据 no facility in the input") and "运动健身场地" in text[-1]


def test_excluded_categories_are_not_assessed_in_every_output(sample_study, tmp_path):
    from cjgis.outputs.deliverables import write_all

    study = study_with(
        sample_study,
        "excluded",
        '[standards]\nprofile = "chcj_2017"\nexclude = ["waste_point", "ev_charging"]',
    )
    analysis = analyze_study(study, verbose=False)
    assert "waste_point" not in analysis.categories and "ev_charging" not in analysis.categories
    assert list(analysis.not_assessed["category"]) == ["waste_point", "ev_charging"]
    charging = int((analysis.not_assessed["category"] == "ev_charging").sum())
    assert charging == 1
    assert analysis.not_assessed.set_index("category").loc["ev_charging", "facilities_left_out"]
    # its facilities are rejected rows with the reason, none dropped silently
    rejected = analysis.rejected[analysis.rejected["layer"] == "facilities"]
    assert rejected["reason"].str.contains("exclude").all() and len(rejected) > 0
    assert "2 categories not assessed (未评价)" in analysis.summary()
    paths = write_all(analysis, tmp_path, map_path=tmp_path / "map.html")
    cov = pd.read_csv(paths["coverage"], encoding="utf-8-sig")
    card = pd.read_csv(paths["scorecard_csv"], encoding="utf-8-sig")
    xlsx = pd.read_excel(paths["scorecard_xlsx"], sheet_name="分类别 by category", header=1)
    for table in (cov, card, xlsx):
        left = table[table["category"] == "waste_point"]
        assert len(left) == 8 and set(left["status_zh"]) == {"未评价"}
        assert left["covered_share"].isna().all()
    page = paths["map"].read_text(encoding="utf-8")
    assert "未评价" in page


def test_a_study_without_standards_uses_chcj_2017_and_says_so(sample_study, caplog):
    caplog.set_level("INFO", logger="cjgis")
    study = study_with(sample_study, "no_standards", "")
    assert study.options.standards.default and study.options.standards.profiles == ("chcj_2017",)
    assert [r.key for r in study.options.rules] == [
        *walked_categories("chcj_2017")[:11],
        "nursing_home",
        *walked_categories("chcj_2017")[11:],
    ]
    assert "chcj_2017 (默认 default" in caplog.text
    analysis = analyze_study(study, verbose=False)
    assert (analysis.coverage["status"] == "not_met").sum() > 0
    assert "默认 default" in analysis.standards_line()


def test_profile_none_means_none_and_the_summary_counts_them(sample_study):
    study = study_with(sample_study, "none", '[standards]\nprofile = "none"')
    assert study.options.rules == () and not study.options.standards.default
    analysis = analyze_study(study, verbose=False)
    pairs = len(analysis.coverage)
    assert (analysis.coverage["status"] == "no_standard").all()
    assert f"{pairs} of {pairs} pairs have no standard (无标准)" in analysis.summary()
    with pytest.raises(StudyFileError, match='"none" alone'):
        study_with(sample_study, "mixed", '[standards]\nprofile = ["none", "chcj_2017"]')


CAPACITY = """
[standards.categories.elderly_care]
capacity_amount = 40
capacity_per = 1000
capacity_of = "elderly"
capacity_unit = "m2"
capacity_unit_zh = "平方米"
"""


@pytest.mark.parametrize("profile", ['profile = "chcj_2017"', 'profile = "none"', ""])
def test_documented_capacity_overrides_work_from_a_study_file(sample_study, profile):
    study = study_with(sample_study, "capacity", f"[standards]\n{profile}\n{CAPACITY}")
    rule = study.options.rule_for("elderly_care")
    cap = rule.capacity
    got = (cap.amount, cap.per, cap.of, cap.unit, cap.unit_zh)
    assert got == (40, 1000, "elderly", "m2", "平方米")
    assert cap.basis == "planner rule"  # changed in the study file: 规划建议值
    analysis = analyze_study(study, verbose=False)
    rows = analysis.coverage[analysis.coverage["category"] == "elderly_care"]
    elderly = rows["elderly"] if "elderly" in rows else None
    assert elderly is not None
    want = np.ceil(elderly.to_numpy() * 40 / 1000 - 1e-9)  # whole units (README, coverage.csv)
    assert rows["capacity_required"].to_numpy() == pytest.approx(want)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("capacity_amount = -4", "capacity_amount = -4 is not a positive number"),
        ('capacity_of = "pets"', "capacity_of = 'pets'. Fix: use one of residents"),
        ("capacity_amont = 4", "unknown \\['capacity_amont'\\]"),
    ],
)
def test_bad_capacity_overrides_say_which_key_and_how_to_fix(sample_study, body, message):
    with pytest.raises(StudyFileError, match=message):
        study_with(
            sample_study,
            "bad_capacity",
            f'[standards]\nprofile = "chcj_2017"\n[standards.categories.elderly_care]\n{body}',
        )


def test_the_manual_lists_exactly_the_override_keys_the_code_accepts():
    from cjgis.judge.standards import OVERRIDABLE
    from cjgis.run.study_keys import KEY_DOCS

    meaning = KEY_DOCS["standards"]["categories"][0]
    documented = set(re.findall(r"`([a-z_]+)`", meaning)) - {"categories"}
    assert documented == set(OVERRIDABLE)


def test_cjgis_site_with_nothing_to_suggest_says_why(sample_study, tmp_path, monkeypatch, capsys):
    from cjgis.cli import main

    study = study_with(sample_study, "site_none", '[standards]\nprofile = "none"')
    monkeypatch.chdir(tmp_path)
    assert main(["site", str(study.source), "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if "建议选址 suggested sites" in line]
    # 8 communities x the sample's 15 facility categories (no profile: only those, 养老院 walked)
    assert lines == [
        "建议选址 suggested sites: none: all 120 community x category pairs have no standard "
        "(无标准), so none is missed. Fix: name a profile in [standards] (e.g. profile = "
        '"chcj_2017") or set the categories\' rules'
    ]
