"""Map options without a browser: base layers, keys, proposed sites, CDN mode."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import jinja2
import pytest

from cjgis._errors import InputError
from cjgis.outputs.maps import gap_map, map_html, save_map


def page(fmap) -> str:
    return fmap.get_root().render()


def test_tianditu_needs_a_key_and_uses_it(sample_analysis):
    with pytest.raises(InputError, match=r"basemap = 'tianditu' needs a key.*tianditu_key"):
        gap_map(sample_analysis, basemap="tianditu")
    html = page(gap_map(sample_analysis, basemap="tianditu", tianditu_key="KEY123"))
    assert "tianditu.gov.cn/vec_w" in html and "tk=KEY123" in html
    assert json.dumps("天地图 Tianditu")[1:-1] in html  # folium escapes Chinese in JavaScript


def test_unknown_basemap_names_the_choices(sample_analysis):
    with pytest.raises(InputError, match=r"basemap = 'google' is unknown.*'osm', 'none'"):
        gap_map(sample_analysis, basemap="google")


def test_cdn_mode_links_leaflet_instead_of_embedding_it(sample_analysis):
    online = page(gap_map(sample_analysis, self_contained=False))
    offline = page(gap_map(sample_analysis))
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js" in online
    assert "data:text/javascript;base64," in offline and "cdn.jsdelivr" not in offline
    assert len(offline) - len(online) > 150_000  # Leaflet itself


def test_proposed_sites_get_their_own_layer(sample_analysis):
    fac = sample_analysis.facilities.iloc[:2]
    proposed = gpd.GeoDataFrame(
        {"category": ["elderly_care", "ev_charging"], "rank": [1, 2]},
        geometry=fac.geometry.to_numpy(),
        crs=fac.crs,
    )
    html = page(gap_map(sample_analysis, proposed=proposed))
    assert "\\u5efa\\u8bae\\u9009\\u5740 proposed sites" in html  # 建议选址, as folium escapes it
    assert html.count("\\u2605") == 2  # one star per proposed site


def test_many_blind_spots_are_drawn_as_cells_with_their_totals(sample_analysis, monkeypatch):
    import numpy as np

    import cjgis.outputs.maps
    from cjgis.judge.analysis import category_blind_spots
    from cjgis.outputs.maps import _blind_spot_cells

    spots = category_blind_spots(sample_analysis.blind_spots, "tool_storage")
    names = sample_analysis.communities.set_index("community_id")["community_name"]
    monkeypatch.setattr(cjgis.outputs.maps, "MAX_BLIND_SPOTS", 20)
    cells = _blind_spot_cells(spots, names)
    assert 1 < len(cells) < len(spots)
    drawn = sum(int(label.split(" 处")[0].split("· ")[-1]) for label in cells["label"])
    assert drawn == len(spots)  # every residence is in exactly one cell
    people = [
        float(lb.split(" 人")[0].split("residences · ")[-1].replace(",", ""))
        for lb in cells["label"]
    ]
    assert np.isclose(sum(people), spots["population"].sum())
    assert " m cell)" in gap_map(sample_analysis).get_root().render()
    monkeypatch.setattr(cjgis.outputs.maps, "MAX_BLIND_SPOTS", 5_000)
    html = gap_map(sample_analysis).get_root().render()
    assert " m cell)" not in html  # the sample itself is drawn point by point


def test_many_facilities_are_one_geojson_layer_with_every_facility(sample_analysis, monkeypatch):
    import folium

    import cjgis.outputs.maps

    fac = sample_analysis.facilities
    n = int((fac["category"] == "ev_charging").sum())
    monkeypatch.setattr(cjgis.outputs.maps, "MAX_MARKERS", 2)
    layer = cjgis.outputs.maps._facility_layer(sample_analysis, "ev_charging", None)
    assert isinstance(layer, folium.GeoJson)
    assert len(layer.data["features"]) == n > 2


def _without_ids(page_html: str) -> str:
    return re.sub(r"_[0-9a-f]{32}", "_ID", page_html)  # folium's random element ids


def test_page_is_folium_s_own(sample_analysis, tmp_path):
    folium_page = page(gap_map(sample_analysis))  # a page renders once: folium adds elements
    mine = map_html(gap_map(sample_analysis))
    assert _without_ids(mine) == _without_ids(folium_page)
    assert '"cjgis_deferred"' not in mine and '"FeatureCollection"' in mine
    written = save_map(gap_map(sample_analysis), tmp_path / "m.html").read_bytes()
    assert _without_ids(written.decode("utf-8")) == _without_ids(mine)


def test_names_with_template_syntax_are_shown_as_written(sample_analysis):
    odd = "Hall {{ 1 + 1 }} {# draft"
    analysis = dataclasses.replace(
        sample_analysis,
        facilities=sample_analysis.facilities.assign(name=odd),
        communities=sample_analysis.communities.assign(community_name="Village {% if %}"),
    )
    shown = map_html(gap_map(analysis, title="review {{ x }}"))
    entities = odd.replace("{", "&#123;").replace("}", "&#125;")
    assert str(jinja2.utils.htmlsafe_json_dumps(entities)) in shown  # as folium writes JSON
    label = str(jinja2.utils.htmlsafe_json_dumps(">Village &#123;% if %&#125;<"))[1:-1]
    assert label in shown  # the community labels: markers, not GeoJSON
    assert "<title>review &#123;&#123; x &#125;&#125;</title>" in shown
    assert "2 {#" not in shown and "Hall 2" not in shown


def test_layer_data_is_never_read_as_a_template():
    import folium

    def one_point_map():
        fmap = folium.Map()
        point = {"type": "Point", "coordinates": [120.2, 30.3]}
        feature = {"type": "Feature", "properties": {"name": "{# {{ 1 + 1 }}"}, "geometry": point}
        folium.GeoJson({"type": "FeatureCollection", "features": [feature]}).add_to(fmap)
        return fmap

    with pytest.raises(jinja2.TemplateSyntaxError):  # folium's own page compiles the data
        one_point_map().get_root().render()
    assert '"name": "{# {{ 1 + 1 }}"' in map_html(one_point_map())


def test_service_area_bands_say_their_minutes_and_metres(sample_analysis):
    shown = map_html(gap_map(sample_analysis))
    said = set(re.findall(r"步行 ([\d.]+) 分钟 min \((\d+) m\)", shown))
    # 步行 6.2 分钟 min (300 m): elderly care's 300 m at 0.8 m/s; 900 m at 1 m/s is 15 minutes
    assert {("6.2", "300"), ("15.0", "900"), ("8.3", "500")} <= said
    assert not any(minutes == metres for minutes, metres in said)


def test_popups_cite_the_clause_each_verdict_rests_on(sample_analysis):
    import json

    from cjgis.outputs.maps import _clauses, gap_map

    coverage = sample_analysis.coverage.set_index("category")
    clauses = dict(zip(coverage.index, _clauses(coverage), strict=True))
    assert clauses["elderly_care"] == "GB 50180-2018 附录C 表C.0.2"
    assert clauses["waste_point"] == "GB 50180-2018 附录C 表C.0.3"
    assert clauses["ceremony_hall"] == "规划建议值"
    page = gap_map(sample_analysis).get_root().render()

    def escaped(text: str) -> str:  # as the page's GeoJSON holds it: \\u-escaped, < and > too
        return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")

    assert escaped("<th>依据 clause</th>") in page
    assert escaped("<td>GB 50180-2018 附录C 表C.0.2</td>") in page


@pytest.mark.parametrize("required", range(1, 21))
def test_categories_met_classes_hold_every_count_once(required):
    from cjgis.inputs.categories import MET_COLOURS, met_bins, met_classes, met_colour

    bins = met_bins(required)
    values = [v for low, high, _ in bins for v in range(low, high + 1)]
    assert values == list(range(required + 1))
    assert len(bins) == min(required + 1, len(MET_COLOURS))
    assert bins[0][:2] == (0, 0) and bins[-1][:2] == (required, required)  # none and all alone
    sizes = [high - low + 1 for low, high, _ in bins[1:-1]]
    assert not sizes or max(sizes) - min(sizes) <= 1
    for low, high, colour in bins:
        assert {met_colour(v, required) for v in range(low, high + 1)} == {colour}
    labels = [label for label, _ in met_classes(required)]
    assert labels[-1] == f"{required}/{required}" and len(set(labels)) == len(labels)


def test_save_map_refuses_a_suffix_it_does_not_write(sample_analysis, tmp_path):
    from cjgis import OutputError, gap_map, save_map

    fmap = gap_map(sample_analysis)
    with pytest.raises(OutputError, match=r"x\.png: save_map writes an HTML page, not \.png"):
        save_map(fmap, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    assert save_map(fmap, tmp_path / "x.HTML").read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_a_study_naming_a_map_that_is_no_html_stops_at_once(study_dir):
    from conftest import append_to_study

    from cjgis import StudyFileError, load_study

    path = append_to_study(study_dir, '[output]\nmap = "maps/x.png"\n')
    with pytest.raises(StudyFileError, match=r"\[output\] map = '.*maps/x.png'.*\.html"):
        load_study(path)
