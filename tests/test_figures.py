"""Static figures: one bar per community x category, Chinese labels where a font exists."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cjgis.outputs.figures import cjk_font, coverage_chart, gap_figure, write_figures


def test_coverage_chart_has_a_bar_per_community_and_category(sample_analysis):
    fig = coverage_chart(sample_analysis)
    ax = fig.axes[0]
    bars = [patch for container in ax.containers for patch in container]
    assert len(bars) == len(sample_analysis.communities) * len(sample_analysis.categories)
    widths = sorted(round(b.get_width(), 6) for b in bars)
    shares = sorted(sample_analysis.coverage["covered_share"].fillna(0).round(6))
    assert widths == shares
    labels = [t.get_text() for t in ax.get_yticklabels()]
    column = "community_name" if cjk_font() else "community_id"
    assert labels == sample_analysis.communities[column].tolist()


def test_gap_figure_draws_the_category(sample_analysis):
    fig = gap_figure(sample_analysis, category="ceremony_hall")
    ax = fig.axes[0]
    assert "ceremony hall" in ax.get_title(loc="left")
    scatter = [c for c in ax.collections if c.get_offsets().shape[1:] == (2,)]
    sizes = {len(c.get_offsets()) for c in scatter}
    spots = sample_analysis.blind_spots
    assert spots["blind_ceremony_hall"].sum() in sizes
    assert 2 in sizes  # the two ceremony halls


def test_written_pngs_are_not_blank(sample_analysis, tmp_path):
    paths = write_figures(sample_analysis, tmp_path, dpi=60)
    for path in paths.values():
        pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
        assert pixels.std() > 20, path


def test_coverage_chart_of_a_city_draws_the_lowest_communities(sample_analysis):
    from cjgis.outputs.figures import coverage_chart

    fig = coverage_chart(sample_analysis, max_communities=3)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 3
    assert "8" in ax.get_title() and "3" in ax.get_title()  # 3 lowest of 8 communities


def test_gap_figure_of_a_city_sums_blind_spots_in_hexagons(sample_analysis, monkeypatch):
    import cjgis.outputs.figures

    monkeypatch.setattr(cjgis.outputs.figures, "MAX_DRAWN_SPOTS", 5)
    ax = gap_figure(sample_analysis, category="tool_storage").axes[0]
    hexes = [c for c in ax.collections if c.get_array() is not None and len(c.get_array())]
    spots = sample_analysis.blind_spots
    left_out = spots.loc[spots["blind_tool_storage"], "population"].sum()
    assert any(np.isclose(c.get_array().sum(), left_out) for c in hexes)


def test_every_bar_is_labelled_with_the_verdicts_share_and_the_legend_is_outside(sample_analysis):
    from cjgis.judge.verdict import share_text

    fig = coverage_chart(sample_analysis)
    ax = fig.axes[0]
    labels = [
        t.get_text()
        for t in ax.texts
        if t.get_text().endswith("%") and "target" not in t.get_text()
    ]
    cov = sample_analysis.coverage
    expected = [
        share_text(v, t, m)
        for v, t, m in zip(
            cov["covered_share"], cov["target_share"], cov["coverage_met"], strict=True
        )
    ]
    assert sorted(labels) == sorted(expected)  # every bar, 0 % included, as everywhere else
    assert "0%" in labels and "89.7%" in labels
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # the legend covers no bar
    targets = [t.get_text() for t in ax.texts if "target" in t.get_text()]
    assert any(t.endswith("target 90%") for t in targets)  # each target line says what it is
    assert any(t.endswith("target 100%") for t in targets)


def test_the_map_figure_has_a_legend_for_every_fill_a_scale_and_north(
    sample_study, sample_analysis
):
    import geopandas as gpd
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    water = gpd.read_file(sample_study.parent / "river.geojson")
    fig = gap_figure(sample_analysis, water=water)
    ax = fig.axes[0]
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("water" in e for e in entries)
    assert any("roads not walkable" in e for e in entries)  # the sample's expressway
    assert sum("met" in e for e in entries) == 5  # the community fill, class by class
    assert any("blind spots" in e for e in entries) and any("service area" in e for e in entries)
    assert any(isinstance(a, AnchoredSizeBar) for a in ax.artists)
    assert any(t.get_text() == "N" for t in ax.texts)


def test_the_map_figure_is_framed_on_the_communities_not_the_network(sample_analysis):
    from dataclasses import replace

    import geopandas as gpd

    from cjgis.outputs.figures import FRAME_MARGIN

    # one community of eight: the streets reach far beyond it
    one = replace(sample_analysis, communities=sample_analysis.communities.iloc[[0]])
    fig = gap_figure(one, category="ceremony_hall")
    x0, y0, x1, y1 = gpd.GeoSeries(one.communities.geometry).total_bounds
    pad = FRAME_MARGIN * max(x1 - x0, y1 - y0)
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((x0 - pad, x1 + pad))
    assert ax.get_ylim() == pytest.approx((y0 - pad, y1 + pad))
    net = sample_analysis.network
    assert net.node_x.max() - net.node_x.min() > 2 * (x1 - x0)  # the network is wider
