"""A fictional but realistic 撤村建居 resettlement district, generated deterministically.

East of Hangzhou's centre (about 120.27°E, 30.30°N): arterials on a 400-600 m grid; a river
crossable only at two road bridges (and under an elevated expressway pedestrians may not
use); irregular village lanes and footpaths inside eight former villages, now communities with
Chinese names; resettlement buildings with population, households and elderly (about 50,000
residents); and facilities of the four categories of the 2017 Hangzhou opinion, placed so that
some communities are served and others have clear gaps.

:func:`write_sample` writes the files a planner would bring, in the formats they use:
``communities.geojson``, ``buildings.gpkg``, ``facilities.csv`` (UTF-8 with BOM),
``streets.graphml`` (osmnx), ``population.tif`` (WGS84 grid, like WorldPop) and ``study.toml``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely import affinity

from cjgis._atomic import atomic_path

SAMPLE_CRS = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Krüger CM 120E
CENTRE_LONLAT = (120.27, 30.30)
WIDTH_M, HEIGHT_M = 3000.0, 2400.0
RIVER_BANK_M = 25.0
BRIDGE_COLUMNS = (1, 4)  # vertical arterials that bridge the river

#: (name, cells as (column, row) of the arterial grid); row 2 holds the river.
COMMUNITIES = (
    ("沈家社区", ((0, 0), (0, 1))),
    ("俞章社区", ((1, 0), (1, 1))),
    ("杨公社区", ((2, 1),)),
    ("新塘社区", ((3, 0), (3, 1))),
    ("皋亭社区", ((4, 1),)),
    ("章家坝社区", ((0, 3), (1, 3))),
    ("东湖社区", ((2, 3), (2, 4))),
    ("钱江社区", ((3, 3), (4, 3))),
)
#: category -> {community index: how many} (each placed beside a random lane node inside).
#: E-bike charging points are many and small; the others are one per host community.
FACILITY_PLAN = {
    "elderly_care": {0: 2, 1: 1, 3: 2, 5: 2, 6: 2},
    "ev_charging": {1: 12, 2: 6, 3: 12, 5: 12, 6: 12, 7: 3},
    "ceremony_hall": {5: 1, 7: 1},
    "tool_storage": {0: 1},
    # GB 50180-2018 life-circle items (profile chcj_2017 assesses them on the same scorecard)
    "culture_station": {0: 1, 2: 1, 4: 1, 6: 1},
    "kindergarten": {1: 1, 3: 1, 5: 1},
    "health_centre": {3: 1},
    "nursing_home": {7: 1},
    # the rest of the opinion's list (综治, 体育, 便民利民服务网点, 15分钟便民服务圈) and GB 50180's
    # 5-minute items, drawn after the others so that their places stay as they were
    "community_service": {0: 1, 1: 1, 2: 1, 3: 1, 5: 1, 6: 1, 7: 1},
    "sport": {0: 1, 2: 1, 3: 1, 5: 1, 7: 1},
    "market": {1: 1, 6: 1},
    "convenience": {0: 3, 1: 3, 2: 2, 3: 3, 4: 2, 5: 3, 6: 3, 7: 3},
    "nonmotor_parking": {0: 2, 1: 2, 3: 2, 5: 2, 6: 2},
    "police_room": {0: 1, 3: 1, 5: 1, 6: 1},
    "waste_point": {k: 6 for k in range(8)},
}
FACILITY_NAMES = {
    "elderly_care": ("居家养老服务照料中心", "m2", (300, 700)),
    "ev_charging": ("电瓶车集中充电点", "sockets", (40, 120)),
    "ceremony_hall": ("文化礼堂(红白喜事用房)", "tables", (40, 80)),
    "tool_storage": ("农用具集中放置点", "m2", (200, 400)),
    "culture_station": ("文化活动站", "m2", (200, 400)),
    "kindergarten": ("幼儿园", "places", (90, 270)),
    "health_centre": ("社区卫生服务中心", "m2", (1000, 2000)),
    "nursing_home": ("养老院", "beds", (120, 200)),
    "community_service": ("社区服务站", "m2", (300, 800)),
    "sport": ("健身广场", "m2", (800, 2000)),
    "market": ("农贸市场", "m2", (1500, 3000)),
    "convenience": ("便利店", "m2", (60, 200)),
    "nonmotor_parking": ("非机动车停车棚", "spaces", (60, 200)),
    "police_room": ("警务室", "m2", (40, 80)),
    "waste_point": ("垃圾分类收集点", "bins", (4, 8)),
}
_ARTERIAL_NAMES_NS = ("沈家路", "俞章路", "杨公路", "新塘路", "皋亭路", "钱江路")
_ARTERIAL_NAMES_EW = ("南环路", "东湖路", "滨河路", "沿江路", "北环路", "丁兰路")


@dataclass
class _Builder:
    """Collects nodes (keyed by rounded coordinates) and edges in local metres."""

    nodes: dict[tuple[float, float], int] = field(default_factory=dict)
    edges: list[tuple[int, int, dict]] = field(default_factory=list)

    def node(self, x: float, y: float) -> int:
        key = (round(x, 2), round(y, 2))
        return self.nodes.setdefault(key, len(self.nodes) + 1)

    def edge(self, a: tuple[float, float], b: tuple[float, float], via=(), **attrs) -> None:
        coords = [a, *via, b]
        attrs["geometry"] = shapely.LineString(coords) if via else None
        self.edges.append((self.node(*a), self.node(*b), attrs))


def _grid_lines(rng: np.random.Generator, extent: float) -> np.ndarray:
    """Arterial positions from 0 to ``extent``: spacing 400-600 m."""
    n = max(round(extent / 500.0), 1)
    inner = np.linspace(0, extent, n + 1)[1:-1] + rng.uniform(-60, 60, n - 1)
    return np.concatenate([[0.0], inner, [extent]])


def _river_y(x: np.ndarray | float, ys: np.ndarray) -> np.ndarray | float:
    mid = (ys[2] + ys[3]) / 2.0
    return mid + 70.0 * np.sin(2 * math.pi * np.asarray(x) / 1700.0)


def _arterials(b: _Builder, xs: np.ndarray, ys: np.ndarray, lane_stops: dict) -> None:
    """Arterials split at every junction; non-bridge ones stop at the river banks."""
    for i, x in enumerate(xs):
        ry = float(_river_y(x, ys))
        stops = sorted({*ys, ry - RIVER_BANK_M, ry + RIVER_BANK_M, *lane_stops.get(("x", i), ())})
        for y0, y1 in itertools.pairwise(stops):
            crossing = y0 >= ry - RIVER_BANK_M - 1e-6 and y1 <= ry + RIVER_BANK_M + 1e-6
            if crossing and i not in BRIDGE_COLUMNS:
                continue
            kind = "primary" if i in BRIDGE_COLUMNS else "secondary"
            b.edge(
                (x, y0),
                (x, y1),
                highway=kind,
                name=_ARTERIAL_NAMES_NS[i % 6],
                bridge="yes" if crossing else "no",
            )
    for j, y in enumerate(ys):
        stops = sorted({*xs, *lane_stops.get(("y", j), ())})
        for x0, x1 in itertools.pairwise(stops):
            b.edge((x0, y), (x1, y), highway="secondary", name=_ARTERIAL_NAMES_EW[j % 6])


def _greenway(b: _Builder, xs: np.ndarray, ys: np.ndarray) -> None:
    """Add a footpath along the south bank, joining the dead ends of the arterials."""
    for x0, x1 in itertools.pairwise(xs):
        px = np.linspace(x0, x1, 8)
        py = _river_y(px, ys) - RIVER_BANK_M
        pts = list(zip(px.tolist(), py.tolist(), strict=True))
        b.edge(pts[0], pts[-1], via=pts[1:-1], highway="footway", name="滨河绿道")


def _expressway(b: _Builder, xs: np.ndarray, ys: np.ndarray) -> float:
    """Add an elevated expressway over the river: a motorway, never walkable."""
    x = (xs[2] + xs[3]) / 2.0
    b.edge((x, ys[0]), (x, ys[-1]), highway="motorway", name="东湖高架路", bridge="yes")
    return x


def _lanes(
    b: _Builder,
    rng,
    cell: tuple[float, float, float, float],
    name: str,
    stops: dict,
    col_row: tuple[int, int],
) -> list[tuple[float, float]]:
    """Irregular village lanes inside a cell; returns the lane nodes (for facilities)."""
    x0, y0, x1, y1 = cell
    nx_, ny_ = max(int((x1 - x0) / 110), 2), max(int((y1 - y0) / 120), 2)
    gx = np.linspace(x0, x1, nx_ + 1)
    gy = np.linspace(y0, y1, ny_ + 1)
    pts = {}
    for a, x in enumerate(gx):
        for c, y in enumerate(gy):
            border = a in (0, nx_) or c in (0, ny_)
            jitter = (0.0, 0.0) if border else tuple(rng.uniform(-15, 15, 2))
            if a in (0, nx_) and 0 < c < ny_:
                stops.setdefault(("x", col_row[0] + (a > 0)), set()).add(y)
            if c in (0, ny_) and 0 < a < nx_:
                stops.setdefault(("y", col_row[1] + (c > 0)), set()).add(x)
            pts[a, c] = (x + jitter[0], y + jitter[1])
    lane = f"{name[:-2]}村"
    for (a, c), p in pts.items():
        for da, dc in ((1, 0), (0, 1)):
            q = pts.get((a + da, c + dc))
            along_border = (da and c in (0, ny_)) or (dc and a in (0, nx_))
            if q is None or along_border or rng.random() < 0.18:
                continue
            mid = ((p[0] + q[0]) / 2 + rng.uniform(-8, 8), (p[1] + q[1]) / 2 + rng.uniform(-8, 8))
            b.edge(p, q, via=(mid,), highway="residential", name=f"{lane}{len(b.edges) % 9 + 1}弄")
    a, c = int(rng.integers(1, nx_)), int(rng.integers(1, ny_))
    if (a + 1, c + 1) in pts:
        b.edge(pts[a, c], pts[a + 1, c + 1], highway="footway", name="")
    return [p for (a, c), p in pts.items() if 0 < a < nx_ and 0 < c < ny_]


def _buildings(rng, cell, name: str) -> list[shapely.Polygon]:
    """Resettlement blocks (14 x 34 m) in the middle of lane blocks."""
    x0, y0, x1, y1 = cell
    nx_, ny_ = max(int((x1 - x0) / 110), 2), max(int((y1 - y0) / 120), 2)
    gx, gy = np.linspace(x0, x1, nx_ + 1), np.linspace(y0, y1, ny_ + 1)
    out = []
    for cx in (gx[:-1] + gx[1:]) / 2:
        for cy in (gy[:-1] + gy[1:]) / 2:
            for dx in (-24.0, 24.0):
                footprint = shapely.box(-7, -17, 7, 17)
                footprint = affinity.rotate(footprint, rng.uniform(-12, 12))
                out.append(affinity.translate(footprint, cx + dx, cy + rng.uniform(-8, 8)))
    return out


def sample_district(seed: int = 2017) -> dict[str, object]:
    """Generate the sample district in memory (metric CRS ``EPSG:4549``).

    Parameters
    ----------
    seed : int, optional
        Seed of the random generator; the same seed gives the same district.

    Returns
    -------
    dict
        ``graph`` (networkx MultiDiGraph, lon/lat), ``communities``, ``buildings``,
        ``facilities`` (GeoDataFrames in EPSG:4549).
    """
    rng = np.random.default_rng(seed)
    xs, ys = _grid_lines(rng, WIDTH_M), _grid_lines(rng, HEIGHT_M)
    b, stops = _Builder(), {}
    comm_rows, buildings, lane_nodes = [], [], {}
    for k, (name, cells) in enumerate(COMMUNITIES):
        boxes = [(xs[c], ys[r], xs[c + 1], ys[r + 1]) for c, r in cells]
        lane_nodes[k] = []
        for (c, r), box in zip(cells, boxes, strict=True):
            lane_nodes[k] += _lanes(b, rng, box, name, stops, (c, r))
            buildings += [(k, g) for g in _buildings(rng, box, name)]
        x0, y0 = min(bx[0] for bx in boxes) + 6, min(bx[1] for bx in boxes) + 6
        x1, y1 = max(bx[2] for bx in boxes) - 6, max(bx[3] for bx in boxes) - 6
        comm_rows.append(
            {"community_id": f"C{k + 1:02d}", "name": name, "geometry": shapely.box(x0, y0, x1, y1)}
        )
    _arterials(b, xs, ys, stops)
    _greenway(b, xs, ys)
    _expressway(b, xs, ys)
    origin = _origin()
    communities = _to_frame(comm_rows, origin)
    build = _population(rng, buildings, communities)
    build = gpd.GeoDataFrame(build, geometry="geometry", crs=SAMPLE_CRS)
    build["geometry"] = build.geometry.translate(*origin)
    facilities = _facilities(rng, lane_nodes, origin)
    return {
        "graph": _graph(b, origin),
        "communities": communities,
        "buildings": build,
        "residents_outside": _transition_housing(build),
        "facilities": facilities,
        "river": _river(xs, ys, origin),
        **_planned(xs, ys, lane_nodes, origin),
        **_new_site(xs, ys, origin),
    }


def _planned(xs, ys, lane_nodes, origin) -> dict[str, gpd.GeoDataFrame]:
    """Plan a footbridge joining two dead-end streets, and two new facilities."""
    x = xs[3]
    ry = float(_river_y(x, ys))
    bridge = shapely.LineString([(x, ry - RIVER_BANK_M), (x, ry + RIVER_BANK_M)])
    roads = _to_frame(
        [{"name": "新塘河规划人行桥", "status": "planned", "geometry": bridge}], origin
    )
    host = {"elderly_care": (7, 600), "ev_charging": (0, 120)}  # 钱江社区 600 m², 沈家社区
    rows = []
    for category, (k, capacity) in host.items():
        nodes = np.array(lane_nodes[k])
        x0, y0 = nodes[np.argmin(np.abs(nodes - nodes.mean(axis=0)).sum(axis=1))]
        rows.append(
            {
                "name": f"{COMMUNITIES[k][0]}{FACILITY_NAMES[category][0]}(规划)",
                "category": category,
                "capacity": capacity,
                "geometry": shapely.Point(x0 + 12, y0 + 12),
            }
        )
    return {"planned_roads": roads, "planned_facilities": _to_frame(rows, origin)}


#: The new resettlement site: the empty grid cell south of 杨公社区, between 南环路 and 东湖路.
NEW_SITE_CELL = (2, 0)
#: Its buildings: 楼号, 户数 and the place in the cell (metres from its south-west corner).
NEW_SITE_BUILDINGS = (
    ("1#", 96, 70, 60),
    ("2#", 120, 190, 60),
    ("3#", 88, 70, 220),
    ("4#", 112, 190, 220),
    ("5#", 72, 70, 330),
    ("6#", 104, 190, 330),
    ("7#", 64, 200, 430),
    ("8#", 96, 340, 120),
    ("9#", 120, 460, 120),
    ("10#", 80, 340, 330),
    ("11#", 96, 460, 330),
    ("12#", 56, 400, 450),
)


def _new_site(xs, ys, origin) -> dict[str, gpd.GeoDataFrame]:
    """Plan a new resettlement site as a design institute hands it over (EPSG:4549).

    A spine between the streets south and north of the cell, three branches meeting it in
    T-junctions (one a dead end, one ending 13 m short of the street west of it), and a
    footbridge (竖向 = 1) from the north-west branch over the north street; twelve buildings
    with 户数 only; the site boundary with its own columns.
    """
    c, r = NEW_SITE_CELL
    x0, y0, x1, y1 = xs[c], ys[r], xs[c + 1], ys[r + 1]
    mid = (x0 + x1) / 2
    lines = [
        ("R1", "规划一路", 0, [(mid, y0), (mid, y1)]),
        ("R2", "规划二路", 0, [(mid, y0 + 250), (mid + 155, y0 + 250)]),
        ("R3", "规划三路", 0, [(mid, y0 + 150), (x0 + 13, y0 + 150)]),
        ("R4", "规划四路", 0, [(mid, y0 + 450), (x0 + 143, y0 + 450)]),
        ("R5", "规划人行桥", 1, [(x0 + 143, y0 + 450), (x0 + 143, y1 + 68)]),
    ]
    roads = _to_frame(
        [
            {"道路编号": rid, "道路名称": name, "竖向": grade, "geometry": shapely.LineString(xy)}
            for rid, name, grade, xy in lines
        ],
        origin,
    )
    buildings = _to_frame(
        [
            {"楼号": bid, "户数": households, "geometry": shapely.Point(x0 + dx, y0 + dy)}
            for bid, households, dx, dy in NEW_SITE_BUILDINGS
        ],
        origin,
    )
    site = _to_frame(
        [
            {
                "地块": "S1",
                "名称": "杨公安置小区(规划)",
                "geometry": shapely.box(x0 + 6, y0 + 6, x1 - 6, y1 - 6),
            }
        ],
        origin,
    )
    return {"new_site_roads": roads, "new_site_buildings": buildings, "new_site": site}


def _origin() -> tuple[float, float]:
    to_metric = Transformer.from_crs("EPSG:4326", SAMPLE_CRS, always_xy=True)
    cx, cy = to_metric.transform(*CENTRE_LONLAT)
    return cx - WIDTH_M / 2, cy - HEIGHT_M / 2


def _to_frame(rows: list[dict], origin) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=SAMPLE_CRS)
    frame["geometry"] = frame.geometry.translate(*origin)
    return frame


def _population(rng, buildings, communities) -> pd.DataFrame:
    """Integer residents per building summing to a total of 45-55 thousand."""
    total = int(rng.integers(45_000, 55_000))
    weights = rng.lognormal(0.0, 0.35, len(buildings))
    share = weights / weights.sum() * total
    pop = np.floor(share).astype(int)
    pop[np.argsort(share - pop)[::-1][: total - pop.sum()]] += 1
    elderly_share = rng.uniform(0.16, 0.28, len(COMMUNITIES))
    k = np.array([c for c, _ in buildings])
    return pd.DataFrame(
        {
            "building_id": [f"B{i + 1:04d}" for i in range(len(buildings))],
            "community_id": communities["community_id"].to_numpy()[k],
            "population": pop,
            "households": np.maximum(np.round(pop / 2.7), 1).astype(int),
            "elderly": np.round(pop * elderly_share[k]).astype(int),
            "villagers": np.round(pop * np.asarray(VILLAGER_SHARE)[k]).astype(int),
            "renters": pop - np.round(pop * np.asarray(VILLAGER_SHARE)[k]).astype(int),
            "geometry": [g for _, g in buildings],
        }
    )


#: Original villagers' share of residents per community (the rest rent): 撤村建居 communities
#: have many renters (流动人口多, the 2017 opinion). Fictional, fixed (no random draw).
VILLAGER_SHARE = (0.75, 0.6, 0.8, 0.55, 0.7, 0.65, 0.72, 0.5)
#: Residents not yet moved back, housed at a 集中过渡地 inside another community:
#: (home community index, host community index, residents, elderly, households).
TRANSITION = ((7, 2, 240, 62, 90), (0, 4, 180, 41, 68))


def _transition_housing(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Points where residents of a community live outside it for now (安置在外/集中过渡地)."""
    rows = []
    for n, (home, host, people, elderly, households) in enumerate(TRANSITION, start=1):
        hosted = buildings[buildings["community_id"] == f"C{host + 1:02d}"]
        rows.append(
            {
                "outside_id": f"T{n}",
                "home_community": f"C{home + 1:02d}",
                "name": f"{COMMUNITIES[home][0]}集中过渡安置点",
                "population": people,
                "elderly": elderly,
                "households": households,
                "geometry": hosted.geometry.iloc[0].representative_point(),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=buildings.crs)


def _facilities(rng, lane_nodes: dict, origin) -> gpd.GeoDataFrame:
    rows = []
    for category, hosts in FACILITY_PLAN.items():
        suffix, unit, (lo, hi) = FACILITY_NAMES[category]
        for k, count in hosts.items():
            nodes = lane_nodes[k]
            picks = rng.choice(len(nodes), size=min(count, len(nodes)), replace=False)
            for n, pick in enumerate(picks):
                x, y = nodes[int(pick)]
                angle = rng.uniform(0, 2 * math.pi)
                number = f"{n + 1}号" if count > 1 else ""
                rows.append(
                    _facility_row(
                        k, suffix, number, category, unit, int(rng.integers(lo, hi)), x, y, angle
                    )
                )
    return _to_frame(rows, origin)


def _facility_row(k, suffix, number, category, unit, capacity, x, y, angle) -> dict:  # noqa: PLR0913
    return {
        "name": f"{COMMUNITIES[k][0]}{suffix}{number}",
        "category": category,
        "capacity": capacity,
        "capacity_unit": unit,
        "geometry": shapely.Point(x + 15 * math.cos(angle), y + 15 * math.sin(angle)),
    }


def _river(xs, ys, origin) -> gpd.GeoDataFrame:
    px = np.linspace(xs[0] - 100, xs[-1] + 100, 80)
    centre = shapely.LineString(np.column_stack([px, _river_y(px, ys)]))
    return _to_frame([{"name": "新塘河", "geometry": centre.buffer(RIVER_BANK_M - 5)}], origin)


def _graph(b: _Builder, origin) -> nx.MultiDiGraph:
    """Both directions of every edge, lon/lat coordinates, osmnx attribute conventions."""
    to_lonlat = Transformer.from_crs(SAMPLE_CRS, "EPSG:4326", always_xy=True)
    ox_, oy_ = origin
    graph = nx.MultiDiGraph(crs="epsg:4326", source="cjgis sample (synthetic)")
    for (x, y), i in b.nodes.items():
        lon, lat = to_lonlat.transform(x + ox_, y + oy_)
        graph.add_node(i, x=round(lon, 7), y=round(lat, 7))
    xy = {i: p for p, i in b.nodes.items()}
    for k, (u, v, attrs) in enumerate(b.edges):
        geom = attrs.pop("geometry")
        length = geom.length if geom is not None else math.dist(xy[u], xy[v])
        data = {**attrs, "osmid": k + 1, "oneway": False, "length": round(length, 3)}
        if geom is not None:
            lonlat = shapely.transform(
                affinity.translate(geom, ox_, oy_),
                lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1])),
            )
            data["geometry"] = lonlat
        graph.add_edge(u, v, reversed=False, **data)
        back = dict(data, reversed=True)
        if geom is not None:
            back["geometry"] = shapely.reverse(data["geometry"])
        graph.add_edge(v, u, **back)
    return graph


