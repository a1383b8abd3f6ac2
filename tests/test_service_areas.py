"""Service areas on hand-built networks: exact extents, rivers respected."""

from __future__ import annotations

import pytest
import shapely
from conftest import X0, Y0, pts

from cjgis.reach.service_areas import category_service_area, facility_service_areas
from cjgis.streets.snapping import attach_points


def test_line_area_ends_at_the_reach_plus_the_buffer(line_network):
    src = attach_points(line_network, pts((50, 0)))
    area = category_service_area(line_network, src, budget_m=900, buffer_m=40)
    x0, y0, x1, y1 = area.bounds
    assert (x0 - X0, y0 - Y0, x1 - X0, y1 - Y0) == pytest.approx((-40, -40, 990, 40), abs=1e-6)
    # a strip 80 m wide from x = 0 to 950 plus round ends: area is exact up to the arcs
    assert area.area == pytest.approx(950 * 80 + 3.0615 * 40**2, rel=2e-3)


def test_area_includes_the_facility_walk_to_the_street(line_network):
    facility = pts((500, 120))
    src = attach_points(line_network, facility)
    area = category_service_area(
        line_network, src, budget_m=900, buffer_m=40, source_points=facility
    )
    assert area.contains(facility[0])
    assert not area.contains(shapely.Point(X0 + 300, Y0 + 120))  # not a circle round it


def test_river_bank_opposite_is_outside_without_a_bridge_in_reach(river_network):
    # the facility sits at the west end of the north street; the bridge is 1000 m east
    src = attach_points(river_network, pts((0, 200)))
    area = category_service_area(river_network, src, budget_m=900, buffer_m=40)
    assert area.contains(shapely.Point(X0 + 890, Y0 + 200))
    assert not area.contains(shapely.Point(X0, Y0))  # 200 m away across the water
    assert not area.contains(shapely.Point(X0 + 1000, Y0 + 100))  # the bridge is beyond reach


def test_area_crosses_the_bridge_with_the_budget_left(river_network):
    src = attach_points(river_network, pts((900, 200)))
    area = category_service_area(river_network, src, budget_m=900, buffer_m=40)
    # 100 to the bridge, 200 over it, 600 left on the south street each way: x in 400..1600
    assert area.contains(shapely.Point(X0 + 410, Y0))
    assert not area.contains(shapely.Point(X0 + 400 - 41, Y0))
    assert area.contains(shapely.Point(X0 + 1590, Y0))


def test_facility_areas_each_cover_their_own_reach(line_network):
    src = attach_points(line_network, pts((100, 0), (1900, 0)))
    first, second = facility_service_areas(line_network, src, budget_m=300, buffer_m=10)
    assert first.bounds[0] - X0 == pytest.approx(-10) and first.bounds[2] - X0 == pytest.approx(410)
    assert second.bounds[0] - X0 == pytest.approx(1590)
    assert second.bounds[2] - X0 == pytest.approx(2010)
    assert not first.intersects(second)


def test_rasterised_area_survives_zero_length_edges():
    """A zero-length edge (two nodes at one place) must not turn samples into NaN."""
    import numpy as np
    import shapely

    from cjgis.reach.access import node_reach
    from cjgis.reach.service_areas import raster_band_areas
    from cjgis.streets.network import network_from_arrays
    from cjgis.streets.snapping import attach_points

    x = np.array([0.0, 100.0, 100.0, 200.0]) + 500_000
    y = np.zeros(4) + 3_350_000
    net = network_from_arrays(x, y, np.array([0, 1, 2]), np.array([1, 2, 3]), crs="EPSG:4549")
    src = attach_points(net, shapely.points([x[0] + 50], [y[0] + 5]))
    (area,) = raster_band_areas(
        net, src, node_reach(net, src), budgets_m=(300.0,), buffer_m=20, cell_m=5.0
    )
    assert area.is_valid and area.bounds[2] >= x[3] + 10  # reaches past the zero-length edge


def test_rasters_polygonised_on_several_threads_keep_their_place():
    """rasterio's shapes on two threads at once loses the transform; areas are drawn on two."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from cjgis.reach.service_areas import _Grid

    def polygonise(seed):
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 1000, (500, 2)) + np.array([500_000, 3_300_000])
        grid = _Grid.around(xy, pad_m=50, cell_m=5)
        mask = np.zeros(grid.shape, dtype=bool)
        mask[grid.rows(xy), grid.cols(xy)] = True
        return grid.polygons(mask).bounds

    with ThreadPoolExecutor(4) as pool:
        bounds = list(pool.map(polygonise, range(60)))  # a warning here is an error
    assert all(b[0] > 499_900 and b[1] > 3_299_900 for b in bounds)


@pytest.mark.parametrize("radius_cells", [0.0, 0.99, 1.0, 1.5, 2.0, 2.2, 3.37, 5.0, 9.5])
def test_disk_dilation_equals_a_distance_transform(radius_cells):
    """The dilation deciding raster areas marks exactly the cells a Euclidean distance
    transform puts within the radius (scipy as the oracle), edges of the raster included."""
    import numpy as np
    from scipy.ndimage import distance_transform_edt

    from cjgis.reach.service_areas import _dilate

    rng = np.random.default_rng(int(radius_cells * 100))
    for shape, density in (((60, 80), 0.02), ((7, 200), 0.05), ((3, 3), 0.3), ((50, 50), 0.0)):
        mask = rng.random(shape) < density
        mask[0, -1] = density > 0  # a reached cell in a corner
        expected = (
            distance_transform_edt(~mask) <= radius_cells if mask.any() else np.zeros(shape, bool)
        )
        got = _dilate(mask, radius_cells)
        assert got.dtype == bool and got.shape == shape
        np.testing.assert_array_equal(got, expected)


def test_raster_samples_include_where_each_budget_ends(line_network):
    """A raster is drawn from samples every half cell; where a budget runs out mid-edge the
    exact end is a sample too (walk = the budget), from whichever end is nearer."""
    import numpy as np

    from cjgis.reach.service_areas import _edge_samples

    net = line_network  # 100 m edges
    edges = np.array([0, 1, 2])
    d_u = np.array([0.0, 200.0, 250.0])  # edge 2 is reached from v only
    d_v = np.array([100.0, 300.0, 170.0])
    which, pos, walk = _edge_samples(net, edges, d_u, d_v, step_m=9.0, budgets_m=(37.3, 230.0))
    at_end = np.isin(walk, (37.3, 230.0))  # the budgets themselves, set for the end samples
    # 37.3 m: 37.3 m into edge 0; 230 m: 30 m into edge 1 from u, and 60 m back from v on edge 2
    assert edges[which[at_end]].tolist() == [0, 1, 2]
    np.testing.assert_allclose(pos[at_end], [37.3, 30.0, 40.0], rtol=0, atol=1e-9)
    assert np.allclose(walk, np.minimum(d_u[which] + pos, d_v[which] + 100.0 - pos))
    regular = walk[np.isin(walk, (37.3, 230.0), invert=True)]
    assert len(regular) == 3 * (int(np.ceil(100 / 9.0)) + 1)  # ends of edges included
