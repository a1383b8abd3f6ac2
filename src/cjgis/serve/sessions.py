"""The browser's what-if sessions: one per tab, each its own edits on the one analysis.

A session is :class:`cjgis.plan.whatif_map.Session` (the analysis, the category, the edits and
those undone); :func:`state` is what the page shows of it, every number from
:func:`cjgis.plan.whatif.what_if` through :func:`cjgis.plan.whatif_map.redraw`. The store
keeps the sessions of the tabs open, each behind its own lock, so two tabs' edits never mix
and one tab's edits are answered in order.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cjgis.inputs.categories import category_info
from cjgis.inputs.io import read_water
from cjgis.judge.analysis import Analysis
from cjgis.outputs.maps import (
    CITY_TOLERANCE_M,
    DISPLAY_TOLERANCE_M,
    MAX_AREA_VERTICES,
    MAX_STREET_EDGES,
)
from cjgis.plan.whatif_map import (
    Session,
    facility_points,
    handle,
    start,
    tables_of,
    threshold_area,
    verdicts,
)

#: Sessions kept at once; the one used longest ago goes first (a tab closed long ago).
MAX_SESSIONS = 64


@dataclass
class Store:
    """The sessions by id, with a lock each (the server's one piece of state)."""

    base: Analysis
    sessions: OrderedDict[str, Session] = field(default_factory=OrderedDict)
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)
    #: Session id -> (the session, its area being drawn): started as soon as an edit is
    #: answered, so the page's ``GET /area`` finds it under way.
    areas: dict[str, tuple[Session, Future]] = field(default_factory=dict)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=2))

    def new(self, category: str | None = None) -> str:
        """Open a session (a new tab) and return its id."""
        session = start(self.base, category)
        sid = secrets.token_urlsafe(12)
        with self.guard:
            self.sessions[sid] = session
            self.locks[sid] = threading.Lock()
            while len(self.sessions) > MAX_SESSIONS:
                old, _ = self.sessions.popitem(last=False)
                self.locks.pop(old, None)
                self.areas.pop(old, None)
        return sid

    def get(self, sid: str) -> Session | None:
        """Return the session, or None when there is none by that id."""
        with self.guard:
            session = self.sessions.get(sid)
            if session is not None:
                self.sessions.move_to_end(sid)
            return session

    def apply(self, sid: str, event: dict) -> Session:
        """Apply one event (an edit, undo, redo, a category) and return the new session.

        The what-if of the new edits is computed before the session is kept: an edit the
        analysis refuses (a facility id that does not exist) raises and changes nothing.
        """
        with self.guard:
            lock = self.locks[sid]
        with lock:
            session = self.sessions[sid]
            after = handle(session, event)
            _ = after.result  # computed here: a refused edit raises before it is kept
            with self.guard:
                self.sessions[sid] = after
                self.areas[sid] = (after, self.pool.submit(area, after))
            return after

    def area(self, sid: str, session: Session) -> dict:
        """Return the session's area: the one drawing since its edit, or drawn now."""
        with self.guard:
            started = self.areas.get(sid)
        if started is not None and started[0] is session:
            return started[1].result()
        return area(session)


#: What a state says of each community (its boundary came with the background).
_COMMUNITY_KEYS = ("community_id", "share", "verdict", "status", "fill")


def state(sid: str, session: Session) -> dict:
    """Return what the page shows of a session, as JSON-ready data (the area apart: :func:`area`).

    ``table`` rows carry ``community_id``, ``community``, ``covered_share`` (a number, for
    sorting), ``share`` (the text every output shows), ``verdict``, ``status``, ``change`` and
    ``reason`` (the scorecard's one-line reason, shown when the verdict is pointed at);
    ``communities`` the same share, verdict and the fill colour of each boundary (the
    boundaries themselves come once, from :func:`background`).
    """
    table, per = verdicts(session)
    category = session.category
    analysis = tables_of(session)
    cov = analysis.coverage[analysis.coverage["category"] == category]
    rows = [
        {
            "community_id": str(cid),
            "community": str(name),
            "covered_share": None if pd.isna(value) else float(value),
            "share": str(share),
            "verdict": str(verdict),
            "status": str(status),
            "change": str(change),
            "reason": str(reason),
        }
        for cid, name, value, share, verdict, status, change, reason in zip(
            cov["community_id"],
            table["社区 community"],
            cov["covered_share"],
            table["覆盖率 share"],
            table["结论 verdict"],
            cov["status"],
            table["变化 change"],
            cov["reason"],
            strict=True,
        )
    ]
    per = per.astype(object).where(per.notna(), None)
    return {
        "session": sid,
        "category": category,
        "categories": [
            {"key": c, "name_zh": category_info(c).name_zh, "name_en": category_info(c).name_en}
            for c in session.base.categories
        ],
        "communities": per[list(_COMMUNITY_KEYS)].to_dict("records"),
        "facilities": [_plain(f) for f in facility_points(session)],
        "table": rows,
        "lines": session.result.lines() if session.result is not None else [],
        "edits": len(session.edits),
        "can_undo": bool(session.edits),
        "can_redo": bool(session.undone),
        "summary": analysis.summary(),
    }


def area(session: Session) -> dict:
    """Return the session's category's service area at its threshold (GeoJSON, WGS84).

    Drawn anew after an edit of the category (:attr:`cjgis.plan.whatif.WhatIf.threshold_areas`),
    apart from :func:`state` so the table and colours do not wait for it; simplified for the
    screen as the review map simplifies it (3 m, a city's 15 m).
    """
    drawn = threshold_area(session)
    city = shapely.get_num_coordinates(drawn.geometry.to_numpy()).sum() > MAX_AREA_VERTICES
    tolerance_m = CITY_TOLERANCE_M if city else DISPLAY_TOLERANCE_M  # as the review map draws
    drawn = drawn.assign(geometry=drawn.geometry.simplify(tolerance_m)).to_crs(4326)
    return json.loads(drawn.to_json(drop_id=True))


def background(analysis: Analysis) -> dict:
    """Return what stays while edits come and go, drawn once: boundaries, streets, water.

    GeoJSON in WGS84: the communities (id and name; each state then colours them), the
    walking network (left off above :data:`cjgis.outputs.maps.MAX_STREET_EDGES` edges, as on
    the review map) and ``[map] water``.
    """
    communities = analysis.communities[["community_id", "community_name", "geometry"]]
    net = analysis.network
    streets = None
    if net.n_edges <= MAX_STREET_EDGES:
        streets = json.loads(gpd.GeoSeries(net.edge_geometry, crs=net.crs).to_crs(4326).to_json())
    water = read_water(analysis.map_options.get("water"))
    if water is not None:
        water = json.loads(gpd.GeoSeries(water.geometry).to_crs(4326).to_json())
    return {
        "communities": json.loads(communities.to_crs(4326).to_json(drop_id=True)),
        "streets": streets,
        "water": water,
    }


def _plain(row: dict) -> dict:
    """Return a facility's values as JSON takes them (numpy numbers as Python numbers)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
