"""The review map as one folium (Leaflet) HTML file that also works with no internet.

Layers a reviewer switches: communities coloured by how many categories they meet, the
walking network, per category nested 5/10/15-minute service areas, facilities (each category
its own glyph and colour) and blind spots sized by population, and proposed sites when given.
Popups are Chinese with English. By default Leaflet itself is embedded in the file (the
intranet case); tiles still come from a tile server, so the vector streets make the map
readable without any. Geometry is simplified and rounded for display only; exact layers are in
the GeoPackages.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
import struct
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from cjgis._atomic import atomic_path
from cjgis._errors import InputError, OutputError
from cjgis._geometry import representative_points
from cjgis.inputs.categories import (
    BARRIER_COLOUR,
    PLAN_COLOUR,
    WATER_COLOUR,
    category_info,
    met_bins,
    met_classes,
    met_colour,
)
from cjgis.inputs.coords import from_wgs84_geometries
from cjgis.inputs.io import read_water
from cjgis.judge.analysis import Analysis, category_blind_spots
from cjgis.judge.verdict import share_text

log = logging.getLogger(__name__)

DISPLAY_TOLERANCE_M = 3.0
#: Service areas with more vertices than this (a city) are simplified at CITY_TOLERANCE_M.
MAX_AREA_VERTICES = 200_000
CITY_TOLERANCE_M = 15.0
MAX_STREET_EDGES = 20_000
#: More blind spots than this in a category are drawn as grid cells with their totals.
MAX_BLIND_SPOTS = 5_000
BASEMAPS = ("osm", "none", "tianditu", "amap")
_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/"
#: The offline base: one light, neutral, opaque pixel, stretched to every tile.
_BLANK_RGB = (245, 245, 242)


def _solid_png(rgb: tuple[int, int, int]) -> str:
    """Return a 1 x 1 opaque PNG of one colour as a data URI (the blank base layer)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1 x 1, 8-bit RGB
    pixel = zlib.compress(bytes([0, *rgb]))
    png = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


_BLANK_TILE = _solid_png(_BLANK_RGB)
#: folium's popups build their HTML with jQuery's ``$(html)[0]``; this does that one job, so the
#: page needs no jQuery (87 KB) from a CDN.
_JQUERY_SHIM = (
    "<script>if (!window.$) { window.$ = function (h) { var t = document.createElement('template');"
    " t.innerHTML = String(h).trim(); return [t.content.firstChild]; }; }</script>"
)
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}"
    "&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


