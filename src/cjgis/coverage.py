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
from cjgis.settings import AnalysisOptions
from cjgis.standards import CategoryRule

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


def _community_row(group: dict[str, np.ndarray], category: str, rule: CategoryRule) -> dict:
    """Coverage of one community for one category; ``group`` holds its residents' columns."""
    minutes = np.asarray(group[walk_column(category)], dtype=float)
    minutes = np.where(np.isnan(minutes), np.inf, minutes)
    pop = np.asarray(group["population"], dtype=float)
    covered = within_threshold(minutes, rule.minutes)
    residents = pop.sum()
    demand = rule.demand if rule.demand in group else "residents"
    weight = np.asarray(group[demand], dtype=float) if demand != "residents" else pop
    row = {
        "residents": residents,
        "covered_residents": pop[covered].sum(),
        "uncovered_residents": pop[~covered].sum(),
        "demand": demand,
        "covered_share": weight[covered].sum() / weight.sum() if weight.sum() > 0 else np.nan,
        "median_walk_min": weighted_median(minutes, pop) if len(pop) else np.nan,
        "max_walk_min": minutes.max() if len(pop) else np.nan,
        "unreachable_residents": pop[np.isinf(minutes)].sum(),
    }
    nearest = group.get(f"nearest_{category}")
    if nearest is not None:
        known = pd.notna(nearest)
        if known.any():
            ids, index = np.unique(nearest[known], return_inverse=True)
            row["nearest_facility"] = ids[np.bincount(index, weights=pop[known]).argmax()]
    for count in ("elderly", "households"):
        if count in group:
            values = np.asarray(group[count], dtype=float)
            row[count], row[f"covered_{count}"] = values.sum(), values[covered].sum()
    row.update(_capacity(group, category, rule))
    return row


def _capacity(group: dict[str, np.ndarray], category: str, rule: CategoryRule) -> dict:
    """Capacity reaching the community's demand (2SFCA) against the rule's requirement."""
    if rule.capacity is None:
        return {}
    of = rule.capacity.of if rule.capacity.of in group else "population"
    demand = np.asarray(group[of], dtype=float)
    out = {
        "capacity_unit": rule.capacity.unit,
        "capacity_required": rule.capacity.required(demand.sum()),
    }
    access = group.get(f"access_{category}")
    if access is not None:
        out["capacity_accessible"] = float((demand * np.asarray(access, dtype=float)).sum())
        out["capacity_shortfall"] = max(out["capacity_required"] - out["capacity_accessible"], 0.0)
    return out


def _groups(residents: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Residents' columns as numpy arrays, sliced per community (no pandas per group)."""
    ids = residents["community_id"].astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    columns = {c: residents[c].to_numpy()[order] for c in residents.columns if c != "geometry"}
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([], int)
    ends = np.r_[starts[1:], len(ids)]
    return {
        ids[a]: {c: v[a:b] for c, v in columns.items()} for a, b in zip(starts, ends, strict=True)
    }


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
    groups = _groups(residents)
    empty = {c: residents[c].to_numpy()[:0] for c in residents.columns if c != "geometry"}
    rows = []
    for community in communities.itertuples(index=False):
        group = groups.get(str(community.community_id), empty)
        for category in categories:
            row = {
                "community_id": community.community_id,
                "community_name": community.community_name,
                "category": category,
                "category_zh": category_info(category).name_zh,
            }
            rule = options.rule_for(category)
            row.update(_community_row(group, category, rule))
            row["facilities_inside"] = int(counts.get((community.community_id, category), 0))
            if "capacity_unit" in row and "capacity" in inside:
                row["capacity_inside"] = float(capacity.get((community.community_id, category), 0))
            if "nearest_facility" in row:
                row["nearest_facility"] = names.get(row["nearest_facility"], "")
            row.update(
                threshold_min=rule.minutes,
                threshold_m=rule.threshold_m,
                walk_speed_m_s=rule.walk_speed_m_s,
                target_share=rule.target_share,
                basis=rule.basis,
            )
            row["status"] = _status(row["covered_share"], row["residents"], rule.target_share)
            rows.append(row)
    table = pd.DataFrame(rows)
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
