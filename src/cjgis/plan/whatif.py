"""What if a facility were added, moved or removed? The answer from a finished analysis.

:func:`what_if` reuses the analysis's network and the residents' attachments, searches again
only the categories whose facilities changed (one search each), and recomputes their coverage,
capacity and verdicts for every community, the blind spots and the district rules. The other
categories' results are kept as they are. Its analysis is the one a full re-analysis of the
edited facilities gives (tested); service areas of the changed categories are drawn only when
:attr:`WhatIf.analysis` is first asked for, so the answer itself takes a fraction of a second.

With planned roads the network itself changes: every residence and facility is attached to the
planned network again and every category searched again, which equals a full analysis on it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cjgis._atomic import write_csv
from cjgis._errors import InputError
from cjgis._geometry import representative_points
from cjgis.inputs.categories import category_info, category_key, ordered_categories
from cjgis.inputs.coords import CHINESE_CRS, coordinates_in, to_wgs84_geometries
from cjgis.inputs.demand import GROUP_EN, GROUP_ZH
from cjgis.judge.analysis import (
    Analysis,
    _groups,
    assessed_categories,
    blind_spots,
    category_access,
    category_search,
    coverage_tables,
    draw_areas,
)
from cjgis.judge.coverage import IN_PLACE, LIVING_OUTSIDE, walk_column, within_threshold
from cjgis.judge.layers import attach, fragment_notes, known_categories, unknown_category_fix
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.standards import RULE_OPTIONS, rules_of
from cjgis.judge.verdict import community_verdicts, district_verdicts, share_text
from cjgis.plan.scenario import compare
from cjgis.streets.network import Network
from cjgis.streets.road_lines import PLANNED_JOIN_M, network_with_planned_roads, read_road_lines
from cjgis.streets.snapping import Attachment, attach_points

#: Columns of :attr:`WhatIf.diff`, one row per community x category that changed.
DIFF_COLUMNS = [
    "community_id",
    "community_name",
    "resident_group",
    "category",
    "category_zh",
    "share_before",
    "share_after",
    "status_before",
    "status_after",
    "status_change",
    "newly_covered_residents",
    "newly_uncovered_residents",
    "covered_residents_before",
    "covered_residents_after",
    "target_share",
    "demand",
    "coverage_met_before",
    "coverage_met_after",
    "status_before_zh",
    "status_after_zh",
]


@dataclass(frozen=True)
class WhatIf:
    """The answer to one what-if: the changed results and a compact diff.

    Attributes
    ----------
    before : Analysis
        The analysis the edits were made to.
    facilities : geopandas.GeoDataFrame
        Every facility after the edits (metric CRS); ``change`` says ``added`` or ``moved``.
    changed : list of str
        Categories whose facilities changed (searched again).
    diff : pandas.DataFrame
        One row per community x category whose share, verdict or covered people changed.
        Columns: ``community_id``, ``community_name``, ``resident_group``, ``category``,
        ``category_zh``, ``share_before``, ``share_after`` (covered share of the rule's
        group), ``status_before``, ``status_after``, ``status_change``,
        ``newly_covered_residents``, ``newly_uncovered_residents``,
        ``covered_residents_before``, ``covered_residents_after`` (people), ``target_share``,
        ``demand`` (the group the shares are of), ``coverage_met_before``,
        ``coverage_met_after`` (bool), ``status_before_zh``, ``status_after_zh``
        (:data:`DIFF_COLUMNS`).
    joins : pandas.DataFrame or None
        With planned roads: how each road end joined the streets
        (:func:`cjgis.streets.road_lines.add_planned_roads`).
    warnings : list of str
        What the answer cannot say (e.g. residences left out as far from every street, which a
        planned road might now reach).
    """

    before: Analysis
    facilities: gpd.GeoDataFrame
    changed: list[str]
    diff: pd.DataFrame
    _parts: dict = field(repr=False)
    joins: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def analysis_without_areas(self) -> Analysis:
        """The analysis after the edits, but the changed categories' service areas as before.

        For tables only (coverage, verdicts, blind spots): quick, as :attr:`diff` is.
        """
        return self._parts["analysis"]

    @cached_property
    def analysis(self) -> Analysis:
        """The analysis after the edits, with the changed categories' service areas drawn."""
        return _with_areas(self.before, self._parts, self.changed)

    @cached_property
    def threshold_areas(self) -> gpd.GeoDataFrame:
        """The changed categories' service areas at their thresholds only, as a map draws them.

        No tier bands and none per facility: what :func:`cjgis.plan.whatif_map.redraw` (the
        notebook map and ``cjgis serve``) shows after each edit, in a fraction of the time
        :attr:`analysis` takes. Columns as ``Analysis.service_areas``.
        """
        after = self._parts["analysis"]
        light = replace(after.options, bands=False, facility_areas=False)
        groups = [(sub, {search.category: search}) for sub, search in self._parts["found"]]
        rows = draw_areas(after.network, groups, light)
        old = self.before.service_areas
        return gpd.GeoDataFrame(rows, crs=after.crs) if rows else old.head(0)

    def lines(self) -> list[str]:
        """One line per changed community x category, for the minutes of a meeting."""
        return change_lines(self.diff)

    #: Changed lines shown by :meth:`__repr__` before the rest is counted.
    REPR_LINES = 8

    def __repr__(self) -> str:
        """Return the changes in a few lines (the analyses inside are not printed)."""
        lines = self.lines()
        head = [
            f"WhatIf: {len(self.facilities):,} facilities, categories changed: "
            f"{', '.join(self.changed) or 'none'}; {len(lines)} community x category "
            "rows change"
        ]
        head += [f"  {line}" for line in lines[: self.REPR_LINES]]
        if len(lines) > self.REPR_LINES:
            head.append(f"  … {len(lines) - self.REPR_LINES} more (see .diff)")
        head += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(head)

    def _repr_html_(self) -> str:
        """:meth:`__repr__` as HTML."""
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"


