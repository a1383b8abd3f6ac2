"""One study, end to end in memory: inputs -> attachments -> walking times -> coverage.

:func:`analyze` is a pure function of its inputs and :class:`~cjgis.judge.settings.AnalysisOptions`:
it reads no global state and writes nothing, so many districts can run in parallel.
:func:`cjgis.run.runner.analyze_study` reads the files a study file names and calls it.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from tqdm.std import tqdm

from cjgis._errors import InputError
from cjgis._fork import forked
from cjgis._geometry import representative_points
from cjgis.inputs._validate import check_chinese_offset, rejected_rows
from cjgis.inputs.categories import CATEGORIES, category_info, ordered_categories
from cjgis.inputs.demand import demand_column, demand_columns
from cjgis.inputs.io import REPAIRED, Layer
from cjgis.judge.capacity import two_step_fca
from cjgis.judge.coverage import (
    COVERAGE_COLUMNS,
    IN_PLACE,
    LIVING_OUTSIDE,
    coverage_table,
    walk_column,
    within_threshold,
)
from cjgis.judge.rules import CategoryRule
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.verdict import (
    NO_FACILITY_DATA,
    NO_STANDARD,
    NOT_ASSESSED,
    NOT_MET,
    OTHER_EN,
    OTHER_ZH,
    assess,
    community_verdicts,
    district_verdicts,
)
from cjgis.reach.access import NodeReach, distances_within, node_reach, target_distances
from cjgis.reach.partition import Partition
from cjgis.reach.service_areas import band_areas, facility_service_areas
from cjgis.streets.network import Network
from cjgis.streets.snapping import Attachment, attach_points

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """Everything one analysis produced, in the network's metric CRS.

    Attributes
    ----------
    options : AnalysisOptions
        Settings used (threshold, speed, target, ...).
    crs : pyproj.CRS
        Metric CRS of every geometry.
    categories : list of str
        Facility categories analysed, in display order.
    network : Network
        The walking network.
    communities : geopandas.GeoDataFrame
        Boundaries with ``categories_met``, ``categories_required`` and
        ``categories_not_met`` (:func:`cjgis.judge.verdict.community_verdicts`).
    residents : geopandas.GeoDataFrame
        One row per analysed residence: input columns plus ``walk_min_<category>`` (NaN if
        unreachable) and ``nearest_<category>`` (facility id).
    facilities : geopandas.GeoDataFrame
        Analysed facilities with ``street_offset_m``.
    coverage : pandas.DataFrame
        One row per community x category (:data:`cjgis.judge.coverage.COVERAGE_COLUMNS`), with
        the one verdict (:func:`cjgis.judge.verdict.assess`) every output shows, for the residents
        living in the community.
    outside_coverage : pandas.DataFrame
        The same for residents counted for a community but living outside it for now
        (安置在外/集中过渡地, ``[residents_outside]``): their own rows, where they live now.
    service_areas : geopandas.GeoDataFrame
        ``category``, ``facility_id`` (empty for the dissolved area of a category), geometry.
    blind_spots : geopandas.GeoDataFrame
        One row per residence x category outside the threshold (盲区).
    rejected : pandas.DataFrame
        Input rows left out, with ``layer, file, row, id, reason, fix``.
    district : pandas.DataFrame
        District-level rules (residential homes: capacity over the study area, no walking
        catchment), one row each (:func:`cjgis.judge.verdict.district_verdicts`).
    resident_attachment : Attachment
        Where each analysed residence (row for row) joins the network; siting and what-if
        searches reuse it instead of attaching the residences again.
    demand_basis : dict of str to str
        How each demand group was counted (:func:`cjgis.inputs.demand.demand_columns`).
    not_assessed : pandas.DataFrame
        Categories the study leaves out on purpose (``[standards] exclude``), one row each
        (:data:`NOT_ASSESSED_COLUMNS`): 未评价 in every output.
    """

    options: AnalysisOptions
    crs: CRS
    categories: list[str]
    network: Network
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    coverage: pd.DataFrame
    outside_coverage: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    rejected: pd.DataFrame
    district: pd.DataFrame
    resident_attachment: Attachment
    demand_basis: dict[str, str] = field(default_factory=dict)
    not_assessed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=NOT_ASSESSED_COLUMNS)
    )

    def summary(self) -> str:
        """One line of counts for the end of a run."""
        status = self.coverage["status"]
        pairs = len(self.coverage)
        counts = f"{int((status == NOT_MET).sum())} of {pairs} community x category pairs not met"
        counts += " (不达标/未满足建议值)"
        no_standard = int((status == NO_STANDARD).sum())
        if no_standard:
            counts += f", {no_standard} of {pairs} pairs have no standard (无标准)"
        empty = self.categories_without_facilities()
        if empty:
            counts += f", {len(empty)} categories without any facility (无设施数据)"
        if len(self.not_assessed):
            counts += f", {len(self.not_assessed)} categories not assessed (未评价)"
        return (
            f"{len(self.communities)} communities, {len(self.residents):,} residences "
            f"({self.residents['population'].sum():,.0f} residents), "
            f"{len(self.facilities)} facilities in {self.facilities['category'].nunique()} "
            f"categories; {len(self.categories) + len(self.district)} categories assessed, "
            f"{counts}; {len(self.rejected)} input rows rejected{self._rejected_people()}"
        )

    def standards_line(self) -> str:
        """Say which standards the verdicts are checked against (log, workbook, map)."""
        choice = self.options.standards
        if choice is not None:
            return f"标准 standards: {choice.describe()}"
        if self.options.rules:
            return "标准 standards: rules given in the options (AnalysisOptions.rules)"
        return "标准 standards: none (无标准): no rules given in the options"

    def rules_table(self) -> pd.DataFrame:
        """Return one row per category of the study: its rule, and whether it was assessed.

        Assessed categories (walking, then district) in display order, then those left out
        (``[standards] exclude``). ``assessment`` is 已评价 assessed, 无设施数据 (assessed, no
        facility in the input) or 未评价 not assessed.
        """
        empty = set(self.categories_without_facilities())
        counts = self.facilities["category"].value_counts()
        keys = [*self.categories, *self.district.get("category", pd.Series(dtype=str))]
        rows = []
        for key in [*keys, *self.not_assessed["category"]]:
            rule = self.options.rule_for(key)
            walk = rule.scale == "walk"
            if key in set(self.not_assessed["category"]):
                assessment = f"{OTHER_ZH[NOT_ASSESSED]} {OTHER_EN[NOT_ASSESSED]}"
            elif key in empty:
                assessment = NO_FACILITY_DATA
            else:
                assessment = "已评价 assessed"
            rows.append(
                {
                    "category": key,
                    "category_zh": rule.name_zh,
                    "scale": rule.scale,
                    "threshold_m": rule.threshold_m if walk else np.nan,
                    "threshold_min": rule.minutes if walk else np.nan,
                    "walk_speed_m_s": rule.walk_speed_m_s if walk else np.nan,
                    "demand": rule.demand,
                    "target_share": rule.target_share if walk else np.nan,
                    "basis": rule.basis,
                    "source": rule.source,
                    "checked": _checked_text(rule),
                    "quote": f"「{rule.quote}」 ({rule.url})" if rule.quote else "",
                    "facilities": int(counts.get(key, 0)),
                    "assessment": assessment,
                    "standards": self.standards_line(),
                }
            )
        return pd.DataFrame(rows, columns=RULES_COLUMNS)

    def categories_without_facilities(self) -> list[str]:
        """Assessed categories (walking and district) with no facility in the input."""
        keys = [*self.categories, *self.district.get("category", pd.Series(dtype=str))]
        present = set(self.facilities["category"])
        return [c for c in keys if c not in present]

    def missing_lines(self) -> list[str]:
        """Return the lines naming categories without any facility and those left out."""
        lines = []
        empty = self.categories_without_facilities()
        if empty:
            names = ", ".join(f"{self.options.rule_for(c).name_zh} {c}" for c in empty)
            keys = ", ".join(f'"{c}"' for c in empty)
            lines.append(
                f"无设施数据 no facility in the input for {len(empty)} categories: {names}; "
                "assessed as nobody within reach. Fix: add their facilities to the facilities "
                f"file, or leave them out on purpose: [standards] exclude = [{keys}]"
            )
        if len(self.not_assessed):
            names = ", ".join(
                f"{r.category_zh} {r.category}" for r in self.not_assessed.itertuples()
            )
            lines.append(f"未评价 not assessed ([standards] exclude): {names}")
        return lines

    def coverage_rows(self) -> pd.DataFrame:
        """Every coverage row: each community's own, then those of its residents living outside.

        What ``coverage.csv`` and the scorecard list (``resident_group`` tells them apart).
        """
        left_out = self._not_assessed_rows()
        if len(self.outside_coverage) == 0 and len(left_out) == 0:
            return self.coverage
        order = {c: i for i, c in enumerate(self.coverage["community_id"].drop_duplicates())}
        both = pd.concat(
            [f for f in (self.coverage, self.outside_coverage, left_out) if len(f)],
            ignore_index=True,
        )
        rank = both["community_id"].map(order).fillna(len(order))
        both = both.assign(_c=rank, _g=both["resident_group"] != IN_PLACE)
        return both.sort_values(["_c", "_g"], kind="stable").drop(columns=["_c", "_g"])

    def _not_assessed_rows(self) -> pd.DataFrame:
        """Per community and category left out: a 未评价 row without numbers."""
        if len(self.not_assessed) == 0:
            return self.coverage.head(0)
        comm = self.communities[["community_id", "community_name"]].assign(resident_group=IN_PLACE)
        keep = ["category", "category_zh", "status", "status_zh", "status_en", "reason"]
        rows = comm.merge(self.not_assessed[keep], how="cross")
        return rows[[c for c in self.coverage.columns if c in rows]]

    def _rejected_people(self) -> str:
        """People kept and left out, always said (0 left out is news too)."""
        people = self.rejected["population"].sum() if "population" in self.rejected else 0
        kept = self.residents["population"].sum()
        return f" ({people:,.0f} of {kept + people:,.0f} residents left out)"


def _as_layer(data: Layer | gpd.GeoDataFrame, name: str) -> Layer:
    if isinstance(data, Layer):
        return data
    frame = data.copy()
    if "_row" not in frame:
        frame["_row"] = np.arange(1, len(frame) + 1)
    return Layer(frame, file=name)


#: Why a residence no boundary holds is rejected.
OUTSIDE_REASON = "outside every community boundary"


def _assign_communities(residents, communities, *, file: str, communities_file: str = ""):
    """Give each residence a community; reject those in none (or naming an unknown one).

    A residence with a ``community_id`` keeps it (residents living outside their community);
    the others get the community whose boundary holds them. Returns the residents kept, the
    communities (notes of repaired boundaries that left residences out added) and the
    rejected rows.
    """
    if "community_id" in residents:
        ids = residents["community_id"].astype(object)
    else:
        ids = pd.Series(None, index=residents.index, dtype=object)
    given = ids.notna()
    wrong = given & ~ids.isin(communities["community_id"])
    points = gpd.GeoDataFrame(
        residents.loc[~given, ["_row"]],
        geometry=representative_points(residents.loc[~given].geometry.to_numpy()),
        crs=residents.crs,
    )
    joined = gpd.sjoin(
        points, communities[["community_id", "geometry"]], predicate="within", how="left"
    )
    joined, notes = _one_community_each(joined, residents, communities)
    ids.loc[~given] = joined["community_id"].reindex(ids.index[~given]).to_numpy()
    residents = residents.assign(community_id=ids)
    if notes is not None:
        residents = with_notes(residents, notes.reindex(residents.index).to_numpy())
    outside = ~given & residents["community_id"].isna()
    away = rejected_rows(
        residents,
        outside,
        layer="residents",
        file=file,
        reason=OUTSIDE_REASON,
        fix="extend the boundaries, or set [residents] community to a column of community ids",
        id_column="resident_id",
    )
    communities, away = _cut_off_by_repairs(
        communities, residents.loc[outside], away, file=communities_file or "communities"
    )
    unknown = rejected_rows(
        residents,
        wrong,
        layer="residents",
        file=file,
        reason="community id not among the community boundaries",
        fix="correct the id",
        id_column="resident_id",
    )
    rejected = pd.concat([unknown, away], ignore_index=True)
    return residents.loc[~(wrong | outside)], communities, rejected


def _cut_off_by_repairs(communities, spots, rejected: pd.DataFrame, *, file: str):
    """Tie residences left outside every boundary to a repaired boundary whose outline holds them.

    A boundary drawn with its corners out of order (a bow-tie) is repaired to the faces its
    lines enclose; residences inside its corners (its convex hull) but outside every boundary
    may have been cut off by that repair. Their rejected rows name the boundary, its note
    counts them, and a warning names the row, the residences and the people. ``spots`` are
    the residences outside every boundary, in the order of their ``rejected`` rows.
    """
    if "note" not in communities or len(spots) == 0:
        return communities, rejected
    repaired = communities["note"].fillna("").str.startswith(REPAIRED).to_numpy()
    if not repaired.any():
        return communities, rejected
    hulls = gpd.GeoDataFrame(
        communities.loc[repaired, ["community_id", "_row"]],
        geometry=communities.geometry[repaired].convex_hull,
        crs=communities.crs,
    )
    rejected = rejected.reset_index(drop=True)
    spots = gpd.GeoDataFrame(
        {"population": rejected["population"].fillna(0.0).to_numpy()},
        geometry=representative_points(spots.geometry.to_numpy()),
        crs=communities.crs,
    )
    hit = gpd.sjoin(spots, hulls, predicate="within", how="inner")
    hit = hit[~hit.index.duplicated()]  # inside two outlines: the first boundary's
    notes = communities["note"].copy()
    for (cid, row), group in hit.groupby(["community_id", "_row"], sort=False):
        people = float(group["population"].sum())
        rejected.loc[group.index, "reason"] = (
            f"{OUTSIDE_REASON}, but inside the outline of the repaired boundary of {cid} "
            f"({file}, row {row}): its repair may have cut them off"
        )
        rejected.loc[group.index, "fix"] = (
            f"redraw the boundary of {cid} with its corners in order (no crossing lines), "
            "e.g. in QGIS: Vector > Geometry Tools > Check Validity"
        )
        told = (
            f"{len(group)} residences ({people:,.0f} residents) inside its outline fell outside it"
        )
        at = communities.index[communities["community_id"] == cid]
        notes.loc[at] = [f"{n}; {told} (rejected.csv)" for n in notes.loc[at]]
        log.warning(
            "%s, row %s: the repaired boundary of %s leaves %d residences (%s residents) "
            "outside every boundary (rejected.csv): its corners may be out of order. Fix: "
            "redraw it with its corners in order",
            file,
            row,
            cid,
            len(group),
            f"{people:,.0f}",
        )
    return communities.assign(note=notes), rejected


def ids_within_communities(residents: pd.DataFrame, *, file: str):
    """Residence ids need only be unique within a community (1幢, 2幢 ... in every 社区).

    Where an id repeats across communities every id becomes ``community-id`` (said once, in
    the log); an id repeated within one community is a row listed twice: the first is kept,
    the others are rejected with the reason.
    """
    ids = residents["resident_id"].astype(str)
    if not ids.duplicated().any():
        return residents, None
    key = residents["community_id"].astype(str) + "-" + ids
    twice = key.duplicated(keep="first")
    repeated = ids[~twice].duplicated(keep=False)
    rejected = rejected_rows(
        residents,
        twice,
        layer="residents",
        file=file,
        reason="",
        fix="delete the repeated row, or give it its own id",
        id_column="resident_id",
    )
    first = dict(zip(key[~twice], residents.loc[~twice, "_row"], strict=True))
    rejected["reason"] = [
        f"id {i!r} repeats row {first[k]} in community {c} (first kept)"
        for i, k, c in zip(
            ids[twice], key[twice], residents.loc[twice, "community_id"], strict=True
        )
    ]
    if repeated.any():
        example = ids[~twice][repeated].iloc[0]
        log.info(
            "%s: residence ids repeat across communities (%d ids, e.g. %r); each id is now "
            "community-id (e.g. %r) in every output",
            file,
            ids[~twice][repeated].nunique(),
            example,
            key[~twice][ids[~twice] == example].iloc[0],
        )
        residents = residents.assign(resident_id=key)
    return residents.loc[~twice], rejected


def with_notes(frame: pd.DataFrame, notes) -> pd.DataFrame:
    """Add per-row notes to a frame's ``note`` column, after any it already has (joined by ;)."""
    before = frame["note"].to_numpy() if "note" in frame else np.full(len(frame), None)
    both = [
        "; ".join(n for n in pair if isinstance(n, str)) or None
        for pair in zip(before, notes, strict=True)
    ]
    return frame.assign(note=both)


