"""Supply against demand: two-step floating catchment area (2SFCA) accessibility.

Step 1: each facility's supply is shared among the demand within its catchment,
``R_j = S_j / sum_k D_k W(d_kj)``. Step 2: each residence sums the ratios of the facilities it
reaches, ``A_k = sum_j R_j W(d_kj)``. ``A`` is capacity per unit of demand (e.g. beds per
elderly person); ``sum_k D_k A_k`` equals the supply that reaches any demand, so capacity is
neither lost nor counted twice. ``W`` is 1 within the catchment (Luo & Wang 2003) or a
Gaussian decay (Dai 2010), falling from 1 at the facility to 0 at the threshold.
"""

from __future__ import annotations

import numpy as np

DECAYS = ("none", "gaussian")


def gaussian_weight(distance_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """Gaussian decay of Dai (2010): 1 at distance 0, 0 at and beyond the threshold."""
    d = np.asarray(distance_m, dtype=float)
    edge = np.exp(-0.5)
    w = (np.exp(-0.5 * (d / threshold_m) ** 2) - edge) / (1.0 - edge)
    return np.where(d <= threshold_m, w, 0.0)


def two_step_fca(
    source: np.ndarray,
    target: np.ndarray,
    distance_m: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    *,
    threshold_m: float,
    decay: str = "none",
) -> tuple[np.ndarray, np.ndarray]:
    """Supply-to-demand ratio per facility and accessibility per residence.

    Parameters
    ----------
    source, target, distance_m : numpy.ndarray
        Facility index, residence index and walking distance of each pair in reach.
    supply : numpy.ndarray
        Capacity per facility (NaN counts as 0).
    demand : numpy.ndarray
        Demand per residence (people, elderly or households).
    threshold_m : float
        Catchment size.
    decay : {"none", "gaussian"}
        Distance weight within the catchment.

    Returns
    -------
    ratio : numpy.ndarray
        Per facility, supply per weighted demand in its catchment (0 where none).
    accessibility : numpy.ndarray
        Per residence, capacity per unit of demand within reach.
    """
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
    keep = distance_m <= threshold_m
    source, target, distance_m = source[keep], target[keep], distance_m[keep]
    weight = (
        np.ones(len(distance_m)) if decay == "none" else gaussian_weight(distance_m, threshold_m)
    )
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    demand = np.asarray(demand, dtype=float)
    weighted_demand = np.bincount(source, weights=demand[target] * weight, minlength=len(supply))
    ratio = np.divide(supply, weighted_demand, out=np.zeros(len(supply)), where=weighted_demand > 0)
    accessibility = np.bincount(target, weights=ratio[source] * weight, minlength=len(demand))
    return ratio, accessibility