def what_if(  # noqa: PLR0913 - the edits and settings, all keyword-only
    analysis: Analysis,
    *,
    add: pd.DataFrame | Iterable[Mapping] | None = None,
    move: Mapping[str, tuple[float, float]] | None = None,
    remove: Iterable[str] = (),
    roads: gpd.GeoDataFrame | str | Path | None = None,
    join_m: float = PLANNED_JOIN_M,
    components: str = "major",
    crs: str = "EPSG:4326",
    options: AnalysisOptions | None = None,
) -> WhatIf:
    """Answer "what if these facilities were added, moved or removed?" (or the rules other).

    Parameters
    ----------
    analysis : Analysis
        A finished analysis (:func:`cjgis.analyze`), not modified.
    add : DataFrame or iterable of mappings, optional
        New facilities: ``category``, ``lon``/``lat`` (or ``x``/``y``) in ``crs``, and
        optionally ``name``, ``capacity`` and ``facility_id`` (``W1``, ``W2``... if absent).
    move : mapping, optional
        Facility id to its new ``(lon, lat)`` (or ``(x, y)``) in ``crs``.
    remove : iterable of str, optional
        Ids of facilities to take away.
    roads : GeoDataFrame or path, optional
        Planned road lines (LineStrings, any CRS), merged into the network as ``cjgis site``
        does (:func:`cjgis.streets.road_lines.network_with_planned_roads`). The network changes, so
        every residence and facility is attached to it again and every category searched
        again; residences and communities are kept.
    join_m : float, optional
        Largest distance from a road end to the street it joins (``[planned] join_m``).
    components : str, optional
        ``[network] components`` of the study (``"major"`` by default): with anything but
        ``"all"`` a planned road that joins no street is left out.
    crs : str, optional
        CRS of the coordinates: WGS84 by default; ``"gcj02"`` (Amap) and ``"bd09"`` (Baidu)
        are converted; the analysis's own metric CRS (``analysis.crs``) is taken as is.
    options : AnalysisOptions, optional
        Other settings (minutes, walking speed, target share: "what if the standard said
        10 minutes?"); every category is then searched again. The attachments are reused, so
        settings that move them (``max_snap_m``) or count residents otherwise
        (``elderly_share``, ``household_size``) are refused.

    Returns
    -------
    WhatIf
        The diff at once; :attr:`WhatIf.analysis` the whole analysis after the edits.
    """
    network, joins, warnings = analysis.network, None, []
    if roads is not None:
        network, joins = network_with_planned_roads(
            analysis.network, _road_lines(roads), join_m=join_m, components=components
        )
        warnings = _left_out_far(analysis)
    before_fac = analysis.facilities
    ids = before_fac["facility_id"].astype(str)
    remove = [str(i) for i in remove]
    move = {str(k): v for k, v in (move or {}).items()}
    _check_ids([*remove, *move], ids, what="remove/move")
    added = _new_facilities(add, analysis, crs=crs)
    moved_to = _points([v[0] for v in move.values()], [v[1] for v in move.values()], crs, analysis)
    edited = bool(remove or move or len(added))
    fac = before_fac.loc[~ids.isin(remove)].copy()
    if edited and "change" not in fac:
        fac["change"] = None
    at = fac["facility_id"].astype(str).map({k: i for i, k in enumerate(move)})
    hit = at.notna().to_numpy()
    if hit.any():
        fac.loc[hit, "geometry"] = moved_to[at[hit].astype(int).to_numpy()]
        fac.loc[hit, "change"] = "moved"
        if "note" in fac:
            fac.loc[hit, "note"] = None  # a note on the old place's street no longer holds
    if len(added):
        fac = pd.concat([fac, added.assign(change="added")], ignore_index=True)
    fac = gpd.GeoDataFrame(fac.reset_index(drop=True), geometry="geometry", crs=analysis.crs)
    changed_ids = set(remove) | set(move) | set(added["facility_id"] if len(added) else [])
    touched = before_fac.loc[ids.isin(changed_ids), "category"].tolist()
    touched += fac.loc[fac["facility_id"].astype(str).isin(changed_ids), "category"].tolist()
    new = fac["facility_id"].astype(str).isin(changed_ids).to_numpy()
    fac = _reattach(network, fac, new, max_snap_m=analysis.options.max_snap_m)
    base = analysis
    if roads is not None:  # the rest, and every residence, join the planned network
        fac, _ = _on_planned_network(fac, ~new, analysis.network, network, analysis.options)
        everyone = np.ones(len(analysis.residents), dtype=bool)
        res, res_att = _on_planned_network(
            analysis.residents, everyone, analysis.network, network, analysis.options
        )
        base = replace(analysis, network=network, residents=res, resident_attachment=res_att)
        touched = list(analysis.categories) + list(fac["category"].unique())
    made = [c for c in ("street_offset_m", "note") if c in fac]  # the analysis adds them last
    fac = fac[[c for c in fac.columns if c not in made] + made]
    if options is not None and options != analysis.options:
        base = replace(base, options=resolved_options(analysis.options, options))
        touched = list(base.categories) + list(fac["category"].unique())
    parts = _recompute(base, fac, ordered_categories(set(touched)))
    after = parts["analysis"]
    return WhatIf(
        before=analysis,
        facilities=after.facilities,
        changed=list(parts["searched"]),
        diff=diff_table(analysis, after, parts["searched"]),
        _parts=parts,
        joins=joins,
        warnings=warnings,
    )


