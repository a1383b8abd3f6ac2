"""A region cut into tiles gives what one process gives: hand-built traps, real streets, Dask."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import graph_from_segments, pts

from cjgis._errors import InputError
from cjgis.cli import main
from cjgis.judge.analysis import analyze
from cjgis.reach.access import distances_within, node_reach, target_distances
from cjgis.reach.partition import Partition, _Index, _payload, balanced_tiles, partitioned_searches
from cjgis.run.runner import layers_from_study, network_from_study
from cjgis.run.study import load_study
from cjgis.streets.network import network_from_graph
from cjgis.streets.snapping import attach_points


def one_process(network, sources, targets, limits_m):
    """Walks, nearest facilities and pairs by one search over the whole network."""
    walks = {}
    for c, att in sources.items():
        walks[c] = target_distances(network, node_reach(network, att), att, targets)
    pairs = {
        c: distances_within(network, sources[c], targets, limit_m=m) for c, m in limits_m.items()
    }
    return walks, pairs


def tiled(network, sources, targets, limits_m, **kw):
    searches = partitioned_searches(network, sources, targets, pair_limits_m=limits_m, **kw)
    walks = {
        c: target_distances(network, searches.reach[c], att, targets) for c, att in sources.items()
    }
    return walks, searches.pairs, searches


def sorted_pairs(pairs):
    s, t, d = pairs
    order = np.lexsort((t, s))
    return s[order], t[order], d[order]


def assert_same(network, sources, targets, limits_m, **kw):
    walks, pairs = one_process(network, sources, targets, limits_m)
    got, got_pairs, searches = tiled(network, sources, targets, limits_m, **kw)
    for c in sources:
        np.testing.assert_allclose(got[c][0], walks[c][0], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(got[c][1], walks[c][1])
    for c in limits_m:
        want, have = sorted_pairs(pairs[c]), sorted_pairs(got_pairs[c])
        np.testing.assert_array_equal(have[0], want[0])
        np.testing.assert_array_equal(have[1], want[1])
        np.testing.assert_allclose(have[2], want[2], rtol=0, atol=1e-9)
    return searches


@pytest.fixture
def u_street():
    """A street that leaves a tile and comes back: a U of 100 m edges, and a spur.

    The bottom runs y = 0 from x = 0 to 3000, the right side up to y = 400, the top back to
    x = 0. From (0, 0) to (0, 400) is 400 m as the crow flies and 6,400 m on foot. A spur of
    1 km edges runs from (3000, 0) 5 km south, so no tile's box covers the whole network soon.
    """
    nodes, edges = {}, []
    for i in range(31):
        nodes[i] = (100.0 * i, 0.0)
        nodes[100 + i] = (100.0 * i, 400.0)
    for j in range(1, 4):
        nodes[200 + j] = (3000.0, 100.0 * j)
    for k in range(1, 6):
        nodes[300 + k] = (3000.0, -1000.0 * k)
    edges += [(i, i + 1) for i in range(30)] + [(100 + i, 101 + i) for i in range(30)]
    edges += [(30, 201), (201, 202), (202, 203), (203, 130)]
    edges += [(30, 301), (301, 302), (302, 303), (303, 304), (304, 305)]
    return network_from_graph(graph_from_segments(nodes, edges))


def west_of(net, x_m):
    """Tile 0: nodes less than ``x_m`` east of the network's west end; tile 1: the rest."""
    return np.where(net.node_x - net.node_x.min() < x_m, 0, 1)


def test_walks_that_leave_the_tile_and_come_back_are_exact(u_street):
    net = u_street
    facilities = attach_points(net, pts((0, 400), (505, 0)))  # b: just over the cut
    residents = attach_points(net, pts((0, 0), (100, 400), (495, 0), (3000, 200)))
    sources = {"a": facilities.subset(np.array([0])), "b": facilities.subset(np.array([1]))}
    searches = assert_same(
        net,
        sources,
        residents,
        {"a": 900.0, "b": 900.0},
        partition=Partition(west_of(net, 450)),
        halo_m=900.0,
    )
    # (0, 0) walks 6,400 m round the U to facility a: its tile is searched again with the halo
    # doubled until the walk is within it (7,200 m)
    assert [h for h, _ in searches.rounds] == [900.0, 1800.0, 3600.0, 7200.0]
    walks, _ = one_process(net, sources, residents, {})
    assert walks["a"][0][0] == pytest.approx(6400.0)  # the trap is real: 400 m apart


