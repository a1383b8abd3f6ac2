"""Coverage per community and category: who is within reach, weighted by population.

The table is what a planner reads first (覆盖率 per community): residents, covered residents,
covered share of the rule's demand group, walking minutes (population-weighted median and
maximum), the shares within the life-circle tier distances (300/500/1000 m walked), facilities
inside the community, capacity (inside, reachable by 2SFCA, required, and per 1,000 of the
group: the 千人指标) and the Gini coefficient of 2SFCA access across residents. The verdict
on these numbers is :mod:`cjgis.judge.verdict`'s, computed once after this table.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis.inputs.categories import category_info
from cjgis.inputs.demand import demand_column
from cjgis.judge.rules import TIER_DISTANCES_M, CategoryRule
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.verdict import BASIS_ZH

#: Who a coverage row counts: the community's own residents, or those living outside it.
IN_PLACE, LIVING_OUTSIDE = "本社区 in the community", "安置在外 living outside"

COVERAGE_COLUMNS = [
    "community_id",
    "community_name",
    "resident_group",
    "category",
    "category_zh",
    "residents",
    "covered_residents",
    "uncovered_residents",
    "elderly",
    "covered_elderly",
    "households",
    "covered_households",
    "demand",
    "demand_basis",
    "covered_share",
    "share_300m",
    "share_500m",
    "share_1000m",
    "median_walk_min",
    "max_walk_min",
    "unreachable_residents",
    "facilities_inside",
    "facilities_in_study",
    "nearest_facility",
    "capacity_unit",
    "capacity_unit_zh",
    "capacity_basis",
    "capacity_inside",
    "capacity_accessible",
    "capacity_required",
    "capacity_shortfall",
    "capacity_note",
    "provision_rate",
    "provision_target",
    "provision_per",
    "access_gini",
    "threshold_min",
    "threshold_m",
    "walk_speed_m_s",
    "target_share",
    "basis",
    "basis_zh",
    "rule_source",
    "coverage_met",
    "capacity_met",
    "status",
    "status_zh",
    "status_en",
    "reason",
]


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Smallest value at which the cumulative weight reaches half the total.

    ``inf`` values (unreachable) count as the largest; ``nan`` is returned for no weight.

    Examples
    --------
    >>> weighted_median(np.array([1.0, 5.0, 9.0]), np.array([1.0, 1.0, 5.0]))
    9.0
    """
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(np.asarray(values)[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


#: Walks this close above the threshold still count (float sums of metres, ~0.06 mm).
THRESHOLD_TOLERANCE_MIN = 1e-6


def within_threshold(minutes: np.ndarray | pd.Series, limit_min: float):
    """Return whether each walk (minutes; NaN or inf when unreachable) is within ``limit_min``."""
    return minutes <= limit_min + THRESHOLD_TOLERANCE_MIN


def walk_column(category: str) -> str:
    """Name of the residents column with walking minutes to the nearest ``category``."""
    return f"walk_min_{category}"


def _category_columns(
    codes: np.ndarray,
    n: int,
    res: pd.DataFrame,
    category: str,
    rule: CategoryRule,
    demand_basis: dict[str, str],
) -> dict[str, np.ndarray]:
    """Coverage of every community for one category at once (arrays of length ``n``).

    ``codes`` gives each resident's community position (0..n-1). Sums are bincounts; the
    population-weighted median walk is found in one sort by community then minutes.
    ``demand_basis`` says how each demand group was counted (the 口径); a group without a
    column is counted as residents only where it says so.
    """

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=n)

    minutes = res[walk_column(category)].to_numpy(dtype=float)
    minutes = np.where(np.isnan(minutes), np.inf, minutes)
    pop = res["population"].to_numpy(dtype=float)
    covered = within_threshold(minutes, rule.minutes)
    demand = demand_column(rule.demand)
    if demand not in res:  # no counts and no estimate: residents, as demand_basis says
        demand = "population"
    weight = res[demand].to_numpy(dtype=float)
    weight_sum = total(weight)

    def share_of(mask: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weight_sum > 0, total(weight * mask) / weight_sum, np.nan)

    walked_m = minutes * 60.0 * rule.walk_speed_m_s
    cols = {
        "residents": total(pop),
        "covered_residents": total(pop * covered),
        "uncovered_residents": total(pop * ~covered),
        "demand": np.full(n, rule.demand, dtype=object),
        "demand_basis": np.full(n, demand_basis.get(rule.demand, ""), dtype=object),
        "covered_share": share_of(covered),
        "unreachable_residents": total(pop * np.isinf(minutes)),
    }
    for tier_m in TIER_DISTANCES_M:
        cols[f"share_{tier_m:.0f}m"] = share_of(walked_m <= tier_m + 1e-6)
    cols["median_walk_min"], cols["max_walk_min"] = _median_and_max(codes, n, minutes, pop)
    nearest = res.get(f"nearest_{category}")
    if nearest is not None and nearest.notna().any():
        cols["nearest_facility"] = _most_served_by(codes, n, nearest, pop)
    for count in ("elderly", "households"):
        if count in res:
            values = res[count].to_numpy(dtype=float)
            cols[count], cols[f"covered_{count}"] = total(values), total(values * covered)
    access = res.get(f"access_{category}")
    if access is not None:
        cols["access_gini"] = grouped_gini(codes, n, access.to_numpy(dtype=float), weight)
    if rule.capacity is not None:
        cols.update(_capacity_columns(total, n, res, rule, access, demand_basis))
    return cols


def _most_served_by(codes: np.ndarray, n: int, nearest: pd.Series, pop: np.ndarray) -> np.ndarray:
    """Per community, the facility nearest to most of its residents (None where none is).

    Ties go to the facility id that sorts first.
    """
    out = np.full(n, None, dtype=object)
    known = nearest.notna().to_numpy()
    ids, facility = pd.factorize(nearest.to_numpy()[known], sort=True)
    pair = codes[known] * len(facility) + ids
    pairs, which = np.unique(pair, return_inverse=True)
    people = np.bincount(which, weights=pop[known])
    community, ids = pairs // len(facility), pairs % len(facility)
    order = np.lexsort((ids, -people, community))  # most people first, then the first id
    first = order[np.r_[True, community[order][1:] != community[order][:-1]]]
    out[community[first]] = facility[ids[first]]
    return out


def _capacity_columns(total, n, res, rule, access, demand_basis) -> dict[str, np.ndarray]:
    """Capacity required, reachable (2SFCA) and per ``per`` of the group (千人指标)."""
    cap = rule.capacity
    cols = {
        "capacity_unit": np.full(n, cap.unit, dtype=object),
        "capacity_unit_zh": np.full(n, cap.unit_zh, dtype=object),
        "capacity_basis": np.full(n, cap.basis, dtype=object),
        "provision_target": np.full(n, cap.amount),
        "provision_per": np.full(n, f"{cap.per:g} {cap.of}", dtype=object),
    }
    of = demand_column(cap.of)
    if of not in res:  # no counts of the group and no declared estimate: say so, never guess
        cols["capacity_note"] = np.full(n, demand_basis.get(cap.of, ""), dtype=object)
        cols["capacity_required"] = np.full(n, np.nan)
        return cols
    need = res[of].to_numpy(dtype=float)
    group_total = total(need)
    cols["capacity_required"] = cap.required(group_total)
    if access is not None:
        reached = total(need * access.to_numpy(dtype=float))
        cols["capacity_accessible"] = reached
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["provision_rate"] = np.where(
                group_total > 0, reached / group_total * cap.per, np.nan
            )
    return cols


def grouped_gini(codes: np.ndarray, n: int, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Gini coefficient of ``values`` within each group (0 equal, 1 all to one).

    Computed from the Lorenz curve of each group sorted by value: ``1 - Σ w_i (L_{i-1} + L_i)
    / W``. NaN where a group has no weight or no value.

    Examples
    --------
    >>> grouped_gini(np.array([0, 0]), 1, np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    array([0.5])
    """
    gini = np.full(n, np.nan)
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():
        return gini
    c, x, w = codes[keep], values[keep], weights[keep]
    order = np.lexsort((x, c))
    c, x, w = c[order], x[order], w[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    group = c[starts]
    first = np.repeat(starts, np.diff(np.r_[starts, len(c)]))
    cum_wx = np.cumsum(w * x)
    base = np.where(first > 0, cum_wx[first - 1], 0.0)
    lorenz_num = cum_wx - base
    totals_wx = np.add.reduceat(w * x, starts)
    totals_w = np.add.reduceat(w, starts)
    g_total = np.repeat(totals_wx, np.diff(np.r_[starts, len(c)]))
    with np.errstate(invalid="ignore", divide="ignore"):
        lorenz = lorenz_num / g_total
        previous = np.where(np.arange(len(c)) == first, 0.0, np.r_[0.0, lorenz[:-1]])
        area = np.add.reduceat(w * (previous + lorenz), starts)
        gini[group] = np.where(totals_wx > 0, 1.0 - area / totals_w, np.nan)
    return gini


def _median_and_max(codes, n, minutes, pop) -> tuple[np.ndarray, np.ndarray]:
    """Per community: population-weighted median (as :func:`weighted_median`) and maximum."""
    median, longest = np.full(n, np.nan), np.full(n, np.nan)
    if len(codes) == 0:
        return median, longest
    order = np.lexsort((minutes, codes))  # stable: ties keep the residents' order
    c, m, w = codes[order], minutes[order], pop[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    group = c[starts]
    ends = np.r_[starts[1:], len(c)]
    longest[group] = m[ends - 1]
    cum = np.cumsum(w)
    base = np.where(starts > 0, cum[starts - 1], 0.0)
    half = (cum[ends - 1] - base) / 2.0
    idx = np.searchsorted(cum, base + half, side="left")
    ok = half > 0
    median[group[ok]] = m[np.minimum(idx[ok], ends[ok] - 1)]
    return median, longest


def coverage_table(
    residents: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    categories: list[str],
    *,
    options: AnalysisOptions,
    demand_basis: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per community x category with coverage, walking minutes and capacity.

    Parameters
    ----------
    residents : pandas.DataFrame
        ``community_id``, ``population`` (optionally ``elderly``) and one
        ``walk_min_<category>`` column per category (NaN where unreachable).
    communities : geopandas.GeoDataFrame
        ``community_id``, ``community_name``, polygons.
    facilities : geopandas.GeoDataFrame
        ``category`` and points, in the communities' CRS.
    categories : list of str
        Category keys, in display order.
    options : AnalysisOptions
        Threshold, speed and target share.
    demand_basis : dict, optional
        How each demand group was counted (:func:`cjgis.inputs.demand.demand_columns`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS` up to the verdict (:func:`cjgis.judge.verdict.assess`
        adds it); unreachable walks are ``inf`` in the minutes.
    """
    demand_basis = demand_basis or {}
    inside = gpd.sjoin(
        facilities[[c for c in ("category", "capacity", "geometry") if c in facilities]],
        communities[["community_id", "geometry"]],
        predicate="within",
    )
    names = (
        facilities.set_index("facility_id")["name"].to_dict() if "facility_id" in facilities else {}
    )
    counts = inside.groupby(["community_id", "category"]).size().to_dict()
    in_study = facilities["category"].value_counts().to_dict()
    capacity = (
        inside.groupby(["community_id", "category"])["capacity"].sum().to_dict()
        if "capacity" in inside
        else {}
    )
    ids = communities["community_id"].astype(str)
    codes = pd.Index(ids).get_indexer(residents["community_id"].astype(str))
    res = residents.loc[codes >= 0]
    codes, n = codes[codes >= 0], len(communities)
    frames = []
    for k, category in enumerate(categories):
        rule = options.rule_for(category)
        cols = _category_columns(codes, n, res, category, rule, demand_basis)
        frame = pd.DataFrame(
            {
                "community_id": communities["community_id"].to_numpy(),
                "community_name": communities["community_name"].to_numpy(),
                "category": category,
                "category_zh": category_info(category).name_zh,
                **cols,
            }
        )
        frame["facilities_inside"] = [
            int(counts.get((c, category), 0)) for c in communities["community_id"]
        ]
        frame["facilities_in_study"] = int(in_study.get(category, 0))
        if "capacity_unit" in cols and "capacity" in inside:
            frame["capacity_inside"] = [
                float(capacity.get((c, category), 0)) for c in communities["community_id"]
            ]
        if "nearest_facility" in frame:
            frame["nearest_facility"] = [
                names.get(f, "") if f is not None else None for f in frame["nearest_facility"]
            ]
        frame = frame.assign(
            threshold_min=rule.minutes,
            threshold_m=rule.threshold_m,
            walk_speed_m_s=rule.walk_speed_m_s,
            target_share=rule.target_share,
            basis=rule.basis,
            basis_zh=BASIS_ZH[rule.basis],
            rule_source=rule.source,
        )
        frames.append(frame.assign(_community=np.arange(n), _category=k))
    table = pd.concat(frames, ignore_index=True).sort_values(
        ["_community", "_category"], kind="stable"
    )
    table = table.drop(columns=["_community", "_category"]).reset_index(drop=True)
    return table[[c for c in COVERAGE_COLUMNS if c in table]]