#: Settings a what-if cannot change: they move attachments, count residents otherwise or
#: change which facilities are analysed.
FIXED_OPTIONS = (
    "max_snap_m",
    "elderly_share",
    "household_size",
    "elderly_age",
    "strict",
    "exclude",
)


def resolved_options(before: AnalysisOptions, after: AnalysisOptions) -> AnalysisOptions:
    """Return ``after`` with its rules resolved again where its rule settings changed.

    New ``minutes``, ``walk_speed_m_s`` or ``target_share`` give the rules that a study file
    with those ``[analysis]`` values would give (they apply to every category, and a standard
    changed that way becomes a planner rule). Rules passed in ``after`` (other than the
    analysis's) are taken as given.

    Raises
    ------
    InputError
        A setting of :data:`FIXED_OPTIONS` differs, or the rule settings changed on rules
        that cannot be resolved again (options built with ``rules=`` but no standards choice).
    """
    for name in FIXED_OPTIONS:
        if getattr(before, name) != getattr(after, name):
            raise InputError(
                f"what-if: {name} differs from the analysis's ({getattr(before, name)} -> "
                f"{getattr(after, name)}); it changes where residents join the streets, how "
                "they are counted or which facilities count. Fix: run cjgis analyze with it"
            )
    changed = frozenset(k for k in RULE_OPTIONS if getattr(before, k) != getattr(after, k))
    if not changed or after.rules != before.rules or not after.rules:
        return after  # nothing to resolve, rules given, or default rules that follow options
    if after.standards is None:
        raise InputError(
            f"what-if: {', '.join(sorted(changed))} changed, but the analysis's rules were "
            "passed in resolved (rules=) and cannot be resolved again. Fix: pass options with "
            "rules=cjgis.judge.standards.resolve_rules(profile, options=..., explicit="
            f"{set(changed)}), or load the study with load_study(path, analysis={{...}})"
        )
    return replace(after, rules=rules_of(after.standards, after, explicit=changed))