def _one_community_each(joined: pd.DataFrame, residents, communities):
    """Where boundaries overlap, give each residence one community by a stated rule.

    A building in two boundaries counts for the one holding the larger share of its
    footprint; a point, for the one it lies deepest inside. Each such residence gets a note.
    """
    twice = joined.index.duplicated(keep=False)
    if not twice.any():
        return joined, None
    shapes = communities.set_index("community_id").geometry
    notes = pd.Series(None, index=residents.index, dtype=object)
    chosen = []
    for idx, group in joined[twice].groupby(level=0, sort=False):
        geom = residents.geometry.loc[idx]
        names = list(group["community_id"])
        if geom.geom_type in ("Polygon", "MultiPolygon") and geom.area > 0:
            score = [shapes[c].intersection(geom).area for c in names]
            rule = "the larger share of the building"
        else:
            point = geom.representative_point()
            score = [shapes[c].boundary.distance(point) for c in names]
            rule = "the boundary it lies deepest inside"
        best = names[int(np.argmax(score))]
        chosen.append(group[group["community_id"] == best].iloc[[0]])
        notes[idx] = f"in the overlap of {' and '.join(names)}: counted for {best} ({rule})"
    joined = pd.concat([joined[~twice], *chosen]).sort_index()
    return joined, notes


