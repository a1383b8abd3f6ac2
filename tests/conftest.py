"""Fixtures: hand-built networks with known answers, the real Hangzhou streets, the sample."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from cjgis.streets.network import network_from_graph

#: Hand-built networks live in EPSG:4549 metres around this origin (Hangzhou, 120°E).
X0, Y0 = 500_000.0, 3_350_000.0

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CJGIS_SHARED", REPO.parent / "shared"))
HANGZHOU_STREETS = SHARED / "data" / "hangzhou" / "hz_sandun_jiangcun_osrm_streets.graphml"
HANGZHOU_DISTRICTS = SHARED / "data" / "hangzhou" / "hangzhou_districts_2017_gcj02.geojson"


def chromium_or_skip() -> str:
    """Return the installed Chromium's command, or skip the module (fail it under ``CI``).

    ``.ci/run`` installs Debian's ``chromium``, so CI runs every browser test.
    """
    found = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)", pytrace=False)
        pytest.skip("no Chromium installed: apt-get install chromium", allow_module_level=True)
    return found


def graph_from_segments(
    nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int]], **edge_attrs
) -> nx.MultiDiGraph:
    """A projected osmnx-style graph from local coordinates (metres from X0, Y0)."""
    graph = nx.MultiDiGraph(crs="EPSG:4549")
    for n, (x, y) in nodes.items():
        graph.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v in edges:
        length = float(np.hypot(nodes[u][0] - nodes[v][0], nodes[u][1] - nodes[v][1]))
        graph.add_edge(u, v, length=length, **edge_attrs)
        graph.add_edge(v, u, length=length, **edge_attrs)
    return graph


@pytest.fixture
def study_dir(sample_study, tmp_path) -> Path:
    """A private copy of the sample's files, free to break."""
    import shutil

    folder = tmp_path / "study"
    shutil.copytree(sample_study.parent, folder)
    return folder


def edit_study(folder: Path, old: str, new: str) -> Path:
    """Replace the one occurrence of ``old`` in the folder's study file with ``new``."""
    path = folder / "study.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def append_to_study(folder: Path, text: str) -> Path:
    """Append TOML ``text`` (a section the sample lacks) to the folder's study file."""
    path = folder / "study.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


def walked_categories(profile: str = "chcj_2017") -> list[str]:
    """The walking-scale category keys of a shipped profile, in its order (read from its file)."""
    from cjgis.judge.standards import load_profile

    body = load_profile(profile).categories
    return [key for key, rule in body.items() if rule.get("scale", "walk") == "walk"]


def pts(*xy: tuple[float, float]) -> np.ndarray:
    """Shapely points at local coordinates."""
    return shapely.points([(X0 + x, Y0 + y) for x, y in xy])


def straight_street():
    """A straight street of twenty 100 m edges along y = 0, x = 0 ... 2000."""
    nodes = {i: (100.0 * i, 0.0) for i in range(21)}
    return network_from_graph(graph_from_segments(nodes, [(i, i + 1) for i in range(20)]))


@pytest.fixture
def line_network():
    """A straight street of twenty 100 m edges along y = 0, x = 0 ... 2000."""
    return straight_street()


def street_layers(residents: dict[str, tuple[float, float, float]], facilities: list[tuple]):
    """One community 甲社区 along the straight street, its residents and category-c facilities.

    ``residents``: id -> (x, y, population); ``facilities``: (id, name, x, y), local metres.
    """
    import geopandas as gpd

    communities = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["甲社区"]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 2050, Y0 + 50)],
        crs="EPSG:4549",
    )
    people = gpd.GeoDataFrame(
        {"resident_id": list(residents), "population": [p for *_, p in residents.values()]},
        geometry=pts(*((x, y) for x, y, _ in residents.values())),
        crs="EPSG:4549",
    )
    places = gpd.GeoDataFrame(
        {
            "facility_id": [f[0] for f in facilities],
            "name": [f[1] for f in facilities],
            "category": ["c"] * len(facilities),
        },
        geometry=pts(*((f[2], f[3]) for f in facilities)),
        crs="EPSG:4549",
    )
    return communities, people, places


@pytest.fixture
def river_network():
    """Two streets 200 m apart (south y = 0, north y = 200), one bridge at x = 1000."""
    south = {i: (100.0 * i, 0.0) for i in range(21)}
    north = {100 + i: (100.0 * i, 200.0) for i in range(21)}
    edges = [(i, i + 1) for i in range(20)] + [(100 + i, 101 + i) for i in range(20)]
    edges.append((10, 110))  # the bridge
    return network_from_graph(graph_from_segments({**south, **north}, edges))


@pytest.fixture(scope="session")
def hangzhou_streets() -> Path:
    """Path of the real OSM-derived streets of 三墩/蒋村/文新 in ../shared."""
    if not HANGZHOU_STREETS.is_file():
        pytest.fail(
            f"{HANGZHOU_STREETS} not found: clone cjgis beside shared/ "
            "or set CJGIS_SHARED to the shared folder"
        )
    return HANGZHOU_STREETS


@pytest.fixture(scope="session")
def hangzhou_network(hangzhou_streets):
    from cjgis.streets.sources import network_from_file

    return network_from_file(hangzhou_streets)


@pytest.fixture(scope="session")
def sample_study(tmp_path_factory) -> Path:
    """The generated sample district, written once per test session."""
    from cjgis.inputs.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def sample_analysis(sample_study):
    from cjgis.run.runner import analyze_study
    from cjgis.run.study import load_study

    return analyze_study(load_study(sample_study), verbose=False)


@pytest.fixture(scope="session", autouse=True)
def _work_in_a_temporary_folder(tmp_path_factory):
    """Run the tests outside the repository: caches and default outputs land in a tmp dir."""
    here = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(here)


def study_copy(study: Path, folder: Path, *, name: str | None = None, extra: str = "") -> Path:
    """A copy of a study file in ``folder`` (its inputs by absolute path), maybe renamed and
    with ``extra`` TOML appended (batches and sweeps)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = study.read_text(encoding="utf-8")
    if name is not None:
        text = text.replace('name = "sample"', f'name = "{name}"')
    for file in study.parent.iterdir():
        text = text.replace(f'"{file.name}"', f'"{file.as_posix()}"')
    path = folder / f"{name or study.stem}.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path