def _check_ids(wanted: list[str], ids: pd.Series, *, what: str) -> None:
    known = set(ids)
    for key in wanted:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(
                f"{what}: no facility has the id {key!r}{hint}. Fix: use a facility_id of "
                "facilities.gpkg or the map's facility popups"
            )


def _points(xs, ys, crs: str, analysis: Analysis) -> np.ndarray:
    """Points in the analysis's metric CRS from coordinates in ``crs``."""
    points = shapely.points(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    if len(points) == 0:
        return points
    if crs.lower() in CHINESE_CRS:
        points, crs = to_wgs84_geometries(points, crs), "EPSG:4326"
    series = gpd.GeoSeries(points, crs=crs)
    if series.crs.is_geographic:
        lon, lat = shapely.get_coordinates(points).T
        if not ((np.abs(lon) <= 180) & (np.abs(lat) <= 90)).all():
            raise InputError(
                f"coordinates {lon[0]:g}, {lat[0]:g} are not longitude/latitude in {crs}. Fix: "
                "give lon,lat in degrees, or name the metric CRS they are in"
            )
    return series.to_crs(analysis.crs).to_numpy()


def _new_facilities(add, analysis: Analysis, *, crs: str) -> gpd.GeoDataFrame:
    """Return the facilities to add, checked, as rows like ``analysis.facilities``."""
    columns = list(analysis.facilities.columns)
    if add is None:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=analysis.crs)
    table = add.copy() if isinstance(add, pd.DataFrame) else pd.DataFrame(list(add))
    if len(table) == 0:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=analysis.crs)
    xs, ys = ("lon", "lat") if "lon" in table else ("x", "y")
    for key in ("category", xs, ys):
        if key not in table:
            raise InputError(f"add: a new facility needs {key!r}. Fix: give category, lon, lat")
    table["category"] = table["category"].map(category_key)  # 养老服务设施 as elderly_care
    known = sorted({*known_categories(analysis.options), *analysis.facilities["category"]})
    for category in table["category"]:
        if category not in known:
            fix = unknown_category_fix(category, known)
            raise InputError(f"add: unknown category {category!r}. Fix: {fix}")
    existing = set(analysis.facilities["facility_id"].astype(str))
    given = table["facility_id"].astype(str) if "facility_id" in table else None
    fresh, k = [], 1
    for i in range(len(table)):
        if given is not None and pd.notna(table["facility_id"].iloc[i]):
            fid = given.iloc[i]
        else:
            while f"W{k}" in existing or f"W{k}" in fresh:
                k += 1
            fid = f"W{k}"
        if fid in existing or fid in fresh:
            raise InputError(f"add: the facility id {fid!r} is taken. Fix: give another id")
        fresh.append(fid)
    names = table["name"] if "name" in table else pd.Series([None] * len(table))
    rows = {
        "facility_id": fresh,
        "name": [
            n if isinstance(n, str) and n else f"新增{category_info(c).name_zh}"
            for n, c in zip(names, table["category"], strict=True)
        ],
        "category": table["category"].astype(str).to_list(),
    }
    if "capacity" in table:
        capacity = pd.to_numeric(table["capacity"], errors="coerce")
        bad = capacity.isna() & table["capacity"].notna()
        if bad.any():
            raise InputError(
                f"add: capacity {table['capacity'][bad].iloc[0]!r} is not a number. Fix: a "
                "number (beds, sockets, tables, m²) or leave it out"
            )
        rows["capacity"] = capacity.to_numpy(float)
    geometry = _points(table[xs], table[ys], crs, analysis)
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=analysis.crs)