#: A layer whose extent lies farther than this from the street network's is in another place:
#: most likely its coordinates are not in the CRS it declares.
FAR_FROM_NETWORK_M = 20_000.0


def _check_near_network(frame: gpd.GeoDataFrame, network: Network, *, file: str, declared) -> None:
    """Stop, before anything is written, when most of a layer lies far from every street.

    ``frame`` is the layer in the network's CRS; ``declared`` the CRS its file declares.
    """
    if len(frame) == 0:
        return
    xy = shapely.get_coordinates(representative_points(frame.geometry.to_numpy()))
    nx0, ny0 = network.node_x.min(), network.node_y.min()
    nx1, ny1 = network.node_x.max(), network.node_y.max()
    gap_m = np.maximum.reduce(
        [nx0 - xy[:, 0], xy[:, 0] - nx1, ny0 - xy[:, 1], xy[:, 1] - ny1, np.zeros(len(xy))]
    )
    far = gap_m > FAR_FROM_NETWORK_M
    if far.mean() > 0.5:
        raise InputError(
            f"{file}: {far.sum():,} of {len(far):,} rows lie more than "
            f"{FAR_FROM_NETWORK_M / 1000:g} km from the street network (median "
            f"{np.median(gap_m[far]) / 1000:,.0f} km), so their coordinates cannot be in the "
            f"CRS the layer declares ({declared}). Fix: declare the CRS the coordinates are in "
            "(crs = ... in the study file), or use the street network of this place"
        )


