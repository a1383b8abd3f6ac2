"""Sweeps on Dask (2 worker processes): each scenario as one process analyses it."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import study_copy

from cjgis._errors import StudyFileError
from cjgis.cli import main
from cjgis.run.runner import analyze_study
from cjgis.run.study import load_study
from cjgis.run.sweep import run_sweep


def _with_sweep(study, folder, sweep):
    return study_copy(study, folder, extra="\n[sweep]\n" + sweep)


def test_every_scenario_is_what_one_process_gives(sample_study, tmp_path):
    study = _with_sweep(
        sample_study, tmp_path / "in", "minutes = [5, 15]\nwalk_speed_m_s = [0.8, 1.0]\n"
    )
    table = run_sweep(study, workers=2, output_dir=tmp_path / "out")
    assert list(table["scenario"].unique()) == [1, 2, 3, 4]
    assert list(
        table.loc[table["scenario"] == 3, ["sweep_minutes", "sweep_walk_speed_m_s"]].iloc[0]
    ) == [15.0, 0.8]
    for _, rows in table.groupby("scenario"):
        values = {
            "minutes": rows["sweep_minutes"].iloc[0],
            "walk_speed_m_s": rows["sweep_walk_speed_m_s"].iloc[0],
        }
        alone = analyze_study(load_study(study, analysis=values), verbose=False).coverage
        got = rows.drop(columns=["scenario", "sweep_minutes", "sweep_walk_speed_m_s"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), alone.reset_index(drop=True))
        assert (rows["threshold_m"] == values["minutes"] * 60 * values["walk_speed_m_s"]).all()
    met = table.groupby("scenario")["coverage_met"].sum()
    assert met[4] > met[1]  # 15 minutes at 1 m/s reach more than 5 at 0.8
    written = pd.read_csv(tmp_path / "out" / "sweep.csv", encoding="utf-8-sig")
    assert len(written) == len(table)
    assert (tmp_path / "out" / "sweep_chart.png").stat().st_size > 10_000


def test_a_study_without_sweep_values_is_told_how_to_add_them(sample_study):
    with pytest.raises(StudyFileError, match=r"\[sweep\] minutes"):
        run_sweep(sample_study, workers=1)


def test_sweep_values_must_be_lists_of_numbers(sample_study, tmp_path):
    study = _with_sweep(sample_study, tmp_path, 'minutes = ["ten"]\n')
    with pytest.raises(StudyFileError, match="not a list of numbers"):
        load_study(study)


def test_the_sweep_command_prints_each_scenario(sample_study, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    study = _with_sweep(sample_study, tmp_path / "in", "target_share = [0.5, 0.9]\n")
    assert main(["sweep", "--workers", "1", str(study)]) == 0
    out = capsys.readouterr().out
    assert "scenario 1 (target_share 0.5)" in out and "scenario 2 (target_share 0.9)" in out
    assert (tmp_path / "data" / "processed" / "sample" / "sweep" / "sweep.csv").is_file()
