"""Typing an object in a notebook cell shows a few lines, not its arrays (issue 38, item 3)."""

from __future__ import annotations

from cjgis.plan.siting import suggest_sites
from cjgis.plan.whatif import what_if
from cjgis.run.study import load_study


def test_analysis_and_network_print_a_few_lines(sample_analysis):
    text = repr(sample_analysis)
    assert len(text) < 2_000 and len(text.splitlines()) == 4
    assert text.startswith(f"Analysis: {sample_analysis.summary()}")
    assert "EPSG:4549" in text and "chcj_2017" in text and "coverage (112 rows)" in text
    page = sample_analysis._repr_html_()
    assert "<table" in page and "养老服务设施" in page and "不达标" in page
    net = repr(sample_analysis.network)
    assert net.startswith("Network: ") and len(net) < 300
    assert f"{sample_analysis.network.n_edges:,} edges" in net


def test_study_whatif_and_sites_print_a_few_lines(sample_study, sample_analysis):
    study = repr(load_study(sample_study))
    assert study.startswith("Study 'sample'") and len(study.splitlines()) == 8
    assert "streets.graphml" in study and "planned: roads, facilities" in study
    fid = sample_analysis.facilities.loc[
        sample_analysis.facilities["category"] == "elderly_care", "facility_id"
    ].iloc[0]
    result = what_if(sample_analysis, remove=[fid])
    text = repr(result)
    assert text.startswith("WhatIf: ") and len(text) < 3_000
    assert len(text.splitlines()) <= 1 + result.REPR_LINES + 1 + len(result.warnings)
    sites = suggest_sites(sample_analysis, "elderly_care", k=2)
    shown = repr(sites)
    assert shown.splitlines()[0] == f"SiteSuggestion: {sites.message}"
    assert len(shown.splitlines()) == 1 + len(sites.sites)


def test_verbose_prints_its_steps_where_no_logging_is_set_up(sample_study, tmp_path):
    """As in a notebook: a fresh interpreter, no handler; verbose=True prints a line per step."""
    import subprocess
    import sys

    script = (
        "from cjgis import analyze_study, load_study\n"
        f"analyze_study(load_study({str(sample_study)!r}), verbose=True)\n"
        "analyze_study(load_study("
        f"{str(sample_study)!r}), verbose=True)  # a second run: the handler is not doubled\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        check=True,
        timeout=600,
    ).stdout
    lines = [line for line in out.splitlines() if line.startswith("walking access elderly_care")]
    assert len(lines) == 2, out[-2000:]


def test_one_analysis_one_map(sample_study, tmp_path, monkeypatch):
    """gap_map(analysis) of a study draws what `cjgis analyze` draws: the same layers."""
    import re

    from cjgis.cli import main
    from cjgis.outputs.maps import gap_map
    from cjgis.run.runner import analyze_study

    def layers(page: str) -> set[str]:
        return set(re.findall(r'"([^"]+)" : (?:geo_json|feature_group)_', page))

    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(sample_study), "--quiet"]) == 0
    cli = layers((tmp_path / "maps" / "sample.html").read_text(encoding="utf-8"))
    analysis = analyze_study(load_study(sample_study), verbose=False)
    api = layers(gap_map(analysis, title="cjgis · sample").get_root().render())
    water = "\\u6c34\\u7cfb\\u4e0e\\u969c\\u788d water and barriers"  # 水系与障碍, escaped
    assert water in cli and api == cli


def test_charts_show_as_images_without_magic(sample_analysis):
    """No %matplotlib inline: a chart gives Jupyter its PNG (issue 38, item 3)."""
    import io

    from matplotlib.image import imread

    from cjgis import coverage_chart
    from cjgis.outputs.figures import gap_figure

    chart = coverage_chart(sample_analysis)
    png = chart._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width, _ = imread(io.BytesIO(png)).shape
    assert (width, height) == (
        round(chart.get_figwidth() * 100),
        round(chart.get_figheight() * 100),
    )
    figure = gap_figure(sample_analysis, category="养老服务设施")  # a Chinese name, as a key
    assert figure._repr_png_().startswith(b"\x89PNG")
    assert figure.axes[0].get_title(loc="left").startswith("养老服务设施 · 步行 300 m")