def _check_overlaps(communities: gpd.GeoDataFrame, *, file: str, strict: bool) -> None:
    """Warn (strict: stop) when community boundaries overlap: residents there are shared."""
    geoms = communities.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    once = left < right
    left, right = left[once], right[once]
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    overlaps = [(i, j, a) for i, j, a in zip(left, right, area, strict=True) if a > 1.0]
    if not overlaps:
        return
    ids = communities["community_id"].to_numpy()
    listing = ", ".join(f"{ids[i]}/{ids[j]} {a:,.0f} m²" for i, j, a in overlaps[:10])
    message = (
        f"{file}: {len(overlaps)} pairs of community boundaries overlap ({listing}); a "
        "residence in an overlap counts for the community holding the larger share of it "
        "(see the note column). Fix: correct the boundaries, or set [residents] community"
    )
    if strict:
        raise InputError(message)
    log.warning(message)


def _attach(network: Network, frame, *, layer: str, file: str, id_column: str, max_snap_m):
    """Attach a layer's points to the network; reject rows farther than ``max_snap_m``."""
    points = representative_points(frame.geometry.to_numpy())
    attachment = attach_points(network, points, max_distance_m=max_snap_m)
    far = ~attachment.attached
    rejected = []
    if far.any():
        _, distance = network.ground_tree.query_nearest(
            points[far], return_distance=True, all_matches=False
        )
        sub = frame.loc[far].assign(_d=distance)
        for d, part in sub.groupby(sub["_d"].round(-1)):
            rejected.append(
                rejected_rows(
                    part,
                    np.ones(len(part), dtype=bool),
                    layer=layer,
                    file=file,
                    id_column=id_column,
                    reason=f"about {d:,.0f} m from the nearest walkable street "
                    f"(limit {max_snap_m:g} m)",
                    fix="check its coordinates (Amap/Baidu exports are GCJ-02/BD-09) or extend the "
                    "street network; raise [analysis] max_snap_m if the distance is real",
                )
            )
    kept_att = attachment.subset(~far)
    kept = frame.loc[~far].assign(street_offset_m=kept_att.offset_m)
    notes = _fragment_notes(network, points[~far], kept_att.offset_m)
    if notes is not None:
        kept = with_notes(kept, notes)
        log.warning(
            "%s: %d rows have their nearest street in a disconnected piece of the "
            "network; attached to the main network instead (see the note column)",
            layer,
            int(pd.notna(notes).sum()),
        )
    return kept, kept_att, rejected


def _fragment_notes(network: Network, points: np.ndarray, offset_m: np.ndarray):
    """Return notes for points whose nearest street is a left-out disconnected fragment."""
    if len(network.fragment_geometry) == 0 or len(points) == 0:
        return None
    (point_idx, _), dist = network.fragment_tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    fragment_m = np.full(len(points), np.inf)
    fragment_m[point_idx] = dist
    nearer = fragment_m < offset_m - 1e-6
    if not nearer.any():
        return None
    notes = np.full(len(points), None, dtype=object)
    notes[nearer] = [
        f"nearest street ({f:.0f} m) is a disconnected fragment; attached to the main network "
        f"{o:.0f} m away"
        for f, o in zip(fragment_m[nearer], offset_m[nearer], strict=True)
    ]
    return notes


def _check_offsets(network: Network, fac_l: Layer, res_l: Layer, options) -> None:
    """Warn (or raise, if strict) when a WGS84 layer fits the streets better as GCJ-02/BD-09."""
    for layer, key in ((fac_l, "[facilities]"), (res_l, "[residents]")):
        crs = layer.frame.crs
        if crs is None or crs.to_epsg() not in (4326, 4490):  # declared WGS84 / CGCS2000 only
            continue
        points = representative_points(layer.frame.geometry.to_numpy())
        check_chinese_offset(points, network, file=layer.file, key=key, strict=options.strict)


#: Share of an input's rows (or of its residents) whose rejection ends the run with a warning.
LARGE_REJECTION = 0.05


def _warn_of_large_rejections(rejected: pd.DataFrame, layers, residents) -> None:
    """Warn of every input losing more than :data:`LARGE_REJECTION` of its rows or people.

    One warning per file: counts, the three commonest reasons, and the fix of the commonest.
    """
    people_kept = float(residents["population"].sum())
    for layer in layers:
        mine = rejected[rejected["file"] == layer.file]
        if len(mine) == 0:
            continue
        away = layer.frame.get("living_outside", pd.Series(False, index=layer.frame.index))
        kept = int((~away.astype(bool)).sum())  # residents living outside: another file
        rows = kept + int((layer.rejected["file"] == layer.file).sum())
        people = float(mine["population"].sum()) if "population" in mine else 0.0
        is_residents = layer.file == layers[1].file
        total_people = people_kept + people if is_residents else 0.0
        if len(mine) <= LARGE_REJECTION * rows and people <= LARGE_REJECTION * total_people:
            continue
        # reasons alike but for their values (row numbers, '120人') counted together
        reasons = mine["reason"].str.replace(r"'[^']*\d[^']*'|\d[\d.,]*", "…", regex=True)
        top = reasons.value_counts().head(3)
        fix = mine.loc[reasons == top.index[0], "fix"].iloc[0]
        said = f" and {people:,.0f} of {total_people:,.0f} residents" if total_people else ""
        log.warning(
            "%s: %d of %d rows rejected (%.0f %%)%s; commonest reasons: %s. Fix: %s "
            "(every row with its reason in rejected.csv)",
            layer.file,
            len(mine),
            rows,
            100 * len(mine) / max(rows, 1),
            said,
            "; ".join(f"{r} ({n})" for r, n in top.items()),
            fix,
        )


