"""The review map as one folium (Leaflet) HTML file.

Communities coloured by how many categories they meet, facilities, service areas, blind
spots and streets. Geometry is simplified and rounded for display only; the exact layers are in the
GeoPackages. Labels are Chinese with English.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement, Template

from cjgis._atomic import atomic_path
from cjgis.analysis import Analysis
from cjgis.categories import category_info

log = logging.getLogger(__name__)

DISPLAY_TOLERANCE_M = 3.0
MAX_STREET_EDGES = 20_000
_OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_MET_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")


def _display(frame: gpd.GeoDataFrame, tolerance_m: float = DISPLAY_TOLERANCE_M):
    """Simplify in metres, then WGS84 rounded to 1e-6 degrees (about 0.1 m)."""
    out = frame.copy()
    out["geometry"] = out.geometry.simplify(tolerance_m)
    out = out.to_crs("EPSG:4326")
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 1e-6)
    return out


def _met_colour(met: float, total: float) -> str:
    if not total:
        return "#999999"
    return _MET_COLOURS[round(met / total * (len(_MET_COLOURS) - 1))]


def _community_layer(analysis: Analysis) -> folium.GeoJson:
    comm = analysis.communities.copy()
    comm["label"] = [
        f"{r.community_name}: {r.categories_met}/{r.categories_total} 达标 met"
        for r in comm.itertuples()
    ]
    comm["popup_html"] = [_community_popup(analysis, cid) for cid in comm["community_id"]]
    comm["fill"] = [
        _met_colour(m, t)
        for m, t in zip(comm["categories_met"], comm["categories_total"], strict=True)
    ]
    data = _display(comm[["community_name", "label", "popup_html", "fill", "geometry"]])
    return folium.GeoJson(
        data,
        name="社区 communities (达标类别数 categories met)",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#333333",
            "weight": 2,
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False),
        popup=folium.GeoJsonPopup(["popup_html"], labels=False),
    )


def _community_popup(analysis: Analysis, community_id: str) -> str:
    rows = analysis.coverage[analysis.coverage["community_id"] == community_id]
    first = rows.iloc[0]
    head = (
        f"<b>{html.escape(first['community_name'])}</b><br>居民 residents {first['residents']:,.0f}"
    )
    if "elderly" in rows:
        head += f" · 老年人 elderly {first['elderly']:,.0f}"
    body = "".join(
        f"<tr><td>{html.escape(r['category_zh'])}</td><td>{r['covered_share']:.0%}</td>"
        f"<td>{_minutes(r['median_walk_min'])}</td>"
        f"<td>{'达标 ok' if r['status'] == 'ok' else '不达标 gap'}</td></tr>"
        for _, r in rows.iterrows()
    )
    return (
        f"{head}<table><tr><th>类别 category</th><th>覆盖率 covered</th>"
        f"<th>步行中位 median walk</th><th>状态 status</th></tr>{body}</table>"
    )


def _minutes(value: float) -> str:
    return "不可达 unreachable" if not np.isfinite(value) else f"{value:.1f} min"


def _service_area_layer(analysis: Analysis, category: str, *, show: bool) -> folium.GeoJson:
    info = category_info(category)
    areas = analysis.service_areas
    area = areas[(areas["category"] == category) & areas["facility_id"].isna()]
    return folium.GeoJson(
        _display(area[["category", "geometry"]]),
        name=f"服务范围 service area · {info.name_zh} ({analysis.options.minutes:g} min)",
        style_function=lambda f, c=info.colour: {
            "fillColor": c,
            "color": c,
            "weight": 1,
            "fillOpacity": 0.25,
        },
        show=show,
    )


def _facility_layer(analysis: Analysis, category: str) -> folium.FeatureGroup:
    info = category_info(category)
    group = folium.FeatureGroup(name=f"设施 facilities · {info.name_zh} {info.name_en}")
    fac = analysis.facilities[analysis.facilities["category"] == category].to_crs("EPSG:4326")
    for row in fac.itertuples():
        text = (
            f"<b>{html.escape(str(row.name))}</b><br>{info.name_zh} {info.name_en}"
            f"<br>离街道 to street {row.street_offset_m:.0f} m"
        )
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=8,
            color="#000000",
            weight=1,
            fill=True,
            fill_color=info.colour,
            fill_opacity=0.95,
            tooltip=html.escape(str(row.name)),
            popup=folium.Popup(text, max_width=300),
        ).add_to(group)
    return group


def _blind_spot_layer(analysis: Analysis, category: str, *, show: bool) -> folium.FeatureGroup:
    info = category_info(category)
    spots = analysis.blind_spots[analysis.blind_spots["category"] == category]
    group = folium.FeatureGroup(name=f"盲区 blind spots · {info.name_zh}", show=show)
    points = spots.geometry.representative_point().to_crs("EPSG:4326")
    names = analysis.communities.set_index("community_id")["community_name"]
    for (_, row), pt in zip(spots.iterrows(), points, strict=True):
        walk = _minutes(row["walk_min"])
        text = (
            f"{html.escape(str(names.get(row['community_id'], '')))} · "
            f"{row['population']:,.0f} 人 residents · 步行 walk {walk}"
        )
        folium.CircleMarker(
            [pt.y, pt.x],
            radius=float(2 + np.sqrt(row["population"]) / 3),
            color="#b2182b",
            weight=1,
            fill=True,
            fill_opacity=0.6,
            tooltip=text,
        ).add_to(group)
    return group


def _street_layer(analysis: Analysis) -> folium.GeoJson | None:
    net = analysis.network
    if net.n_edges > MAX_STREET_EDGES:
        log.info("street layer left off the map: %d edges > %d", net.n_edges, MAX_STREET_EDGES)
        return None
    streets = gpd.GeoDataFrame(geometry=net.edge_geometry, crs=net.crs)
    return folium.GeoJson(
        _display(streets),
        name="步行网络 walking network",
        style_function=lambda f: {"color": "#555555", "weight": 1, "opacity": 0.6},
    )


_LEGEND = """
{% macro html(this, kwargs) %}
<div style="position: fixed; bottom: 24px; left: 12px; z-index: 9999; background: white;
  padding: 8px 10px; border: 1px solid #888; font: 12px sans-serif; line-height: 18px;">
