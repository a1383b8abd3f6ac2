"""Coordinates: metric CRS choice; GCJ-02 / BD-09 against published pairs and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from cjgis.inputs.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    metric_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def metres_apart(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_metric_crs_is_gauss_kruger_in_china_utm_elsewhere():
    assert metric_crs_for(120.27, 30.30).to_epsg() == 4549  # CGCS2000 GK CM 120E
    assert metric_crs_for(116.4, 39.9).to_epsg() == 4548  # CM 117E
    assert metric_crs_for(13.4, 52.5).to_epsg() == 32633  # Berlin: UTM 33N


# Reference outputs published in the wandergis/coordtransform README (116.404, 39.915).
def test_published_reference_pairs():
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )
    # the README's inverses are one-step approximations: ours is exact and within metres
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert 0.05 < metres_apart(lon, lat, 116.39775550083061, 39.91359571849836) < 5
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert metres_apart(lon, lat, 116.39762729119315, 39.90865673957631) < 0.1


def test_hangzhou_offset_is_about_500_m_east_and_south():
    lon, lat = wgs84_to_gcj02(120.27, 30.30)
    assert 450 < metres_apart(120.27, 30.30, lon, lat) < 560
    assert lon > 120.27 and lat < 30.30


def test_round_trips_across_china_below_half_a_millimetre():
    rng = np.random.default_rng(0)
    lon = rng.uniform(75, 134, 5000)
    lat = rng.uniform(18, 53, 5000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres_apart(lon, lat, *back).max() < 5e-4
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres_apart(lon, lat, *back).max() < 5e-4
    # and the other way round, starting from GCJ-02 points
    forward = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres_apart(lon, lat, *forward).max() < 5e-4


def test_no_offset_outside_china():
    lon, lat = wgs84_to_gcj02(np.array([2.35, -74.0]), np.array([48.86, 40.7]))
    np.testing.assert_array_equal(lon, [2.35, -74.0])
    np.testing.assert_array_equal(lat, [48.86, 40.7])


def _published_wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray):
    """The published GCJ-02 forward formula, written here apart from cjgis.inputs.coords.

    Krasovsky 1940 ellipsoid (a = 6378245 m, e² = 0.00669342162296594323) and the offset
    polynomials circulated with the GCJ-02 algorithm (e.g. the eviltransform projects).
    """
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1 - ee * np.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((a * (1 - ee)) / (magic * np.sqrt(magic)) * np.pi)
    d_lon = (d_lon * 180.0) / (a / np.sqrt(magic) * np.cos(rad) * np.pi)
    return lon + d_lon, lat + d_lat


def test_a_gcj02_layer_is_converted_back_within_half_a_metre(tmp_path):
    """A district boundary shifted into GCJ-02 independently, read with crs = "gcj02"."""
    import geopandas as gpd
    import shapely
    from conftest import HANGZHOU_DISTRICTS

    from cjgis.inputs.io import read_communities

    truth = gpd.read_file(HANGZHOU_DISTRICTS)  # taken as WGS84 truth for this test
    truth = truth[truth["name"].isin(["西湖区", "拱墅区"])].reset_index(drop=True)
    shifted = truth.copy()
    shifted["geometry"] = shapely.transform(
        truth.geometry.to_numpy(),
        lambda xy: np.column_stack(_published_wgs84_to_gcj02(xy[:, 0], xy[:, 1])),
    )
    path = tmp_path / "districts_gcj02.geojson"
    shifted.to_file(path)
    back = read_communities(path, id="id", name="name", crs="gcj02").frame
    before = shapely.get_coordinates(truth.geometry.to_numpy())
    after = shapely.get_coordinates(back.geometry.to_numpy())
    assert len(before) == len(after) > 1000
    gap_m = metres_apart(before[:, 0], before[:, 1], after[:, 0], after[:, 1])
    assert gap_m.max() < 0.5
    # read without the conversion, the same file lies hundreds of metres off
    raw = shapely.get_coordinates(
        read_communities(path, id="id", name="name").frame.geometry.to_numpy()
    )
    assert np.median(metres_apart(before[:, 0], before[:, 1], raw[:, 0], raw[:, 1])) > 300


def test_an_inverse_that_does_not_converge_is_an_error():
    from cjgis._errors import InputError
    from cjgis.inputs.coords import _invert

    def unstable(x, y):  # fixed-point steps x <- lon - x oscillate forever
        return 2 * x, 2 * y

    with pytest.raises(InputError, match="did not convert back to WGS84"):
        _invert(unstable, np.array([120.1]), np.array([30.2]))
    lon, lat = gcj02_to_wgs84(np.array([120.1, np.nan]), np.array([30.2, np.nan]))
    assert np.isfinite(lon[0]) and np.isnan(lon[1]) and np.isnan(lat[1])  # missing stays missing