@functools.cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (with its images inlined) as data URIs."""
    root = resources.files("cjgis") / "_static" / "leaflet"

    def image(match: re.Match) -> str:
        data = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", image, (root / "leaflet.css").read_text())
    js = (root / "leaflet.js").read_bytes()
    return (
        "data:text/javascript;base64," + base64.b64encode(js).decode(),
        "data:text/css;base64," + base64.b64encode(css.encode()).decode(),
    )


def _display(
    frame: gpd.GeoDataFrame, shift: str | None, *, tolerance_m: float = DISPLAY_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """Simplify in metres; WGS84 (or GCJ-02 for Amap tiles) rounded to 1e-6 degrees."""
    out = frame.copy()
    out["geometry"] = out.geometry.simplify(tolerance_m)
    out = out.to_crs("EPSG:4326")
    geoms = out.geometry.to_numpy()
    if shift:
        geoms = from_wgs84_geometries(geoms, shift)
    # rounding the numbers (not set_precision, which re-nodes a city's large polygons)
    out["geometry"] = shapely.transform(geoms, lambda xy: np.round(xy, 6))
    return out


def _features(frame: gpd.GeoDataFrame) -> dict:
    """Return a GeoJSON FeatureCollection, serialised in C (shapely, pandas), parsed once.

    geopandas builds features one Python dict at a time; for a city's tens of thousands of
    features that is most of the map's time.
    """
    if len(frame) == 0:  # pandas writes an empty table as one blank line
        return {"type": "FeatureCollection", "features": []}
    geoms = shapely.to_geojson(frame.geometry.to_numpy())
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    props = table.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    if len(table.columns) == 0:
        props = ["{}"] * len(frame)
    body = ",".join(
        f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
        for p, g in zip(props, geoms, strict=True)
    )
    return json.loads(f'{{"type":"FeatureCollection","features":[{body}]}}')


def _geojson(data: dict, **kwargs: Any) -> folium.GeoJson:
    """Return ``folium.GeoJson(data, **kwargs)``; an empty layer without tooltip and popup.

    folium refuses a tooltip or popup whose fields are not in the data, and an empty layer
    (no blind spot left, no facility of a category) has no fields.
    """
    if not data["features"]:
        kwargs.pop("tooltip", None)
        kwargs.pop("popup", None)
    return folium.GeoJson(data, **kwargs)


def _latlon(frame: gpd.GeoDataFrame, shift: str | None) -> np.ndarray:
    """Return representative points as (lat, lon) rows for markers."""
    points = _display(
        gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=frame.crs), shift
    )
    return np.column_stack([points.geometry.y, points.geometry.x])


def _html_text(text: str) -> str:
    """Return ``text`` escaped for HTML, braces included.

    branca reads the page's scripts as jinja templates: a name with ``{{`` or ``{#`` would
    otherwise be evaluated or break the page.
    """
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def _minutes(value: float) -> str:
    return "不可达 unreachable" if not np.isfinite(value) else f"{value:.1f} min"


#: A standard's clause as sources name it: the standard, then 附录/表/§ references.
_CLAUSE = re.compile(r"GB[ /T]*\d+-\d+(?:\s*(?:附录\w+|表[\w.]+|§[\d.]+))*")


def _clauses(coverage: pd.DataFrame) -> np.ndarray:
    """Return the clause each row's rule rests on, short enough for a popup cell.

    A standard's table and item (``GB 50180-2018 附录C 表C.0.2``, the last one its source
    names), or 规划建议值 for a planner rule, or 无标准.
    """
    out = []
    for source, basis in zip(coverage["rule_source"], coverage["basis"], strict=True):
        if basis == "planner rule":
            out.append("规划建议值")
        elif basis != "standard":
            out.append("无标准")
        else:
            found = _CLAUSE.findall(str(source))
            out.append(found[-1] if found else str(source)[:40])
    return np.array(out, dtype=object)


def _community_popups(coverage: pd.DataFrame) -> pd.Series:
    """Popup HTML per community id: residents, then a row per category (vectorised)."""
    esc = np.vectorize(_html_text, otypes=[object])
    nearest = coverage.get("nearest_facility", pd.Series("", index=coverage.index))
    share = pd.Series(
        [
            share_text(v, t, m)
            for v, t, m in zip(
                coverage["covered_share"],
                coverage["target_share"],
                coverage["coverage_met"],
                strict=True,
            )
        ],
        index=coverage.index,
    )
    rows = (
        "<tr><td>"
        + esc(coverage["category_zh"].astype(str).to_numpy())
        + "</td><td>"
        + share
        + "</td><td>"
        + coverage["median_walk_min"].map(_minutes)
        + "</td><td>"
        + esc(nearest.fillna("").astype(str).to_numpy())
        + "</td><td>"
        + esc((coverage["status_zh"] + " " + coverage["status_en"]).to_numpy())
        + "</td><td>"
        + esc(_clauses(coverage))
        + "</td></tr>"
    )
    by = coverage.assign(_row=rows).groupby("community_id", sort=False)
    first = by.first()
    head = (
        "<b>"
        + esc(first["community_name"].astype(str).to_numpy())
        + "</b><br>居民 residents "
        + first["residents"].map("{:,.0f}".format)
    )
    if "elderly" in first:
        head = head + " · 老年人 elderly " + first["elderly"].map("{:,.0f}".format)
    return (
        head + "<table style='font-size:12px'><tr><th>类别 category</th><th>覆盖率 covered</th>"
        "<th>步行中位 median walk</th><th>最近设施 nearest</th><th>状态 status</th>"
        "<th>依据 clause</th></tr>" + by["_row"].agg("".join) + "</table>"
    )


def _community_layer(analysis: Analysis, shift: str | None) -> folium.GeoJson:
    comm = analysis.communities.copy()
    comm["label"] = [
        f"{r.community_name}: {r.categories_met}/{r.categories_required} 类满足 met"
        for r in comm.itertuples()
    ]
    comm["popup_html"] = comm["community_id"].map(_community_popups(analysis.coverage))
    comm["fill"] = [
        met_colour(m, t)
        for m, t in zip(comm["categories_met"], comm["categories_required"], strict=True)
    ]
    data = _features(
        _display(comm[["community_name", "label", "popup_html", "fill", "geometry"]], shift)
    )
    return _geojson(
        data,
        name="社区 communities (满足类别数 categories met)",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#333333",
            "weight": 2,
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False),
        popup=folium.GeoJsonPopup(["popup_html"], labels=False, max_width=520),
    )


def _street_layer(analysis: Analysis, shift: str | None) -> folium.GeoJson | None:
    net = analysis.network
    if net.n_edges > MAX_STREET_EDGES:
        log.info("street layer left off the map: %d edges > %d", net.n_edges, MAX_STREET_EDGES)
        return None
    streets = gpd.GeoDataFrame(geometry=net.edge_geometry, crs=net.crs)
    return folium.GeoJson(
        _features(_display(streets, shift)),
        name="步行网络 walking network",
        style_function=lambda f: {"color": "#555555", "weight": 1, "opacity": 0.7},
    )


def _service_area_bands(
    analysis: Analysis, category: str, shift: str | None
) -> list[tuple[float, float, dict]]:
    """Return a category's service-area bands as drawn, largest first (metres, minutes, data)."""
    areas = analysis.service_areas
    mine = areas[(areas["category"] == category) & areas["facility_id"].isna()]
    tolerance_m = DISPLAY_TOLERANCE_M
    if shapely.get_num_coordinates(mine.geometry.to_numpy()).sum() > MAX_AREA_VERTICES:
        tolerance_m = CITY_TOLERANCE_M  # a city: finer than a screen pixel at city zoom
        log.info("%s service areas drawn simplified at %g m", category, tolerance_m)
    drawn = []
    for band in sorted(mine["metres"].unique(), reverse=True):  # the inner bands on top
        rows = mine[mine["metres"] == band][["metres", "minutes", "geometry"]]
        features = _features(_display(rows, shift, tolerance_m=tolerance_m))
        drawn.append((float(band), float(rows["minutes"].iloc[0]), features))
    return drawn


