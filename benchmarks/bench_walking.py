"""Walking-access benchmarks: cjgis against the obvious alternatives, measured in one run.

    python benchmarks/bench_walking.py            # real streets, a city-sized grid, end to end
    python benchmarks/bench_walking.py --short    # small sizes, under a minute (run by tests)

Prints a table per part: step, best-of-N seconds, peak memory of the process so far (MiB),
and ratios against (a) the osmnx ego-graph recipe (an ego graph per facility, then a convex
hull), (b) a bare scipy.sparse.csgraph multi-source pass over the same CSR arrays (the
practical floor in this stack), and (c) pandana's precompute + nearest_pois where pandana is
installed. The end-to-end parts time `cjgis analyze` at the study defaults (per-facility areas
and tier bands on, every output written), in a fresh process, imports included: a district
(benchmarks/district.py: the shared real Hangzhou streets, 1,500 generated residences and 240
facilities) warm against its 5-second target, and a synthetic city (benchmarks/city.py,
written once under data/processed/) cold from its .osm.pbf, cold from its GraphML (when
`city.py --graphml` wrote one) and warm, against 60 s and 20 s; then each warm run step by
step. Peak memory counts the forked figure writer too. The machine is small and noisy: read
the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from cjgis.reach.access import node_reach, target_distances
from cjgis.streets.network import network_from_arrays
from cjgis.streets.snapping import attach_points
from cjgis.streets.sources import network_from_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/city.py, district.py
from district import STREETS  # noqa: E402 - ../shared beside the repository, or CJGIS_SHARED

BUDGET_M = 900.0


def best_of(fn, repeat: int = 3):
    """Best wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(step: str, seconds: float, note: str = "") -> None:
    print(f"  {step:<46} {seconds:>10.4f} s {peak_mib():>8.0f} MiB  {note}")


