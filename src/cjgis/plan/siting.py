"""Suggested sites for new facilities: maximal covering and set covering on walking distance.

Two questions planners ask, for a category that misses its target:

- *Where do k new sites cover the most uncovered demand?* The maximal covering location
  problem (MCLP, Church & ReVelle 1974).
- *How few new sites bring every community to its target?* A partial set covering problem;
  when the candidates cannot get there, it says so.

Each is solved greedily with lazy evaluation (CELF: marginal gains only shrink, so a stale gain
that still tops the queue is final), and exactly by integer programming (PuLP with CBC, as
PySAL spopt does) for up to ``max_exact`` candidates. Both objectives are reported so the
greedy gap is visible; the greedy MCLP is within 1 - 1/e of the optimum.

The cores work on a sparse candidate x residence cover matrix (:func:`max_cover_greedy` and
friends); :func:`suggest_sites` builds it from an analysis on the walking network.
Existing and planned facilities are kept as they are: only uncovered demand counts.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix

from cjgis._errors import InputError
from cjgis.inputs.categories import category_named
from cjgis.inputs.demand import GROUP_EN
from cjgis.judge.analysis import Analysis
from cjgis.judge.coverage import walk_column, within_threshold
from cjgis.reach.access import distances_within
from cjgis.streets.snapping import attach_points

log = logging.getLogger(__name__)

_EPS = 1e-9


def _gain(matrix: csr_matrix, j: int, weights: np.ndarray, covered: np.ndarray) -> float:
    cols = matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]]
    return float(weights[cols][~covered[cols]].sum())


def max_cover_greedy(matrix: csr_matrix, weights: np.ndarray, *, k: int) -> list[int]:
    """Pick up to ``k`` candidates greedily by marginal covered weight (lazy evaluation).

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Candidates x demand points; a stored entry means "covers".
    weights : numpy.ndarray
        Demand per point (0 for points already covered).
    k : int
        Most candidates to pick; fewer if nothing more can be covered.

    Returns
    -------
    list of int
        Candidate indices in the order picked.
    """
    covered = np.zeros(matrix.shape[1], dtype=bool)
    queue = [(-g, j) for j, g in enumerate(matrix @ weights) if g > _EPS]
    heapq.heapify(queue)
    picked: list[int] = []
    while queue and len(picked) < k:
        _, j = heapq.heappop(queue)
        gain = _gain(matrix, j, weights, covered)
        if queue and gain < -queue[0][0] - _EPS:
            heapq.heappush(queue, (-gain, j))  # stale: put back with its true gain
            continue
        if gain <= _EPS:
            break
        picked.append(j)
        covered[matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]]] = True
    return picked


def covered_weight(matrix: csr_matrix, weights: np.ndarray, picked: list[int]) -> float:
    """Demand covered by the picked candidates together."""
    if not picked:
        return 0.0
    covered = np.asarray(matrix[picked].sum(axis=0)).ravel() > 0
    return float(weights[covered].sum())


def _lp_cover(name: str, sense: str, matrix: csr_matrix, weights: np.ndarray):
    """Build a PuLP problem: x per candidate, y per coverable demand point, y <= sum of x."""
    import pulp

    problem = pulp.LpProblem(name, getattr(pulp, sense))

    def variable(label: str, **kw):  # PuLP >= 3.3 attaches variables to the problem
        if hasattr(problem, "add_variable"):
            return problem.add_variable(label, **kw)
        return pulp.LpVariable(label, **kw)

    x = [variable(f"x{j}", cat="Binary") for j in range(matrix.shape[0])]
    csc = matrix.tocsc()
    useful = np.flatnonzero((np.diff(csc.indptr) > 0) & (weights > _EPS))
    y = {i: variable(f"y{i}", lowBound=0, upBound=1) for i in useful}
    for i in useful:
        problem += y[i] <= pulp.lpSum(x[j] for j in csc.indices[csc.indptr[i] : csc.indptr[i + 1]])
    return pulp, problem, x, y


class Solution(NamedTuple):
    """An integer program's answer: the picked candidates, and whether CBC proved it optimal.

    ``proven`` is False when CBC stopped at its time limit with a feasible solution: the
    best found, not necessarily the optimum (PuLP reports such a run as "Optimal").
    """

    picked: list[int]
    proven: bool


def _solve(problem, pulp, x, time_limit_s: float, max_nodes: int | None = None) -> Solution:
    """Solve with CBC: ``COIN_CMD`` (the ``pulp[cbc]`` extra), else PuLP's bundled copy.

    CBC stops at ``time_limit_s`` or after ``max_nodes`` branch-and-bound nodes (a limit
    that gives the same answer on any machine); the solution is then the best found, and
    :attr:`Solution.proven` is False.
    """
    limits = {"msg": False, "timeLimit": time_limit_s, "maxNodes": max_nodes}
    solver = pulp.COIN_CMD(**limits)
    if not solver.available():
        solver = pulp.PULP_CBC_CMD(**limits)
    problem.solve(solver)
    if pulp.LpStatus[problem.status] != "Optimal":
        raise RuntimeError(f"CBC ended with status {pulp.LpStatus[problem.status]}")
    proven = problem.sol_status == pulp.LpSolutionOptimal
    if not proven:
        nodes = "" if max_nodes is None else f" or {max_nodes} nodes"
        log.warning(
            "CBC stopped at its limit (%g s%s): the best solution found is used, "
            "not a proven optimum",
            time_limit_s,
            nodes,
        )
    return Solution([j for j, xj in enumerate(x) if (xj.value() or 0) > 0.5], proven)


def max_cover_exact(
    matrix: csr_matrix,
    weights: np.ndarray,
    *,
    k: int,
    time_limit_s: float = 120.0,
    max_nodes: int | None = None,
) -> Solution:
    """Pick at most ``k`` candidates covering the most weight, by integer programming (CBC).

    ``time_limit_s`` and ``max_nodes`` bound the search (:func:`_solve`); a solution stopped
    by either is the best found, not proven (``Solution.proven`` False, and a warning).
    """
    pulp, problem, x, y = _lp_cover("mclp", "LpMaximize", matrix, weights)
    problem += pulp.lpSum(weights[i] * yi for i, yi in y.items())
    problem += pulp.lpSum(x) <= k
    return _solve(problem, pulp, x, time_limit_s, max_nodes)


def _needs_left(matrix, weights, groups, need, picked) -> np.ndarray:
    covered = np.zeros(matrix.shape[1], dtype=bool)
    for j in picked:
        covered[matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]]] = True
    got = np.bincount(groups, weights=weights * covered, minlength=len(need))
    return np.maximum(need - got, 0.0)


def set_cover_greedy(
    matrix: csr_matrix, weights: np.ndarray, groups: np.ndarray, need: np.ndarray
) -> tuple[list[int], bool]:
    """Add candidates until every group's newly covered weight reaches its need.

    Parameters
    ----------
    matrix, weights : see :func:`max_cover_greedy`
    groups : numpy.ndarray
        Group (community) index of each demand point.
    need : numpy.ndarray
        Weight each group still needs covered to reach its target.

    Returns
    -------
    picked : list of int
        Candidates in the order picked.
    reached : bool
        Whether every need is met; False when the candidates cannot meet them.
    """
    picked: list[int] = []
    left = need.astype(float).copy()
    covered = np.zeros(matrix.shape[1], dtype=bool)
    while left.sum() > _EPS:
        best, best_gain = -1, _EPS
        for j in range(matrix.shape[0]):  # gain capped by what each group still needs
            cols = matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]]
            cols = cols[~covered[cols]]
            add = np.bincount(groups[cols], weights=weights[cols], minlength=len(left))
            gain = float(np.minimum(add, left).sum())
            if gain > best_gain:
                best, best_gain = j, gain
        if best < 0:
            return picked, False
        picked.append(best)
        covered[matrix.indices[matrix.indptr[best] : matrix.indptr[best + 1]]] = True
        left = _needs_left(matrix, weights, groups, need, picked)
    return picked, True


def set_cover_exact(
    matrix: csr_matrix,
    weights: np.ndarray,
    groups: np.ndarray,
    need: np.ndarray,
    *,
    time_limit_s: float = 120.0,
) -> Solution | None:
    """Fewest candidates meeting every group's need (CBC); None when impossible."""
    if np.any(_needs_left(matrix, weights, groups, need, list(range(matrix.shape[0]))) > _EPS):
        return None
    pulp, problem, x, y = _lp_cover("set_cover", "LpMinimize", matrix, weights)
    problem += pulp.lpSum(x)
    for g in np.flatnonzero(need > _EPS):
        members = [i for i in y if groups[i] == g]
        total = float(sum(weights[i] for i in members))
        if need[g] >= total * (1 - 1e-9):  # all of them (a target of 100 %): a plain cover,
            for i in members:  # not a sum at its bound (CBC 2.10 may call that infeasible)
                problem += y[i] >= 1
        else:
            problem += pulp.lpSum(weights[i] * y[i] for i in members) >= need[g] - 1e-6
    return _solve(problem, pulp, x, time_limit_s)