@pytest.mark.parametrize(("halo_m", "exact"), [(1500.0, True), (1399.0, False)])
def test_a_walk_exactly_at_the_halo_is_exact_and_a_shorter_halo_is_not(u_street, halo_m, exact):
    # a facility in the other tile, 1,500 m away; one round, no growing. The second case is a
    # negative test: a halo narrower than the walk (by more than the resident's own 100 m
    # street, which is read off the node at its far end) changes the answer.
    net = u_street
    sources = {"a": attach_points(net, pts((1500, 0)))}
    residents = attach_points(net, pts((0, 0)))
    got, _, searches = tiled(
        net,
        sources,
        residents,
        {},
        partition=Partition(west_of(net, 450)),
        halo_m=halo_m,
        grow=False,
    )
    want, _ = one_process(net, sources, residents, {})
    assert want["a"][0][0] == pytest.approx(1500.0, abs=1e-9)
    assert len(searches.rounds) == 1
    assert bool(np.isclose(got["a"][0][0], want["a"][0][0], rtol=0, atol=1e-9)) is exact


def test_a_halo_narrower_than_the_pair_limit_is_refused(u_street):
    sources = {"a": attach_points(u_street, pts((0, 400)))}
    with pytest.raises(ValueError, match="narrower than the longest limit"):
        partitioned_searches(
            u_street,
            sources,
            attach_points(u_street, pts((0, 0))),
            pair_limits_m={"a": 500.0},
            partition=Partition(2),
            halo_m=400.0,
        )


def random_points(net, n, rng):
    x0, y0 = net.node_x.min(), net.node_y.min()
    span = np.array([net.node_x.max() - x0, net.node_y.max() - y0])
    return shapely.points(np.array([x0, y0]) + rng.random((n, 2)) * span)


@pytest.fixture(scope="module")
def streets_case(hangzhou_network):
    """The real streets with 3 categories of random facilities and 2,000 residences."""
    rng = np.random.default_rng(16)
    net = hangzhou_network
    sources = {
        c: attach_points(net, random_points(net, n, rng))
        for c, n in (("a", 6), ("b", 40), ("c", 150))
    }
    residents = attach_points(net, random_points(net, 2000, rng))
    return net, sources, residents, {"b": 500.0, "c": 300.0}


def grid_labels(net, cell_m):
    """Square tiles of ``cell_m``: many cuts, walks cross them again and again."""
    col = np.floor((net.node_x - net.node_x.min()) / cell_m).astype(int)
    row = np.floor((net.node_y - net.node_y.min()) / cell_m).astype(int)
    return col * 1000 + row


@pytest.mark.parametrize("tiles", ["balanced", "grid"])
def test_real_streets_tiled_equal_one_process(streets_case, tiles):
    net, sources, residents, limits_m = streets_case
    labels = balanced_tiles(net, 9) if tiles == "balanced" else grid_labels(net, 700.0)
    searches = assert_same(
        net, sources, residents, limits_m, partition=Partition(labels), halo_m=500.0
    )
    assert len(searches.rounds) >= 2  # category "a" (6 facilities) walks beyond the halo


def test_on_real_streets_a_halo_narrower_than_the_limit_changes_answers(streets_case):
    net, sources, residents, _ = streets_case
    walks, _ = one_process(net, sources, residents, {})
    got, _, _ = tiled(
        net,
        sources,
        residents,
        {},
        partition=Partition(grid_labels(net, 700.0)),
        halo_m=150.0,
        grow=False,
    )
    within = walks["c"][0] <= 500.0
    wrong = within & ~np.isclose(got["c"][0], walks["c"][0], rtol=0, atol=1e-9)
    assert wrong.sum() > 100, wrong.sum()  # of the residences within 500 m of a facility


