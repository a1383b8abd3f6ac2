"""The exported map in a real browser: headless Chromium with every network lookup refused.

Skipped only where no Chromium is installed (``.ci/run`` installs Debian's ``chromium``, so CI
runs it; under ``CI=true`` a missing browser is a failure, not a skip).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium_or_skip

from cjgis.outputs.maps import gap_map, save_map

BROWSER = chromium_or_skip()

OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--virtual-time-budget=8000",
]
#: Screenshots of the map as a reviewer sees it, kept for a person to look at (git-ignored).
ARTEFACTS = Path(
    os.environ.get("CJGIS_ARTEFACTS", Path(__file__).parents[1] / "maps" / "screenshots")
)

PROBE_HEAD = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""
PROBE_BODY = """<script>setTimeout(function () {
  var names = Object.keys(window).filter(function (k) {
    return k.indexOf('map_') === 0 && window[k] instanceof L.Map; });
  var layers = 0; window[names[0]].eachLayer(function () { layers++; });
  var text = function (sel) { return Array.from(document.querySelectorAll(sel))
    .map(function (s) { return s.textContent.trim(); }); };
  var pre = document.createElement('pre'); pre.id = 'cjgis-probe';
  pre.textContent = JSON.stringify({errors: window.__errors, maps: names.length, layers: layers,
    bases: text('.leaflet-control-layers-base label > span > span'),
    overlays: text('.leaflet-control-layers-overlays label > span > span'),
    paths: document.querySelectorAll('path.leaflet-interactive').length,
    icons: document.querySelectorAll('.leaflet-marker-icon:not(.cjgis-label)').length,
    covered: (function () {
      var box = document.querySelector('.leaflet-container').getBoundingClientRect();
      var area = 0;
      document.querySelectorAll('.leaflet-control-layers, .leaflet-control-zoom, '
        + '.leaflet-control-scale, .leaflet-control-attribution, #cjgis-legend')
        .forEach(function (e) { var r = e.getBoundingClientRect(); area += r.width * r.height; });
      return area / (box.width * box.height); })(),
    legendOpen: document.getElementById('cjgis-legend').open,
    communities: (function () {
      var found = [];
      window[names[0]].eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p && p.label && p.label.indexOf('类满足') >= 0 && l._path) {
          found.push({label: p.label, fill: l._path.getAttribute('fill')});
        }
      });
      return found; })(),
    metLegend: Array.from(document.querySelectorAll('#cjgis-legend .cjgis-met'))
      .map(function (e) { return {low: +e.dataset.low, high: +e.dataset.high,
        colour: getComputedStyle(e).backgroundColor,
        text: e.nextSibling ? e.nextSibling.textContent.trim() : ''}; }),
    scale: text('.leaflet-control-scale-line')});
  document.body.appendChild(pre);
}, 1000);</script>"""


def run_browser(tmp_path, *args, size=(1280, 900)):
    profile = tmp_path / "profile"
    return subprocess.run(
        [
            BROWSER,
            *OFFLINE,
            f"--window-size={size[0]},{size[1]}",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def exported(sample_analysis, tmp_path_factory):
    folder = tmp_path_factory.mktemp("map")
    return save_map(gap_map(sample_analysis, title="cjgis · sample"), folder / "sample.html")


def probe(page, tmp_path, size=(1280, 900)):
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + PROBE_HEAD, 1).replace(
        "</body>", PROBE_BODY + "</body>", 1
    )
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(text, encoding="utf-8")
    dom = run_browser(tmp_path, "--dump-dom", probe_page.as_uri(), size=size).stdout
    found = re.search(r'<pre id="cjgis-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run; browser printed: {dom[-500:]}"
    return json.loads(html.unescape(found.group(1)))


def test_page_needs_no_network(exported):
    text = exported.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", text)
    assert exported.stat().st_size < 3_000_000  # 14 categories, 176 facilities: 2.8 MB


def test_map_runs_without_errors_and_has_its_layers(exported, tmp_path, sample_analysis):
    result = probe(exported, tmp_path)
    assert result["errors"] == []
    assert result["maps"] == 1
    assert result["bases"] == ["OpenStreetMap", "无底图 none (vector streets only)"]
    overlays = result["overlays"]
    assert overlays[0] == "社区 communities (满足类别数 categories met)"
    assert "步行网络 walking network" in overlays
    bands = {
        "养老服务设施": "300",
        "电瓶车集中充电点": "300",
        "红白喜事用房": "300/500/900",
        "文化活动站": "300/500",
    }  # chcj_2017: GB 50180 tier distances below each threshold, then the threshold
    for zh, band in bands.items():
        assert f"服务范围 service area · {zh} ({band} m)" in overlays
        assert f"盲区 blind spots · {zh}" in overlays
        assert any(o.startswith(f"设施 facilities · {zh}") for o in overlays)
    assert result["icons"] == len(sample_analysis.facilities)  # every facility, as a glyph
    assert result["paths"] > 300  # communities, streets, service areas, blind spots drawn


def test_screenshot_is_not_blank(exported, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    run_browser(tmp_path, f"--screenshot={shot}", exported.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    background = np.median(pixels, axis=0)
    drawn = np.abs(pixels.astype(int) - background).sum(axis=1) > 30
    assert drawn.mean() > 0.10, f"only {drawn.mean():.1%} of the page differs from background"
    assert len(np.unique(pixels, axis=0)) > 50


def test_amap_mode_shifts_every_layer_to_gcj02(sample_analysis, tmp_path):
    page = save_map(gap_map(sample_analysis, basemap="amap"), tmp_path / "amap.html")
    result = probe(page, tmp_path)
    assert result["errors"] == []
    assert result["bases"][0] == "高德 Amap (GCJ-02: 图层已偏移 layers shifted)"
    wgs = gap_map(sample_analysis).get_bounds()
    gcj = gap_map(sample_analysis, basemap="amap").get_bounds()
    assert gcj[0][1] - wgs[0][1] == pytest.approx(0.0047, abs=0.0008)  # ~450 m east
    assert gcj[0][0] - wgs[0][0] == pytest.approx(-0.0023, abs=0.0008)  # ~250 m south


@pytest.mark.parametrize("size", [(1280, 720), (1100, 800), (800, 600)])
def test_controls_and_legend_leave_the_map_to_the_reviewer(exported, tmp_path, size):
    result = probe(exported, tmp_path, size=size)
    assert result["errors"] == []
    assert result["covered"] < 0.25, result["covered"]  # projector and small laptop screens
    assert result["legendOpen"] == (size[0] > 1100)  # folded where it would cover communities
    assert result["scale"] and all(s.endswith(("m", "km")) for s in result["scale"])  # metric


@pytest.fixture(scope="module")
def offline_map(sample_analysis, tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline")
    fmap = gap_map(sample_analysis, title="cjgis · sample", basemap="none")
    return save_map(fmap, folder / "sample_none.html")


@pytest.mark.parametrize("size", [(1280, 720), (800, 600)])
def test_the_offline_base_is_blank_and_light(offline_map, tmp_path, size):
    from PIL import Image

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / f"map_none_{size[0]}x{size[1]}.png"
    run_browser(tmp_path, f"--screenshot={shot}", offline_map.as_uri(), size=size)
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    assert (background >= 235).all() and np.ptp(background) <= 10, background  # near-white
    assert counts.max() / len(pixels) > 0.3  # and it is the background, not a detail


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_the_legend_tells_each_communitys_count_as_drawn(exported, tmp_path, sample_analysis):
    """Each community's fill is the legend entry whose range holds its categories met."""
    result = probe(exported, tmp_path)
    legend, drawn = result["metLegend"], result["communities"]
    n = int(sample_analysis.communities["categories_required"].max())
    assert len(drawn) == len(sample_analysis.communities)
    values = [v for e in legend for v in range(e["low"], e["high"] + 1)]
    assert values == list(range(n + 1))  # every count in exactly one entry, in order
    for entry in legend:
        span = (
            f"{entry['low']}"
            if entry["low"] == entry["high"]
            else (f"{entry['low']}–{entry['high']}")
        )
        assert entry["text"].startswith(f"{span}/{n}"), entry
    counts = sample_analysis.communities.set_index("community_name")["categories_met"]
    for community in drawn:
        name, met, required = re.match(r"(.+): (\d+)/(\d+) 类满足", community["label"]).groups()
        assert int(met) == counts[name] and int(required) == n
        (entry,) = [e for e in legend if e["low"] <= int(met) <= e["high"]]
        assert _rgb(community["fill"]) == entry["colour"], (name, met, entry)
    assert len({c["fill"] for c in drawn}) >= 2  # the sample's communities differ


def test_a_notebook_cell_folds_the_legend(sample_analysis, tmp_path):
    """In an iframe (a notebook cell, folium's _repr_html_), the legend starts folded."""
    page = save_map(gap_map(sample_analysis), tmp_path / "inner.html")
    outer = tmp_path / "outer.html"
    outer.write_text(
        f'<iframe id="cell" src="{page.as_uri()}" width="1400" height="700"></iframe>',
        encoding="utf-8",
    )
    script = (
        "<script>setTimeout(function () { var d = document.getElementById('cell')"
        ".contentDocument.getElementById('cjgis-legend'); var p = document.createElement('pre');"
        " p.id = 'folded'; p.textContent = String(!d.open); document.body.appendChild(p); }, "
        "1500);</script>"
    )
    outer.write_text(outer.read_text(encoding="utf-8") + script, encoding="utf-8")
    dom = run_browser(
        tmp_path, "--allow-file-access-from-files", "--dump-dom", outer.as_uri(), size=(1500, 800)
    ).stdout
    assert '<pre id="folded">true</pre>' in dom, dom[-500:]