def _reattach(
    network: Network, fac: gpd.GeoDataFrame, new: np.ndarray, *, max_snap_m: float
) -> gpd.GeoDataFrame:
    """Attach the added and moved facilities (as the analysis does); refuse ones off the map."""
    if not new.any():
        return fac
    part = fac.loc[new].drop(columns=["street_offset_m"], errors="ignore")
    part = part.assign(_row=np.arange(1, len(part) + 1))  # "row" n: the n-th edited facility
    kept, _, rejected = attach(
        network,
        part,
        layer="facilities",
        file="what-if",
        id_column="facility_id",
        max_snap_m=max_snap_m,
    )
    if rejected:
        first = pd.concat(rejected).iloc[0]
        raise InputError(f"what-if facility {first['id']}: {first['reason']}. Fix: {first['fix']}")
    fac = fac.copy()
    fac.loc[new, "street_offset_m"] = kept["street_offset_m"].to_numpy()
    if "note" in kept:
        fac.loc[new, "note"] = kept["note"].to_numpy()
    return fac


def _road_lines(roads) -> gpd.GeoDataFrame:
    """Planned roads as a GeoDataFrame of LineStrings (read from a file if a path)."""
    if isinstance(roads, str | Path):
        return read_road_lines(roads)
    return roads


def _left_out_far(analysis: Analysis) -> list[str]:
    """Say so when residences were left out as far from every street: a road may reach them."""
    rejected = analysis.rejected
    far = rejected[
        (rejected["layer"] == "residents")
        & rejected["reason"].str.contains("from the nearest walkable street", regex=False)
    ]
    if far.empty:
        return []
    people = far["population"].sum()
    return [
        f"{len(far)} residences ({people:,.0f} people) were left out of the analysis as too far "
        "from every street (rejected.csv); a planned road may now reach them, but a what-if "
        "keeps the analysed residences only. Fix: cjgis site with [planned] roads, or "
        "cjgis analyze with [network] planned, counts them"
    ]


def _on_planned_network(
    frame: gpd.GeoDataFrame, rows: np.ndarray, before: Network, after: Network, options
) -> tuple[gpd.GeoDataFrame, Attachment | None]:
    """Move ``rows`` of a layer attached on ``before`` to ``after`` (``before`` plus roads).

    Their street offsets and disconnected-fragment notes become those an analysis on ``after``
    writes. Every row stays attached: ``after`` holds every street of ``before``. Returns the
    layer and the rows' attachment to ``after`` (None if no row).
    """
    if not rows.any():
        return frame, None
    points = representative_points(frame.geometry.to_numpy()[rows])
    att = attach_points(after, points, max_distance_m=options.max_snap_m)
    if not att.attached.all():  # a planned road cannot take a street away
        raise InputError("what-if: a row lost its street with the planned roads. Fix: report it")
    offset = frame["street_offset_m"].to_numpy(float).copy()
    old = fragment_notes(before, points, offset[rows])
    new = fragment_notes(after, points, att.offset_m)
    offset[rows] = att.offset_m
    frame = frame.assign(street_offset_m=offset)
    if old is not None or new is not None:
        frame = _swap_fragment_notes(frame, rows, old, new)
    return frame, att