STUDY_TEMPLATE = """\
# cjgis study file for the generated sample district (keys: docs/manual/study_file.md).
[study]
name = "sample"
description = "虚构撤村建居安置区 (fictional resettlement district), seed {seed}"

[network]
path = "streets.graphml"

[communities]
path = "communities.geojson"
id = "community_id"
name = "name"

[residents]
path = "buildings.gpkg"
id = "building_id"
population = "population"
households = "households"
elderly = "elderly"
villagers = "villagers"      # original villagers (原村民) and renters (租住人口): demand groups
renters = "renters"

[residents_outside]
# residents not yet moved back, at a 集中过渡地: their own rows in the scorecard
path = "residents_outside.gpkg"
id = "outside_id"
community = "home_community"
population = "population"
elderly = "elderly"
households = "households"

[facilities]
path = "facilities.csv"
category = "category"
name = "name"
lon = "lon"
lat = "lat"
capacity = "capacity"

[standards]
# per-category walking thresholds, speeds and capacity rules, each with its source:
# run `cjgis standards` to list them; override one with e.g.
# [standards.categories.ev_charging]
# minutes = 10
profile = "chcj_2017"     # the 2017 opinion's four categories + GB 50180 life-circle items

[planned]
# `cjgis site study.toml`: the district as planned, and suggested sites for what is missing
roads = "planned_roads.geojson"
facilities = "planned_facilities.csv"

[map]
water = "river.geojson"  # drawn on the map and the figures: the reason half a community walks far

[siting]
k = 3                    # up to three new sites per category that misses its target
spacing_m = 100          # candidates: street nodes inside the communities, one per 100 m

[analysis]
# minutes = 15           # an explicit value here applies to every category
# walk_speed_m_s = 1.0
"""


