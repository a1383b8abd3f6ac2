"""The benchmark script runs (short mode) and its comparisons hold: not a timing test."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_benchmark_short_mode_runs_and_reports_ratios():
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_walking.py"), "--short"],
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
