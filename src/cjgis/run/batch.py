"""Many studies at once: one Dask task per study file (optional extra ``cjgis[dask]``).

A province's districts in one batch. Each study is analysed and its outputs written exactly as
``cjgis analyze`` writes them, on a Dask ``LocalCluster`` by default or on any running
scheduler (a bureau's cluster, dask-jobqueue, Kubernetes: the workers need cjgis installed and
the study files and outputs on a shared disk). A study that fails is reported with its message
and the others go on. Workers run one task at a time with one BLAS thread each (Dask's
``distributed.nanny.pre-spawn-environ``); inside a task, figures and map are drawn in line (a
worker may not fork) and the areas on the analysis's two threads.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cjgis._atomic import atomic_path, check_writable_folder
from cjgis._errors import CjgisError

#: Columns of the batch summary (``batch.csv``), one row per study file.
BATCH_COLUMNS = (
    "study",
    "name",
    "status",
    "communities",
    "pairs",
    "pairs_not_met",
    "rejected_rows",
    "seconds",
    "output_dir",
    "message",
)


def run_study(study_path: str | Path, *, base: str | Path | None = None, write_map: bool = True):
    """Analyse one study and write every output; return its summary row (see BATCH_COLUMNS).

    Parameters
    ----------
    study_path : str or pathlib.Path
        The study file.
    base : str or pathlib.Path, optional
        Folder that default output paths are relative to (where ``cjgis batch`` was started);
        the current folder if None.
    write_map : bool, optional
        Also write the review map.

    Returns
    -------
    dict
        ``status`` is ``"ok"``, or ``"failed"`` with the error in ``message``: a study's own
        error never stops a batch.
    """
    from cjgis.judge.verdict import NOT_MET
    from cjgis.outputs.deliverables import write_all
    from cjgis.run.runner import analyze_study, check_inputs_exist

    started = time.perf_counter()
    row = dict.fromkeys(BATCH_COLUMNS)
    row.update(study=str(study_path), status="failed")
    try:
        study = _outputs_under(_load(study_path), base)
        row.update(name=study.name, output_dir=str(study.output_dir))
        check_inputs_exist(study)
        analysis = analyze_study(study, verbose=False)
        write_all(
            analysis,
            study.output_dir,
            map_path=study.map_path if write_map else None,
            gdb_path=study.gdb_path,
            postgis=study.postgis,
            title=f"cjgis · {study.name}",
            **study.map_options,
        )
        row.update(
            status="ok",
            communities=len(analysis.communities),
            pairs=len(analysis.coverage),
            pairs_not_met=int((analysis.coverage["status"] == NOT_MET).sum()),
            rejected_rows=len(analysis.rejected),
            message=analysis.summary(),
        )
    except CjgisError as exc:
        row["message"] = str(exc)
    except Exception as exc:  # a file no reader expected: reported, the batch goes on
        row["message"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def _load(study_path):
    from cjgis.run.study import load_study

    return load_study(study_path)


def _outputs_under(study, base):
    """Return the study with its default (relative) output paths under ``base``."""
    if base is None:
        return study
    base = Path(base)
    return replace(
        study,
        output_dir=study.output_dir if study.output_dir.is_absolute() else base / study.output_dir,
        map_path=study.map_path if study.map_path.is_absolute() else base / study.map_path,
    )


def run_batch(
    studies: list[str | Path],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    write_map: bool = True,
    summary_path: str | Path | None = "batch.csv",
) -> pd.DataFrame:
    """Run many studies as Dask tasks; return (and write) the batch summary.

    Parameters
    ----------
    studies : list of str or pathlib.Path
        Study files.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://10.0.0.5:8786``); a ``LocalCluster`` of
        processes if None.
    workers : int, optional
        Workers of the local cluster (default: one per core, at most one per study).
    write_map : bool, optional
        Also write each study's review map.
    summary_path : str or pathlib.Path, optional
        Where the summary CSV is written (UTF-8 with BOM, for Excel); not written if None.

    Returns
    -------
    pandas.DataFrame
        One row per study file, in the order given (:data:`BATCH_COLUMNS`).
    """
    paths = [str(Path(p).resolve()) for p in studies]
    base = str(Path.cwd())
    if summary_path is not None:
        check_writable_folder(Path(summary_path).resolve().parent, what="batch summary")
    clashes = _shared_outputs(paths, base)
    todo = [p for p in paths if p not in clashes]
    rows = {p: clashes[p] for p in clashes}
    if todo:
        with dask_client(scheduler=scheduler, workers=workers, tasks=len(todo)) as client:
            futures = client.map(run_study, todo, base=base, write_map=write_map, pure=False)
            rows.update(zip(todo, client.gather(futures), strict=True))
    table = pd.DataFrame([rows[p] for p in paths], columns=list(BATCH_COLUMNS))
    counts = ["communities", "pairs", "pairs_not_met", "rejected_rows"]
    table[counts] = table[counts].astype("Int64")  # whole numbers; blank for a failed study
    if summary_path is not None:
        with atomic_path(summary_path) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return table


@contextlib.contextmanager
def dask_client(*, scheduler: str | None, workers: int | None, tasks: int) -> Iterator:
    """Yield a Dask client of a running scheduler, or of a local cluster of worker processes.

    The local cluster has ``workers`` processes (default: one per core, at most ``tasks``),
    each running one task at a time.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or max(1, min(tasks, os.cpu_count() or 1))
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _shared_outputs(paths: list[str], base: str) -> dict[str, dict]:
    """Failed rows for studies that would write into the same output folder as another."""
    folders = {}
    for path in paths:
        try:
            folders[path] = str(_outputs_under(_load(path), base).output_dir)
        except CjgisError:
            continue  # the task reports it
    count = Counter(folders.values())
    out = {}
    for path, folder in folders.items():
        if count[folder] > 1:
            row = dict.fromkeys(BATCH_COLUMNS)
            others = [Path(p).name for p, f in folders.items() if f == folder and p != path]
            row.update(
                study=path,
                status="failed",
                output_dir=folder,
                seconds=0.0,
                message=(
                    f"{path}: writes into {folder}, as {', '.join(others)} does. Fix: give "
                    "each study its own [study] name or [output] dir"
                ),
            )
            out[path] = row
    return out