def write_sample(folder: str | Path = "data/raw/sample", *, seed: int = 2017) -> Path:
    """Write the sample district's input files and its study file into ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Destination folder (created if missing).
    seed : int, optional
        Random seed.

    Returns
    -------
    pathlib.Path
        Path of the written ``study.toml``.
    """
    import osmnx as ox

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = sample_district(seed)
    with atomic_path(folder / "streets.graphml") as tmp:
        ox.save_graphml(data["graph"], tmp)
    with atomic_path(folder / "communities.geojson") as tmp:
        data["communities"].to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON")
    with atomic_path(folder / "buildings.gpkg") as tmp:
        data["buildings"].to_crs("EPSG:4326").to_file(tmp, driver="GPKG", layer="buildings")
    with atomic_path(folder / "residents_outside.gpkg") as tmp:
        data["residents_outside"].to_crs("EPSG:4326").to_file(tmp, driver="GPKG", layer="outside")
    for layer in ("river", "planned_roads"):
        with atomic_path(folder / f"{layer}.geojson") as tmp:
            data[layer].to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON")
    planned = data["planned_facilities"].to_crs("EPSG:4326")
    table = pd.DataFrame(planned.drop(columns="geometry"))
    table["lon"], table["lat"] = planned.geometry.x.round(7), planned.geometry.y.round(7)
    with atomic_path(folder / "planned_facilities.csv") as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    fac = data["facilities"].to_crs("EPSG:4326")
    table = pd.DataFrame(fac.drop(columns="geometry"))
    table["lon"], table["lat"] = fac.geometry.x.round(7), fac.geometry.y.round(7)
    with atomic_path(folder / "facilities.csv") as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    with atomic_path(folder / "population.tif") as tmp:
        write_population_raster(data["buildings"], tmp)
    with atomic_path(folder / "study.toml") as tmp:
        Path(tmp).write_text(STUDY_TEMPLATE.format(seed=seed), encoding="utf-8")
    _write_new_site(data, folder, seed=seed)
    return folder / "study.toml"