@dataclass(frozen=True)
class SiteSuggestion:
    """Suggested sites for one category.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        One row per suggested site, best first, points in the analysis CRS. Columns:
        ``rank``, ``category``, ``candidate``, ``place`` (its community and nearest named
        street), ``lon``, ``lat`` and ``crs`` (``EPSG:4326``), ``newly_covered_residents``,
        ``newly_covered_elderly`` (NaN without elderly counts), ``newly_covered_demand`` (of
        the rule's group), ``cumulative_share`` (of the group's demand covered with this and
        the sites before it), ``solver``, ``geometry``.
    greedy_objective, exact_objective : float
        Demand newly covered by the greedy and by the exact k sites (NaN if not run; the
        best found if CBC stopped at its time limit: ``sites["solver"]`` says "best found").
    fewest_sites : int or None
        Fewest new sites bringing every community to the target (None when impossible).
    message : str
        One line for the planner, Chinese and English.
    """

    sites: gpd.GeoDataFrame
    greedy_objective: float
    exact_objective: float
    fewest_sites: int | None
    message: str

    def __repr__(self) -> str:
        """Return the message, then a line per suggested site."""
        rows = [
            f"  #{r.rank} {getattr(r, 'place', r.candidate)} ({r.lon:.5f}, {r.lat:.5f} WGS84): "
            f"newly covers {r.newly_covered_demand:,.0f}; {r.cumulative_share:.0%} covered"
            for r in self.sites.itertuples()
        ]
        return "\n".join([f"SiteSuggestion: {self.message}", *rows])

    def _repr_html_(self) -> str:
        """:meth:`__repr__` as HTML."""
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"