def _swap_fragment_notes(frame, rows: np.ndarray, old, new) -> gpd.GeoDataFrame:
    """Replace each row's fragment note (the last note an analysis adds) with its new one."""
    fragment_was = np.full(len(frame), None, dtype=object)
    fragment_now = np.full(len(frame), None, dtype=object)
    if old is not None:
        fragment_was[rows] = old
    if new is not None:
        fragment_now[rows] = new
    had = "note" in frame
    before = frame["note"].to_numpy(object) if had else np.full(len(frame), None, dtype=object)
    notes = []
    for note, was, now in zip(before, fragment_was, fragment_now, strict=True):
        rest = note if isinstance(note, str) else ""
        if isinstance(was, str):  # with_notes appended it last, after "; "
            rest = rest.removesuffix(was).removesuffix("; ")
        if isinstance(now, str):
            rest = f"{rest}; {now}" if rest else now
        notes.append(rest or None)
    if not had:  # the analysis adds the column right after the street offsets
        frame = frame.copy()
        frame.insert(list(frame.columns).index("street_offset_m") + 1, "note", notes)
        return frame
    only_fragment_notes = all(
        not isinstance(n, str) or n == w for n, w in zip(before, fragment_was, strict=True)
    )
    if only_fragment_notes and all(n is None for n in notes):
        return frame.drop(columns="note")  # an analysis on the new network writes none
    return frame.assign(note=notes)


def _recompute(analysis: Analysis, fac: gpd.GeoDataFrame, touched: list[str]) -> dict:
    """Everything but the service areas, after the edits: only ``touched`` searched again."""
    options = analysis.options
    categories, district_rules = assessed_categories(options, fac["category"])
    assessed = [*categories, *(rule.key for rule in district_rules)]
    had = set(analysis.demand_basis)
    if not _groups(assessed, options) <= had:
        raise InputError(
            "what-if: a new category counts a group of residents the analysis did not count "
            f"({', '.join(sorted(_groups(assessed, options) - had))}). Fix: add one facility "
            "of that category to the study's facilities and run cjgis analyze"
        )
    searched = [c for c in categories if c in touched]
    gone = [c for c in analysis.categories if c not in categories]
    # searched categories' columns are made anew (one left without facilities has fewer)
    res = analysis.residents.drop(columns=_derived(analysis.residents, [*gone, *searched]))
    columns, found = {}, []
    for category in searched:
        mine = (fac["category"] == category).to_numpy()
        sub = fac.loc[mine]
        att = attach_points(
            analysis.network, sub.geometry.to_numpy(), max_distance_m=options.max_snap_m
        )
        search = category_search(analysis.network, sub, att, category)
        at = analysis.resident_attachment
        columns.update(category_access(analysis.network, res, at, sub, search, options))
        found.append((sub, search))
    res = res.assign(**columns)
    res = res[
        [c for c in res.columns if c not in _derived(res, categories)] + _derived(res, categories)
    ]
    coverage, away = (
        coverage_tables(res, analysis.communities, fac, searched, options, analysis.demand_basis)
        if searched
        else (analysis.coverage.head(0), analysis.outside_coverage.head(0))
    )
    coverage = _merge_rows(analysis.coverage, coverage, searched, categories, analysis.communities)
    away = _merge_rows(analysis.outside_coverage, away, searched, categories, analysis.communities)
    verdict_columns = [
        c for c in community_verdicts(coverage.head(0)).columns if c != "community_id"
    ]
    comm = analysis.communities.drop(columns=verdict_columns).merge(
        community_verdicts(coverage), on="community_id", how="left"
    )
    after = replace(
        analysis,
        categories=categories,
        communities=comm,
        residents=res,
        facilities=fac,
        coverage=coverage,
        outside_coverage=away,
        blind_spots=blind_spots(res, categories, options=options),
        district=district_verdicts(res, fac, district_rules, demand_basis=analysis.demand_basis),
    )
    return {"analysis": after, "searched": searched, "found": found}


