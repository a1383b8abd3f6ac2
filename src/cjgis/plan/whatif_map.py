"""The what-if in a notebook: a map a planner clicks, drags and undoes (``cjgis[widget]``).

The logic is plain data and functions, tested without a browser: a :class:`Session` is the
analysis plus the edits made so far; :func:`handle` turns one map event into the next session;
:func:`redraw` gives what the map and the table beside it show (GeoJSON in WGS84, a verdict
table). :func:`what_if_map` only wires those to ipyleaflet widgets (imported there, an
optional extra). Every session's answer is one :func:`cjgis.plan.whatif.what_if` of all its edits
on the original analysis, so undo is dropping the last edit, and the answer never drifts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from cjgis.inputs.categories import NO_RULE_COLOUR, category_info, category_named, met_colour
from cjgis.judge.analysis import Analysis
from cjgis.judge.verdict import MET, NOT_MET, share_text
from cjgis.plan.whatif import WhatIf, save_scenario, what_if


@dataclass(frozen=True)
class Session:
    """An analysis, the category being edited and the edits made so far (oldest first).

    ``undone`` holds the edits undone, latest first, for redo; a new edit clears it. Each edit
    is a dict: ``{"type": "add", "category", "lon", "lat", "name"}``,
    ``{"type": "move", "facility_id", "lon", "lat"}`` or ``{"type": "remove", "facility_id"}``
    (WGS84 degrees); added facilities get ids ``W1``, ``W2``... in order.
    """

    base: Analysis
    category: str
    edits: tuple[dict, ...] = ()
    undone: tuple[dict, ...] = ()

    @cached_property
    def result(self) -> WhatIf | None:
        """The what-if of every edit at once; None before the first edit."""
        if not self.edits:
            return None
        add, move, remove = fold(self.edits)
        return what_if(self.base, add=add, move=move, remove=remove)

    @property
    def analysis(self) -> Analysis:
        """The analysis as the edits leave it (service areas of changed categories drawn)."""
        return self.base if self.result is None else self.result.analysis


def start(analysis: Analysis, category: str | None = None) -> Session:
    """Return a session on ``analysis``, editing ``category`` (default: its first)."""
    if category is None:
        return Session(analysis, analysis.categories[0])
    return Session(analysis, category_named(category, analysis.categories, where="what_if_map"))


def fold(edits: tuple[dict, ...]) -> tuple[list[dict], dict, list[str]]:
    """Turn a sequence of edits into one what-if: ``(add, move, remove)``.

    Moving or removing a facility added in the session edits or drops the added one.
    """
    added: dict[str, dict] = {}
    move: dict[str, tuple[float, float]] = {}
    remove: list[str] = []
    n_added = 0
    for edit in edits:
        kind = edit["type"]
        if kind == "add":
            n_added += 1
            fid = f"W{n_added}"
            added[fid] = {
                "facility_id": fid,
                "category": edit["category"],
                "lon": edit["lon"],
                "lat": edit["lat"],
                "name": edit.get("name"),
                **({"capacity": edit["capacity"]} if edit.get("capacity") is not None else {}),
            }
        elif kind == "move" and edit["facility_id"] in added:
            added[edit["facility_id"]].update(lon=edit["lon"], lat=edit["lat"])
        elif kind == "move":
            move[edit["facility_id"]] = (edit["lon"], edit["lat"])
        elif kind == "remove" and edit["facility_id"] in added:
            del added[edit["facility_id"]]
        elif kind == "remove":
            move.pop(edit["facility_id"], None)
            remove.append(edit["facility_id"])
    return list(added.values()), move, remove


def handle(session: Session, event: dict) -> Session:
    """Return the session after one map event.

    Events: ``{"type": "click", "lon", "lat"}`` (or ``"add"``, with an optional ``name`` and
    ``capacity``) adds a facility of the session's category there (a click from the map itself
    comes as ipyleaflet's ``"coordinates": [lat, lon]``); ``{"type": "move", "facility_id",
    "lon", "lat"}``, ``{"type": "remove", "facility_id"}``, ``{"type": "undo"}``,
    ``{"type": "redo"}`` and ``{"type": "category", "category"}`` (a key or Chinese name).
    Other events (mouse moves) leave it as it is. Coordinates are WGS84, named ``lon`` and
    ``lat`` as everywhere in cjgis.
    """
    kind = event.get("type")
    if kind in ("click", "add"):
        lat, lon = event["coordinates"] if "coordinates" in event else (event["lat"], event["lon"])
        name = event.get("name") or f"新增{category_info(session.category).name_zh}"
        edit = {"type": "add", "category": session.category, "lon": lon, "lat": lat, "name": name}
        if event.get("capacity") is not None:
            edit["capacity"] = event["capacity"]
        return replace(session, edits=(*session.edits, edit), undone=())
    if kind in ("move", "remove"):
        edit = {k: event[k] for k in ("type", "facility_id", "lon", "lat") if k in event}
        edit["facility_id"] = str(edit["facility_id"])
        return replace(session, edits=(*session.edits, edit), undone=())
    if kind == "undo" and session.edits:
        last = session.edits[-1]
        return replace(session, edits=session.edits[:-1], undone=(last, *session.undone))
    if kind == "redo" and session.undone:
        again = session.undone[0]
        return replace(session, edits=(*session.edits, again), undone=session.undone[1:])
    if kind == "category":
        known = session.base.categories
        return replace(session, category=category_named(event["category"], known, where="widget"))
    return session


def redraw(session: Session) -> dict:
    """Return what the map and its table show for the session's category.

    Returns
    -------
    dict
        ``communities`` (GeoJSON: name, share text, verdict, fill colour), ``area`` (GeoJSON of
        the category's service area at its threshold), ``facilities`` (one dict per facility of
        the category: ``facility_id, name, lon, lat, change``), ``table`` (community, share,
        verdict, change) and ``lines`` (the diff's verdict lines). The parts come from
        :func:`verdicts`, :func:`threshold_area` and :func:`facility_points`.
    """
    table, per_community = verdicts(session)
    base = session.base.communities[["community_id", "community_name", "geometry"]]
    communities = base.merge(per_community, on="community_id", how="left")
    return {
        "communities": _geojson(communities),
        "area": _geojson(threshold_area(session)),
        "facilities": facility_points(session),
        "table": table,
        "lines": session.result.lines() if session.result is not None else [],
    }


def tables_of(session: Session) -> Analysis:
    """Return the analysis as the edits leave it, areas not drawn (coverage, verdicts, layers)."""
    return session.base if session.result is None else session.result.analysis_without_areas


def verdicts(session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the verdict table of the session's category and each community's fill.

    The table: ``社区 community``, ``覆盖率 share`` (the share text of every output),
    ``结论 verdict`` and ``变化 change`` (against the analysis before any edit). Per
    community: ``community_id``, ``share``, ``status``, ``verdict`` and ``fill`` (colour).
    """
    analysis, category = tables_of(session), session.category
    cov = analysis.coverage[analysis.coverage["category"] == category].set_index("community_id")
    before = session.base.coverage
    before = before[before["category"] == category].set_index("community_id")["covered_share"]
    shares = [share_text(r.covered_share, r.target_share, r.coverage_met) for r in cov.itertuples()]
    table = pd.DataFrame(
        {
            "社区 community": cov["community_name"].to_numpy(),
            "覆盖率 share": shares,
            "结论 verdict": cov["status_zh"].to_numpy(),
            "变化 change": [
                "" if pd.isna(before.get(c)) or before.get(c) == s else f"{s - before.get(c):+.1%}"
                for c, s in zip(cov.index, cov["covered_share"], strict=True)
            ],
        }
    )
    per = pd.DataFrame(analysis.communities[["community_id"]]).merge(
        pd.DataFrame(
            {
                "community_id": cov.index,
                "share": shares,
                "status": cov["status"].to_numpy(),
                "verdict": cov["status_zh"].to_numpy(),
            }
        ),
        on="community_id",
        how="left",
    )
    per["fill"] = [
        met_colour(float(s == MET), 1.0) if s in (MET, NOT_MET) else NO_RULE_COLOUR
        for s in per["status"]
    ]
    return table, per


def threshold_area(session: Session) -> gpd.GeoDataFrame:
    """Return the session's category's service area at its threshold (drawn anew if edited)."""
    category, result = session.category, session.result
    changed = result is not None and category in result.changed
    areas = result.threshold_areas if changed else session.base.service_areas
    rule = session.base.options.rule_for(category)
    area = areas[
        (areas["category"] == category)
        & areas["facility_id"].isna()
        & (areas["metres"] == rule.threshold_m)
    ]
    return area[["category", "geometry"]]


def facility_points(session: Session) -> list[dict]:
    """Return the category's facilities: ``facility_id, name, lon, lat, change`` (WGS84)."""
    analysis, category = tables_of(session), session.category
    fac = analysis.facilities[analysis.facilities["category"] == category]
    lonlat = fac.to_crs("EPSG:4326").geometry
    change = fac["change"] if "change" in fac else pd.Series(None, index=fac.index)
    return [
        {
            "facility_id": str(i),
            "name": n,
            "lon": p.x,
            "lat": p.y,
            "change": c if isinstance(c, str) else "",
        }
        for i, n, p, c in zip(fac["facility_id"], fac["name"], lonlat, change, strict=True)
    ]


def _geojson(frame: gpd.GeoDataFrame) -> dict:
    return json.loads(frame.to_crs("EPSG:4326").to_json(drop_id=True))


def save(session: Session, path: str | Path) -> Path | None:
    """Write the session's added and moved facilities as a ``[planned] facilities`` CSV."""
    if session.result is None:
        return None
    return save_scenario(session.result, path)


def what_if_map(analysis: Analysis, *, category: str | None = None, basemap: bool = True):
    """Return an interactive what-if map for a notebook (``pip install cjgis[widget]``).

    Pick a category; click the map to add one of it, drag a marker to move it, click a marker
    and "remove" to take it away; "undo" steps back; "save" writes the scenario as a
    ``[planned] facilities`` CSV. The community colours, the category's service area and the
    verdict table beside the map follow each edit. ``basemap=False`` for an intranet without
    map tiles. Returns the widget; ``widget.session`` is the current :class:`Session`,
    ``widget.step(event)`` applies an event (:func:`handle`), ``widget.view()`` is
    :func:`redraw` of the session and ``widget.save(path)`` :func:`save`.
    """
    import ipyleaflet
    import ipywidgets

    state = {"session": start(analysis, category)}
    first = redraw(state["session"])
    lons = [f["lon"] for f in first["facilities"]] or [120.2]
    lats = [f["lat"] for f in first["facilities"]] or [30.3]
    center = (sum(lats) / len(lats), sum(lons) / len(lons))
    leaflet = ipyleaflet.Map(center=center, zoom=14, scroll_wheel_zoom=True)
    if not basemap:
        leaflet.clear()
    communities = ipyleaflet.GeoJSON(
        data=first["communities"],
        style_callback=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.45,
        },
    )
    area = ipyleaflet.GeoJSON(
        data=first["area"], style={"color": "#2166ac", "weight": 1, "fillOpacity": 0.2}
    )
    markers = ipyleaflet.LayerGroup()
    for layer in (communities, area, markers):
        leaflet.add(layer)
    picker = ipywidgets.Dropdown(
        options=[(f"{category_info(c).name_zh} {c}", c) for c in analysis.categories],
        value=state["session"].category,
        description="类别",
    )
    undo = ipywidgets.Button(description="撤销 undo")
    path = ipywidgets.Text(value="what_if_scenario.csv", description="文件")
    save_button = ipywidgets.Button(description="保存方案 save")
    table = ipywidgets.HTML()
    lines = ipywidgets.HTML()

    def step(event: dict) -> None:
        state["session"] = handle(state["session"], event)
        widget.session = state["session"]
        show()

    def marker(f: dict):
        m = ipyleaflet.Marker(
            location=(f["lat"], f["lon"]), draggable=True, title=f"{f['name']} ({f['facility_id']})"
        )
        m.on_move(
            lambda location, fid=f["facility_id"], **_: step(
                {"type": "move", "facility_id": fid, "lat": location[0], "lon": location[1]}
            )
        )
        button = ipywidgets.Button(description=f"删除 remove {f['facility_id']}")
        button.on_click(
            lambda _, fid=f["facility_id"]: step({"type": "remove", "facility_id": fid})
        )
        m.popup = button
        return m

    def show() -> None:
        view = redraw(state["session"])
        communities.data = view["communities"]
        area.data = view["area"]
        markers.clear()
        for f in view["facilities"]:
            markers.add(marker(f))
        table.value = view["table"].to_html(index=False)
        lines.value = "<br>".join(view["lines"]) or "尚无改动 no edits yet"

    leaflet.on_interaction(lambda **event: step(event) if event.get("type") == "click" else None)
    picker.observe(lambda change: step({"type": "category", "category": change["new"]}), "value")
    undo.on_click(lambda _: step({"type": "undo"}))
    save_button.on_click(lambda _: save(state["session"], path.value))
    controls = ipywidgets.HBox([picker, undo, path, save_button])
    widget = ipywidgets.VBox([controls, ipywidgets.HBox([leaflet, table]), lines])
    widget.session = state["session"]
    widget.step = step  # for scripted moves (the notebook, the tests)
    widget.view = lambda: redraw(state["session"])
    widget.save = lambda to: save(state["session"], to)
    show()
    return widget