<b>图例 Legend</b> · {{ this.threshold }}<br>
{% for label, colour in this.categories %}
<span style="display:inline-block;width:12px;height:12px;border-radius:6px;
  background:{{ colour }};border:1px solid #000"></span> {{ label }}<br>
{% endfor %}
<span style="display:inline-block;width:12px;height:12px;border-radius:6px;
  background:#b2182b;opacity:.6"></span> 盲区 blind spot (size = residents)<br>
社区达标 categories met:
{% for label, colour in this.met %}
<span style="display:inline-block;width:14px;height:10px;background:{{ colour }}"></span>{{ label }}
{% endfor %}
</div>
{% endmacro %}
"""


class _Legend(MacroElement):
    def __init__(
        self, categories: list[tuple[str, str]], met: list[tuple[str, str]], threshold: str
    ) -> None:
        super().__init__()
        self._template = Template(_LEGEND)
        self.categories, self.met, self.threshold = categories, met, threshold


def gap_map(analysis: Analysis, *, title: str = "") -> folium.Map:
    """Build the review map of an analysis.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.analysis.analyze`.
    title : str, optional
        Shown in the page title.

    Returns
    -------
    folium.Map
        Layers: communities, streets, per category service area, facilities and blind spots,
        with a layer control and a legend. Only the first category's areas and blind spots
        are shown at first.
    """
    bounds = analysis.communities.to_crs("EPSG:4326").total_bounds
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        tiles=None,
        control_scale=True,
    )
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr=_OSM_ATTRIBUTION).add_to(fmap)
    page_title = f"<title>{html.escape(title or 'cjgis')}</title>"
    fmap.get_root().header.add_child(folium.Element(page_title))
    _community_layer(analysis).add_to(fmap)
    streets = _street_layer(analysis)
    if streets is not None:
        streets.add_to(fmap)
    for i, category in enumerate(analysis.categories):
        _service_area_layer(analysis, category, show=i == 0).add_to(fmap)
    for i, category in enumerate(analysis.categories):
        _blind_spot_layer(analysis, category, show=i == 0).add_to(fmap)
    for category in analysis.categories:
        _facility_layer(analysis, category).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    n = len(analysis.categories)
    met = [(f"{round(k * n / (len(_MET_COLOURS) - 1))}/{n}", c) for k, c in enumerate(_MET_COLOURS)]
    cats = [
        (f"{category_info(c).name_zh} {category_info(c).name_en}", category_info(c).colour)
        for c in analysis.categories
    ]
    opts = analysis.options
    fmap.add_child(_Legend(cats, met, f"{opts.minutes:g} 分钟 min @ {opts.walk_speed_m_s:g} m/s"))
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save a map as HTML under a temporary name, then move it into place."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fmap.save(str(tmp))
    return path