def _service_area_layer(
    category: str, bands: list[tuple[float, float, dict]], *, show: bool
) -> folium.FeatureGroup:
    info = category_info(category)
    label = "/".join(f"{metres:.0f}" for metres, _, _ in reversed(bands))
    group = folium.FeatureGroup(
        name=f"服务范围 service area · {info.name_zh} ({label} m)", show=show
    )
    for metres, minutes, features in bands:  # largest first, so the inner bands draw darker
        folium.GeoJson(
            features,
            style_function=lambda f, c=info.colour: {
                "fillColor": c,
                "color": c,
                "weight": 1,
                "fillOpacity": 0.18,
            },
            tooltip=f"{info.name_zh} · 步行 {minutes:.1f} 分钟 min ({metres:.0f} m)",
        ).add_to(group)
    return group


def _glyph_icon(glyph: str, colour: str, *, size: int = 22) -> folium.DivIcon:
    style = (
        f"width:{size}px;height:{size}px;line-height:{size}px;border-radius:50%;"
        f"background:{colour};color:#fff;border:2px solid #222;text-align:center;"
        "font:bold 13px sans-serif;box-shadow:0 0 3px #0006"
    )
    return folium.DivIcon(
        html=f"<div style='{style}'>{_html_text(glyph)}</div>",
        icon_size=(size + 4, size + 4),
        icon_anchor=(size // 2 + 2, size // 2 + 2),
    )


#: More facilities than this in a category are drawn as one GeoJSON layer of circles
#: (each glyph marker costs a template of its own in the HTML).
MAX_MARKERS = 300


def _facility_text(row, info, unit: str) -> str:
    text = f"<b>{_html_text(str(row['name']))}</b><br>{info.name_zh} {info.name_en}"
    if "capacity" in row and np.isfinite(row["capacity"]):
        text += f"<br>容量 capacity {row['capacity']:,.0f} {_html_text(unit)}"
    return text + f"<br>离街道 to street {row['street_offset_m']:.0f} m"


#: Units of capacity shown in popups, by the rule's unit key.
_UNIT_ZH = {"beds": "床位 beds", "sockets": "个充电口 sockets", "tables": "桌 tables", "m2": "m²"}


def _facility_layer(
    analysis: Analysis, category: str, shift: str | None
) -> folium.GeoJson | folium.FeatureGroup:
    """Draw a category's facilities as one GeoJSON layer: glyph markers, or circles for many.

    One layer, not a marker each: folium compiles a template per element it writes, which cost
    about 1 s per 240 markers.
    """
    info = category_info(category)
    fac = analysis.facilities[analysis.facilities["category"] == category]
    if len(fac) == 0:  # the layer is listed all the same: the category was assessed
        name = f"设施 facilities · {info.name_zh} {info.name_en} (0, 无设施数据 none in the input)"
        return folium.FeatureGroup(name=name, show=False)
    cap = analysis.options.rule_for(category).capacity
    unit = "" if cap is None else _UNIT_ZH.get(cap.unit, f"{cap.unit_zh} {cap.unit}")
    points = gpd.GeoDataFrame(
        {
            "name": [_html_text(str(n)) for n in fac["name"]],
            "label": [_facility_text(row, info, unit) for _, row in fac.iterrows()],
        },
        geometry=fac.geometry.representative_point().to_numpy(),
        crs=fac.crs,
    )
    layer = {"name": f"设施 facilities · {info.name_zh} {info.name_en}"}
    if len(fac) > MAX_MARKERS:
        return _geojson(
            _features(_display(points, shift)),
            marker=folium.CircleMarker(),
            style_function=lambda f, c=info.colour: {
                "radius": 6,
                "color": "#000000",
                "weight": 1,
                "fill": True,
                "fillColor": c,
                "fillOpacity": 0.9,
            },
            tooltip=folium.GeoJsonTooltip(["label"], labels=False),
            **layer,
        )
    on_top = 1000 // max(len(fac), 1)  # a category's lone marker is never hidden under many
    return _geojson(
        _features(_display(points, shift)),
        marker=folium.Marker(icon=_glyph_icon(info.glyph, info.colour), z_index_offset=on_top),
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        popup=folium.GeoJsonPopup(["label"], labels=False, max_width=300),
        **layer,
    )


def _blind_spot_layer(
    analysis: Analysis, category: str, shift: str | None, *, show: bool
) -> folium.GeoJson:
    """Uncovered residences as one GeoJSON point layer (compact: no JS per marker)."""
    info = category_info(category)
    names = analysis.communities.set_index("community_id")["community_name"]
    blind = analysis.blind_spots
    out = blind[f"blind_{category}"].to_numpy(dtype=bool)
    if not (analysis.facilities["category"] == category).any():
        return _everyone_blind_layer(analysis, category, show=show, shift=shift)
    if out.sum() > MAX_BLIND_SPOTS:  # a city: only the columns the cells need
        cells_of = blind.loc[out, ["community_id", "population", "geometry"]]
        points = _blind_spot_cells(cells_of, names)
    else:
        spots = category_blind_spots(blind, category)
        res = analysis.residents
        nearest = pd.Series(res[f"nearest_{category}"].to_numpy(), index=res["resident_id"])
        facility = analysis.facilities.set_index("facility_id")["name"]
        near = spots["resident_id"].map(nearest).map(facility).fillna("—")
        labels = [
            f"{_html_text(str(names.get(c, '')))} · {p:,.0f} 人 residents · "
            f"步行 walk {_minutes(w)} · 最近 nearest: {_html_text(str(n))}"
            for c, p, w, n in zip(
                spots["community_id"], spots["population"], spots["walk_min"], near, strict=True
            )
        ]
        points = gpd.GeoDataFrame(
            {"label": labels, "radius": np.round(2 + np.sqrt(spots["population"]) / 3, 1)},
            geometry=representative_points(spots.geometry.to_numpy()),
            crs=spots.crs,
        )
    return _geojson(
        _features(_display(points, shift)),
        name=f"盲区 blind spots · {info.name_zh}",
        show=show,
        marker=folium.CircleMarker(),
        style_function=lambda f: {
            "radius": f["properties"]["radius"],
            "color": "#b2182b",
            "weight": 1,
            "fill": True,
            "fillColor": "#b2182b",
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False),
    )


def _everyone_blind_layer(
    analysis: Analysis, category: str, *, show: bool, shift: str | None
) -> folium.GeoJson:
    """Draw a category without any facility: each community with residents one blind area.

    Every residence is a blind spot then; the communities say so without a point each.
    """
    info = category_info(category)
    blind = analysis.blind_spots
    people = (
        blind.loc[blind[f"blind_{category}"].astype(bool)]
        .groupby("community_id")["population"]
        .sum()
    )
    comm = analysis.communities[analysis.communities["community_id"].isin(people.index)]
    labels = [
        f"{_html_text(str(n))} · 无设施数据 no {_html_text(info.name_en)} in the input: "
        f"{people[c]:,.0f} 人 residents, nobody within reach"
        for c, n in zip(comm["community_id"], comm["community_name"], strict=True)
    ]
    areas = gpd.GeoDataFrame({"label": labels}, geometry=comm.geometry.to_numpy(), crs=comm.crs)
    return _geojson(
        _features(_display(areas, shift)),
        name=f"盲区 blind spots · {info.name_zh} (无设施数据: 全部居民 everyone)",
        show=show,
        style_function=lambda f: {
            "color": "#b2182b",
            "weight": 2,
            "dashArray": "6 4",
            "fillColor": "#b2182b",
            "fillOpacity": 0.25,
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False),
    )


def _blind_spot_cells(spots: gpd.GeoDataFrame, names: pd.Series) -> gpd.GeoDataFrame:
    """Too many blind spots to draw one by one: totals per grid cell, at their centre."""
    xy = shapely.get_coordinates(representative_points(spots.geometry.to_numpy()))
    x0, y0 = xy.min(axis=0)
    extent = max(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1]), 1.0)
    cell_m = float(np.ceil(np.sqrt(extent / MAX_BLIND_SPOTS) / 50.0) * 50.0)
    key = np.floor((xy - [x0, y0]) / cell_m).astype(np.int64)
    _, first, index = np.unique(
        key[:, 0] * (key[:, 1].max() + 1) + key[:, 1], return_index=True, return_inverse=True
    )
    people = spots["population"].to_numpy(dtype=float)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=len(first))

    cells = pd.DataFrame(
        {
            "people": total(people),
            "wx": total(xy[:, 0] * people),
            "wy": total(xy[:, 1] * people),
            "n": total(np.ones(len(index))).astype(np.int64),
            "community": spots["community_id"].iloc[first].map(names).to_numpy(),
        }
    )
    empty = cells["people"].to_numpy() <= 0  # nobody counted: the plain centre of the points
    cells.loc[empty, "wx"] = total(xy[:, 0])[empty] / cells["n"].to_numpy()[empty]
    cells.loc[empty, "wy"] = total(xy[:, 1])[empty] / cells["n"].to_numpy()[empty]
    weight = cells["people"].where(~empty, 1.0)
    labels = [
        f"{_html_text(str(c))} 等 · {n:,} 处 residences · {p:,.0f} 人 residents "
        f"(网格 {cell_m:g} m cell)"
        for c, n, p in zip(cells["community"], cells["n"], cells["people"], strict=True)
    ]
    log.info("%d blind spots drawn as %d cells of %g m", len(spots), len(cells), cell_m)
    return gpd.GeoDataFrame(
        {"label": labels, "radius": np.round(2 + np.sqrt(cells["people"]) / 6, 1)},
        geometry=shapely.points(cells["wx"] / weight, cells["wy"] / weight),
        crs=spots.crs,
    )