def _write_new_site(data: dict, folder: Path, *, seed: int) -> None:
    """Write the new site's layers as handed over, and ``new_site.toml`` naming them.

    Roads in a GeoPackage in EPSG:4549, the boundary likewise, the buildings as an Excel
    sheet with 楼号, 户数, 经度, 纬度 (WGS84): the study file reads each with its own columns.
    """
    with atomic_path(folder / "new_site_roads.gpkg") as tmp:
        data["new_site_roads"].to_file(tmp, driver="GPKG", layer="roads")
    with atomic_path(folder / "new_site.gpkg") as tmp:
        data["new_site"].to_file(tmp, driver="GPKG", layer="site")
    points = data["new_site_buildings"].to_crs("EPSG:4326")
    table = pd.DataFrame(points.drop(columns="geometry"))
    table["经度"], table["纬度"] = points.geometry.x.round(7), points.geometry.y.round(7)
    with atomic_path(folder / "new_site_buildings.xlsx") as tmp:
        table.to_excel(tmp, index=False, sheet_name="楼栋")
    study = STUDY_TEMPLATE.format(seed=seed)
    start, end = study.index("[planned]"), study.index("[map]")
    study = study[:start] + NEW_SITE_PLANNED + "\n" + study[end:]
    study = study.replace('name = "sample"', 'name = "sample_new_site"', 1)
    with atomic_path(folder / "new_site.toml") as tmp:
        Path(tmp).write_text(study, encoding="utf-8")


