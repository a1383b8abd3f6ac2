"""The cjgis command as a planner types it."""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO

from cjgis.cli import main


@pytest.fixture
def study(sample_study, tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(sample_study.parent, folder)
    return folder / "study.toml"


@pytest.mark.parametrize("order", ["before", "after"])
def test_global_options_go_before_or_after_the_subcommand(study, order, capsys):
    args = ["analyze", str(study), "--no-map"]
    argv = ["--quiet", *args] if order == "before" else [*args, "--quiet", "--debug"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1].startswith("cjgis: 8 communities")
    assert "inputs read, areas drawing" not in captured.err  # --quiet: no step lines


def test_redirected_output_gets_step_lines_not_progress_bars(study, capsys):
    assert main(["analyze", str(study), "--no-map"]) == 0  # pytest's stderr is no terminal
    err = capsys.readouterr().err
    assert "walking access elderly_care: 9 facilities" in err
    assert "inputs read, areas drawing:" in err and "map written" not in err
    assert "it/s" not in err and "\r" not in err


def test_the_example_study_before_the_demo_says_run_the_demo_first(tmp_path, capsys):
    text = (REPO / "examples" / "study.toml").read_text(encoding="utf-8")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "study.toml").write_text(text, encoding="utf-8")
    assert main(["analyze", str(tmp_path / "examples" / "study.toml")]) == 2
    err = capsys.readouterr().err
    assert "input files not found" in err and "run `cjgis demo` first" in err
    assert "Traceback" not in err


def test_site_prints_named_suggested_sites_with_units(study, capsys):
    assert main(["site", str(study), "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("#1 ")]
    assert lines, out
    first = lines[0]
    assert "社区·" in first and "旁" in first  # community and nearest named street, not n65
    assert "newly covers" in first and ("residents aged 60+" in out or "households" in first)
    assert "newly covered by the best sites" in out  # the objectives say what they count


def test_a_command_runs_with_fewer_collections_and_restores_them(monkeypatch):
    import gc

    import cjgis.cli

    seen = []
    monkeypatch.setattr(cjgis.cli, "_standards", lambda args: seen.append(gc.get_threshold()) or 0)
    before = gc.get_threshold()
    assert main(["standards"]) == 0
    assert seen == [cjgis.cli.GC_THRESHOLD] and gc.get_threshold() == before


def test_a_warning_is_one_line_without_the_package_path(study):
    """An undeclared GCJ-02 export warns: ``cjgis: 警告 warning: ...``, no source path."""
    import subprocess
    import sys

    import pandas as pd

    from cjgis.inputs.coords import wgs84_to_gcj02

    path = study.parent / "facilities.csv"
    table = pd.read_csv(path, encoding="utf-8-sig")
    table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"], table["lat"])
    table.to_csv(path, index=False, encoding="utf-8-sig")  # GCJ-02, but nothing says so
    command = [sys.executable, "-m", "cjgis.cli", "analyze", str(study), "--no-map", "--quiet"]
    plain = subprocess.run(command, capture_output=True, text=True, cwd=study.parent, check=True)
    lines = [line for line in plain.stderr.splitlines() if "GCJ02" in line]
    assert len(lines) == 2, plain.stderr  # where it happened, and again at the end
    assert lines[0].startswith("cjgis: 警告 warning: ")
    assert "facilities.csv: read as WGS84" in lines[0]
    # the end: every warning again, numbered, one line each, after the summary
    end = plain.stderr.splitlines()
    head = next(i for i, line in enumerate(end) if "条警告 warnings" in line)
    told = [line for line in end[head + 1 :] if line.startswith("  ")]
    assert any(lines[0].removeprefix("cjgis: 警告 warning: ") in line for line in told)
    assert end[head] == f"cjgis: {len(told)} 条警告 warnings (said above as they came):"
    assert "CoordinateWarning" not in plain.stderr and ".py:" not in plain.stderr
    debug = subprocess.run(
        [*command, "--debug"], capture_output=True, text=True, cwd=study.parent, check=True
    )
    assert "CoordinateWarning" in debug.stderr and ".py:" in debug.stderr  # the full form


def test_every_help_text_is_chinese_and_english():
    """cjgis --help and each subcommand's help: every option and argument in both languages."""
    import argparse
    import re

    from cjgis.cli import build_parser

    parser = build_parser()
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
            for choice in action._choices_actions:
                assert re.search(r"[\u4e00-\u9fff]", choice.help), choice.dest
                assert re.search(r"[a-z]{3}", choice.help), choice.dest
    for each in parsers:
        assert "positional arguments" not in each.format_help()
        for action in each._actions:
            if action.help in (None, argparse.SUPPRESS) or isinstance(
                action, argparse._SubParsersAction
            ):
                continue
            assert re.search(r"[\u4e00-\u9fff]", action.help), (each.prog, action.dest)
            assert re.search(r"[a-z]{3}", action.help), (each.prog, action.dest)