def _derived(res: pd.DataFrame, categories: list[str]) -> list[str]:
    """Return the residents' columns of categories' searches, in the order analyze adds them."""
    names = []
    for c in categories:
        names += [walk_column(c), f"nearest_{c}", f"access_{c}", f"access_gauss_{c}"]
    return [n for n in names if n in res]


def _merge_rows(old: pd.DataFrame, new: pd.DataFrame, searched, categories, communities):
    """Old coverage rows of the categories kept and new ones of those searched, in order."""
    keep = old[old["category"].isin(categories) & ~old["category"].isin(searched)]
    both = pd.concat([keep, new], ignore_index=True) if len(new) else keep
    order_c = {c: i for i, c in enumerate(communities["community_id"])}
    order_k = {c: i for i, c in enumerate(categories)}
    both = both.assign(
        _c=both["community_id"].map(order_c), _k=both["category"].map(order_k)
    ).sort_values(["_c", "_k"], kind="stable")
    return both.drop(columns=["_c", "_k"]).reset_index(drop=True)[list(old.columns)]


def _with_areas(before: Analysis, parts: dict, searched: list[str]) -> Analysis:
    """Return the analysis after the edits, its searched categories' areas drawn anew."""
    after = parts["analysis"]
    groups = [(sub, {search.category: search}) for sub, search in parts["found"]]
    rows = draw_areas(after.network, groups, after.options)
    old = before.service_areas
    kept = old[old["category"].isin(after.categories) & ~old["category"].isin(searched)]
    new = gpd.GeoDataFrame(rows, crs=after.crs) if rows else old.head(0)
    areas = pd.concat([kept, new], ignore_index=True)
    order_k = {c: i for i, c in enumerate(after.categories)}
    areas = areas.assign(
        _band=areas["facility_id"].notna(),
        _k=areas["category"].map(order_k),
        _f=_facility_order(areas, after.facilities),
    ).sort_values(["_band", "_k", "_f", "metres"], kind="stable")
    areas = areas.drop(columns=["_band", "_k", "_f"]).reset_index(drop=True)
    return replace(after, service_areas=gpd.GeoDataFrame(areas, geometry="geometry", crs=after.crs))


def _facility_order(areas: pd.DataFrame, facilities: pd.DataFrame) -> np.ndarray:
    position = {f: i for i, f in enumerate(facilities["facility_id"])}
    return areas["facility_id"].map(position).fillna(-1).to_numpy()


def diff_table(before: Analysis, after: Analysis, searched: list[str]) -> pd.DataFrame:
    """Per community x category that changed: share, verdict and people before and after."""
    table = compare(before, after)
    table = table[
        table["category"].isin([*searched, *set(before.categories) - set(after.categories)])
    ]
    flips = _flips(before, after, searched)
    table = table.merge(flips, on=["community_id", "resident_group", "category"], how="left")
    for col in ("newly_covered_residents", "newly_uncovered_residents"):
        table[col] = table[col].fillna(0.0)
    table["demand"] = table["demand_after"].fillna(table["demand_before"])
    table = table.rename(
        columns={
            "covered_share_before": "share_before",
            "covered_share_after": "share_after",
            "status_zh_before": "status_before_zh",
            "status_zh_after": "status_after_zh",
        }
    )
    changed = (
        (table["share_before"] != table["share_after"])
        | (table["status_before"] != table["status_after"])
        | (table["newly_covered_residents"] > 0)
        | (table["newly_uncovered_residents"] > 0)
    )
    table = table.loc[changed].reset_index(drop=True)
    return table[DIFF_COLUMNS]


