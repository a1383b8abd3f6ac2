"""Coordinate reference systems: choose a metric CRS and project into it.

Distances are only ever measured in a projected, metric CRS. Inside China the default is
the CGCS2000 3-degree Gauss-Krüger zone of the data's longitude (EPSG:4534 + (CM - 75) / 3;
EPSG:4549, central meridian 120°E, for Hangzhou), whose scale error at Hangzhou is below
1e-5; elsewhere the UTM zone. It also converts between WGS84 and the Chinese GCJ-02
(Amap/Gaode) and BD-09 (Baidu) coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS, Transformer

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


def metric_crs_of(layer) -> CRS:
    """Return :func:`metric_crs_for` the centre of a layer's extent.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame or geopandas.GeoSeries
        Any layer with a CRS.

    Returns
    -------
    pyproj.CRS
        The metric CRS of the centre of the layer's WGS84 bounding box.
    """
    west, south, east, north = layer.to_crs("EPSG:4326").total_bounds
    return metric_crs_for((west + east) / 2.0, (south + north) / 2.0)


def projector(source, target) -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that maps ``(n, 2)`` x/y coordinates from ``source`` to ``target``.

    The function suits :func:`shapely.transform`; axis order is always x (lon), y (lat).

    Parameters
    ----------
    source, target : pyproj.CRS or str
        Coordinate reference systems.

    Returns
    -------
    callable
        ``f(xy) -> xy``.
    """
    transformer = Transformer.from_crs(source, target, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return project


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


# --- Chinese coordinate systems -------------------------------------------------------------
# GCJ-02 ("Mars" coordinates, Amap/Gaode, Tencent) is WGS84 plus an obfuscating offset of
# about 500 m in Hangzhou; BD-09 (Baidu) is a further offset of GCJ-02. The forward formulas
# are the published ones; inverses are solved by fixed-point iteration to 1e-10 degrees
# (about 0.01 mm), not the one-step approximation that leaves errors of a metre or more.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return where the GCJ-02 offset applies (the customary rough box around China)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return out


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02; unchanged outside China.

    Examples
    --------
    >>> [round(float(v), 8) for v in wgs84_to_gcj02(116.404, 39.915)]
    [116.4102445, 39.91640428]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration (the offset is smooth).

    Missing coordinates (NaN) stay missing; a point that does not converge within
    ``_INVERSE_MAX_STEPS`` raises :class:`~cjgis._errors.InputError` naming it, rather than
    returning its last step as if it were the answer.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        step = np.fmax(np.abs(dx), np.abs(dy))  # NaN only where the input is missing
        if not np.any(step >= _INVERSE_TOLERANCE_DEG):
            return x, y
    bad = np.flatnonzero(np.atleast_1d(step >= _INVERSE_TOLERANCE_DEG))
    first = bad[0]
    raise InputError(
        f"{len(bad)} coordinates did not convert back to WGS84 (the inverse did not converge "
        f"in {_INVERSE_MAX_STEPS} steps; first: {np.atleast_1d(lon)[first]:.6f}, "
        f"{np.atleast_1d(lat)[first]:.6f}). Fix: check that these are GCJ-02/BD-09 "
        "longitude/latitude in degrees, inside China"
    )


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 to WGS84, exact to about 0.01 mm (iterative inverse)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert Baidu BD-09 to GCJ-02 (iterative inverse)."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert Baidu BD-09 to WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 to Baidu BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


#: Names accepted for Chinese coordinate systems wherever a ``crs`` is asked for.
CHINESE_CRS = {
    "gcj02": gcj02_to_wgs84,
    "gcj-02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
    "bd-09": bd09_to_wgs84,
}


#: WGS84 to the Chinese systems (:data:`CHINESE_CRS` holds the way back).
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84_geometries(geometries: np.ndarray, crs_name: str) -> np.ndarray:
    """Convert shapely geometries given in GCJ-02 or BD-09 degrees to WGS84 degrees."""
    inverse = CHINESE_CRS[crs_name.lower()]
    return shapely.transform(geometries, lambda c: np.column_stack(inverse(c[:, 0], c[:, 1])))


def from_wgs84_geometries(geometries: np.ndarray, crs_name: str) -> np.ndarray:
    """Convert shapely geometries in WGS84 degrees to GCJ-02 or BD-09 (for display)."""
    forward = _FROM_WGS84[crs_name.lower().replace("-", "")]
    return shapely.transform(geometries, lambda c: np.column_stack(forward(c[:, 0], c[:, 1])))


def coordinates_in(geometries: np.ndarray, source, crs: str) -> np.ndarray:
    """Return points' coordinates in ``crs`` as an (n, 2) array.

    ``source`` is the points' CRS; ``crs`` an EPSG code or ``"gcj02"``/``"bd09"`` (reached by
    way of WGS84, as Amap and Baidu number them).
    """
    xy = shapely.get_coordinates(geometries)
    if crs.lower() not in CHINESE_CRS:
        return projector(source, crs)(xy)
    lon, lat = projector(source, "EPSG:4326")(xy).T
    forward = _FROM_WGS84[crs.lower().replace("-", "")]
    return np.column_stack(forward(lon, lat))
