"""Accessibility of one category, as a function: 2SFCA scores per residence, units in the names.

:func:`accessibility` takes a finished analysis and one category and shares each facility's
supply (its capacity, or one per facility) among the demand within walking reach, then sums
what each residence reaches (:func:`cjgis.judge.capacity.two_step_fca`). The walks are the
analysis's own: the same network, the same attachments, distances along the streets.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from cjgis._errors import InputError
from cjgis.inputs.categories import category_info, category_named
from cjgis.inputs.demand import demand_column
from cjgis.judge.analysis import Analysis
from cjgis.judge.capacity import two_step_fca
from cjgis.reach.access import distances_within
from cjgis.streets.snapping import attach_points

log = logging.getLogger(__name__)

#: ``method`` -> the distance weight of :func:`~cjgis.judge.capacity.two_step_fca`.
METHODS = {"2sfca": "none", "gaussian": "gaussian", "e2sfca": "e2sfca"}
#: Scores are given per this many people of the demand group (千人指标).
PER_PEOPLE = 1000
#: Supplies: the facilities' ``capacity`` in the rule's unit, or each facility as one.
SUPPLIES = ("capacity", "facilities")


def accessibility(
    analysis: Analysis,
    category: str,
    *,
    method: str = "2sfca",
    threshold_m: float | None = None,
    supply: str | None = None,
    group: str | None = None,
) -> gpd.GeoDataFrame:
    """Return every residence's walking accessibility to one category's supply (2SFCA).

    Parameters
    ----------
    analysis : Analysis
        A finished analysis (:func:`cjgis.analyze`); not modified.
    category : str
        Category key or its Chinese or English name (``"养老服务设施"``).
    method : {"2sfca", "gaussian", "e2sfca"}, optional
        Weight by walking distance within the catchment: none (Luo & Wang 2003), Gaussian decay
        to 0 at the threshold (Dai 2010), or the enhanced 2SFCA's three zones, 1.00/0.68/0.22
        (Luo & Qi 2009).
    threshold_m : float, optional
        Catchment, in metres walked; the category rule's distance if None.
    supply : {"capacity", "facilities"}, optional
        What a facility offers: its ``capacity`` in the rule's unit (beds, m²), or one facility
        each. If None: capacity where the category's facilities have some, else facilities.
    group : str, optional
        Whose demand counts (``residents``, ``elderly``, ``households``, ...); the rule's
        capacity group (else its demand group) if None.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per analysed residence, in the analysis CRS: ``resident_id``,
        ``community_id``, ``community_name``, ``resident_group``, ``demand_<group>`` (the
        count the scores are per), ``facilities_within`` (of the category, within the
        catchment), ``walk_m_nearest`` (NaN if none is reachable), ``access_<unit>_per_1000_
        <group>`` (supply per 1,000 of the group within reach, e.g. ``access_beds_per_1000_
        elderly``), geometry. ``attrs`` holds ``method``, ``threshold_m``, ``supply``,
        ``unit``, ``group`` and ``supply_total``.

    Raises
    ------
    InputError
        Unknown category or method, no facility of the category, no capacity to count, or no
        counts of the group in the residents.
    """
    category = category_named(category, analysis.categories, where="accessibility")
    if method not in METHODS:
        raise InputError(f"accessibility: method={method!r}. Fix: use one of {', '.join(METHODS)}")
    if supply is not None and supply not in SUPPLIES:
        raise InputError(f"accessibility: supply={supply!r}. Fix: use one of {', '.join(SUPPLIES)}")
    rule = analysis.options.rule_for(category)
    threshold_m = float(threshold_m if threshold_m is not None else rule.threshold_m)
    if not threshold_m > 0:
        raise InputError(f"accessibility: threshold_m={threshold_m!r}. Fix: a positive distance")
    fac = analysis.facilities[analysis.facilities["category"] == category]
    if len(fac) == 0:
        raise InputError(
            f"accessibility: no facility of {category} ({category_info(category).name_zh}) in "
            "the analysis (无设施数据): nothing to share. Fix: add its facilities"
        )
    capacities = (
        fac["capacity"].to_numpy(dtype=float) if "capacity" in fac else np.full(len(fac), np.nan)
    )
    has_capacity = bool(np.isfinite(capacities).any())
    supply = supply or ("capacity" if has_capacity else "facilities")
    if supply == "capacity" and not has_capacity:
        raise InputError(
            f"accessibility: the {len(fac)} facilities of {category} have no capacity. Fix: "
            "add a capacity column ([facilities] capacity), or pass supply='facilities' to "
            "count each facility as one"
        )
    if supply == "capacity":
        missing = int((~np.isfinite(capacities)).sum())
        if missing:
            log.warning(
                "accessibility %s: %d of %d facilities have no capacity, counted as 0",
                category,
                missing,
                len(fac),
            )
        offered = np.nan_to_num(capacities)
        unit = rule.capacity.unit if rule.capacity else "capacity"
    else:
        offered, unit = np.ones(len(fac)), "facilities"
    group = group or (rule.capacity.of if rule.capacity else rule.demand)
    column = demand_column(group)
    res = analysis.residents
    if column not in res:
        raise InputError(
            f"accessibility: the residents have no {group} counts (column {column!r}). Fix: "
            "pass group='residents', or name the column in [residents]"
        )
    sources = attach_points(
        analysis.network,
        fac.geometry.to_numpy(),
        max_distance_m=analysis.options.max_snap_m,
    )
    source, target, distance_m = distances_within(
        analysis.network, sources, analysis.resident_attachment, limit_m=threshold_m
    )
    keep = sources.attached[source]
    source, target, distance_m = source[keep], target[keep], distance_m[keep]
    demand = res[column].to_numpy(dtype=float)
    _, score = two_step_fca(
        source,
        target,
        distance_m,
        offered,
        demand,
        threshold_m=threshold_m,
        decay=METHODS[method],
    )
    nearest = np.full(len(res), np.inf)
    np.minimum.at(nearest, target, distance_m)
    names = analysis.communities.set_index("community_id")["community_name"]
    out = gpd.GeoDataFrame(
        {
            "resident_id": res["resident_id"].to_numpy(),
            "community_id": res["community_id"].to_numpy(),
            "community_name": res["community_id"].map(names).to_numpy(),
            "resident_group": res["resident_group"].to_numpy() if "resident_group" in res else None,
            f"demand_{group}": demand,
            "facilities_within": np.bincount(target, minlength=len(res)),
            "walk_m_nearest": np.where(np.isfinite(nearest), nearest, np.nan),
            f"access_{_unit_name(unit)}_per_{PER_PEOPLE}_{group}": score * PER_PEOPLE,
        },
        geometry=res.geometry.to_numpy(),
        crs=analysis.crs,
    )
    out.attrs.update(
        method=method,
        threshold_m=threshold_m,
        supply=supply,
        unit=unit,
        group=group,
        supply_total=float(offered.sum()),
    )
    return out


def _unit_name(unit: str) -> str:
    """Return a unit as a column-name part: ``m²`` -> ``m2``, spaces -> ``_``."""
    return unit.replace("²", "2").replace(" ", "_").replace("/", "_per_")