#: Street nodes this close to a community (on its boundary: a community bounded by street
#: centre lines) are candidates too.
BOUNDARY_M = 5.0


def node_candidates(analysis: Analysis, *, spacing_m: float = 100.0) -> gpd.GeoDataFrame:
    """Network nodes in the communities, thinned to one per ``spacing_m`` grid cell.

    Nodes within :data:`BOUNDARY_M` of a community count: a community drawn along the centre
    lines of its streets has its junctions on its boundary, not inside it. In each cell the
    node where most streets meet is kept (a junction before a bend or a dead end; the first
    such node where several tie), so a planned road's T-junction is a candidate of its site.
    """
    net = analysis.network
    points = gpd.GeoSeries(shapely.points(net.node_x, net.node_y), crs=net.crs)
    area = analysis.communities.union_all()
    inside = shapely.dwithin(points.to_numpy(), area, BOUNDARY_M)
    idx = np.flatnonzero(inside)
    degree = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=net.n_nodes)
    cells = np.column_stack(
        [np.floor(net.node_x[idx] / spacing_m), np.floor(net.node_y[idx] / spacing_m)]
    )
    order = np.lexsort((idx, -degree[idx]))  # most streets first, then node order
    _, first = np.unique(cells[order], axis=0, return_index=True)
    keep = np.sort(idx[order[first]])
    return gpd.GeoDataFrame(
        {"candidate": [f"n{net.node_id[i]}" for i in keep]},
        geometry=points.to_numpy()[keep],
        crs=net.crs,
    )


