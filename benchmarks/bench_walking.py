"""Walking-access benchmarks: cjgis against the obvious alternatives, measured in one run.

    python benchmarks/bench_walking.py            # real streets + a city-sized synthetic grid
    python benchmarks/bench_walking.py --short    # small sizes, under a minute (run by tests)

Prints a table per part: step, best-of-N seconds, peak memory of the process so far (MiB),
and ratios against (a) the osmnx ego-graph recipe (an ego graph per facility, then a convex
hull), (b) a bare scipy.sparse.csgraph multi-source pass over the same CSR arrays (the
practical floor in this stack), and (c) pandana's precompute + nearest_pois where pandana is
installed. The machine is small and noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from cjgis.access import node_reach, target_distances
from cjgis.network import network_from_arrays
from cjgis.snapping import attach_points
from cjgis.streets import network_from_file

STREETS = (
    Path(__file__).resolve().parents[2] / "shared/data/hangzhou/"
    "hz_sandun_jiangcun_osrm_streets.graphml"
)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small sizes, under a minute")
    args = parser.parse_args(argv)
    repeat = 1 if args.short else 3
    print("step                                               seconds   peak mem  ratio")
    ratios = {}
    if STREETS.is_file():
        ratios.update(real_streets(20 if args.short else 100, repeat))
    else:
        print(f"\nReal streets: {STREETS} not found (clone beside shared/) - skipped")
    sizes = (20_000, 200, 20_000) if args.short else (500_000, 2_000, 300_000)
    ratios.update(synthetic_city(*sizes, repeat=repeat))
    print("\nratios: " + ", ".join(f"{k} = {v:,.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
