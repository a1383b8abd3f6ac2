"""A city-sized synthetic study on disk: the sample district's ingredients, scaled up.

    python benchmarks/city.py data/raw/city              # 500k nodes, 2,000 facilities, 300k
    python benchmarks/city.py data/raw/city --nodes 20000 --facilities 200 --residences 20000
    python benchmarks/city.py data/raw/city --graphml  # also streets.graphml (osmnx), same grid

Writes ``streets.osm.pbf`` (a jittered street grid at 60 m, about 300 junctions per km² as in
central Hangzhou, ways of several blocks with 8 % of links missing, arterials every 10th
street, two motorways pedestrians may not use), ``communities.gpkg`` (1 km squares, Chinese
names), ``buildings.gpkg`` (residences with population, households and elderly),
``facilities.csv`` (four categories with capacities, WGS84) and ``study.toml``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

SPACING_M = 60.0
ORIGIN = (500_000.0, 3_330_000.0)  # EPSG:4549, Hangzhou
CATEGORIES = ("elderly_care", "ev_charging", "ceremony_hall", "tool_storage")
UNITS = {"elderly_care": 60, "ev_charging": 40, "ceremony_hall": 20, "tool_storage": 200}

STUDY = """\
# {title}
[study]
name = "{name}"

[network]
path = "{network}"

[communities]
path = "communities.gpkg"
id = "community_id"
name = "name"

[residents]
path = "buildings.gpkg"
id = "building_id"
population = "population"
households = "households"
elderly = "elderly"

[facilities]
path = "facilities.csv"
category = "category"
name = "name"
lon = "lon"
lat = "lat"
capacity = "capacity"

[standards]
profile = "{profile}"

[output]
dir = "out"
map = "out/{name}.html"

[map]
basemap = "none"
"""


def study_text(name: str, *, network: str, profile: str, title: str) -> str:
    """The study file of a generated benchmark study (the files this script writes)."""
    return STUDY.format(name=name, network=network, profile=profile, title=title)


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True).transform(x, y)


def write_streets(path: Path, n_nodes: int, rng: np.random.Generator) -> float:
    """Write the street grid as an OSM PBF; return the side of the square in metres."""
    import osmium

    side = int(np.sqrt(n_nodes))
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    x = ORIGIN[0] + ix.ravel() * SPACING_M + rng.uniform(-12, 12, side * side)
    y = ORIGIN[1] + iy.ravel() * SPACING_M + rng.uniform(-12, 12, side * side)
    lon, lat = _lonlat(x, y)
    ids = np.arange(1, side * side + 1).reshape(side, side)
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    way_id = 1
    try:
        for i in range(side * side):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon[i], lat[i])))
        for lines in (ids, ids.T):  # streets along x, then along y
            for k, line in enumerate(lines):
                tags = {"highway": "primary" if k % 10 == 0 else "residential"}
                if k in (side // 3, 2 * side // 3) and lines is ids:
                    tags = {"highway": "motorway", "bridge": "yes"}
                missing = rng.random(side - 1) < 0.08
                way = [int(line[0])]
                for j in range(side - 1):
                    if not missing[j]:
                        way.append(int(line[j + 1]))
                    if missing[j] or len(way) == 7 or j == side - 2:
                        if len(way) >= 2:
                            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=way, tags=tags))
                            way_id += 1
                        way = [int(line[j + 1])]
    finally:
        writer.close()
    return (side - 1) * SPACING_M


def write_city(
    folder: str | Path,
    *,
    n_nodes: int = 500_000,
    n_facilities: int = 2_000,
    n_residences: int = 300_000,
    seed: int = 2017,
) -> Path:
    """Write the synthetic city's files and study file into ``folder``; return the study."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    span = write_streets(folder / "streets.osm.pbf", n_nodes, rng)

    step = 1000.0
    cells = int(np.ceil(span / step))
    gx, gy = np.meshgrid(np.arange(cells), np.arange(cells))
    boxes = shapely.box(
        ORIGIN[0] + gx.ravel() * step,
        ORIGIN[1] + gy.ravel() * step,
        ORIGIN[0] + np.minimum((gx.ravel() + 1) * step, span),
        ORIGIN[1] + np.minimum((gy.ravel() + 1) * step, span),
    )
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{i:04d}" for i in range(len(boxes))],
            "name": [f"第{i + 1}社区" for i in range(len(boxes))],
        },
        geometry=boxes,
        crs="EPSG:4549",
    )
    communities.to_crs("EPSG:4326").to_file(folder / "communities.gpkg", driver="GPKG")

    def points(n: int) -> np.ndarray:
        return shapely.points(
            ORIGIN[0] + rng.uniform(0, span, n), ORIGIN[1] + rng.uniform(0, span, n)
        )

    population = rng.integers(5, 200, n_residences)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:06d}" for i in range(n_residences)],
            "population": population,
            "households": np.maximum(1, population // 3),
            "elderly": rng.binomial(population, 0.18),
        },
        geometry=points(n_residences),
        crs="EPSG:4549",
    )
    buildings.to_crs("EPSG:4326").to_file(folder / "buildings.gpkg", driver="GPKG")

    category = np.array(CATEGORIES)[np.arange(n_facilities) % 4]
    fac = shapely.get_coordinates(points(n_facilities))
    lon, lat = _lonlat(fac[:, 0], fac[:, 1])
    pd.DataFrame(
        {
            "name": [f"设施{i + 1}" for i in range(n_facilities)],
            "category": category,
            "capacity": [UNITS[c] for c in category],
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
        }
    ).to_csv(folder / "facilities.csv", index=False, encoding="utf-8-sig")
    study = folder / "study.toml"
    text = study_text(
        folder.resolve().name,
        network="streets.osm.pbf",
        profile="hangzhou_2017",
        title="A synthetic city for benchmarks (benchmarks/city.py); not a real place.",
    )
    study.write_text(text, encoding="utf-8")
    return study


def write_graphml(folder: str | Path) -> Path:
    """Write the city's streets as osmnx GraphML too (the same ways, via networkx, once)."""
    import osmnx as ox

    from cjgis.streets.sources import graph_from_osm

    folder = Path(folder)
    path = folder / "streets.graphml"
    ox.save_graphml(graph_from_osm(folder / "streets.osm.pbf"), path)
    return path


def city_study(data: Path) -> Path:
    """Return the benchmarks' 500,000-node city study under ``data``, written if not there yet."""
    folder = Path(data) / "bench_city_500000_300000"
    if not (folder / "study.toml").is_file():
        write_city(folder, n_nodes=500_000, n_facilities=2_000, n_residences=300_000)
    return folder / "study.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--nodes", type=int, default=500_000)
    parser.add_argument("--facilities", type=int, default=2_000)
    parser.add_argument("--residences", type=int, default=300_000)
    parser.add_argument("--graphml", action="store_true", help="also write streets.graphml")
    args = parser.parse_args(argv)
    study = write_city(
        args.folder, n_nodes=args.nodes, n_facilities=args.facilities, n_residences=args.residences
    )
    print(study)
    if args.graphml:
        print(write_graphml(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
