"""Static figures for reports and slides: the gap map as PNG and coverage per community.

Built on :class:`matplotlib.figure.Figure` (no pyplot, no global backend). Chinese labels use
an installed CJK font (Noto/Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang);
without one, communities are labelled by id and the log says which font package to install.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from cjgis._atomic import atomic_path
from cjgis.inputs.categories import (
    BARRIER_COLOUR,
    PLAN_COLOUR,
    WATER_COLOUR,
    category_info,
    category_named,
    met_classes,
    met_colour,
)
from cjgis.inputs.io import read_water
from cjgis.judge.analysis import Analysis, category_blind_spots
from cjgis.judge.verdict import share_text

log = logging.getLogger(__name__)

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)


_CJK_FILES = re.compile(r"wqy|notosanscjk|notosanssc|sourcehansans|simhei|msyh|pingfang")


class Chart(Figure):
    """A matplotlib figure that shows itself as an image in a notebook, with no magic.

    cjgis draws on :class:`~matplotlib.figure.Figure` without pyplot, so a notebook's inline
    backend does not know its figures; without ``%matplotlib inline`` a plain figure would
    show as ``<Figure size 900x1640 with 1 Axes>``. This one gives Jupyter its PNG.
    """

    def _repr_png_(self) -> bytes:
        """Return the figure as PNG bytes, at 100 dpi, for a notebook's output."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


@functools.cache
def cjk_font() -> str | None:
    """Return the name of an installed font family that has Chinese glyphs, if any.

    Fonts installed after matplotlib built its font cache are found by file name and
    registered, so a freshly installed ``fonts-wqy-microhei`` works at once.
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in _CJK_FAMILIES if name in installed), None)
    if found is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name.lower().replace("-", "")):
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
        found = next((name for name in _CJK_FAMILIES if name in installed), None)
    if found is None:
        log.info(
            "no Chinese font found: figures label communities by id "
            "(install fonts-noto-cjk or fonts-wqy-microhei to see names)"
        )
    return found


def _fonts():
    """Matplotlib settings that render Chinese when a CJK font is installed."""
    font = cjk_font()
    if font is None:
        return contextlib.nullcontext()
    return mpl.rc_context({"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False})


def _label(zh: str, en: str) -> str:
    return f"{zh} {en}" if cjk_font() else en


def _community_labels(analysis: Analysis) -> list[str]:
    comm = analysis.communities
    column = "community_name" if cjk_font() else "community_id"
    return comm[column].astype(str).tolist()


#: Above these counts (a city) the figure leaves out street lines and community labels.
MAX_DRAWN_EDGES = 20_000
MAX_LABELS = 60
#: More blind spots than this are drawn as hexagons with the residents left out in each.
MAX_DRAWN_SPOTS = 20_000


#: The map figure shows the communities' box and this share of its longer side around it.
FRAME_MARGIN = 0.08


def _figure_tolerance_m(communities) -> float:
    """Half a pixel of the 10-inch figure at 150 dpi, in metres: simplify areas to it."""
    x0, y0, x1, y1 = communities.total_bounds
    return max(x1 - x0, y1 - y0) / 1500 / 2


def _dashed(colour: str, label: str) -> Line2D:
    """Return a legend entry for a dashed line (barriers, planned roads)."""
    return Line2D([], [], color=colour, linestyle="--", linewidth=2.5, label=label)


def _scale_bar(ax, width_m: float) -> None:
    """Add a scale bar of a round length near a fifth of the map's width, bottom left."""
    length = 10 ** np.floor(np.log10(width_m / 5))
    length *= 5 if width_m / 5 / length >= 5 else (2 if width_m / 5 / length >= 2 else 1)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.add_artist(
        AnchoredSizeBar(
            ax.transData,
            length,
            label,
            "lower left",
            pad=0.6,
            frameon=True,
            size_vertical=length / 40,
        )
    )


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.96),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
    )


