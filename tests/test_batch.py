"""Batches on Dask (a LocalCluster of 2 worker processes) give what one process gives."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import study_copy

from cjgis.cli import main
from cjgis.run.batch import run_batch


@pytest.fixture(scope="module")
def batch(sample_study, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    studies = [study_copy(sample_study, folder, name=name) for name in ("east", "west")]
    broken = folder / "broken.toml"
    broken.write_text(
        studies[0]
        .read_text(encoding="utf-8")
        .replace('name = "east"', 'name = "broken"')
        .replace("facilities.csv", "facilities_missing.csv"),
        encoding="utf-8",
    )
    here = folder / "run"
    here.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(here)
        table = run_batch([*studies, broken], workers=2)
    return table, studies, here


def test_one_failed_study_is_reported_and_the_others_are_done(batch):
    table, _, here = batch
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "facilities_missing.csv" in table.loc[2, "message"]  # named, with the fix
    assert (table.loc[:1, "communities"] == 8).all() and (table.loc[:1, "pairs"] > 0).all()
    written = pd.read_csv(here / "batch.csv", encoding="utf-8-sig")
    assert list(written["status"]) == ["ok", "ok", "failed"]
    assert (here / "data" / "processed" / "east" / "scorecard.xlsx").is_file()
    assert (here / "maps" / "west.html").is_file()


def test_batched_results_are_those_of_one_process(batch, tmp_path, monkeypatch):
    _, studies, here = batch
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "--quiet", str(studies[0])]) == 0
    alone = tmp_path / "data" / "processed" / "east"
    batched = here / "data" / "processed" / "east"
    pd.testing.assert_frame_equal(
        pd.read_csv(batched / "coverage.csv"), pd.read_csv(alone / "coverage.csv")
    )
    one, many = (gpd.read_file(f / "residents.gpkg") for f in (alone, batched))
    walks = [c for c in one.columns if c.startswith("walk_min_")]
    assert len(walks) == 14 and one["resident_id"].equals(many["resident_id"])
    np.testing.assert_allclose(many[walks], one[walks], rtol=0, atol=1e-9)


def test_studies_writing_into_one_folder_are_refused_before_running(
    sample_study, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    twins = [study_copy(sample_study, tmp_path / d, name="same") for d in ("a", "b")]
    table = run_batch(twins, workers=1, summary_path=None)
    assert list(table["status"]) == ["failed", "failed"]
    assert all("[study] name" in m for m in table["message"])
    assert not (tmp_path / "data").exists()  # nothing ran


def test_the_batch_command_prints_a_line_per_study_and_fails_when_one_fails(
    sample_study, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    study = study_copy(sample_study, tmp_path / "in", name="north")
    status = main(["batch", "--no-map", "--workers", "1", str(study), str(tmp_path / "no.toml")])
    out = capsys.readouterr().out
    assert status == 1
    assert "ok     " in out and "8 communities" in out and "study file not found" in out
    assert "2 studies, 1 done, 1 failed" in out
    assert not (tmp_path / "maps").exists()  # --no-map


def test_an_unexpected_error_in_one_study_is_reported_and_the_others_are_done(
    sample_study, tmp_path, monkeypatch
):
    """Not only a CjgisError: any exception of one study is its row's message.

    The cluster's workers are threads of this process here, so the failure can be planted in
    the one study (processes would not see the patch); the tasks are the same.
    """
    from dask.distributed import LocalCluster

    import cjgis.run.runner

    good = study_copy(sample_study, tmp_path, name="good")
    bad = study_copy(sample_study, tmp_path, name="bad")
    real = cjgis.run.runner.analyze_study

    def analyze_study(study, **kw):
        if study.name == "bad":
            raise ZeroDivisionError("planted in one study")
        return real(study, **kw)

    monkeypatch.setattr(cjgis.run.runner, "analyze_study", analyze_study)
    monkeypatch.chdir(tmp_path)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster:
        table = run_batch([bad, good], scheduler=cluster.scheduler_address, write_map=False)
    assert list(table["status"]) == ["failed", "ok"]
    assert table.loc[0, "message"] == "ZeroDivisionError: planted in one study"
    assert table.loc[1, "communities"] == 8
    assert (tmp_path / "data" / "processed" / "good" / "scorecard.xlsx").is_file()