#: ``[planned]`` of ``new_site.toml``: each layer with its own columns.
NEW_SITE_PLANNED = """\
[planned]
# `cjgis site new_site.toml`: a new resettlement site as the design institute hands it over
communities = { path = "new_site.gpkg", id = "地块", name = "名称" }   # the site boundary

[planned.roads]
path = "new_site_roads.gpkg"
id = "道路编号"
name = "道路名称"
grade = "竖向"            # 0 at grade, 1 the footbridge over 东湖路

[planned.residents]
path = "new_site_buildings.xlsx"
id = "楼号"
households = "户数"       # the drawing counts households only:
household_size = 2.8     # persons = 户数 × 2.8 (规划建议值, a planning estimate)
elderly_share = 0.22     # 60+ = 22 % of persons (规划建议值)
"""


def write_population_raster(
    buildings: gpd.GeoDataFrame,
    path: str | Path,
    *,
    crs: str = "EPSG:4326",
    cell: float = 0.001,
) -> float:
    """Write building population onto a grid (WGS84 by default, like WorldPop).

    Each building's residents go to the cell holding its representative point, so the
    raster's total equals the buildings' total exactly. ``cell`` is in units of ``crs``
    (degrees for WGS84, metres for a projected CRS). Returns the total written.
    """
    import rasterio
    from rasterio.transform import from_origin

    points = buildings.to_crs(crs).representative_point()
    west = math.floor(points.x.min() / cell) * cell - cell
    north = math.ceil(points.y.max() / cell) * cell + cell
    cols = math.ceil((points.x.max() - west) / cell) + 2
    rows = math.ceil((north - points.y.min()) / cell) + 2
    grid = np.zeros((rows, cols), dtype="float32")
    c = np.floor((points.x.to_numpy() - west) / cell).astype(int)
    r = np.floor((north - points.y.to_numpy()) / cell).astype(int)
    np.add.at(grid, (r, c), buildings["population"].to_numpy(dtype="float32"))
    profile = {
        "driver": "GTiff",
        "height": rows,
        "width": cols,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "nodata": -99999.0,
        "transform": from_origin(west, north, cell, cell),
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)
    return float(grid.sum())


