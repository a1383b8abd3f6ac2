"""Batches and sweeps on Dask: throughput and speed-up on 1 and 2 workers, peak memory per worker.

    python benchmarks/bench_dask.py            # 6 districts of 20,000 nodes; a 12-scenario sweep
    python benchmarks/bench_dask.py --short    # 4 small districts, 4 scenarios

The districts are synthetic cities of ``benchmarks/city.py`` at district size, each its own
study file (a province's districts); the sweep varies minutes and walking speed on the first.
Each part runs on a LocalCluster of 1 and then 2 worker processes (the machine has 2 cores);
the ratio of the two is the speed-up. Peak memory is each worker process's own (VmHWM).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/city.py


def _peak_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def _worker_peaks(scheduler_workers: int, run) -> tuple[float, list[float]]:
    """Seconds of ``run(client)`` on a fresh cluster, and each worker's peak MiB after it."""
    from cjgis.batch import dask_client

    with dask_client(scheduler=None, workers=scheduler_workers, tasks=scheduler_workers) as client:
        client.wait_for_workers(scheduler_workers)
        started = time.perf_counter()
        run(client)
        seconds = time.perf_counter() - started
        peaks = sorted(client.run(_peak_mib).values())
    return seconds, peaks


def main(argv: list[str] | None = None) -> int:
    from city import write_city

    from cjgis.batch import run_study
    from cjgis.sweep import run_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "processed" / "bench_dask")
    args = parser.parse_args(argv)
    n_studies, nodes, residences, facilities = (
        (4, 4_000, 2_000, 40)
        if args.short
        else (
            6,
            20_000,
            10_000,
            200,
        )
    )
    studies = []
    for i in range(n_studies):
        folder = args.data / f"district_{i}"
        study = folder / "study.toml"
        if not study.is_file():
            write_city(
                folder, n_nodes=nodes, n_facilities=facilities, n_residences=residences, seed=i
            )
        studies.append(str(study.resolve()))
    for study in studies:  # networks cached once, so 1 and 2 workers both start warm
        run_study(study, base=str(args.data), write_map=False)
    scenarios = [
        {"minutes": m, "walk_speed_m_s": v}
        for m in (5.0, 10.0, 15.0)
        for v in ((0.8, 1.0) if args.short else (0.7, 0.8, 1.0, 1.2))
    ][: 4 if args.short else 12]
    print(
        f"{n_studies} districts of {nodes:,} nodes, {residences:,} residences, {facilities} "
        f"facilities; a sweep of {len(scenarios)} scenarios on the first\n"
    )
    print(f"{'part':<10} {'workers':>7} {'seconds':>9} {'per task':>9} {'speed-up':>9}  peak MiB")
    ratios = {}
    for part, tasks, submit in (
        (
            "batch",
            n_studies,
            lambda c: c.gather(
                c.map(run_study, studies, base=str(args.data), write_map=False, pure=False)
            ),
        ),
        (
            "sweep",
            len(scenarios),
            lambda c: c.gather(
                c.map(run_scenario, [studies[0]] * len(scenarios), scenarios, pure=False)
            ),
        ),
    ):
        one = None
        for workers in (1, 2):
            seconds, peaks = _worker_peaks(workers, submit)
            one = one or seconds
            print(
                f"{part:<10} {workers:>7} {seconds:>9.1f} {seconds / tasks:>9.2f} "
                f"{one / seconds:>9.2f}  {', '.join(f'{p:.0f}' for p in peaks)}"
            )
            ratios[f"{part}_speedup_{workers}"] = one / seconds
    print("\nratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