def _before_layer(before: Analysis, category: str, shift: str | None) -> folium.GeoJson:
    """Draw the as-is reach of a category, dashed, to compare with the as-planned one."""
    info = category_info(category)
    areas = before.service_areas
    rule = before.options.rule_for(category)
    mine = areas[
        (areas["category"] == category)
        & areas["facility_id"].isna()
        & np.isclose(areas["minutes"].astype(float), rule.minutes)
    ]
    return folium.GeoJson(
        _features(_display(mine[["category", "geometry"]], shift)),
        name=f"规划前服务范围 service area before · {info.name_zh}",
        show=False,
        style_function=lambda f, c=info.colour: {
            "color": c,
            "weight": 2,
            "dashArray": "6 4",
            "fill": False,
        },
    )


def _plan_layers(analysis: Analysis, roads, shift: str | None) -> list[tuple]:
    """Return the plan's own layers: planned roads, residences and facilities.

    Each with its legend entry; none for a part the plan does not have.
    """
    out = []
    if roads is not None and len(roads):
        status = roads["status"].fillna("") if "status" in roads else pd.Series("", roads.index)
        ids = roads["road_id"] if "road_id" in roads else pd.Series(range(1, len(roads) + 1))
        names = roads["road_name"] if "road_name" in roads else pd.Series("", roads.index)
        labels = [
            f"规划道路 planned road {i}{f' {n}' if n else ''}: {s}"
            for i, n, s in zip(ids, names.fillna(""), status, strict=True)
        ]
        lines = gpd.GeoDataFrame(
            {"label": labels},
            geometry=roads.geometry.to_numpy(),
            crs=roads.crs,
        ).to_crs(analysis.crs)
        layer = _geojson(
            _features(_display(lines, shift)),
            name="规划道路 planned roads",
            style_function=lambda f: {"color": PLAN_COLOUR, "weight": 6, "dashArray": "10 6"},
            tooltip=folium.GeoJsonTooltip(["label"], labels=False),
        )
        out.append(
            (layer, ("规划道路 planned roads", _swatch(f"border-top:4px dashed {PLAN_COLOUR}")))
        )
    res = analysis.residents
    new = res["resident_id"].astype(str).str.startswith("planned-")
    if new.any():
        points = gpd.GeoDataFrame(
            {
                "label": [
                    f"规划居民 planned · {r} · {p:,.0f} 人"
                    for r, p in zip(
                        res.loc[new, "resident_id"], res.loc[new, "population"], strict=True
                    )
                ]
            },
            geometry=representative_points(res.loc[new].geometry.to_numpy()),
            crs=res.crs,
        )
        layer = _geojson(
            _features(_display(points, shift)),
            name="规划居民 planned residences",
            marker=folium.CircleMarker(),
            style_function=lambda f: {"radius": 5, "color": PLAN_COLOUR, "fill": True},
            tooltip=folium.GeoJsonTooltip(["label"], labels=False),
        )
        out.append((layer, ("规划居民 planned residences", _swatch(f"background:{PLAN_COLOUR}"))))
    fac = analysis.facilities
    if "planned" in fac and fac["planned"].astype(bool).any():
        mine = fac[fac["planned"].astype(bool)]
        points = gpd.GeoDataFrame(
            {
                "label": [
                    f"规划设施 planned · {category_info(c).name_zh} · {_html_text(str(n))}"
                    for c, n in zip(mine["category"], mine["name"], strict=True)
                ]
            },
            geometry=mine.geometry.representative_point().to_numpy(),
            crs=fac.crs,
        )
        layer = _geojson(
            _features(_display(points, shift)),
            name="规划设施 planned facilities",
            marker=folium.CircleMarker(),
            style_function=lambda f: {
                "radius": 9,
                "color": PLAN_COLOUR,
                "weight": 3,
                "fill": False,
            },
            tooltip=folium.GeoJsonTooltip(["label"], labels=False),
        )
        out.append(
            (
                layer,
                (
                    "规划设施 planned facilities (ringed)",
                    _swatch(f"border:3px solid {PLAN_COLOUR}"),
                ),
            )
        )
    return out