def _raise_if_strict(rejected: pd.DataFrame, options: AnalysisOptions) -> None:
    if options.strict and len(rejected):
        first = rejected.iloc[0]
        raise InputError(
            f"{first['file']}, row {first['row']}: {first['reason']}. Fix: {first['fix']} "
            f"({len(rejected)} rows rejected in all; without strict they go to rejected.csv)"
        )


def analyze(
    network: Network,
    communities: Layer | gpd.GeoDataFrame,
    residents: Layer | gpd.GeoDataFrame,
    facilities: Layer | gpd.GeoDataFrame,
    *,
    options: AnalysisOptions | None = None,
    verbose: bool = True,
    partition: Partition | None = None,
) -> Analysis:
    """Analyse walking access from residences to facilities, per community and category.

    Parameters
    ----------
    network : Network
        Walking network in a metric CRS.
    communities, residents, facilities : Layer or geopandas.GeoDataFrame
        Standardised layers (see :mod:`cjgis.inputs.io`), in any CRS.
    options : AnalysisOptions, optional
        Threshold, speed, target share and the rest; defaults if ``None``.
    verbose : bool, optional
        Show a progress bar over categories.
    partition : Partition, optional
        Run the searches tile by tile (on Dask workers if it names a client); the results are
        those of one process (:mod:`cjgis.reach.partition`).

    Returns
    -------
    Analysis
        Tables and layers; the inputs are not modified.
    """
    _, finish = analyze_areas_later(
        network,
        communities,
        residents,
        facilities,
        options=options,
        verbose=verbose,
        partition=partition,
    )
    return finish()


def analyze_areas_later(
    network: Network,
    communities: Layer | gpd.GeoDataFrame,
    residents: Layer | gpd.GeoDataFrame,
    facilities: Layer | gpd.GeoDataFrame,
    *,
    options: AnalysisOptions | None = None,
    verbose: bool = True,
    partition: Partition | None = None,
) -> tuple[Analysis, Callable[..., Analysis | None]]:
    """:func:`analyze`, returning as soon as everything but the service areas is known.

    The areas go on being drawn in a forked process. What needs none of them (the tables, the
    residents' and blind spots' layers, the workbook) can be written meanwhile: ``cjgis
    analyze`` does (:func:`cjgis.outputs.deliverables.write_all`).

    Parameters
    ----------
    network, communities, residents, facilities, options, verbose, partition :
        As for :func:`analyze`.

    Returns
    -------
    first : Analysis
        The analysis with no rows in ``service_areas``; every other field is final.
    finish : callable
        ``finish()`` waits for the areas and returns the whole :class:`Analysis` (the one
        :func:`analyze` returns); ``finish(cancel=True)`` drops the areas not yet started and
        returns None.
    """
    options = options or AnalysisOptions()
    comm_l, res_l, fac_l = (
        _as_layer(d, n)
        for d, n in (
            (communities, "communities"),
            (residents, "residents"),
            (facilities, "facilities"),
        )
    )
    if len(fac_l.frame) == 0:
        raise InputError(f"{fac_l.file}: no usable facility. Fix: see rejected rows or add some")
    # the service areas are drawn in a forked process (:mod:`cjgis._fork`): on this one's
    # threads they would wait for the GIL while the tables are made and written
    drawing = contextlib.ExitStack()
    try:
        first, wait = _analyze(network, comm_l, res_l, fac_l, options, drawing, verbose, partition)
    except BaseException:
        drawing.close()
        raise

    def finish(*, cancel: bool = False) -> Analysis | None:
        with drawing:  # stops the drawing if it has not ended
            if cancel:
                return None
            return replace(first, service_areas=gpd.GeoDataFrame(wait(), crs=first.crs))

    return first, finish


