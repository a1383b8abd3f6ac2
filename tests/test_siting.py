"""Suggested sites: known optima by hand, greedy within its guarantee, nothing made worse."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import X0, Y0
from scipy.sparse import csr_matrix

from cjgis.judge.analysis import analyze
from cjgis.judge.settings import AnalysisOptions
from cjgis.plan.siting import (
    covered_weight,
    max_cover_exact,
    max_cover_greedy,
    set_cover_exact,
    set_cover_greedy,
    suggest_sites,
)


def cover(*sets, n):
    rows = [i for i, s in enumerate(sets) for _ in s]
    cols = [c for s in sets for c in s]
    return csr_matrix((np.ones(len(cols), dtype=bool), (rows, cols)), shape=(len(sets), n))


# items 0-3 weigh 3, item 4 weighs 1; A = {0, 1}, B = {2, 3}, M = {0, 2, 4}
WEIGHTS = np.array([3.0, 3.0, 3.0, 3.0, 1.0])
MATRIX = cover([0, 1], [2, 3], [0, 2, 4], n=5)


def test_greedy_takes_the_bait_exact_does_not():
    greedy = max_cover_greedy(MATRIX, WEIGHTS, k=2)
    exact = max_cover_exact(MATRIX, WEIGHTS, k=2)
    assert exact.proven
    assert greedy[0] == 2 and covered_weight(MATRIX, WEIGHTS, greedy) == 10
    assert sorted(exact.picked) == [0, 1] and covered_weight(MATRIX, WEIGHTS, exact.picked) == 12


@pytest.mark.parametrize("seed", range(12))
def test_greedy_keeps_its_guarantee_on_random_instances(seed):
    """Greedy maximal covering reaches at least (1 - 1/e) of the optimum (Nemhauser et al.)."""
    rng = np.random.default_rng(seed)
    matrix = csr_matrix(rng.random((12, 40)) < 0.15)
    weights = rng.uniform(0, 10, 40)
    k = int(rng.integers(1, 5))
    greedy = covered_weight(matrix, weights, max_cover_greedy(matrix, weights, k=k))
    exact = max_cover_exact(matrix, weights, k=k)
    assert exact.proven
    best = covered_weight(matrix, weights, exact.picked)
    assert greedy <= best + 1e-9
    assert greedy >= (1 - 1 / np.e) * best - 1e-9


def test_a_solve_stopped_by_its_limit_is_best_found_not_exact(caplog):
    """CBC stopped after its root node (a node limit: the same on any machine, unlike time).

    Its status is "integer feasible", not "optimal": the answer says it is not proven.
    """
    from scipy.sparse import random as sparse_random

    matrix = (sparse_random(150, 1500, density=0.03, random_state=1, format="csr") > 0).astype(bool)
    weights = np.random.default_rng(1).uniform(1, 10, 1500)
    stopped = max_cover_exact(matrix, weights, k=8, max_nodes=0)
    assert not stopped.proven
    assert len(stopped.picked) == 8
    assert "not a proven optimum" in caplog.text and "0 nodes" in caplog.text
    small = max_cover_exact(MATRIX, WEIGHTS, k=2, max_nodes=0)  # solved at the root: proven
    assert small.proven


def test_greedy_equals_exact_on_disjoint_candidates():
    matrix = cover([0], [1, 2], [3, 4, 5], [6], n=7)
    weights = np.array([5.0, 1.0, 1.0, 2.0, 2.0, 2.0, 4.0])
    assert max_cover_greedy(matrix, weights, k=2) == [2, 0]
    assert sorted(max_cover_exact(matrix, weights, k=2).picked) == [0, 2]


def test_already_covered_demand_earns_nothing():
    weights = WEIGHTS * np.array([0, 0, 1, 1, 1])  # items 0 and 1 already covered
    assert max_cover_greedy(MATRIX, weights, k=3) == [1, 2]  # then nothing left to gain


def test_fewest_sites_per_community_need_and_infeasibility():
    groups = np.array([0, 0, 1, 1, 1])
    need = np.array([6.0, 3.0])  # community 0 needs both its items, community 1 one
    assert sorted(set_cover_exact(MATRIX, WEIGHTS, groups, need).picked) in ([0, 1], [0, 2])
    picked, reached = set_cover_greedy(MATRIX, WEIGHTS, groups, need)
    assert reached and len(picked) == 2
    impossible = np.array([6.0, 8.0])  # community 1 holds only 7
    assert set_cover_exact(MATRIX, WEIGHTS, groups, impossible) is None
    assert set_cover_greedy(MATRIX, WEIGHTS, groups, impossible)[1] is False


@pytest.fixture
def line_district(line_network):
    comm = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["甲社区"]},
        geometry=[shapely.box(X0 - 50, Y0 - 60, X0 + 2050, Y0 + 60)],
        crs="EPSG:4549",
    )
    xs = [0, 50, 1000, 1050, 1100, 1900, 2000]
    pop = [100.0, 100.0, 300.0, 300.0, 300.0, 50.0, 50.0]
    res = gpd.GeoDataFrame(
        {"resident_id": [f"r{i}" for i in range(len(xs))], "population": pop},
        geometry=[shapely.Point(X0 + x, Y0 + 20) for x in xs],
        crs="EPSG:4549",
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["f0"], "name": ["existing"], "category": ["c"]},
        geometry=[shapely.Point(X0, Y0 - 10)],
        crs="EPSG:4549",
    )
    return line_network, comm, res, fac


def test_suggested_site_covers_what_it_says_and_lowers_nothing(line_district):
    network, comm, res, fac = line_district
    opts = AnalysisOptions(minutes=3, walk_speed_m_s=1.0)  # 180 m
    before = analyze(network, comm, res, fac, options=opts, verbose=False, profile="none")
    suggestion = suggest_sites(before, "c", k=1, spacing_m=100)
    site = suggestion.sites.iloc[0]
    assert site["newly_covered_residents"] == 900  # the cluster at 1000-1100
    assert suggestion.greedy_objective == suggestion.exact_objective == 900
    assert 1000 <= site.geometry.x - X0 <= 1100
    added = gpd.GeoDataFrame(
        {"facility_id": ["f0", "new"], "name": ["existing", "new"], "category": ["c", "c"]},
        geometry=[fac.geometry.iloc[0], site.geometry],
        crs="EPSG:4549",
    )
    after = analyze(network, comm, res, added, options=opts, verbose=False, profile="none")
    b, a = before.coverage.iloc[0], after.coverage.iloc[0]
    assert a["covered_residents"] - b["covered_residents"] == 900
    assert (after.residents["walk_min_c"] <= before.residents["walk_min_c"] + 1e-9).all()
    assert (
        after.facilities.set_index("facility_id")
        .loc["f0"]
        .geometry.equals(before.facilities.set_index("facility_id").loc["f0"].geometry)
    )  # existing never moved
    assert suggestion.sites["cumulative_share"].iloc[0] == pytest.approx(1100 / 1200)
    # 90 % of 1200 needs 880 more than the 200 covered: the one site (900) suffices
    assert suggestion.fewest_sites == 1
    # 95 % needs 940: the far cluster at 1900-2000 needs a second site
    stricter = analyze(
        network,
        comm,
        res,
        fac,
        verbose=False,
        options=AnalysisOptions(minutes=3, walk_speed_m_s=1.0, target_share=0.95),
        profile="none",
    )
    assert suggest_sites(stricter, "c", k=1, spacing_m=100).fewest_sites == 2


def test_an_unproven_solve_is_labelled_best_found(line_district, monkeypatch):
    import cjgis.plan.siting as siting

    solve = siting.max_cover_exact
    monkeypatch.setattr(
        siting, "max_cover_exact", lambda *a, **kw: siting.Solution(solve(*a, **kw).picked, False)
    )
    network, comm, res, fac = line_district
    opts = AnalysisOptions(minutes=3, walk_speed_m_s=1.0)
    before = analyze(network, comm, res, fac, options=opts, verbose=False, profile="none")
    suggestion = suggest_sites(before, "c", k=1, spacing_m=100)
    assert set(suggestion.sites["solver"]) == {"best found"}
    assert "vs best found 900" in suggestion.message
    assert "exact" not in suggestion.message


def test_fewer_candidates_than_sites_says_so_and_how_to_give_more(line_district, caplog):
    network, comm, res, fac = line_district
    opts = AnalysisOptions(minutes=3, walk_speed_m_s=1.0)
    before = analyze(network, comm, res, fac, options=opts, verbose=False, profile="none")
    from cjgis.plan.siting import node_candidates

    n = len(node_candidates(before, spacing_m=100))
    many = suggest_sites(before, "c", k=n + 5, spacing_m=100)
    assert f"候选点不足 only {n} candidate(s) for {n + 5} sites" in many.message
    assert '[siting] candidates = "candidates.gpkg"' in many.message
    assert "候选点不足" in caplog.text
    assert "候选点不足" not in suggest_sites(before, "c", k=1, spacing_m=100).message


def test_junctions_on_a_boundary_drawn_along_street_centre_lines_are_candidates(line_district):
    from dataclasses import replace

    from cjgis.plan.siting import BOUNDARY_M, node_candidates

    network, comm, res, fac = line_district
    before = analyze(
        network, comm, res, fac, options=AnalysisOptions(), verbose=False, profile="none"
    )
    # the same community, its edge laid along the street (the street is its boundary)
    xs, ys = network.node_x, network.node_y
    street = shapely.box(xs.min(), ys.min(), xs.max(), ys.max() + 100.0)
    along = replace(before, communities=before.communities.assign(geometry=[street]))
    found = node_candidates(along, spacing_m=1.0)
    assert len(found) == network.n_nodes  # every junction lies on the boundary
    outside = shapely.box(xs.min(), ys.min() + 2 * BOUNDARY_M, xs.max(), ys.max() + 100.0)
    away = replace(before, communities=before.communities.assign(geometry=[outside]))
    assert len(node_candidates(away, spacing_m=1.0)) == 0  # farther than BOUNDARY_M: none


def test_node_candidates_keep_the_junction_of_each_cell():
    """In a 100 m cell holding a bend (node 1) and a T-junction (node 2), the T is kept."""
    from types import SimpleNamespace

    from cjgis.plan.siting import node_candidates
    from cjgis.streets.network import network_from_arrays

    x = np.array([0.0, 20.0, 60.0, 60.0, 150.0]) + 500_000
    y = np.array([0.0, 10.0, 10.0, 80.0, 10.0]) + 3_350_000
    net = network_from_arrays(x, y, [0, 1, 2, 2], [1, 2, 3, 4], crs="EPSG:4549")
    area = gpd.GeoDataFrame(
        geometry=[shapely.box(x.min() + 1, y.min() + 1, x.max() + 1, y.max() + 1)],
        crs="EPSG:4549",
    )
    analysis = SimpleNamespace(network=net, communities=area)
    picked = node_candidates(analysis, spacing_m=100.0)["candidate"].tolist()
    assert picked == ["n2", "n4"]  # node 0 lies outside; 1 and 3 share node 2's cell
