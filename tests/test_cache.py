"""The network cache: exact round trip, hit on the same file, rebuild on any change."""

from __future__ import annotations

import shutil

import numpy as np
import shapely

from cjgis.streets.cache import cached_network, load_network, save_network
from cjgis.streets.sources import network_from_file


def test_round_trip_is_exact(hangzhou_network, tmp_path):
    back = load_network(save_network(hangzhou_network, tmp_path / "n.npz"))
    for name in ("node_id", "node_x", "node_y", "edge_u", "edge_v", "edge_length_m"):
        np.testing.assert_array_equal(getattr(back, name), getattr(hangzhou_network, name))
    assert shapely.equals_exact(back.edge_geometry, hangzhou_network.edge_geometry, 0).all()
    assert len(back.fragment_geometry) == len(hangzhou_network.fragment_geometry)
    assert back.crs == hangzhou_network.crs and back.dropped_edges == 116
    assert (back.graph != hangzhou_network.graph).nnz == 0  # the saved CSR, as built
    assert len(back.fragment_geometry) == 1  # the orphan edge is kept for the notes


def test_hit_change_and_corruption(sample_study, tmp_path):
    source = tmp_path / "streets.graphml"
    shutil.copy(sample_study.parent / "streets.graphml", source)
    built = []

    def build():
        built.append(1)
        return network_from_file(source)

    first = cached_network(source, build, cache_dir=tmp_path / "c", crs=None)
    second = cached_network(source, build, cache_dir=tmp_path / "c", crs=None)
    assert len(built) == 1 and second.n_edges == first.n_edges
    cached_network(source, build, cache_dir=tmp_path / "c", crs="EPSG:32650")
    assert len(built) == 2  # another CRS is another network
    source.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    cached_network(source, build, cache_dir=tmp_path / "c", crs=None)
    assert len(built) == 3  # the file changed
    for path in (tmp_path / "c").glob("*.npz"):
        path.write_bytes(b"not a cache")
    again = cached_network(source, build, cache_dir=tmp_path / "c", crs=None)
    assert len(built) == 4 and again.n_edges == first.n_edges


def test_barriers_and_street_names_survive_the_cache(sample_analysis, tmp_path):
    from cjgis.streets.cache import load_network, save_network

    net = sample_analysis.network
    assert len(net.barrier_geometry) >= 1  # the elevated expressway the walk filter refused
    assert (net.edge_name != "").any()
    back = load_network(save_network(net, tmp_path / "n.npz"))
    assert list(back.edge_name) == list(net.edge_name)
    assert shapely.equals_exact(back.barrier_geometry, net.barrier_geometry, tolerance=0).all()