def _analyze(network, comm_l, res_l, fac_l, options, drawing, verbose, partition):
    """Run the steps of :func:`analyze` on standardised layers.

    The areas are drawn in a process that ``drawing`` (an exit stack) stops. Returns the
    analysis without its areas, and the function that waits for their rows
    (:func:`draw_areas`).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:  # the network's indexes meanwhile
        # the nearest-street index, and the edges of each node (2SFCA and the area drawing,
        # which is forked from here, use them: built once, before the fork)
        index = pool.submit(lambda: (network.piece_index, network.incident_edges))
        crs = network.crs
        comm, res, fac = (layer.frame.to_crs(crs) for layer in (comm_l, res_l, fac_l))
        rejected = [comm_l.rejected, res_l.rejected, fac_l.rejected]
        for frame, layer in ((comm, comm_l), (res, res_l), (fac, fac_l)):
            _check_near_network(frame, network, file=layer.file, declared=layer.frame.crs)
        _check_overlaps(comm, file=comm_l.file, strict=options.strict)
        res, comm, rej = _assign_communities(
            res, comm, file=res_l.file, communities_file=comm_l.file
        )
        rejected.append(rej)
        res, rej = ids_within_communities(res, file=res_l.file)
        rejected.append(rej)
        fac, rej = _without_excluded(fac, options, file=fac_l.file)
        rejected.append(rej)
        _check_offsets(network, fac_l, res_l, options)
        index.result()
    # facilities first: their searches start the drawing of the areas, which goes on while
    # the residences are attached (areas need only the facilities' searches)
    fac, fac_att, fac_rej = _attach(
        network,
        fac,
        layer="facilities",
        file=fac_l.file,
        id_column="facility_id",
        max_snap_m=options.max_snap_m,
    )
    _check_categories(fac["category"], options, file=fac_l.file)
    categories, district_rules = assessed_categories(options, fac["category"])
    searched = {}
    if partition is None:
        searched = {c: category_search(network, fac, fac_att, c) for c in categories}
        wait = drawing.enter_context(forked(draw_areas, network, [(fac, searched)], options))
    res, res_att, res_rej = _attach(
        network,
        res,
        layer="residents",
        file=res_l.file,
        id_column="resident_id",
        max_snap_m=options.max_snap_m,
    )
    rejected = pd.concat([*rejected, *res_rej, *fac_rej], ignore_index=True)
    _raise_if_strict(rejected, options)
    _warn_of_large_rejections(rejected, (comm_l, res_l, fac_l), res)
    res, demand_basis = demand_columns(
        res,
        _groups([*categories, *(r.key for r in district_rules)], options),
        elderly_share=options.elderly_share,
        household_size=options.household_size,
        strict=options.strict,
        elderly_age=options.elderly_age,
    )
    pairs = {}
    if partition is not None:
        tiled = _partitioned(network, res, res_att, fac, fac_att, categories, options, partition)
        pairs = tiled.pairs
        searched = {
            c: category_search(network, fac, fac_att, c, reach=tiled.reach[c]) for c in categories
        }
        wait = drawing.enter_context(forked(draw_areas, network, [(fac, searched)], options))
    res = res.assign(
        **_access_columns(network, res, res_att, fac, searched, options, pairs, verbose=verbose)
    )
    coverage, away = coverage_tables(res, comm, fac, categories, options, demand_basis)
    comm = comm.merge(community_verdicts(coverage), on="community_id", how="left")
    spots = blind_spots(res, categories, options=options)
    first = Analysis(  # the tables above were made while the areas were drawn
        options=options,
        crs=crs,
        categories=categories,
        network=network,
        communities=comm.drop(columns=["_row", "_file"], errors="ignore"),
        residents=res.drop(columns=["_row", "_file"], errors="ignore"),
        facilities=fac.drop(columns=["_row", "_file"], errors="ignore"),
        coverage=coverage,
        outside_coverage=away,
        service_areas=gpd.GeoDataFrame(
            columns=["category", "metres", "minutes", "facility_id", "name", "geometry"],
            geometry="geometry",
            crs=crs,
        ),
        blind_spots=spots,
        rejected=rejected,
        district=district_verdicts(res, fac, district_rules, demand_basis=demand_basis),
        resident_attachment=res_att,
        demand_basis=demand_basis,
        not_assessed=not_assessed_table(options, fac_l.frame["category"]),
    )
    _say_what_is_missing(first)
    return first, wait


def coverage_tables(res, comm, fac, categories, options, demand_basis):
    """Return coverage and verdict per community x category, of residents in place and away.

    The second table is of the residents living outside their community for now, for the
    communities that have such residents.
    """
    outside = res.get("living_outside", pd.Series(False, index=res.index)).to_numpy(bool)

    def table(rows: pd.DataFrame, group: str) -> pd.DataFrame:
        cov = coverage_table(
            rows, comm, fac, categories, options=options, demand_basis=demand_basis
        )
        cov = assess(cov).assign(resident_group=group)
        return cov[[c for c in COVERAGE_COLUMNS if c in cov]]

    away = table(res.loc[outside], LIVING_OUTSIDE)
    away = away[away["residents"] > 0].reset_index(drop=True).assign(facilities_inside=np.nan)
    return table(res.loc[~outside], IN_PLACE), away


def assessed_categories(
    options: AnalysisOptions, present: Iterable[str]
) -> tuple[list[str], list[CategoryRule]]:
    """Return the categories a study assesses: its rules' and facilities', less excluded.

    Every category of the options' rules (the profile's, in its order) is assessed whether or
    not the input has a facility of it (then nobody is within reach: 无设施数据), then the
    facilities' other categories in registry order; ``options.exclude`` are left out.

    Returns
    -------
    walk : list of str
        Categories assessed per community by walking reach, in display order.
    district : list of CategoryRule
        District-level rules (capacity over the study area).
    """
    keys = [rule.key for rule in options.rules]
    keys += [c for c in ordered_categories(set(present)) if c not in keys]
    keys = [c for c in keys if c not in options.exclude]
    walk = [c for c in keys if options.rule_for(c).scale == "walk"]
    return walk, [options.rule_for(c) for c in keys if c not in walk]


#: Columns of :meth:`Analysis.rules_table`.
def _checked_text(rule) -> str:
    """Say whether a rule's number was read in its source: 已核实, 未核实, or a planner rule."""
    if rule.basis != "standard":
        return "规划建议值 planner rule" if rule.basis == "planner rule" else ""
    if rule.verified and rule.quote:
        return "已核实 verified against the text quoted"
    return "未核实 unverified: not checked against the standard's text"


RULES_COLUMNS = [
    "category",
    "category_zh",
    "scale",
    "threshold_m",
    "threshold_min",
    "walk_speed_m_s",
    "demand",
    "target_share",
    "basis",
    "source",
    "checked",
    "quote",
    "facilities",
    "assessment",
    "standards",
]

#: Columns of :attr:`Analysis.not_assessed`.
NOT_ASSESSED_COLUMNS = [
    "category",
    "category_zh",
    "facilities_left_out",
    "status",
    "status_zh",
    "status_en",
    "reason",
]


def not_assessed_table(options: AnalysisOptions, categories: pd.Series) -> pd.DataFrame:
    """One row per category the study leaves out (``[standards] exclude``): 未评价."""
    counts = categories.value_counts()
    return pd.DataFrame(
        [
            {
                "category": key,
                "category_zh": options.rule_for(key).name_zh,
                "facilities_left_out": int(counts.get(key, 0)),
                "status": NOT_ASSESSED,
                "status_zh": OTHER_ZH[NOT_ASSESSED],
                "status_en": OTHER_EN[NOT_ASSESSED],
                "reason": EXCLUDED_REASON,
            }
            for key in options.exclude
        ],
        columns=NOT_ASSESSED_COLUMNS,
    )


#: Why a category left out on purpose has no verdict.
EXCLUDED_REASON = "研究文件排除, 未评价 (left out by [standards] exclude in the study file)"


def _without_excluded(fac: gpd.GeoDataFrame, options: AnalysisOptions, *, file: str):
    """Facilities of the excluded categories go to the rejected rows, with the reason."""
    mask = fac["category"].isin(options.exclude)
    if not mask.any():
        return fac, None
    rejected = rejected_rows(
        fac,
        mask,
        layer="facilities",
        file=file,
        id_column="facility_id",
        reason="",
        fix="remove the category from [standards] exclude to assess it",
    )
    rejected["reason"] = [f"category {c}: {EXCLUDED_REASON}" for c in fac.loc[mask, "category"]]
    log.info(
        "%s: %d facilities of the excluded categories %s are not analysed (rejected.csv)",
        file,
        int(mask.sum()),
        ", ".join(dict.fromkeys(fac.loc[mask, "category"])),
    )
    return fac.loc[~mask], rejected


def _say_what_is_missing(analysis: Analysis) -> None:
    """Warn of categories assessed without any facility, and name those left out."""
    for line in analysis.missing_lines():
        log.warning(line)


