"""Residents from a population raster, from community totals, and living outside."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import X0, Y0

from cjgis.inputs.demand import combine, residents_from_raster, residents_from_totals
from cjgis.inputs.io import Layer, read_communities
from cjgis.inputs.sample import write_population_raster
from cjgis.judge.analysis import analyze


@pytest.fixture(scope="module")
def sample_files(sample_study):
    folder = sample_study.parent
    return {
        "buildings": gpd.read_file(folder / "buildings.gpkg"),
        "communities": read_communities(
            folder / "communities.geojson", id="community_id", name="name"
        ),
    }


@pytest.mark.parametrize(
    ("crs", "cell"), [("EPSG:4326", 0.001), ("EPSG:4549", 100.0), ("EPSG:32650", 75.0)]
)
def test_raster_totals_are_preserved_to_the_person(sample_files, tmp_path, crs, cell):
    buildings = sample_files["buildings"]
    total = buildings["population"].sum()
    path = tmp_path / "pop.tif"
    assert write_population_raster(buildings, path, crs=crs, cell=cell) == total
    layer = residents_from_raster(path, sample_files["communities"].frame)
    # every person of the raster is either analysed or listed with the cell left out
    kept, left_out = layer.frame["population"].sum(), layer.rejected["population"].sum()
    assert kept + left_out == pytest.approx(total, abs=0.5)
    assert left_out < 0.02 * total  # only cells whose centre falls just outside a boundary
    per = layer.frame.groupby("community_id")["population"].sum()
    truth = buildings.groupby("community_id")["population"].sum()
    # cells straddling a boundary go to the community holding their centre
    np.testing.assert_allclose(per.reindex(truth.index), truth, rtol=0.15)


def test_raster_cells_outside_every_community_are_listed(sample_files, tmp_path):
    buildings = sample_files["buildings"]
    far = buildings.iloc[[0]].copy()  # one building moved 2 km south, out of every community
    far["geometry"] = far.to_crs("EPSG:4549").translate(0, -2000).to_crs(buildings.crs).geometry
    path = tmp_path / "pop.tif"
    write_population_raster(gpd.pd.concat([buildings, far]), path)
    layer = residents_from_raster(path, sample_files["communities"].frame)
    assert len(layer.rejected) == 1
    assert layer.rejected["reason"].item() == "raster cell outside every community boundary"
    assert layer.rejected["population"].item() == far["population"].item()
    kept = layer.frame["population"].sum()
    assert kept == pytest.approx(buildings["population"].sum(), abs=0.5)


def box_communities(**totals):
    return gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "community_name": ["甲", "乙"], **totals},
        geometry=[
            shapely.box(X0, Y0, X0 + 200, Y0 + 200),
            shapely.box(X0 + 300, Y0, X0 + 500, Y0 + 200),
        ],
        crs="EPSG:4549",
    )


def test_totals_spread_over_buildings_by_floor_area_and_over_a_grid():
    comm = box_communities(pop=[1000.0, 300.0], old=[100.0, 60.0])
    buildings = gpd.GeoDataFrame(
        {"floor_area": [3000.0, 1000.0], "_row": [1, 2]},
        geometry=[
            shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 40),
            shapely.box(X0 + 100, Y0 + 100, X0 + 120, Y0 + 120),
        ],
        crs="EPSG:4549",
    )
    layer = residents_from_totals(
        comm,
        {"population": "pop", "elderly": "old"},
        buildings=buildings,
        floor_area="floor_area",
        grid_m=50,
    )
    frame = layer.frame.set_index("resident_id")
    assert frame.loc["A-b1", "population"] == pytest.approx(750)  # 3/4 of the floor area
    assert frame.loc["A-b2", "elderly"] == pytest.approx(25)
    grid = frame[frame["community_id"] == "B"]
    assert len(grid) == 16  # 200 m x 200 m at 50 m spacing
    assert grid["population"].sum() == pytest.approx(300)
    assert layer.frame["population"].sum() == pytest.approx(1300)


def test_residents_living_outside_count_for_their_home_community(river_network):
    comm = box_communities()
    inside = gpd.GeoDataFrame(
        {"resident_id": ["a1"], "population": [100.0]},
        geometry=[shapely.Point(X0 + 100, Y0 + 10)],
        crs="EPSG:4549",
    )
    away = gpd.GeoDataFrame(
        {
            "resident_id": ["outside-1"],
            "population": [40.0],
            "community_id": ["A"],
            "living_outside": [True],
        },
        geometry=[shapely.Point(X0 + 1800, Y0 + 190)],
        crs="EPSG:4549",
    )  # transition housing
    residents = combine(Layer(inside.assign(_row=1)), Layer(away.assign(_row=1)))
    facility = gpd.GeoDataFrame(
        {"facility_id": ["f"], "name": ["x"], "category": ["c"]},
        geometry=[shapely.Point(X0 + 100, Y0)],
        crs="EPSG:4549",
    )
    result = analyze(river_network, comm, residents, facility, verbose=False, profile="none")
    row = result.coverage.set_index("community_id").loc["A"]
    assert row["residents"] == 100 and row["covered_residents"] == 100  # those living there
    away_row = result.outside_coverage.set_index("community_id").loc["A"]  # their own row
    assert away_row["resident_group"] == "安置在外 living outside"
    assert away_row["residents"] == 40 and away_row["covered_residents"] == 0  # far from f
    rows = result.coverage_rows()
    assert list(rows["resident_group"])[:2] == [
        "本社区 in the community",
        "安置在外 living outside",
    ]
    assert result.residents.set_index("resident_id").loc["outside-1", "living_outside"]


def test_study_with_a_population_raster(sample_study, tmp_path):
    from cjgis.run.runner import analyze_study
    from cjgis.run.study import load_study

    folder = tmp_path / "s"
    shutil.copytree(sample_study.parent, folder)
    text = (folder / "study.toml").read_text(encoding="utf-8")
    start, end = text.index("[residents]"), text.index("[facilities]")
    text = text[:start] + '[residents]\nraster = "population.tif"\n\n' + text[end:]
    (folder / "study.toml").write_text(text, encoding="utf-8")
    result = analyze_study(load_study(folder / "study.toml"), verbose=False)
    total = gpd.read_file(folder / "buildings.gpkg")["population"].sum()
    assert result.residents["population"].sum() == pytest.approx(total, abs=0.5)
    first = result.coverage[result.coverage["category"] == result.categories[0]]
    kept = first["residents"].sum()
    assert kept + result.rejected["population"].sum() == pytest.approx(total, abs=0.5)
