"""The benchmark script runs (short mode) and its comparisons hold: not a timing test."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_benchmark_short_mode_runs_and_reports_ratios(tmp_path):
    script = REPO / "benchmarks" / "bench_walking.py"
    result = subprocess.run(
        [sys.executable, str(script), "--short", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "same covered nodes: True" in out  # cjgis and the ego-graph recipe agree
    ratios = dict(re.findall(r"(\w+) = ([\d.,]+)", out.splitlines()[-1]))
    assert {"ego_over_cjgis", "cjgis_over_floor", "cjgis_over_floor_city"} <= set(ratios)
    assert {"city_warm_s", "city_cold_s", "city_warm_over_20s_target"} <= set(ratios)
    assert {"district_warm_s", "district_warm_over_5s_target"} <= set(ratios)
    assert (tmp_path / "bench_city_5000_3000" / "out" / "scorecard.xlsx").is_file()
    district = tmp_path / "bench_district_300_48" / "out"
    assert (district / "figure_map.png").is_file()  # every output, the forked figures too
    assert len(list((district).glob("*.html"))) == 1


def test_serve_benchmark_short_mode_runs_and_reports_ratios(tmp_path):
    """bench_serve.py --short: the district served, an edit timed over HTTP and in Chromium."""
    import shutil

    script = REPO / "benchmarks" / "bench_serve.py"
    result = subprocess.run(
        [sys.executable, str(script), "--short", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    ratios = dict(re.findall(r"(\w+) = ([\d.,]+)", result.stdout.splitlines()[-1]))
    assert {"district_http_over_in_process", "district_page_over_target"} <= set(ratios)
    row = next(line for line in result.stdout.splitlines() if line.startswith("district"))
    if shutil.which("chromium"):  # the page column is measured where a browser is installed
        assert " - " not in row