def known_categories(options: AnalysisOptions) -> list[str]:
    """Category keys the registry or the options' rules know, sorted."""
    return sorted({*CATEGORIES, *(rule.key for rule in options.rules)})


def unknown_category_fix(key: str, known: list[str]) -> str:
    """Return the fix for an unknown category: the likely one, and every known key.

    A key or a Chinese name is matched against the known keys and their Chinese names
    (养老服务设施, 运动场地 ...), so 养老服务设 suggests elderly_care too.
    """
    names = {k: k for k in known}
    for k in known:
        names.setdefault(category_info(k).name_zh, k)
    close = difflib.get_close_matches(str(key), list(names), n=1, cutoff=0.5)
    if close:
        found = names[close[0]]
        hint = f"did you mean {found!r} ({category_info(found).name_zh})? "
    else:
        hint = ""
    return f"{hint}known: {', '.join(known)}"


def _check_categories(categories: pd.Series, options: AnalysisOptions, *, file: str) -> None:
    """Warn (strict: stop) on category keys no profile or registry knows, with the likely one.

    An unknown key is analysed as a category of its own; a typo (``elderly_car``) would
    otherwise split a category's facilities in two without a word.
    """
    known = known_categories(options)
    counts = categories.value_counts()
    for key in counts.index.difference(known):
        message = (
            f"{file}: {counts[key]} facilities have the unknown category {key!r}, analysed as a "
            f"category of its own. Fix: {unknown_category_fix(key, known)}"
        )
        if options.strict:
            raise InputError(message)
        log.warning(message)


def _groups(categories: list[str], options: AnalysisOptions) -> set[str]:
    """Demand groups the categories' rules count (coverage demand and capacity ``of``)."""
    groups = set()
    for category in categories:
        rule = options.rule_for(category)
        groups.add(rule.demand)
        if rule.capacity is not None:
            groups.add(rule.capacity.of)
    return groups


def _access_columns(
    network, res, res_att, fac, searched: dict, options, pairs: dict, *, verbose: bool
) -> dict[str, np.ndarray]:
    """Every category's residents' columns (:func:`category_access`), with progress.

    The categories' service areas are drawn meanwhile on two worker threads (GEOS, numpy and
    GDAL release the GIL); the result does not depend on it.
    """
    columns = {}
    bars = verbose and sys.stderr.isatty()  # a terminal: bars; a log or a notebook: lines
    for category, search in tqdm(
        searched.items(), desc="walking access", unit="category", disable=not bars
    ):
        started = time.perf_counter()
        columns.update(
            category_access(network, res, res_att, fac, search, options, pairs=pairs.get(category))
        )
        if verbose and not bars:
            log.info(
                "walking access %s: %d facilities, %.1f s",
                category,
                int(search.mask.sum()),
                time.perf_counter() - started,
            )
    return columns


@dataclass(frozen=True)
class CategorySearch:
    """One category's facilities and their one multi-source search (:func:`category_search`)."""

    category: str
    mask: np.ndarray
    sources: Attachment
    reach: NodeReach


def category_search(network, fac, fac_att, category, *, reach=None) -> CategorySearch:
    """Select one category's facilities and search the walk from the nearest to every node.

    ``reach`` is that search when a partitioned run (:mod:`cjgis.reach.partition`) already made it.
    """
    mask = (fac["category"] == category).to_numpy()
    sources = fac_att.subset(mask)
    return CategorySearch(
        category, mask, sources, reach if reach is not None else node_reach(network, sources)
    )


def category_access(
    network, res, res_att, fac, search: CategorySearch, options, *, pairs=None
) -> dict[str, np.ndarray]:
    """Walk to the nearest facility of one category, from its search, and its 2SFCA scores.

    Returns the residents' columns ``walk_min_<category>``, ``nearest_<category>`` and, where
    capacities are known, ``access_<category>`` and ``access_gauss_<category>``; ``pairs`` are
    those of a partitioned run (:mod:`cjgis.reach.partition`).
    """
    category, mask = search.category, search.mask
    rule = options.rule_for(category)
    metres_per_min = rule.walk_speed_m_s * 60.0
    if not mask.any():  # no facility of the category in the input: nobody within reach
        return {
            walk_column(category): np.full(len(res), np.nan),
            f"nearest_{category}": np.full(len(res), None, dtype=object),
        }
    dist, nearest = target_distances(network, search.reach, search.sources, res_att)
    reached = np.isfinite(dist)
    ids = fac["facility_id"].to_numpy()
    columns = {
        walk_column(category): np.where(reached, dist / metres_per_min, np.nan),
        f"nearest_{category}": np.where(reached, ids[mask][nearest], None),
    }
    columns.update(_capacity_access(network, res, res_att, fac, search, rule, pairs))
    return columns