#: Type text an Amap (高德) POI export gives each category (its 类型 column).
AMAP_TYPES = {
    "elderly_care": "生活服务;养老服务;居家养老服务照料中心",
    "ev_charging": "汽车服务;充电站;电动自行车充电点",
    "ceremony_hall": "科教文化服务;文化宫;文化礼堂",
    "tool_storage": "生活服务;生活服务场所;农具存放点",
}


def write_amap_export(folder: str | Path = "data/raw/sample", *, seed: int = 2017) -> Path:
    """Write the sample's facilities as an Amap/Gaode export: GCJ-02, GBK, Chinese headers.

    Columns 名称, 类型, 地址, 经度, 纬度 as such exports have, plus 类别 (the cjgis category a
    planner adds). Used by the notebook on bringing your own data.

    Returns
    -------
    pathlib.Path
        The written ``amap_facilities.csv``.
    """
    from cjgis.inputs.coords import wgs84_to_gcj02

    facilities = sample_district(seed)["facilities"].to_crs("EPSG:4326")
    lon, lat = wgs84_to_gcj02(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())
    table = pd.DataFrame(
        {
            "名称": facilities["name"],
            "类型": facilities["category"].map(AMAP_TYPES),
            "地址": "杭州市" + facilities["name"].str.extract(r"^(.*?社区)")[0],
            "经度": np.round(lon, 6),
            "纬度": np.round(lat, 6),
            "类别": facilities["category"],
        }
    )
    path = Path(folder) / "amap_facilities.csv"
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="gb18030")
    return path