def suggest_sites(
    analysis: Analysis,
    category: str,
    *,
    k: int = 3,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0,
    solver: str = "both",
    max_exact: int = 3000,
    time_limit_s: float = 120.0,
) -> SiteSuggestion:
    """Suggest up to ``k`` new sites for ``category`` and the fewest sites to its target.

    Parameters
    ----------
    analysis : Analysis
        The analysis (as-is or as-planned) whose uncovered demand new sites should reach.
    category : str
        Category key or its Chinese or English name (``"养老服务设施"``); its rule gives the
        threshold, the demand and the target. A typo raises an InputError with the likely one.
    k : int, optional
        Most new sites for the maximal covering answer.
    candidates : geopandas.GeoDataFrame, optional
        Candidate parcels or points (a ``candidate`` column names them); network nodes
        inside the communities, one per ``spacing_m``, if None.
    spacing_m : float, optional
        Thinning of node candidates.
    solver : {"both", "greedy", "exact"}, optional
        Which solvers to run; the exact one only up to ``max_exact`` candidates.
    max_exact : int, optional
        Largest candidate set handed to the integer program.
    time_limit_s : float, optional
        CBC's time limit per integer program; a solve it stops is labelled "best found".

    Returns
    -------
    SiteSuggestion
        Ranked sites (the exact solution when it ran, else the greedy one) and objectives.
    """
    if solver not in ("both", "greedy", "exact"):
        raise InputError(f"solver = {solver!r}. Fix: use 'both', 'greedy' or 'exact'")
    category = category_named(category, analysis.categories, where="suggest_sites")
    rule = analysis.options.rule_for(category)
    cand = (
        node_candidates(analysis, spacing_m=spacing_m)
        if candidates is None
        else candidates.to_crs(analysis.crs)
    )
    if "candidate" not in cand:
        cand = cand.assign(candidate=[f"c{i + 1}" for i in range(len(cand))])
    res = analysis.residents
    demand_col = rule.demand if rule.demand in res else "population"
    covered = within_threshold(res[walk_column(category)], rule.minutes).to_numpy()
    weights = np.where(covered, 0.0, res[demand_col].to_numpy(dtype=float))
    matrix = _cover_matrix(analysis, cand, rule.threshold_m)
    greedy = max_cover_greedy(matrix, weights, k=k) if solver != "exact" else []
    run_exact = solver != "greedy" and len(cand) <= max_exact
    exact = max_cover_exact(matrix, weights, k=k, time_limit_s=time_limit_s) if run_exact else None
    chosen = _rank(matrix, weights, exact.picked) if exact is not None else greedy
    groups, need = _community_needs(analysis, category, rule, demand_col, covered)
    fewest = None
    if run_exact:
        try:
            solution = set_cover_exact(matrix, weights, groups, need, time_limit_s=time_limit_s)
            fewest = None if solution is None else solution.picked
        except RuntimeError as exc:  # a solver's failure costs the count, not the run
            log.warning("%s: the fewest sites by CBC failed (%s); counted greedily", category, exc)
            run_exact = False
    if not run_exact:
        fewest = _greedy_count(matrix, weights, groups, need)
    solved_by = "greedy" if exact is None else ("exact" if exact.proven else "best found")
    sites = _site_table(
        analysis,
        cand,
        matrix,
        chosen,
        category,
        demand_col=demand_col,
        covered=covered,
        solver=solved_by,
    )
    g_obj = covered_weight(matrix, weights, greedy) if greedy else float("nan")
    e_obj = covered_weight(matrix, weights, exact.picked) if exact is not None else float("nan")
    count = None if fewest is None else len(fewest)
    message = _message(category, rule, count, g_obj, e_obj, len(cand), exact_label=solved_by)
    if len(cand) < k:
        message += f"; 候选点不足 only {len(cand)} candidate(s) for {k} sites" + (
            " (street nodes inside the communities, one per spacing_m). Fix: give parcels "
            'or points to choose from, [siting] candidates = "candidates.gpkg", or lower '
            "[siting] spacing_m"
            if candidates is None
            else ". Fix: add candidates to the [siting] candidates layer"
        )
        log.warning(message)
    return SiteSuggestion(sites, g_obj, e_obj, count, message)


def _cover_matrix(analysis: Analysis, cand: gpd.GeoDataFrame, threshold_m: float) -> csr_matrix:
    net = analysis.network
    cand_att = attach_points(net, cand.geometry.representative_point().to_numpy())
    if not cand_att.attached.all():
        raise InputError(
            "a candidate does not attach to the network. Fix: "
            "check the candidate layer's CRS and extent"
        )
    s, t, _ = distances_within(net, cand_att, analysis.resident_attachment, limit_m=threshold_m)
    return csr_matrix(
        (np.ones(len(s), dtype=bool), (s, t)), shape=(len(cand), len(analysis.residents))
    )


