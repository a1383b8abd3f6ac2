"""The scorecard: XLSX opens, equals the CSV, and says why a community fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cjgis.judge.verdict import MET, NO_STANDARD, NOT_MET
from cjgis.outputs.scorecard import COLUMNS, PRINTED, scorecard_table, write_scorecard


@pytest.fixture(scope="module")
def written(sample_analysis, tmp_path_factory):
    return write_scorecard(sample_analysis, tmp_path_factory.mktemp("card"))


def test_xlsx_has_the_views_with_chinese_and_english_headers(written):
    book = load_workbook(written["scorecard_xlsx"])
    assert book.sheetnames == [
        "汇总 summary",
        "评价依据 standards",  # every category of the profile: its rule, assessed or not
        "分类别 by category",
        "区级 district-level",  # the sample's 养老院 beds
        "服务盲区 blind spots",
        "未纳入 rejected",
        "English values",
    ]
    from cjgis.outputs.scorecard import SHEETS

    assert book.sheetnames == list(SHEETS)  # the documented sheets, in order
    rules = pd.read_excel(written["scorecard_xlsx"], sheet_name="评价依据 standards", header=1)
    assert len(rules) == 15 and rules["category"].iloc[-1] == "nursing_home"  # 14 walked first
    assert (rules["assessment"] == "已评价 assessed").all()  # the sample has every kind
    assert set(rules["standards"]) == {"标准 standards: chcj_2017"}
    sheet = book["分类别 by category"]
    chinese = [c for c in COLUMNS if c not in ("basis", "status_en")]  # English: own sheet
    chinese = [*PRINTED, *(c for c in chinese if c not in PRINTED)]  # printed ones first
    assert [c.value for c in sheet[1]] == [COLUMNS[c] for c in chinese]
    assert [c.value for c in sheet[2]] == chinese
    english = book["English values"]
    assert [c.value for c in english[2]] == [
        "community_id",
        "community_name",
        "category",
        "basis",
        "status_en",
    ]
    assert sheet.freeze_panes == "C3"  # header rows, id and name columns
    assert sheet.column_dimensions["B"].width >= 10  # 社区名称 fits


def test_xlsx_numbers_equal_the_csv(written):
    csv = pd.read_csv(written["scorecard_csv"], encoding="utf-8-sig", dtype={"community_id": str})
    xlsx = pd.read_excel(
        written["scorecard_xlsx"],
        sheet_name="分类别 by category",
        header=1,
        dtype={"community_id": str},
    )
    assert list(csv.columns) == list(COLUMNS)
    assert set(xlsx.columns) == {c for c in COLUMNS if c not in ("basis", "status_en")}
    # the profile's 14 walked categories x eight communities, and the two communities' residents
    # living at a 集中过渡地 in rows of their own
    assert len(csv) == len(xlsx) == 14 * 8 + 14 * 2
    numeric = [c for c in csv.select_dtypes("number").columns if c in xlsx]
    np.testing.assert_allclose(
        xlsx[numeric].to_numpy(float), csv[numeric].to_numpy(float), equal_nan=True
    )
    assert (xlsx["status_zh"] == csv["status_zh"]).all()
    assert (xlsx["reason"] == csv["reason"]).all()


def test_status_and_reason_follow_coverage_and_capacity(sample_analysis):
    cov = sample_analysis.coverage
    assert set(cov["status"]) <= {MET, NOT_MET, NO_STANDARD}
    low = cov[cov["covered_share"] < cov["target_share"]]
    assert len(low) >= 1 and (low["status"] == NOT_MET).all()
    assert low["reason"].str.contains("coverage below target").all()
    short = cov[(cov["covered_share"] >= cov["target_share"]) & (cov["capacity_shortfall"] > 0)]
    assert (short["status"] == NOT_MET).all()  # hand-built cases: tests/test_verdict.py
    assert short["reason"].str.contains("capacity short by").all()
    met = cov[cov["status"] == MET]
    assert len(met) >= 2
    assert (met["covered_share"] >= met["target_share"]).all()
    card = scorecard_table(sample_analysis)  # the scorecard shows the same words and reasons
    rows = sample_analysis.coverage_rows()
    assert (card["status_zh"].to_numpy() == rows["status_zh"].to_numpy()).all()
    assert (card["reason"].to_numpy() == rows["reason"].to_numpy()).all()


def test_a_category_without_a_rule_is_no_standard(sample_study):
    # rule -> coverage -> scorecard: a study without a standards profile has no standard
    from dataclasses import replace

    from cjgis.judge.analysis import analyze
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study

    study = load_study(sample_study)
    bare = replace(study.options, rules=())
    analysis = analyze(
        network_from_study(study), *layers_from_study(study), options=bare, verbose=False
    )
    assert set(analysis.coverage["basis"]) == {"none"}
    assert (analysis.coverage["status"] == NO_STANDARD).all()
    assert (scorecard_table(analysis)["status_zh"] == "无标准").all()


def test_gpkg_has_communities_with_scores_and_blind_spots(written, sample_analysis):
    import geopandas as gpd

    comm = gpd.read_file(written["scorecard_gpkg"], layer="communities")
    spots = gpd.read_file(written["scorecard_gpkg"], layer="blind_spots")
    assert len(comm) == 8 and {
        "categories_met",
        "share_elderly_care",
        "status_elderly_care",
    } <= set(comm.columns)
    assert len(spots) == len(sample_analysis.blind_spots)


def test_terminal_table_of_a_city_shows_the_worst_and_counts_the_rest(sample_analysis):
    from cjgis.outputs.scorecard import gap_table_text

    card = sample_analysis.coverage
    text = gap_table_text(card, max_rows=3)
    rows = text.splitlines()
    # header, three communities, the count, the legend (the sample has facilities of every kind)
    assert len(rows) == 1 + 3 + 2
    assert "… 5 more communities" in rows[4]
    worst = card.groupby("community_name")["covered_share"].mean().nsmallest(3).index
    assert all(any(r.startswith(name) for r in rows[1:4]) for name in worst)


def test_xlsx_shares_are_percentages(written):
    book = load_workbook(written["scorecard_xlsx"])
    sheet = book["分类别 by category"]
    header = [c.value for c in sheet[2]]
    cell = sheet.cell(row=3, column=header.index("covered_share") + 1)
    assert isinstance(cell.value, float) and cell.number_format == "0.0%"


def _soffice():
    import os
    import shutil

    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install libreoffice-calc-nogui (see .ci/run)", pytrace=False)
        pytest.skip("no LibreOffice installed: apt-get install libreoffice-calc-nogui")
    return found


def test_the_workbook_prints_on_a3_with_the_status_on_the_first_page(written, tmp_path):
    import subprocess

    from pypdf import PdfReader

    soffice = _soffice()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(written["scorecard_xlsx"]),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pages = PdfReader(tmp_path / "scorecard.pdf").pages
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape, in points
    texts = [page.extract_text() for page in pages]
    by_category = [t for t in texts if t.startswith("分类别 by category")]
    assert by_category, "the by-category sheet's pages carry its name in the header"
    first = by_category[0]
    assert "社区名称" in first and "状态" in first  # status on the first page, beside the names
    for text in by_category:  # one page wide: the last column on every page, headers repeated
        assert "原因" in text and "community_name" in text
    # at a size a meeting can read (all columns, one page wide, printed at 2.9 pt)
    sizes = []

    def size(text, cm, tm, font, font_size):
        if text.strip():
            sizes.append(abs(font_size * tm[3] * cm[3]) or abs(font_size * tm[0] * cm[0]))

    first_page = next(p for p, t in zip(pages, texts, strict=True) if t.startswith("分类别"))
    first_page.extract_text(visitor_text=size)
    assert np.median(sizes) >= 6.5, np.median(sizes)
