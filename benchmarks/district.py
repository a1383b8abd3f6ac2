"""A district-sized study on the shared real Hangzhou streets, with generated people and places.

    python benchmarks/district.py data/processed/bench_district        # 1,500 residences, 240
    python benchmarks/district.py FOLDER --residences 3000 --facilities 480

The streets are ``../shared/data/hangzhou/hz_sandun_jiangcun_osrm_streets.graphml`` (三墩 /
蒋村, OpenStreetMap via OSRM; read by path, never copied): 2,178 junctions, 12,220 vertices,
535 km. Around them this writes ``communities.gpkg`` (1 km squares, Chinese names),
``buildings.gpkg`` (residences 10-60 m off a random street, with population, households and
elderly), ``facilities.csv`` (the sample district's eight categories, with capacities, WGS84)
and ``study.toml`` with the study defaults: per-facility areas and tier bands on.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/city.py
from city import study_text

ROOT = Path(__file__).resolve().parents[1]
#: The shared data: ``../shared`` beside the repository, or where ``CJGIS_SHARED`` says.
SHARED = Path(os.environ.get("CJGIS_SHARED", ROOT.parent / "shared"))
STREETS = SHARED / "data/hangzhou/hz_sandun_jiangcun_osrm_streets.graphml"
#: share of the facilities per category (e-bike charging points are many and small)
SHARES = {
    "elderly_care": 0.10,
    "ev_charging": 0.50,
    "ceremony_hall": 0.05,
    "tool_storage": 0.05,
    "culture_station": 0.10,
    "kindergarten": 0.10,
    "health_centre": 0.05,
    "nursing_home": 0.05,
}


def _near_streets(network, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points 10-60 m off random positions of random streets (metres, network CRS)."""
    edge = rng.integers(0, network.n_edges, n)
    pos = rng.uniform(0, 1, n) * network.edge_length_m[edge]
    xy = network.points_along(edge, pos)
    angle = rng.uniform(0, 2 * np.pi, n)
    off = rng.uniform(10, 60, n)
    return xy + np.column_stack([np.cos(angle), np.sin(angle)]) * off[:, None]


def write_district(
    folder: str | Path,
    *,
    n_residences: int = 1_500,
    n_facilities: int = 240,
    seed: int = 2017,
    streets: Path = STREETS,
) -> Path:
    """Write the district's files and study file into ``folder``; return the study file."""
    from cjgis.inputs.sample import FACILITY_NAMES
    from cjgis.streets.sources import network_from_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    network = network_from_file(streets)
    crs = network.crs

    x0, y0 = network.node_x.min(), network.node_y.min()
    x1, y1 = network.node_x.max(), network.node_y.max()
    step = 1000.0
    gx, gy = np.meshgrid(np.arange(np.ceil((x1 - x0) / step)), np.arange(np.ceil((y1 - y0) / step)))
    boxes = shapely.box(
        x0 + gx.ravel() * step,
        y0 + gy.ravel() * step,
        x0 + (gx.ravel() + 1) * step,
        y0 + (gy.ravel() + 1) * step,
    )
    gpd.GeoDataFrame(
        {
            "community_id": [f"D{i:03d}" for i in range(len(boxes))],
            "name": [f"蒋村第{i + 1}社区" for i in range(len(boxes))],
        },
        geometry=boxes,
        crs=crs,
    ).to_crs("EPSG:4326").to_file(folder / "communities.gpkg", driver="GPKG")

    population = rng.integers(20, 400, n_residences)
    gpd.GeoDataFrame(
        {
            "building_id": [f"B{i:05d}" for i in range(n_residences)],
            "population": population,
            "households": np.maximum(1, population // 3),
            "elderly": rng.binomial(population, 0.18),
        },
        geometry=shapely.points(_near_streets(network, n_residences, rng)),
        crs=crs,
    ).to_crs("EPSG:4326").to_file(folder / "buildings.gpkg", driver="GPKG")

    counts = {c: max(1, round(s * n_facilities)) for c, s in SHARES.items()}
    counts["ev_charging"] += n_facilities - sum(counts.values())
    category = np.repeat(list(counts), list(counts.values()))
    xy = _near_streets(network, len(category), rng)
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=crs).to_crs("EPSG:4326")
    low = np.array([FACILITY_NAMES[c][2][0] for c in category])
    high = np.array([FACILITY_NAMES[c][2][1] for c in category])
    pd.DataFrame(
        {
            "name": [f"{FACILITY_NAMES[c][0]}{i + 1}号" for i, c in enumerate(category)],
            "category": category,
            "capacity": rng.integers(low, high + 1),
            "lon": lonlat.x.to_numpy(),
            "lat": lonlat.y.to_numpy(),
        }
    ).to_csv(folder / "facilities.csv", index=False, encoding="utf-8-sig")
    study = folder / "study.toml"
    text = study_text(
        folder.resolve().name,
        network=Path(streets).resolve().as_posix(),
        profile="chcj_2017",
        title="A district for benchmarks (benchmarks/district.py): real streets, generated people.",
    )
    study.write_text(text, encoding="utf-8")
    return study


def district_study(data: Path, *, short: bool = False) -> Path:
    """Return the benchmarks' district study under ``data``, written if it is not there yet.

    1,500 residences and 240 facilities; ``short``: 300 and 48.
    """
    residences, facilities = (300, 48) if short else (1_500, 240)
    folder = Path(data) / f"bench_district_{residences}_{facilities}"
    if not (folder / "study.toml").is_file():
        write_district(folder, n_residences=residences, n_facilities=facilities)
    return folder / "study.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--residences", type=int, default=1_500)
    parser.add_argument("--facilities", type=int, default=240)
    args = parser.parse_args(argv)
    print(write_district(args.folder, n_residences=args.residences, n_facilities=args.facilities))
    return 0


if __name__ == "__main__":
    sys.exit(main())