def _flips(before: Analysis, after: Analysis, searched: list[str]) -> pd.DataFrame:
    """People newly within / newly beyond the threshold, per community and category."""
    frames = []
    inside = ~before.residents.get(
        "living_outside", pd.Series(False, index=before.residents.index)
    ).to_numpy(bool)
    group = np.where(inside, IN_PLACE, LIVING_OUTSIDE)
    for c in searched:
        col = walk_column(c)
        was = (
            within_threshold(before.residents[col].to_numpy(), before.options.rule_for(c).minutes)
            if col in before.residents
            else np.zeros(len(inside), bool)
        )
        now = within_threshold(after.residents[col].to_numpy(), after.options.rule_for(c).minutes)
        people = before.residents["population"].to_numpy(float)
        frame = pd.DataFrame(
            {
                "community_id": before.residents["community_id"].to_numpy(),
                "resident_group": group,
                "category": c,
                "newly_covered_residents": np.where(now & ~was, people, 0.0),
                "newly_uncovered_residents": np.where(was & ~now, people, 0.0),
            }
        )
        keys = ["community_id", "resident_group", "category"]
        frames.append(frame.groupby(keys, as_index=False).sum())
    if not frames:
        return pd.DataFrame(
            columns=[
                "community_id",
                "resident_group",
                "category",
                "newly_covered_residents",
                "newly_uncovered_residents",
            ]
        )
    return pd.concat(frames, ignore_index=True)


def change_lines(diff: pd.DataFrame) -> list[str]:
    """One line per row of a what-if or as-planned diff: share and verdict before -> after."""
    lines = []
    for row in diff.itertuples():
        before = share_text(row.share_before, row.target_share, row.coverage_met_before)
        after = share_text(row.share_after, row.target_share, row.coverage_met_after)
        verdict = (
            f"{row.status_before_zh} -> {row.status_after_zh}"
            if row.status_before != row.status_after
            else f"仍{row.status_after_zh}"
            if isinstance(row.status_after_zh, str)
            else ""
        )
        people = []
        if row.newly_covered_residents > 0:
            people.append(f"+{row.newly_covered_residents:,.0f} 人 residents newly covered")
        if row.newly_uncovered_residents > 0:
            people.append(f"-{row.newly_uncovered_residents:,.0f} 人 residents no longer")
        extra = f" ({', '.join(people)})" if people else ""
        name = row.community_name
        if row.resident_group == LIVING_OUTSIDE:
            name = f"{name} (安置在外 living outside)"
        group = f"{GROUP_ZH.get(row.demand, row.demand)} {GROUP_EN.get(row.demand, row.demand)}"
        lines.append(
            f"{name} {row.category_zh}: 覆盖 {before} -> {after} of {group}, {verdict}{extra}"
        )
    return lines


def save_scenario(result: WhatIf, path: str | Path, *, crs: str = "EPSG:4326") -> Path:
    """Write the added and moved facilities as a CSV a study can name as ``[planned] facilities``.

    Columns ``facility_id, name, category, lon, lat, crs, capacity, change`` (UTF-8 with BOM,
    for Excel), the coordinates in ``crs`` (``"gcj02"``, ``"bd09"`` or an EPSG code; a metric
    CRS's ``x``/``y`` under ``lon``/``lat``), and the CRS in every row: cjgis reads the file
    back in it whatever the study declares, and a moved facility replaces the one of its id
    (:func:`cjgis.plan.scenario.with_planned_facilities`). Removals cannot be planned: they are
    listed in the returned file's companion ``<name>_removed.csv``, for the minutes.
    """
    path = Path(path)
    fac = result.facilities
    new = fac[fac["change"].isin(["added", "moved"])]
    xy = coordinates_in(new.geometry.to_numpy(), fac.crs, crs)
    table = pd.DataFrame(
        {
            "facility_id": new["facility_id"].astype(str).to_numpy(),
            "name": new["name"].to_numpy(),
            "category": new["category"].to_numpy(),
            "lon": xy[:, 0],
            "lat": xy[:, 1],
            "crs": crs,
            "capacity": new["capacity"].to_numpy() if "capacity" in new else np.nan,
            "change": new["change"].to_numpy(),
        }
    )
    write_csv(table, path)
    gone = result.before.facilities[
        ~result.before.facilities["facility_id"].isin(fac["facility_id"])
    ][["facility_id", "name", "category"]]
    write_csv(gone, path.with_name(f"{path.stem}_removed.csv"))
    return path
