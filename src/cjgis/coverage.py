"""Coverage per community and category: who is within reach, weighted by population.

The table is what a planner reads first (覆盖率 per community): residents, covered residents,
covered share, walking minutes (population-weighted median and maximum), facilities inside
the community, and a status against the target share.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis.categories import category_info
from cjgis.rules import CategoryRule
from cjgis.settings import AnalysisOptions

COVERAGE_COLUMNS = [
    "community_id",
    "community_name",
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
    "covered_share",
    "median_walk_min",
    "max_walk_min",
    "unreachable_residents",
    "facilities_inside",
    "nearest_facility",
    "capacity_unit",
    "capacity_inside",
    "capacity_accessible",
    "capacity_required",
    "capacity_shortfall",
    "threshold_min",
    "threshold_m",
    "walk_speed_m_s",
    "target_share",
    "basis",
    "status",
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
    codes: np.ndarray, n: int, res: pd.DataFrame, category: str, rule: CategoryRule
) -> dict[str, np.ndarray]:
    """Coverage of every community for one category at once (arrays of length ``n``).

    ``codes`` gives each resident's community position (0..n-1). Sums are bincounts; the
    population-weighted median walk is found in one sort by community then minutes.
    """

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=n)

    minutes = res[walk_column(category)].to_numpy(dtype=float)
    minutes = np.where(np.isnan(minutes), np.inf, minutes)
    pop = res["population"].to_numpy(dtype=float)
    covered = within_threshold(minutes, rule.minutes)
    demand = rule.demand if rule.demand in res else "residents"
    weight = res[demand].to_numpy(dtype=float) if demand != "residents" else pop
    weight_sum = total(weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(weight_sum > 0, total(weight * covered) / weight_sum, np.nan)
    cols = {
        "residents": total(pop),
        "covered_residents": total(pop * covered),
        "uncovered_residents": total(pop * ~covered),
        "demand": np.full(n, demand, dtype=object),
        "covered_share": share,
        "unreachable_residents": total(pop * np.isinf(minutes)),
    }
    cols["median_walk_min"], cols["max_walk_min"] = _median_and_max(codes, n, minutes, pop)
    nearest = res.get(f"nearest_{category}")
    if nearest is not None and nearest.notna().any():
        known = nearest.notna().to_numpy()
        served = pd.DataFrame({"c": codes[known], "f": nearest.to_numpy()[known], "p": pop[known]})
        most = served.groupby(["c", "f"])["p"].sum().groupby(level=0).idxmax()
        cols["nearest_facility"] = np.full(n, None, dtype=object)
        cols["nearest_facility"][most.index.to_numpy()] = [f for _, f in most]
    for count in ("elderly", "households"):
        if count in res:
            values = res[count].to_numpy(dtype=float)
            cols[count], cols[f"covered_{count}"] = total(values), total(values * covered)
    if rule.capacity is not None:
        of = rule.capacity.of if rule.capacity.of in res else "population"
        need = res[of].to_numpy(dtype=float)
        cols["capacity_unit"] = np.full(n, rule.capacity.unit, dtype=object)
        cols["capacity_required"] = rule.capacity.required(total(need))
        access = res.get(f"access_{category}")
        if access is not None:
            reached = total(need * access.to_numpy(dtype=float))
            cols["capacity_accessible"] = reached
            cols["capacity_shortfall"] = np.maximum(cols["capacity_required"] - reached, 0.0)
    return cols


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


def _status(share: float, residents: float, target: float) -> str:
    if residents <= 0:
        return "no_residents"
    return "ok" if share >= target - 1e-12 else "gap"


def coverage_table(
    residents: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    categories: list[str],
    *,
    options: AnalysisOptions,
) -> pd.DataFrame:
    """One row per community x category with coverage, walking minutes and status.

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

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`; unreachable walks are ``inf`` in the minutes.
    """
    inside = gpd.sjoin(
        facilities[[c for c in ("category", "capacity", "geometry") if c in facilities]],
        communities[["community_id", "geometry"]],
        predicate="within",
    )
    names = (
        facilities.set_index("facility_id")["name"].to_dict() if "facility_id" in facilities else {}
    )
    counts = inside.groupby(["community_id", "category"]).size().to_dict()
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
        cols = _category_columns(codes, n, res, category, rule)
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
        )
        frame["status"] = [
            _status(sh, r, rule.target_share)
            for sh, r in zip(frame["covered_share"], frame["residents"], strict=True)
        ]
        frames.append(frame.assign(_community=np.arange(n), _category=k))
    table = pd.concat(frames, ignore_index=True).sort_values(
        ["_community", "_category"], kind="stable"
    )
    table = table.drop(columns=["_community", "_category"]).reset_index(drop=True)
    return table[[c for c in COVERAGE_COLUMNS if c in table]]


def community_summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """Per community: residents, categories met, categories with a gap, and which."""
    by = coverage.groupby("community_id", sort=False)
    return pd.DataFrame(
        {
            "community_name": by["community_name"].first(),
            "residents": by["residents"].first(),
            "categories_met": (coverage["status"] == "ok")
            .groupby(coverage["community_id"], sort=False)
            .sum(),
            "categories_total": by["status"].size(),
            "gap_categories": coverage.loc[coverage["status"] == "gap"]
            .groupby("community_id", sort=False)["category_zh"]
            .agg("、".join)
            .reindex(by.size().index, fill_value=""),
        }
    ).reset_index()