def test_balanced_tiles_have_about_equal_node_counts(hangzhou_network):
    labels = balanced_tiles(hangzhou_network, 7)
    counts = np.bincount(labels)
    assert len(counts) == 7 and counts.min() >= 0.9 * counts.max()


def test_tasks_ship_arrays_only(streets_case):
    net, sources, residents, limits_m = streets_case
    labels = balanced_tiles(net, 4)
    core = np.flatnonzero(labels == 0)
    task = _payload(
        net,
        _Index.of(net),
        core,
        sources,
        residents,
        halo_m=500.0,
        owned={c: labels[net.edge_u[sources[c].edge]] == 0 for c in limits_m},
        pair_limits_m=limits_m,
    )

    def leaves(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        else:
            yield value

    kinds = {type(v).__name__ for v in leaves(task)}
    assert kinds <= {"ndarray", "float", "bool", "NoneType", "tuple"}, kinds
    assert all(isinstance(a, np.ndarray) for a in task["graph"])
    assert len(task["node_x"]) < net.n_nodes  # a tile, not the city


@pytest.fixture(scope="module")
def client():
    import distributed  # the test extra installs cjgis[dask]

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_real_streets_on_two_dask_workers_equal_one_process(streets_case, client):
    net, sources, residents, limits_m = streets_case
    assert_same(
        net,
        sources,
        residents,
        limits_m,
        partition=Partition(grid_labels(net, 900.0), client=client),
        halo_m=500.0,
    )


def test_sample_analysis_on_two_dask_workers_equals_one_process(sample_study, client):
    study = load_study(sample_study)
    net = network_from_study(study)
    layers = layers_from_study(study)
    one = analyze(net, *layers, options=study.options, verbose=False)
    many = analyze(
        net, *layers, options=study.options, verbose=False, partition=Partition(4, client=client)
    )
    pd.testing.assert_frame_equal(many.coverage, one.coverage)
    pd.testing.assert_frame_equal(many.outside_coverage, one.outside_coverage)
    computed = [c for c in one.residents if c.startswith(("walk_min_", "access_"))]
    assert len(computed) > 7
    np.testing.assert_allclose(
        many.residents[computed].to_numpy(float), one.residents[computed].to_numpy(float), atol=1e-9
    )
    nearest = [c for c in one.residents if c.startswith("nearest_")]
    pd.testing.assert_frame_equal(many.residents[nearest], one.residents[nearest])
    assert many.service_areas.geometry.geom_equals_exact(one.service_areas.geometry, 0).all()
    pd.testing.assert_frame_equal(
        many.blind_spots.drop(columns="geometry"), one.blind_spots.drop(columns="geometry")
    )


def test_a_narrow_halo_is_refused_by_the_analysis(sample_study):
    study = load_study(sample_study)
    with pytest.raises(InputError, match="halo 200 m is narrower"):
        analyze(
            network_from_study(study),
            *layers_from_study(study),
            options=study.options,
            verbose=False,
            partition=Partition(4, halo_m=200.0),
        )


def test_cli_tiles_write_what_one_process_writes(sample_study, tmp_path, monkeypatch):
    for name, extra in (("one", []), ("tiled", ["--tiles", "4", "--workers", "2"])):
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.chdir(folder)
        assert main(["analyze", "--quiet", "--no-map", str(sample_study), *extra]) == 0
    one, tiled_dir = (tmp_path / n / "data" / "processed" / "sample" for n in ("one", "tiled"))
    for table in ("coverage.csv", "scorecard.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tiled_dir / table), pd.read_csv(one / table))
    a, b = (gpd.read_file(folder / "residents.gpkg") for folder in (one, tiled_dir))
    walks = [c for c in a.columns if c.startswith("walk_min_")]
    np.testing.assert_allclose(b[walks], a[walks], rtol=0, atol=1e-9)