def gap_figure(
    analysis: Analysis,
    *,
    category: str | None = None,
    water: gpd.GeoDataFrame | None = None,
    frame: tuple[float, float, float, float] | None = None,
    planned_roads: gpd.GeoDataFrame | None = None,
) -> Figure:
    """Draw communities by categories met, streets, one category's service area and gaps.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.judge.analysis.analyze`.
    category : str, optional
        Category whose service area, facilities and blind spots are drawn (the first if None).
    water : geopandas.GeoDataFrame, optional
        Rivers and other barriers (``[map] water``), drawn light blue.
    frame : tuple of float, optional
        Bounds ``(x0, y0, x1, y1)`` in the analysis CRS to frame (a new site); the
        communities' bounds if None. :data:`FRAME_MARGIN` is added around either.
    planned_roads : geopandas.GeoDataFrame, optional
        Planned road lines, drawn dashed in :data:`cjgis.inputs.categories.PLAN_COLOUR`.

    Returns
    -------
    Chart
        A :class:`matplotlib.figure.Figure` that shows as an image in a notebook: a 10 x 8 inch
        figure in the analysis CRS (metres), with a legend for every fill, a
        scale bar and a north arrow.
    """
    category = category_named(category or analysis.categories[0], analysis.categories)
    info = category_info(category)
    rule = analysis.options.rule_for(category)
    with _fonts():
        fig = Chart(figsize=(10, 8))
        ax = fig.add_subplot()
        comm = analysis.communities
        comm.plot(
            ax=ax,
            color=[
                met_colour(m, t)
                for m, t in zip(comm["categories_met"], comm["categories_required"], strict=True)
            ],
            edgecolor="#333333",
            linewidth=1.2,
        )
        if water is not None:
            water.to_crs(comm.crs).plot(
                ax=ax, color=WATER_COLOUR, edgecolor=WATER_COLOUR, linewidth=2
            )
        barriers = analysis.network.barrier_geometry
        if 0 < len(barriers) <= MAX_DRAWN_EDGES:
            gpd.GeoSeries(barriers, crs=analysis.crs).plot(
                ax=ax, color=BARRIER_COLOUR, linewidth=2.5, linestyle="--"
            )
        net = analysis.network
        if net.n_edges <= MAX_DRAWN_EDGES:  # a city's streets are a grey blur: left out
            gpd.GeoSeries(net.edge_geometry, crs=net.crs).plot(
                ax=ax, color="#777777", linewidth=0.5
            )
        areas = analysis.service_areas
        area = areas[
            (areas["category"] == category)
            & areas["facility_id"].isna()
            & np.isclose(areas["minutes"].astype(float), rule.minutes)
        ]
        area = area.set_geometry(area.geometry.simplify(_figure_tolerance_m(comm)))
        area.plot(ax=ax, color=info.colour, alpha=0.25, edgecolor=info.colour, linewidth=0.8)
        spots = category_blind_spots(analysis.blind_spots, category)
        xy = shapely.get_coordinates(spots.geometry.representative_point().to_numpy())
        if len(spots) > MAX_DRAWN_SPOTS:  # a city: residents left out, summed per hexagon
            ax.hexbin(
                xy[:, 0],
                xy[:, 1],
                C=spots["population"].to_numpy(dtype=float),
                reduce_C_function=np.sum,
                gridsize=150,
                mincnt=1,
                cmap="Reds",
                alpha=0.8,
                linewidths=0,
            )
        else:
            ax.scatter(
                xy[:, 0],
                xy[:, 1],
                s=2 + spots["population"] / 20,
                color="#b2182b",
                alpha=0.6,
                linewidths=0,
            )
        if planned_roads is not None and len(planned_roads):
            planned_roads.to_crs(analysis.crs).plot(
                ax=ax, color=PLAN_COLOUR, linewidth=2.5, linestyle="--", zorder=4
            )
        fac = analysis.facilities[analysis.facilities["category"] == category]
        ax.scatter(
            fac.geometry.x, fac.geometry.y, s=120, color=info.colour, edgecolor="black", zorder=5
        )
        if len(comm) <= MAX_LABELS:
            for label, point in zip(
                _community_labels(analysis), comm.representative_point(), strict=True
            ):
                ax.annotate(label, (point.x, point.y), ha="center", fontsize=9, color="#222222")
        reach = f"{rule.threshold_m:.0f} m ({rule.minutes:.1f} min @ {rule.walk_speed_m_s:g} m/s)"
        ax.set_title(
            _label(
                f"{info.name_zh} · 步行 {reach} 覆盖与服务盲区",
                f"{info.name_en}: walking reach and blind spots",
            ),
            loc="left",  # from the map's left edge: wider than the map, it is never cut
        )
        n = int(comm["categories_required"].max() or 0)
        handles = [
            Patch(color=info.colour, alpha=0.4, label=_label("服务范围", "service area")),
            Patch(color="#b2182b", alpha=0.6, label=_label("服务盲区", "blind spots")),
            Patch(color=info.colour, label=_label("设施", "facilities")),
        ]
        if water is not None:
            handles.append(Patch(color=WATER_COLOUR, label=_label("水系", "water")))
        if planned_roads is not None and len(planned_roads):
            handles.append(_dashed(PLAN_COLOUR, _label("规划道路", "planned roads")))
        if 0 < len(barriers) <= MAX_DRAWN_EDGES:
            handles.append(_dashed(BARRIER_COLOUR, _label("不可步行道路", "roads not walkable")))
        handles += [
            Patch(facecolor=c, edgecolor="#333333", label=_label(f"满足 {label} 类", "met"))
            for label, c in met_classes(n)
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
        x0, y0, x1, y1 = comm.total_bounds if frame is None else frame
        _scale_bar(ax, x1 - x0)
        _north_arrow(ax)
        ax.set_axis_off()
        ax.set_aspect("equal")
        # framed on the study's communities, not the whole network (a site, not a speck)
        pad = FRAME_MARGIN * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        _margins(fig, ax, top_in=0.5)
    return fig


def coverage_chart(analysis: Analysis, *, max_communities: int = 40) -> Figure:
    """Draw covered share per community and category against the target share.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.judge.analysis.analyze`.
    max_communities : int, optional
        More communities than this (a city): the ones with the lowest mean covered share are
        drawn and the title says how many are left out (all are in the scorecard).

    Returns
    -------
    Chart
        A :class:`matplotlib.figure.Figure` that shows as an image in a notebook: grouped
        horizontal bars, one group per community, a dashed line at the target.
    """
    cov = analysis.coverage
    communities = list(dict.fromkeys(cov["community_id"]))
    ids = analysis.communities["community_id"]
    label_of = dict(zip(ids, _community_labels(analysis), strict=True))
    hidden = max(len(communities) - max_communities, 0)
    if hidden:
        mean = cov.groupby("community_id", sort=False)["covered_share"].mean()
        communities = list(mean.sort_values(kind="stable").index[:max_communities])
    labels = [label_of.get(c, str(c)) for c in communities]
    n = len(analysis.categories)
    height = 0.8 / n
    with _fonts():
        fig = Chart(figsize=(9, 1.0 + 0.55 * len(communities) * max(n, 2) / 2))
        ax = fig.add_subplot()
        y = np.arange(len(communities))
        for k, category in enumerate(analysis.categories):
            info = category_info(category)
            shares = (
                cov[cov["category"] == category]
                .set_index("community_id")["covered_share"]
                .reindex(communities)
                .fillna(0.0)
            )
            rule = analysis.options.rule_for(category)
            rows = cov[cov["category"] == category].set_index("community_id").reindex(communities)
            at = y + (k - (n - 1) / 2) * height
            bars = ax.barh(
                at,
                shares.to_numpy(),
                height=height,
                color=info.colour,
                edgecolor="#333333",
                linewidth=0.3,
                label=_label(
                    f"{info.name_zh} ≤{rule.threshold_m:.0f}米",
                    f"{info.name_en} ≤{rule.threshold_m:.0f} m",
                ),
            )
            texts = [
                share_text(v, t, m)
                for v, t, m in zip(
                    rows["covered_share"], rows["target_share"], rows["coverage_met"], strict=True
                )
            ]
            ax.bar_label(bars, labels=texts, padding=2, fontsize=6)  # 0 % too: never "no data"
        targets = sorted({analysis.options.rule_for(c).target_share for c in analysis.categories})
        for i, target in enumerate(targets):  # labels stacked: 90 % and 100 % sit close
            ax.axvline(target, color="black", linestyle="--", linewidth=1)
            ax.annotate(
                _label(f"目标 {target:.0%}", f"target {target:.0%}"),
                xy=(target, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2 + 11 * i),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_yticks(y, labels)
        ax.set_ylim(len(communities) - 0.5, -0.5)  # the first community on top, no empty rows
        ax.set_xlim(0, 1.12)  # room for the labels of full bars
        ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
        ax.set_xlabel(
            _label("各类别步行时限内覆盖率", "share within each category's walking threshold")
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # outside the bars
        if hidden:
            ax.set_title(
                _label(
                    f"覆盖率最低的 {max_communities} 个社区(另 {hidden:,} 个见计分表)",
                    f"the {max_communities} lowest of {len(communities) + hidden:,} communities",
                ),
                fontsize=10,
                pad=6 + 11 * len(targets),  # above the stacked target labels
            )
        _margins(fig, ax, top_in=0.3 + 0.16 * len(targets) + (0.3 if hidden else 0.0))
    return fig


def _margins(fig: Figure, ax, *, top_in: float) -> None:
    """Leave room for the tick labels on the left and the legend on the right, in inches.

    Measures only those two (a layout engine would lay out every bar label twice: most of the
    chart's time).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    width, height = fig.get_size_inches()
    ticks = ax.get_yticklabels() if ax.axison else []
    labels_in = max((t.get_window_extent(renderer).width for t in ticks), default=0)
    legend_in = ax.get_legend().get_window_extent(renderer).width
    fig.subplots_adjust(
        left=(labels_in / fig.dpi + 0.3) / width,
        right=1 - (legend_in / fig.dpi + 0.25) / width,
        top=1 - top_in / height,
        bottom=0.6 / height,
    )


def write_figures(
    analysis: Analysis,
    output_dir: str | Path,
    *,
    dpi: int = 150,
    water: str | Path | gpd.GeoDataFrame | None = None,
) -> dict:
    """Write ``figure_map.png`` (first category) and ``coverage_chart.png``; return paths.

    ``water`` defaults to the study's ``[map] water`` for an analysis made from a study file.
    """
    out = Path(output_dir)
    paths = {"figure_map": out / "figure_map.png", "coverage_chart": out / "coverage_chart.png"}
    if water is None:
        water = analysis.map_options.get("water")  # the study's [map] water
    water = read_water(water)
    for key, fig in (
        ("figure_map", gap_figure(analysis, water=water)),
        ("coverage_chart", coverage_chart(analysis)),
    ):
        save_figure(fig, paths[key], dpi=dpi)
    return paths


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write a figure as PNG to ``path`` atomically, with the Chinese font."""
    with atomic_path(path) as tmp, _fonts():
        fig.savefig(tmp, dpi=dpi, format="png")
    return Path(path)
