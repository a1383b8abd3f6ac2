"""Batches, sweeps and a partitioned region on Dask: speed-up on 1 and 2 workers, peak memory.

    python benchmarks/bench_dask.py            # 6 districts of 20,000 nodes; a 12-scenario sweep;
                                               # the 500k-node city's searches in 8 tiles
    python benchmarks/bench_dask.py --short    # 4 small districts, 4 scenarios, a 40k city

The districts are synthetic cities of ``benchmarks/city.py`` at district size, each its own
study file (a province's districts); the sweep varies minutes and walking speed on the first.
Each part runs on a LocalCluster of 1 and then 2 worker processes (the machine has 2 cores);
the ratio of the two is the speed-up. Peak memory is each worker process's own (VmHWM).

The region part times every category's searches of a city (nearest-facility walks and 2SFCA
pairs, at the default profile's limits) in one process and cut into tiles
(:mod:`cjgis.reach.partition`) on 1 and 2 workers, checks they are equal, and prints each worker's
peak memory per million nodes of its largest tile.
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


def _worker_peaks(scheduler_workers: int, run, *, grown: bool = False) -> tuple[float, list[float]]:
    """Seconds of ``run(client)`` on a fresh cluster, and each worker's peak MiB after it
    (``grown``: how much the peak grew over the worker's size before the run)."""
    from cjgis.run.batch import dask_client

    with dask_client(scheduler=None, workers=scheduler_workers, tasks=scheduler_workers) as client:
        client.wait_for_workers(scheduler_workers)
        before = client.run(_peak_mib)
        started = time.perf_counter()
        run(client)
        seconds = time.perf_counter() - started
        after = client.run(_peak_mib)
    return seconds, sorted(after[w] - (before[w] if grown else 0) for w in after)


def main(argv: list[str] | None = None) -> int:
    from city import write_city

    from cjgis.run.batch import run_study
    from cjgis.run.sweep import run_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--region-only", action="store_true", help="only the partitioned city")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "processed" / "bench_dask")
    args = parser.parse_args(argv)
    if args.region_only:
        ratios = _region(args)
        print("\nratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
        return 0
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
    ratios.update(_region(args))
    print("\nratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    return 0


def _region(args) -> dict[str, float]:
    """One city's searches in one process and in tiles on 1 and 2 workers."""
    import numpy as np
    from city import write_city

    from cjgis._geometry import representative_points
    from cjgis.reach.access import distances_within, node_reach, target_distances
    from cjgis.reach.partition import (
        Partition,
        _Index,
        _payload,
        balanced_tiles,
        partitioned_searches,
    )
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study
    from cjgis.streets.snapping import attach_points

    nodes, residences, facilities, n_tiles = (
        (40_000, 20_000, 200, 4) if args.short else (500_000, 300_000, 2_000, 8)
    )
    folder = ROOT / "data" / "processed" / f"bench_city_{nodes}_{residences}"
    if not (folder / "study.toml").is_file():
        write_city(folder, n_nodes=nodes, n_facilities=facilities, n_residences=residences)
    study = load_study(folder / "study.toml")
    net = network_from_study(study)
    _, res, fac = (layer.frame.to_crs(net.crs) for layer in layers_from_study(study))
    res_att = attach_points(net, representative_points(res.geometry.to_numpy()))
    fac_att = attach_points(net, fac.geometry.to_numpy())
    sources, limits_m = {}, {}
    for category in fac["category"].unique():
        rule = study.options.rule_for(category)
        sources[category] = fac_att.subset((fac["category"] == category).to_numpy())
        limits_m[category] = rule.threshold_m
    halo_m = max(limits_m.values())
    started = time.perf_counter()
    want = {c: target_distances(net, node_reach(net, a), a, res_att)[0] for c, a in sources.items()}
    for c, a in sources.items():
        distances_within(net, a, res_att, limit_m=limits_m[c])
    alone = time.perf_counter() - started
    labels = balanced_tiles(net, n_tiles)
    biggest = max(
        len(
            _payload(
                net,
                _Index.of(net),
                np.flatnonzero(labels == t),
                {},
                res_att,
                halo_m=halo_m,
                owned={},
                pair_limits_m={},
            )["node_x"]
        )
        for t in range(n_tiles)
    )
    print(
        f"\nregion: a city of {net.n_nodes:,} nodes, {len(res_att):,} residences, "
        f"{len(fac_att):,} facilities in {len(sources)} categories; {n_tiles} tiles, halo "
        f"{halo_m:,.0f} m, largest tile {biggest:,} nodes"
    )
    print(f"{'part':<10} {'workers':>7} {'seconds':>9} {'vs alone':>9}  MiB grown (per M nodes)")
    print(f"{'alone':<10} {1:>7} {alone:>9.1f} {1.0:>9.2f}  {_peak_mib():.0f} (this process)")
    ratios = {}
    for workers in (1, 2):
        got, rounds = {}, []

        def run(client, got=got, rounds=rounds):
            searches = partitioned_searches(
                net,
                sources,
                res_att,
                pair_limits_m=limits_m,
                partition=Partition(labels, client=client),
                halo_m=halo_m,
            )
            rounds.extend(searches.rounds)
            got.update(
                {
                    c: target_distances(net, searches.reach[c], a, res_att)[0]
                    for c, a in sources.items()
                }
            )

        seconds, peaks = _worker_peaks(workers, run, grown=True)
        for c in sources:
            np.testing.assert_allclose(got[c], want[c], rtol=0, atol=1e-9)
        per_million = [p / (biggest / 1e6) for p in peaks]
        print(
            f"{'tiles':<10} {workers:>7} {seconds:>9.1f} {alone / seconds:>9.2f}  "
            + ", ".join(f"{p:.0f} ({m:,.0f})" for p, m in zip(peaks, per_million, strict=True))
            + "; rounds "
            + ", ".join(f"{t} tiles at {h:,.0f} m" for h, t in rounds)
        )
        ratios[f"region_vs_alone_{workers}"] = alone / seconds
    return ratios


if __name__ == "__main__":
    sys.exit(main())