def _proposed_layer(proposed: gpd.GeoDataFrame, shift: str | None) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="建议选址 proposed sites")
    for (_, row), (lat, lon) in zip(proposed.iterrows(), _latlon(proposed, shift), strict=True):
        info = category_info(str(row.get("category", "")))
        label = f"建议 proposed · {info.name_zh} #{row.get('rank', '')} {row.get('place', '')}"
        folium.Marker(
            [lat, lon],
            icon=_glyph_icon("★", info.colour, size=24),
            tooltip=_html_text(label),
        ).add_to(group)
    return group


def _tile_layers(basemap: str, tianditu_key: str | None) -> list[folium.TileLayer]:
    """Return base layers, the chosen one first; all WGS84 except Amap (GCJ-02)."""
    if basemap not in BASEMAPS:
        raise InputError(f"[map] basemap = {basemap!r} is unknown. Fix: use one of {BASEMAPS}")
    none = folium.TileLayer(
        _BLANK_TILE, attr="cjgis", name="无底图 none (vector streets only)", overlay=False
    )
    if basemap == "amap":
        amap = folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="© 高德地图 AutoNavi",
            subdomains="1234",
            name="高德 Amap (GCJ-02: 图层已偏移 layers shifted)",
        )
        return [amap, none]
    osm = folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr="© OpenStreetMap contributors",
        name="OpenStreetMap",
    )
    layers = {"osm": osm, "none": none}
    if tianditu_key:
        layers["tianditu"] = folium.TileLayer(
            _TIANDITU.format(layer="vec", key=tianditu_key),
            attr="© 天地图 Tianditu",
            subdomains="01234567",
            name="天地图 Tianditu",
        )
    elif basemap == "tianditu":
        raise InputError(
            "[map] basemap = 'tianditu' needs a key. Fix: add tianditu_key = \"...\" to [map] "
            "(a free key from the Tianditu console)"
        )
    return [layers[basemap]] + [t for k, t in layers.items() if k != basemap]


