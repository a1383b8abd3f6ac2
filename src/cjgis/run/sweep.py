"""Sensitivity sweeps: one study under many assumptions, one Dask task per scenario.

A study's ``[sweep]`` section lists values (walking speed, minutes, target share); every
combination is a scenario, analysed exactly as ``cjgis analyze`` would analyse the study with
those values in ``[analysis]``. Each worker reads the network and layers and attaches residents
and facilities once (a per-process cache), and runs its scenarios on them. The result is one
long table: the scenario's values, then the coverage and verdict columns of every community x
category (``sweep.csv``), and a chart of the pairs that meet their target in each scenario
(``sweep_chart.png``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from cjgis._atomic import atomic_path, check_writable_folder
from cjgis._errors import StudyFileError
from cjgis.run.batch import dask_client


def run_sweep(
    study_path: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    output_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Analyse every scenario of a study's ``[sweep]`` on Dask; write and return the table.

    Parameters
    ----------
    study_path : str or pathlib.Path
        A study file with a ``[sweep]`` section.
    scheduler, workers :
        As for :func:`cjgis.run.batch.run_batch`.
    output_dir : str or pathlib.Path, optional
        Where ``sweep.csv`` and ``sweep_chart.png`` go; default ``<study output>/sweep``.

    Returns
    -------
    pandas.DataFrame
        ``scenario`` (1, 2, ...), the swept values as ``sweep_<key>``, then the coverage
        columns (:data:`cjgis.judge.coverage.COVERAGE_COLUMNS`) of each community x category.
    """
    from cjgis.run.study import load_study

    path = str(Path(study_path).resolve())
    study = load_study(path)
    scenarios = study.sweep.scenarios()
    if scenarios == [{}]:
        raise StudyFileError(
            f"{path}: no [sweep] values. Fix: add e.g. [sweep] minutes = [5, 10, 15] and "
            "walk_speed_m_s = [0.7, 1.0, 1.2]"
        )
    out = Path(output_dir) if output_dir is not None else study.output_dir / "sweep"
    check_writable_folder(out, what="sweep output")
    with dask_client(scheduler=scheduler, workers=workers, tasks=len(scenarios)) as client:
        futures = client.map(run_scenario, [path] * len(scenarios), scenarios, pure=False)
        tables = client.gather(futures)
    table = pd.concat(
        [
            t.assign(scenario=i, **{f"sweep_{k}": v for k, v in s.items()})
            for i, (t, s) in enumerate(zip(tables, scenarios, strict=True), start=1)
        ],
        ignore_index=True,
    )
    swept = [f"sweep_{k}" for k in scenarios[0]]
    table = table[["scenario", *swept, *[c for c in table if c not in {"scenario", *swept}]]]
    with atomic_path(out / "sweep.csv") as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    write_sweep_chart(table, out / "sweep_chart.png")
    return table


def run_scenario(study_path: str, scenario: dict[str, float]) -> pd.DataFrame:
    """Analyse one scenario on this worker's analysis of the study (:func:`_base`).

    The scenario's settings are applied with :func:`cjgis.plan.whatif.what_if` (``options=``):
    network, residents' and facilities' attachments and demand counts are the worker's; every
    category is searched again under the scenario's rules. Its coverage equals that of
    ``cjgis analyze`` with the values in ``[analysis]`` (tested).
    """
    from cjgis.plan.whatif import what_if
    from cjgis.run.study import load_study

    options = load_study(study_path, analysis=scenario).options
    return what_if(_base(study_path), options=options).analysis_without_areas.coverage


@functools.lru_cache(maxsize=2)
def _base(study_path: str):
    """Return the study analysed once per worker process (its areas are not drawn)."""
    from dataclasses import replace

    from cjgis.judge.analysis import analyze
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study

    study = load_study(study_path)
    options = replace(study.options, facility_areas=False, bands=False)
    network = network_from_study(study)
    return analyze(network, *layers_from_study(study), options=options, verbose=False)


def write_sweep_chart(table: pd.DataFrame, path: str | Path) -> Path:
    """Draw community x category pairs meeting their target, per scenario and category."""
    from matplotlib.figure import Figure

    from cjgis.inputs.categories import category_info
    from cjgis.judge.verdict import MET
    from cjgis.outputs.figures import _fonts, _label

    swept = [c for c in table if c.startswith("sweep_")]
    met = (
        table.assign(met=table["status"] == MET)
        .groupby(["scenario", "category"], sort=False)["met"]
        .sum()
        .unstack("category")
    )
    first = table.groupby("scenario", sort=False)[swept].first()
    ticks = [
        ", ".join(f"{c.removeprefix('sweep_')} {v:g}" for c, v in row.items())
        for _, row in first.iterrows()
    ]
    with _fonts():
        fig = Figure(figsize=(9, 4.5), layout="constrained")
        ax = fig.add_subplot()
        for category in met.columns:
            info = category_info(category)
            ax.plot(
                range(len(met)),
                met[category],
                marker="o",
                color=info.colour,
                label=_label(info.name_zh, info.name_en),
            )
        ax.set_xticks(range(len(met)), ticks, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(_label("达标社区数", "communities meeting the target"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120)
    return Path(path)