def draw_areas(network, groups: list[tuple], options) -> list[dict]:
    """Every service area of the searched categories, on two threads: :func:`area_rows`.

    ``groups`` are ``(facilities, searched)`` pairs as :func:`submit_all_areas` takes them.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            job
            for fac, searched in groups
            for job in submit_all_areas(pool, network, fac, searched, options)
        ]
        return area_rows(jobs)


def submit_all_areas(pool: ThreadPoolExecutor, network, fac, searched: dict, options) -> list:
    """Start drawing the categories' service areas on ``pool``; :func:`area_rows` collects them.

    Per category (``searched``: its :class:`CategorySearch`), the dissolved areas of the
    threshold (and, with ``options.bands``, of every tier distance) from its one search, and
    with ``options.facility_areas`` one area per facility.
    """
    jobs = []
    for search in searched.values():
        if not search.mask.any():  # no facility: no area (nobody within reach)
            continue
        rule = options.rule_for(search.category)
        budgets_m = rule.band_metres if options.bands else (rule.threshold_m,)
        area_args = {
            "buffer_m": options.service_area_buffer_m,
            "source_points": fac.geometry.to_numpy()[search.mask],
        }
        bands = pool.submit(
            band_areas, network, search.sources, search.reach, budgets_m=budgets_m, **area_args
        )
        each = None
        if options.facility_areas:
            each = pool.submit(
                facility_service_areas,
                network,
                search.sources,
                budget_m=rule.threshold_m,
                **area_args,
            )
        jobs.append(
            {
                "category": search.category,
                "rule": rule,
                "budgets_m": budgets_m,
                "names": fac[["facility_id", "name"]].to_numpy()[search.mask],
                "bands": bands,
                "each": each,
            }
        )
    return jobs


def area_rows(jobs: list[dict]) -> list[dict]:
    """Return the rows of :func:`submit_all_areas` jobs: categories' bands, then facilities'."""
    bands = [
        {
            "category": job["category"],
            "metres": m,
            "minutes": m / (job["rule"].walk_speed_m_s * 60.0),
            "facility_id": None,
            "name": None,
            "geometry": g,
        }
        for job in jobs
        for m, g in zip(job["budgets_m"], job["bands"].result(), strict=True)
    ]
    each = [
        {
            "category": job["category"],
            "metres": job["rule"].threshold_m,
            "minutes": job["rule"].minutes,
            "facility_id": i,
            "name": n,
            "geometry": g,
        }
        for job in jobs
        if job["each"] is not None
        for (i, n), g in zip(job["names"], job["each"].result(), strict=True)
    ]
    return bands + each


def _capacity_access(
    network, res, res_att, fac, search: CategorySearch, rule, pairs=None
) -> dict[str, np.ndarray]:
    """2SFCA accessibility (capacity per unit of demand) where capacities are known.

    ``pairs`` are the (facility, residence, distance) pairs within the limit when a partitioned
    search found them; searched here otherwise.
    """
    if not _capacity_checked(rule, res, fac, search.mask):
        return {}
    supply = fac["capacity"].to_numpy(dtype=float)[search.mask]
    demand = res[demand_column(rule.capacity.of)].to_numpy(dtype=float)
    if pairs is None:
        pairs = distances_within(network, search.sources, res_att, limit_m=rule.threshold_m)
    _, plain = two_step_fca(*pairs, supply, demand, threshold_m=rule.threshold_m)
    _, gauss = two_step_fca(*pairs, supply, demand, threshold_m=rule.threshold_m, decay="gaussian")
    return {f"access_{rule.key}": plain, f"access_gauss_{rule.key}": gauss}


def _capacity_checked(rule, res, fac, mask) -> bool:
    """Whether a category's capacity is checked: a rule, capacities, and counts of its group."""
    if rule.capacity is None or "capacity" not in fac:
        return False
    if not np.isfinite(fac["capacity"].to_numpy(dtype=float)[mask]).any():
        return False
    # no counts of the group: capacity is not checked (demand_basis says so)
    return demand_column(rule.capacity.of) in res


def _partitioned(network, res, res_att, fac, fac_att, categories, options, partition):
    """Every category's searches tile by tile (:mod:`cjgis.reach.partition`)."""
    from cjgis.reach.partition import partitioned_searches

    sources, limits_m, longest_m = {}, {}, 0.0
    for category in categories:
        rule = options.rule_for(category)
        mask = (fac["category"] == category).to_numpy()
        sources[category] = fac_att.subset(mask)
        budgets_m = rule.band_metres if options.bands else (rule.threshold_m,)
        longest_m = max(longest_m, rule.threshold_m, *budgets_m)
        if _capacity_checked(rule, res, fac, mask):
            limits_m[category] = rule.threshold_m
    halo_m = partition.halo_m if partition.halo_m is not None else longest_m
    if halo_m < longest_m:
        raise InputError(
            f"partition halo {halo_m:g} m is narrower than the longest walk the analysis draws "
            f"({longest_m:g} m): service areas and capacity would change. Fix: halo_m of at "
            f"least {longest_m:g} m, or leave it out"
        )
    searches = partitioned_searches(
        network, sources, res_att, pair_limits_m=limits_m, partition=partition, halo_m=halo_m
    )
    log.info(
        "partitioned: %s",
        "; ".join(f"{tasks} tiles with a halo of {h:,.0f} m" for h, tasks in searches.rounds),
    )
    return searches


def blind_spots(
    residents: gpd.GeoDataFrame, categories: list[str], *, options: AnalysisOptions
) -> gpd.GeoDataFrame:
    """Residences outside the threshold of at least one category, one row each (盲区).

    Each row keeps the residence's counts and says which categories leave it out:
    ``blind_<category>`` (true or false), ``categories`` (keys), ``categories_zh`` (Chinese
    names), ``n_categories``, and its walk to each (``walk_min_<category>``, blank where
    unreachable). One row per residence, not per residence x category: a city has 300,000
    residences and would have a million rows. :func:`category_blind_spots` gives one
    category's.
    """
    keep = [
        c
        for c in (
            "resident_id",
            "community_id",
            "population",
            "elderly",
            "households",
            "living_outside",
        )
        if c in residents
    ]
    out = {
        c: ~within_threshold(residents[walk_column(c)].to_numpy(), options.rule_for(c).minutes)
        for c in categories
    }
    rows = np.logical_or.reduce(list(out.values())) if out else np.zeros(len(residents), bool)
    walks = [walk_column(c) for c in categories]
    frame = residents.loc[rows, [*keep, *walks, "geometry"]]
    flags = {f"blind_{c}": out[c][rows] for c in categories}
    # the texts once per combination of categories, not once per residence
    pattern = np.zeros(int(rows.sum()), dtype=np.int64)
    for k, mine in enumerate(flags.values()):
        pattern |= mine.astype(np.int64) << k
    patterns, which = np.unique(pattern, return_inverse=True)
    left_out = [[c for k, c in enumerate(categories) if p >> k & 1] for p in patterns.tolist()]
    keys = np.array([",".join(cs) for cs in left_out], dtype=object)[which]
    names = np.array(["、".join(category_info(c).name_zh for c in cs) for cs in left_out], object)
    names = names[which]
    frame = frame.assign(
        **flags,
        categories=keys,
        categories_zh=names,
        n_categories=np.sum(list(flags.values()), axis=0) if flags else 0,
    )
    order = [*keep, "n_categories", "categories", "categories_zh", *flags, *walks, "geometry"]
    return gpd.GeoDataFrame(
        frame[order].reset_index(drop=True), geometry="geometry", crs=residents.crs
    )


def category_blind_spots(spots: gpd.GeoDataFrame, category: str) -> gpd.GeoDataFrame:
    """One category's blind spots from :func:`blind_spots`, with ``category`` and ``walk_min``."""
    mine = spots[spots[f"blind_{category}"]]
    derived = ("blind_", "walk_min_", "categories", "n_categories")
    keep = [c for c in mine.columns if not c.startswith(derived)]
    return mine[keep].assign(category=category, walk_min=mine[walk_column(category)])