#: At this window width or less, and inside a notebook cell (an iframe), the legend starts
#: folded: open, it would cover communities (a 1100 px laptop, a 1000 px notebook cell).
LEGEND_FOLD_PX = 1100

_LEGEND = """
{% macro html(this, kwargs) %}
<details id="cjgis-legend" open style="position: fixed; bottom: 26px; right: 10px; z-index: 999;
  background: rgba(255,255,255,.95); padding: 6px 9px; border: 1px solid #888;
  border-radius: 4px; font: 12px sans-serif; line-height: 17px; max-width: 360px;
  max-height: 55vh; overflow: auto;">
<summary style="cursor: pointer; font-weight: bold;">图例 Legend · {{ this.title }}</summary>
{% for label, colour, glyph in this.categories %}
<span style="display:inline-block;width:15px;height:15px;line-height:15px;border-radius:8px;
  background:{{ colour }};color:#fff;text-align:center;font-size:10px">{{ glyph }}</span>
  {{ label }}<br>
{% endfor %}
服务范围 service areas: 深 darker = nearer ({{ this.bands }})<br>
<span style="display:inline-block;width:11px;height:11px;border-radius:6px;
  background:#b2182b;opacity:.7"></span> 服务盲区 blind spot (size = residents)<br>
社区 满足类别数 categories met:
{% for label, colour, low, high in this.met %}
<span class="cjgis-met" data-low="{{ low }}" data-high="{{ high }}" data-colour="{{ colour }}"
  style="display:inline-block;width:14px;height:10px;border:1px solid #666;
  background:{{ colour }}"></span>{{ label }}
{% endfor %}<br>
{% for label, swatch in this.extra %}{{ swatch }} {{ label }}<br>{% endfor %}
</details>
<script>
if (window.innerWidth <= {{ this.fold_px }} || window.self !== window.top) {
  document.getElementById("cjgis-legend").removeAttribute("open");
}
</script>
{% endmacro %}
"""
#: A metric scale bar, bottom left, clear of the legend (bottom right).
_SCALE = """
{% macro script(this, kwargs) %}
L.control.scale({imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""


def _swatch(style: str) -> str:
    return f'<span style="display:inline-block;width:14px;height:10px;{style}"></span>'


class _Legend(MacroElement):
    def __init__(self, analysis: Analysis, title: str, *, extra: list[tuple[str, str]]) -> None:
        super().__init__()
        self._template = Template(_LEGEND)
        opts = analysis.options
        self.title = _html_text(title)
        self.categories = []
        empty = set(analysis.categories_without_facilities())
        for c in analysis.categories:
            rule, info = opts.rule_for(c), category_info(c)
            reach = (
                f"{rule.threshold_m:.0f} m ({rule.minutes:.1f} min @ {rule.walk_speed_m_s:g} m/s)"
            )
            none = " · 无设施数据 none in the input" if c in empty else ""
            self.categories.append(
                (f"{info.name_zh} {info.name_en} · {reach}{none}", info.colour, info.glyph)
            )
        n = int(analysis.communities["categories_required"].max() or 0)
        self.met = [
            (label, colour, low, high)
            for (label, colour), (low, high, _) in zip(met_classes(n), met_bins(n), strict=True)
        ]
        self.fold_px = LEGEND_FOLD_PX
        self.bands = "300 < 500 < 1000 m 生活圈 tiers, then the threshold"
        left_out = [f"{r.category_zh} {r.category}" for r in analysis.not_assessed.itertuples()]
        notes = [(_html_text(analysis.standards_line()), "")]
        if left_out:
            notes.append((_html_text(f"未评价 not assessed: {', '.join(left_out)}"), ""))
        self.extra = [*extra, *notes]


class _ScaleBar(MacroElement):
    def __init__(self) -> None:
        super().__init__()
        self._template = Template(_SCALE)


def _barrier_layer(analysis: Analysis, shift: str | None) -> folium.GeoJson | None:
    """Roads the walk filter refused (expressways, motorways): barriers a walk goes round."""
    lines = analysis.network.barrier_geometry
    if len(lines) == 0 or len(lines) > MAX_STREET_EDGES:
        return None
    return folium.GeoJson(
        _features(_display(gpd.GeoDataFrame(geometry=lines, crs=analysis.crs), shift)),
        name="不可步行道路 roads not walkable (expressways)",
        style_function=lambda f: {"color": BARRIER_COLOUR, "weight": 4, "dashArray": "8 6"},
    )


def _add_water(fmap, analysis: Analysis, water, shift: str | None) -> list[tuple]:
    """Draw ``water`` (by default the study's ``[map] water``); return its legend entry."""
    if water is None:
        water = analysis.map_options.get("water")  # as the CLI draws it
    if water is None:
        return []
    water = read_water(water)
    _water_layer(water, analysis.crs, shift).add_to(fmap)
    return [("水系与障碍 water and barriers", _swatch(f"background:{WATER_COLOUR}"))]


def _water_layer(water: gpd.GeoDataFrame, crs, shift: str | None) -> folium.GeoJson:
    """Rivers, lakes and other barriers from an input layer: a gap's cause, made visible."""
    return folium.GeoJson(
        _features(_display(water.to_crs(crs)[["geometry"]], shift)),
        name="水系与障碍 water and barriers",
        style_function=lambda f: {
            "color": WATER_COLOUR,
            "weight": 3,
            "fillColor": WATER_COLOUR,
            "fillOpacity": 0.6,
        },
    )


#: Communities beyond this many get no name labels (a city: the popups carry the names).
MAX_LABELS = 300


def _label_layer(analysis: Analysis, shift: str | None) -> folium.FeatureGroup | None:
    comm = analysis.communities
    if len(comm) > MAX_LABELS:
        return None
    points = gpd.GeoDataFrame(
        {"name": comm["community_name"]}, geometry=comm.representative_point(), crs=comm.crs
    )
    group = folium.FeatureGroup(name="社区名称 community names")
    style = (
        "font:bold 12px sans-serif;color:#222;white-space:nowrap;"
        "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;transform:translate(-50%,-50%)"
    )
    for name, (lat, lon) in zip(points["name"], _latlon(points, shift), strict=True):
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                html=f"<div style='{style}'>{_html_text(str(name))}</div>",
                class_name="cjgis-label",
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(group)
    return group


def gap_map(  # noqa: PLR0913 - the analysis, then the map's keyword-only settings
    analysis: Analysis,
    *,
    title: str = "cjgis",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    self_contained: bool = True,
    proposed: gpd.GeoDataFrame | None = None,
    before: Analysis | None = None,
    water: str | Path | gpd.GeoDataFrame | None = None,
    planned_roads: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build the review map of an analysis.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.judge.analysis.analyze`.
    title : str, optional
        Page title and legend heading.
    basemap : {"osm", "none", "tianditu", "amap"}, optional
        Base layer shown first; the others stay switchable. ``"amap"`` shifts every layer to
        GCJ-02 so nothing sits 500 m off the Amap tiles.
    tianditu_key : str, optional
        Tianditu key (天地图 tk); adds the Tianditu base layer.
    self_contained : bool, optional
        Embed Leaflet in the page (default) so it works with no internet.
    proposed : geopandas.GeoDataFrame, optional
        Proposed sites (``category``, ``rank``), drawn as stars.
    before : Analysis, optional
        The as-is analysis of a planned scenario; its reach is drawn dashed per category.
    water : str, pathlib.Path or geopandas.GeoDataFrame, optional
        Rivers, lakes, rail or other barriers (``[map] water``), drawn light blue so the cause
        of a gap (a river crossed at two bridges) is visible; by default the study's, for an
        analysis made from a study file (:attr:`~cjgis.judge.analysis.Analysis.map_options`).
    planned_roads : geopandas.GeoDataFrame, optional
        The plan's roads (with a ``status`` column, :func:`cjgis.run.site.run_site_study`),
        drawn thick and dashed in their own layer. Planned facilities (``planned`` True) and
        planned residences (ids ``planned-…``) of ``analysis`` get layers of their own too.

    Returns
    -------
    folium.Map
        Only the first category's service areas and blind spots are shown at first; the
        layer control is collapsed and lists each category's layers together.
    """
    shift = "gcj02" if basemap == "amap" else None
    tiles = _tile_layers(basemap, tianditu_key)
    fmap = folium.Map(tiles=None, control_scale=False)
    if self_contained:
        js, css = _leaflet_assets()
    else:
        js, css = _LEAFLET_CDN + "leaflet.js", _LEAFLET_CDN + "leaflet.css"
    fmap.default_js = [("leaflet", js)]
    fmap.default_css = [("leaflet_css", css)]
    for i, tile in enumerate(tiles):
        tile.show = i == 0
        tile.add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(f"<title>{_html_text(title)}</title>"))
    fmap.get_root().header.add_child(folium.Element(_JQUERY_SHIM))
    # a thread simplifies the service areas (GEOS, without the GIL) while the rest is built
    pool = ThreadPoolExecutor(max_workers=1)
    bands = {c: pool.submit(_service_area_bands, analysis, c, shift) for c in analysis.categories}
    pool.shutdown(wait=False)  # what was submitted still runs
    _community_layer(analysis, shift).add_to(fmap)
    extra = _add_water(fmap, analysis, water, shift)
    barriers = _barrier_layer(analysis, shift)
    if barriers is not None:
        barriers.add_to(fmap)
        style = f"border-top:3px dashed {BARRIER_COLOUR}"
        extra.append(("不可步行道路 roads not walkable (expressways)", _swatch(style)))
    streets = _street_layer(analysis, shift)
    if streets is not None:
        streets.add_to(fmap)
    for i, category in enumerate(analysis.categories):  # each category's layers together
        _service_area_layer(category, bands[category].result(), show=i == 0).add_to(fmap)
        _blind_spot_layer(analysis, category, shift, show=i == 0).add_to(fmap)
        _facility_layer(analysis, category, shift).add_to(fmap)
        if before is not None and category in before.categories:
            _before_layer(before, category, shift).add_to(fmap)
    for category in dict.fromkeys(analysis.facilities["category"]):
        if category not in analysis.categories:  # district-level (养老院): facilities only
            _facility_layer(analysis, category, shift).add_to(fmap)
    if before is not None:
        extra.append(("规划前可达范围 reach as-is (dashed)", _swatch("border-top:2px dashed #333")))
    if proposed is not None and len(proposed):
        _proposed_layer(proposed, shift).add_to(fmap)
        extra.append(("★ 建议选址 suggested site", ""))
    for layer, legend in _plan_layers(analysis, planned_roads, shift):
        layer.add_to(fmap)
        extra.append(legend)
    labels = _label_layer(analysis, shift)
    if labels is not None:
        labels.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.add_child(_ScaleBar())
    fmap.add_child(_Legend(analysis, title, extra=extra))
    x0, y0, x1, y1 = _display(analysis.communities[["geometry"]], shift).total_bounds
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    return fmap


_DEFERRED_KEY = "cjgis_deferred"


class _Deferred(dict):
    """A GeoJSON layer's data while its page renders.

    The same dict to every Python reader (folium's styles and tooltips), a one-key object with
    a token to JSON.

    branca compiles each rendered layer script as jinja template text: the features would be
    lexed as a template (1.2 s of the benchmark city's map) and a name holding ``{#`` or
    ``{{`` would break the page or be evaluated. :func:`map_html` puts them in afterwards.
    """

    def __init__(self, data: dict, token: str) -> None:
        super().__init__(data)
        self.token = token

    def items(self):  # what json.dumps writes of a dict subclass
        return [(_DEFERRED_KEY, self.token)]


def map_html(fmap: folium.Map) -> str:
    """Return a map's page as ``folium.Map.save`` writes it, its GeoJSON layers put in as text.

    The page is the same as folium's except that the layers' features are never read as jinja
    template text: a facility named ``{{ x }}`` stays so, and a large map renders faster.
    """
    layers = [e for e in _elements(fmap) if isinstance(e, folium.GeoJson)]
    tokens = {f"cjgis-{uuid.uuid4().hex}-{k}": layer.data for k, layer in enumerate(layers)}
    for layer, token in zip(layers, tokens, strict=True):
        layer.data = _Deferred(layer.data, token)
    try:
        page = fmap.get_root().render()
    finally:
        for layer, data in zip(layers, tokens.values(), strict=True):
            layer.data = data
    as_json = Template("{{ data|tojson }}")  # folium's own serialisation of each layer
    texts = {
        as_json.render(data={_DEFERRED_KEY: token}): as_json.render(data=data)
        for token, data in tokens.items()
    }
    pattern = re.compile("|".join(re.escape(placeholder) for placeholder in texts))
    found = set()

    def put(match: re.Match) -> str:
        found.add(match.group(0))
        return texts[match.group(0)]

    page = pattern.sub(put, page) if texts else page
    if len(found) != len(texts):
        raise RuntimeError(f"map_html: {len(texts) - len(found)} GeoJSON layers not in the page")
    return page


def _elements(element):
    """``element`` and everything under it, depth first."""
    yield element
    for child in element._children.values():
        yield from _elements(child)


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save a map as HTML under a temporary name, then move it into place.

    Raises
    ------
    OutputError
        ``path`` ends in another suffix than ``.html``/``.htm``: HTML written into a ``.png``
        would open as a broken image (figures: :func:`cjgis.write_figures`).
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise OutputError(
            f"{path}: save_map writes an HTML page, not {path.suffix or 'a file without suffix'}."
            " Fix: end the name in .html (for PNG figures, cjgis.write_figures)"
        )
    page = map_html(fmap)
    with atomic_path(path) as tmp:
        tmp.write_bytes(page.encode("utf-8"))
    return path