def _community_needs(analysis, category, rule, demand_col, covered):
    res = analysis.residents
    codes, communities = pd.factorize(res["community_id"])
    demand = res[demand_col].to_numpy(dtype=float)
    total = np.bincount(codes, weights=demand, minlength=len(communities))
    got = np.bincount(codes, weights=demand * covered, minlength=len(communities))
    return codes, np.maximum(rule.target_share * total - got, 0.0)


def _greedy_count(matrix, weights, groups, need) -> list[int] | None:
    picked, reached = set_cover_greedy(matrix, weights, groups, need)
    return picked if reached else None


def _rank(matrix: csr_matrix, weights: np.ndarray, chosen: list[int]) -> list[int]:
    """Order a set of sites by marginal gain, so ranks and cumulative shares read well."""
    return [chosen[i] for i in max_cover_greedy(matrix[chosen], weights, k=len(chosen))]


def _site_table(
    analysis, cand, matrix, chosen, category, *, demand_col, covered, solver
) -> gpd.GeoDataFrame:
    """Rank, location and newly covered residents (and elderly, and demand) of each site.

    ``covered`` marks the residences already within reach before any new site.
    """
    res = analysis.residents
    weights = res[demand_col].to_numpy(dtype=float)
    start = ~covered
    rows, running, total = [], float(weights[covered].sum()), float(weights.sum())
    covered = np.zeros(len(res), dtype=bool)  # from here: newly covered by the sites so far
    for rank, j in enumerate(chosen, start=1):
        cols = matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]]
        new = cols[start[cols] & ~covered[cols]]
        covered[new] = True
        running += weights[new].sum()
        rows.append(
            {
                "rank": rank,
                "category": category,
                "candidate": cand["candidate"].iloc[j],
                "newly_covered_residents": float(res["population"].to_numpy()[new].sum()),
                "newly_covered_elderly": float(res["elderly"].to_numpy()[new].sum())
                if "elderly" in res
                else np.nan,
                "newly_covered_demand": float(weights[new].sum()),
                "cumulative_share": running / total if total > 0 else np.nan,
                "solver": solver,
            }
        )
    geometry = cand.geometry.representative_point().to_numpy()[chosen] if chosen else []
    sites = gpd.GeoDataFrame(rows, geometry=list(geometry), crs=analysis.crs)
    lonlat = sites.to_crs("EPSG:4326").geometry
    sites = sites.assign(lon=lonlat.x.round(6), lat=lonlat.y.round(6), crs="EPSG:4326")
    return sites.assign(place=_place_names(analysis, sites))


def _place_names(analysis: Analysis, sites: gpd.GeoDataFrame) -> list[str]:
    """Name each site as a planner would: its community and the nearest named street."""
    if len(sites) == 0:
        return []
    net = analysis.network
    names = net.street_name(np.arange(net.n_edges))
    named = np.flatnonzero(names != "")
    streets = [""] * len(sites)
    if len(named):
        tree = shapely.STRtree(net.edge_geometry[named])
        nearest = tree.query_nearest(sites.geometry.to_numpy(), all_matches=False)[1]
        streets = [f"{names[named[i]]}旁" for i in nearest]
    joined = gpd.sjoin(
        sites[["geometry"]],
        analysis.communities[["community_name", "geometry"]],
        predicate="within",
        how="left",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    community = joined["community_name"].fillna("社区外").to_numpy()
    return [
        f"{c}·{s}" if s else f"{c}·{cand}"
        for c, s, cand in zip(community, streets, sites["candidate"], strict=True)
    ]


def _message(category, rule, count, g_obj, e_obj, n_candidates, *, exact_label: str) -> str:
    gap = ""
    if np.isfinite(g_obj) and np.isfinite(e_obj) and e_obj > 0:
        group = GROUP_EN.get(rule.demand, rule.demand)
        gap = (
            f"; {group} newly covered by the best sites: greedy {g_obj:,.0f} vs "
            f"{exact_label} {e_obj:,.0f} ({g_obj / e_obj:.1%})"
        )
    if count is None:
        return (
            f"{category}: 候选点无法使所有社区达到目标 the target cannot be met from the "
            f"{n_candidates} candidates{gap}"
        )
    return (
        f"{category}: 至少需新增 {count} 处 fewest new sites for every community to reach "
        f"{rule.target_share:.0%}: {count}{gap}"
    )
