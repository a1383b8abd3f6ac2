"""Coordinate reference systems: choose a metric CRS and project into it.

Distances are only ever measured in a projected, metric CRS. Inside China the default is
the CGCS2000 3-degree Gauss-Krüger zone of the data's longitude (EPSG:4534 + (CM - 75) / 3;
EPSG:4549, central meridian 120°E, for Hangzhou), whose scale error at Hangzhou is below
1e-5; elsewhere the UTM zone. GCJ-02 / BD-09 conversion belongs to the inputs layer.
"""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS

from cjgis._errors import InputError

_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)


def metric_crs_for(lon: float, lat: float) -> CRS:
    """Return the metric CRS cjgis uses for data centred at ``lon``, ``lat`` (WGS84 degrees).

    Parameters
    ----------
    lon, lat : float
        Centre of the study area in degrees.

    Returns
    -------
    pyproj.CRS
        CGCS2000 3-degree Gauss-Krüger inside China, WGS84 / UTM elsewhere.

    Examples
    --------
    >>> metric_crs_for(120.27, 30.30).to_epsg()
    4549
    """
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InputError(f"centre ({lon}, {lat}) is not a longitude/latitude in degrees")
    in_china = _CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1]
    if in_china:
        central_meridian = 3 * round(lon / 3)
        return CRS.from_epsg(4534 + (central_meridian - 75) // 3)
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def resolve_metric_crs(centre_lonlat: tuple[float, float], crs: str | None = None) -> CRS:
    """Return ``crs`` if given (it must be projected), else :func:`metric_crs_for` the centre.

    Parameters
    ----------
    centre_lonlat : tuple of float
        Centre of the data in WGS84 degrees.
    crs : str, optional
        User override such as ``"EPSG:32650"``.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.
    """
    if crs is None:
        return metric_crs_for(*centre_lonlat)
    chosen = CRS.from_user_input(crs)
    if not chosen.is_projected:
        raise InputError(
            f"[analysis] crs = {crs!r} is not projected; distances need metres. "
            "Fix: use e.g. 'EPSG:4549' (CGCS2000 GK CM 120E) or 'EPSG:32650' (UTM 50N)"
        )
    return chosen


def to_metric(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Return a copy of ``frame`` in ``crs``; the caller's frame is left untouched."""
    return frame.to_crs(crs)