def real_streets(n_facilities: int, repeat: int) -> dict[str, float]:
    """cjgis vs the ego-graph recipe, scipy and pandana on the shared Hangzhou streets."""
    net = network_from_file(STREETS)
    print(
        f"\nReal streets: {net.n_nodes:,} nodes, {net.n_edges:,} edges; {n_facilities} "
        f"facilities at random nodes; {BUDGET_M:.0f} m"
    )
    g = net.to_networkx()  # the same edges and lengths, as the recipe's networkx graph
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])

    rng = np.random.default_rng(0)  # facilities at walkable nodes (not on dropped flyovers)
    nodes = rng.choice(np.array(sorted(g.nodes)), size=n_facilities, replace=False)
    points = shapely.points(net.node_x[nodes], net.node_y[nodes])
    sources = attach_points(net, points)
    t_cjgis, reach = best_of(lambda: node_reach(net, sources, limit_m=BUDGET_M), repeat)
    row("cjgis: one multi-source search", t_cjgis)
    graph = net.graph
    t_floor, floor = best_of(
        lambda: dijkstra(graph, indices=nodes, min_only=True, limit=BUDGET_M), repeat
    )
    row("scipy floor: bare multi-source pass", t_floor, f"cjgis/floor = {t_cjgis / t_floor:.2f}")

    def ego_recipe():
        covered, hulls = set(), []
        for n in nodes:
            ego = nx.ego_graph(g, int(n), radius=BUDGET_M, distance="length")
            covered |= set(ego.nodes)
            hulls.append(
                shapely.convex_hull(
                    shapely.multipoints(
                        np.column_stack([net.node_x[list(ego.nodes)], net.node_y[list(ego.nodes)]])
                    )
                )
            )
        return covered

    t_ego, ego_nodes = best_of(ego_recipe, max(1, repeat // 3))
    ours = set(np.flatnonzero(reach.distance_m <= BUDGET_M).tolist())
    same = ours == ego_nodes == set(np.flatnonzero(floor <= BUDGET_M).tolist())
    row(
        "osmnx recipe: ego graph + hull per facility",
        t_ego,
        f"ego/cjgis = {t_ego / t_cjgis:,.0f}x; same covered nodes: {same} ({len(ours):,})",
    )
    ratios = {
        "ego_over_cjgis": t_ego / t_cjgis,
        "cjgis_over_floor": t_cjgis / t_floor,
        "same_covered_set": float(same),
    }
    ratios.update(_pandana(net, nodes, t_cjgis))
    return ratios


def _pandana(net, nodes, t_cjgis: float) -> dict[str, float]:
    try:
        import pandana
    except ImportError:
        print("  pandana: not installed here (pip install pandana) - skipped")
        return {}

    import pandas as pd

    def run():
        ids = pd.RangeIndex(net.n_nodes)
        p = pandana.Network(
            pd.Series(net.node_x, index=ids),
            pd.Series(net.node_y, index=ids),
            pd.Series(net.edge_u),
            pd.Series(net.edge_v),
            pd.DataFrame({"length": net.edge_length_m}),
            twoway=True,
        )
        p.precompute(BUDGET_M)
        p.set_pois("fac", BUDGET_M, 1, net.node_x[nodes], net.node_y[nodes])
        return p.nearest_pois(BUDGET_M, "fac", num_pois=1)

    t, _ = best_of(run, 1)
    row("pandana: precompute + nearest_pois", t, f"pandana/cjgis = {t / t_cjgis:,.0f}x")
    return {"pandana_over_cjgis": t / t_cjgis}


def grid_city(n_nodes: int, rng) -> tuple:
    """A jittered street grid at 100 m with 10 % of the links missing (metric, EPSG:4549)."""
    side = int(np.sqrt(n_nodes))
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    x = 500_000 + ix.ravel() * 100.0 + rng.uniform(-20, 20, side * side)
    y = 3_330_000 + iy.ravel() * 100.0 + rng.uniform(-20, 20, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.10
    return network_from_arrays(x, y, u[keep], v[keep], crs="EPSG:4549"), side * 100.0


def synthetic_city(n_nodes: int, n_facilities: int, n_residences: int, repeat: int) -> dict:
    """Steps of a city-sized run on arrays: attach, one search per category, residences."""
    rng = np.random.default_rng(1)
    print(
        f"\nSynthetic city: target {n_nodes:,} nodes, {n_facilities:,} facilities in 4 "
        f"categories, {n_residences:,} residences"
    )
    t_build, (net, span) = best_of(lambda: grid_city(n_nodes, rng), 1)
    row(f"build network arrays ({net.n_nodes:,} nodes, {net.n_edges:,} edges)", t_build)
    t_csr, _ = best_of(lambda: net.graph, 1)
    row("CSR matrix", t_csr)

    def random_points(n):
        return shapely.points(
            500_000 + rng.uniform(0, span, n), 3_330_000 + rng.uniform(0, span, n)
        )

    fac_pts, res_pts = random_points(n_facilities), random_points(n_residences)
    t_tree, _ = best_of(lambda: net.edge_tree, 1)
    row("STRtree over edges", t_tree)
    t_att, res = best_of(lambda: attach_points(net, res_pts, max_distance_m=500), 1)
    row("attach residences (vectorised)", t_att)
    fac = attach_points(net, fac_pts)
    category = np.arange(n_facilities) % 4
    core = residents_s = floor_total = 0.0
    for c in range(4):
        sources = fac.subset(category == c)
        t, reach = best_of(lambda s=sources: node_reach(net, s), repeat)
        t2, _ = best_of(lambda r=reach, s=sources: target_distances(net, r, s, res), repeat)
        nearest_nodes = net.edge_u[sources.edge]
        tf, _ = best_of(
            lambda n=nearest_nodes: dijkstra(net.graph, indices=n, min_only=True), repeat
        )
        core, residents_s, floor_total = core + t, residents_s + t2, floor_total + tf
    row("cjgis: 4 multi-source searches (core)", core)
    row(
        "scipy floor: 4 bare multi-source passes",
        floor_total,
        f"cjgis/floor = {core / floor_total:.2f}",
    )
    row("cjgis: residence walks for 4 categories", residents_s)
    return {
        "cjgis_over_floor_city": core / floor_total,
        "city_core_s": core,
        "city_attach_s": t_att,
    }


def _child(study: Path, cache_dir: Path) -> tuple[float, float]:
    """Run ``cjgis analyze`` in a fresh process; return wall seconds and its peak MiB."""
    code = (
        "import resource, sys\n"
        "from cjgis.cli import main\n"
        "rc = main(['analyze', '--quiet', sys.argv[1]])\n"
        # VmHWM starts afresh at exec (ru_maxrss would include this benchmark's own memory);
        # the forked writers' peak counts the pages they share with it
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "peak = max(int(hwm), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print('PEAK', peak / 1024)\n"
        "sys.exit(rc)\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(study)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cache_dir,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    peak = float(done.stdout.rsplit("PEAK", 1)[1].split()[0])
    return seconds, peak


def _steps(study: Path) -> None:
    """The warm run again, in this process, step by step (where the time goes)."""
    from cjgis.judge.analysis import analyze
    from cjgis.outputs.figures import write_figures
    from cjgis.outputs.maps import gap_map, save_map
    from cjgis.outputs.report import write_outputs
    from cjgis.outputs.scorecard import write_scorecard
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study

    cwd = Path.cwd()
    os.chdir(study.parent)
    try:
        config = load_study(study)
        t, (net, com, res, fac) = best_of(
            lambda: (network_from_study(config), *layers_from_study(config)), 1
        )
        row("  load inputs (cached network)", t)
        t, result = best_of(
            lambda: analyze(net, com, res, fac, options=config.options, verbose=False), 1
        )
        row("  analyze (attach, searches, 2SFCA, areas)", t)
        out = config.output_dir
        t, _ = best_of(lambda: write_outputs(result, out), 1)
        row("  tables and layers", t)
        t, _ = best_of(lambda: write_scorecard(result, out), 1)
        row("  scorecard", t)
        t, _ = best_of(lambda: write_figures(result, out), 1)
        row("  figures (a forked process in `cjgis analyze`)", t)
        t, _ = best_of(lambda: save_map(gap_map(result, **config.map_options), config.map_path), 1)
        row(f"  map ({config.map_path.stat().st_size / 2**20:.1f} MiB HTML)", t)
    finally:
        os.chdir(cwd)


def district_end_to_end(n_residences: int, n_facilities: int, *, data: Path) -> dict:
    """``cjgis analyze`` on the district (real streets), warm, against the 5-second target."""
    from district import write_district

    folder = data / f"bench_district_{n_residences}_{n_facilities}"
    print(
        f"\nEnd to end: `cjgis analyze` on a district: the shared real streets, "
        f"{n_residences:,} residences, {n_facilities} facilities ({folder})"
    )
    if not STREETS.is_file():
        print(f"  {STREETS} not found (beside shared/, or CJGIS_SHARED) - skipped")
        return {}
    study = write_district(folder, n_residences=n_residences, n_facilities=n_facilities)
    _child(study, folder)  # caches the network
    warm, peak = _child(study, folder)
    print(f"  {'warm run, imports included':<46} {warm:>10.4f} s {peak:>8.0f} MiB")
    _steps(study)
    return {"district_warm_s": warm, "district_warm_over_5s_target": warm / 5.0}


def city_end_to_end(n_nodes: int, n_facilities: int, n_residences: int, *, data: Path) -> dict:
    """``cjgis analyze`` on the synthetic city's files: cold (PBF, GraphML), warm, steps."""
    from city import write_city

    folder = data / f"bench_city_{n_nodes}_{n_residences}"
    print(
        f"\nEnd to end: `cjgis analyze` on a synthetic city of {n_nodes:,} nodes, "
        f"{n_facilities:,} facilities, {n_residences:,} residences ({folder})"
    )
    study = folder / "study.toml"
    if not study.is_file():
        t_write, _ = best_of(
            lambda: write_city(
                folder, n_nodes=n_nodes, n_facilities=n_facilities, n_residences=n_residences
            ),
            1,
        )
        row("write the city's input files (once)", t_write)
    ratios = {}
    graphml = folder / "streets.graphml"
    if graphml.is_file():
        variant = folder / "study_graphml.toml"
        variant.write_text(
            study.read_text(encoding="utf-8").replace("streets.osm.pbf", "streets.graphml"),
            encoding="utf-8",
        )
        shutil.rmtree(folder / "cache", ignore_errors=True)
        cold, peak = _child(variant, folder)
        print(f"  {'cold run (stream GraphML, write cache)':<46} {cold:>10.4f} s {peak:>8.0f} MiB")
        ratios["city_cold_graphml_over_60s_target"] = cold / 60.0
    else:
        print(
            f"  cold from GraphML: no {graphml.name} (python benchmarks/city.py FOLDER --graphml)"
        )
    shutil.rmtree(folder / "cache", ignore_errors=True)
    cold, cold_peak = _child(study, folder)
    print(f"  {'cold run (parse .osm.pbf, write cache)':<46} {cold:>10.4f} s {cold_peak:>8.0f} MiB")
    warm, warm_peak = _child(study, folder)
    print(f"  {'warm run (network from cache)':<46} {warm:>10.4f} s {warm_peak:>8.0f} MiB")
    _steps(study)
    return {
        **ratios,
        "city_warm_s": warm,
        "city_cold_s": cold,
        "city_peak_mib": max(warm_peak, cold_peak),
        "city_warm_over_20s_target": warm / 20.0,
        "city_cold_pbf_over_60s_target": cold / 60.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT / "data" / "processed",
        help="where the synthetic city is written (default data/processed)",
    )
    args = parser.parse_args(argv)
    repeat = 1 if args.short else 3
    print("step                                               seconds   peak mem  ratio")
    ratios = {}
    if STREETS.is_file():
        ratios.update(real_streets(20 if args.short else 100, repeat))
    else:
        print(f"\nReal streets: {STREETS} not found (beside shared/, or CJGIS_SHARED) - skipped")
    sizes = (20_000, 200, 20_000) if args.short else (500_000, 2_000, 300_000)
    ratios.update(synthetic_city(*sizes, repeat=repeat))
    district = (300, 48) if args.short else (1_500, 240)
    ratios.update(district_end_to_end(*district, data=args.data.resolve()))
    e2e = (5_000, 40, 3_000) if args.short else (500_000, 2_000, 300_000)
    ratios.update(city_end_to_end(*e2e, data=args.data.resolve()))
    print("\nratios: " + ", ".join(f"{k} = {v:,.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
