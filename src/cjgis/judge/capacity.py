"""Supply against demand: two-step floating catchment area (2SFCA) accessibility.

Step 1: each facility's supply is shared among the demand within its catchment,
``R_j = S_j / sum_k D_k W(d_kj)``. Step 2: each residence sums the ratios of the facilities it
reaches, ``A_k = sum_j R_j W(d_kj)``. ``A`` is capacity per unit of demand (e.g. beds per
elderly person); ``sum_k D_k A_k`` equals the supply that reaches any demand, so capacity is
neither lost nor counted twice. ``W`` is 1 within the catchment (Luo & Wang 2003), a
Gaussian decay (Dai 2010) falling from 1 at the facility to 0 at the threshold, or the
enhanced 2SFCA's steps (Luo & Qi 2009): the catchment cut in three equal travel zones weighted
1.00, 0.68 and 0.22.
"""

from __future__ import annotations

import numpy as np

DECAYS = ("none", "gaussian", "e2sfca")
#: Weights of the enhanced 2SFCA's three travel zones, nearest first (Luo & Qi 2009, Health &
#: Place 15(4): 1100-1107, the weights of their 0-10, 10-20 and 20-30 minute zones).
E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)


def gaussian_weight(distance_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """Gaussian decay of Dai (2010): 1 at distance 0, 0 at and beyond the threshold."""
    d = np.asarray(distance_m, dtype=float)
    edge = np.exp(-0.5)
    w = (np.exp(-0.5 * (d / threshold_m) ** 2) - edge) / (1.0 - edge)
    return np.where(d <= threshold_m, w, 0.0)


def e2sfca_weight(distance_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """Return the enhanced 2SFCA's stepped weights: thirds of the catchment, 1.00/0.68/0.22."""
    d = np.asarray(distance_m, dtype=float)
    zone = np.minimum(np.floor(d / threshold_m * len(E2SFCA_WEIGHTS)), len(E2SFCA_WEIGHTS) - 1)
    weight = np.asarray(E2SFCA_WEIGHTS)[zone.astype(int)]
    return np.where(d <= threshold_m, weight, 0.0)


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
    decay : {"none", "gaussian", "e2sfca"}
        Distance weight within the catchment (:data:`DECAYS`).

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
    weigh = {"gaussian": gaussian_weight, "e2sfca": e2sfca_weight}.get(decay)
    weight = np.ones(len(distance_m)) if weigh is None else weigh(distance_m, threshold_m)
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    demand = np.asarray(demand, dtype=float)
    weighted_demand = np.bincount(source, weights=demand[target] * weight, minlength=len(supply))
    ratio = np.divide(supply, weighted_demand, out=np.zeros(len(supply)), where=weighted_demand > 0)
    accessibility = np.bincount(target, weights=ratio[source] * weight, minlength=len(demand))
    return ratio, accessibility
