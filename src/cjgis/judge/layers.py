"""The layers an analysis takes, checked and tied together before anything is walked.

Residents get their community (by boundary, or the id they carry when living outside; an
overlap is resolved by a stated rule), points are attached to the network with the far ones
rejected, layers far from the network or shifted like GCJ-02 are warned of, facility categories
are checked against the profile and those left out on purpose are rejected with the reason.
Every row ends in the analysis or in the rejected table; :func:`cjgis.judge.analysis.analyze`
calls these before the pure computation.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cjgis._errors import InputError
from cjgis._geometry import representative_points
from cjgis.inputs._validate import check_chinese_offset, rejected_rows
from cjgis.inputs.categories import (
    CATEGORIES,
    category_info,
    category_key,
    closest_category,
)
from cjgis.inputs.io import REPAIRED, Layer
from cjgis.judge.settings import AnalysisOptions
from cjgis.streets.network import Network
from cjgis.streets.snapping import attach_points

log = logging.getLogger(__name__)


#: The columns :func:`cjgis.analyze` needs of a GeoDataFrame passed in place of a Layer.
STANDARD_COLUMNS: dict[str, tuple[str, ...]] = {
    "communities": ("community_id", "community_name"),
    "residents": ("resident_id", "population"),
    "facilities": ("facility_id", "name", "category"),
}
#: What builds each layer from a planner's own columns.
_FROM_FRAME = {
    "communities": 'cjgis.communities_from_frame(gdf, id="<column>", name="<column>")',
    "residents": 'cjgis.residents_from_frame(gdf, population="<column>", id="<column>")',
    "facilities": 'cjgis.facilities_from_frame(gdf, category="<column>", name="<column>")',
}


def as_layer(data: Layer | gpd.GeoDataFrame, name: str) -> Layer:
    """Return ``data`` as a :class:`~cjgis.inputs.io.Layer` (a GeoDataFrame: no rejected rows).

    A GeoDataFrame must hold the standard columns (:data:`STANDARD_COLUMNS`), a geometry and a
    CRS; else an :class:`InputError` names what is missing, the columns present and the
    ``<layer>_from_frame`` call that maps a planner's own columns. Categories given by their
    Chinese or English name (养老服务设施) are read as their keys (``elderly_care``).
    """
    if isinstance(data, Layer):
        return data
    fix = f"build the layer with {_FROM_FRAME[name]}"
    if not isinstance(data, gpd.GeoDataFrame) or data._geometry_column_name not in data:
        raise InputError(
            f"{name}: a {type(data).__name__} without geometry cannot be analysed. Fix: {fix}"
        )
    missing = [c for c in STANDARD_COLUMNS[name] if c not in data.columns]
    if missing:
        present = ", ".join(repr(str(c)) for c in data.columns if c != data.geometry.name)
        raise InputError(
            f"{name}: no column {', '.join(map(repr, missing))} (cjgis's standard columns are "
            f"{', '.join(STANDARD_COLUMNS[name])}); the frame has {present or 'none'}. Fix: {fix}"
        )
    if data.crs is None:
        raise InputError(
            f"{name}: the GeoDataFrame has no CRS, so its coordinates cannot be placed on the "
            'streets. Fix: gdf.set_crs("EPSG:4326") (or the CRS it is in), or pass crs= to '
            f"{_FROM_FRAME[name].split('(')[0]}"
        )
    frame = data.copy()
    if "_row" not in frame:
        frame["_row"] = np.arange(1, len(frame) + 1)
    if name == "facilities":
        keys = frame["category"].astype(str).map(category_key)
        renamed = keys != frame["category"].astype(str)
        if renamed.any():
            log.info(
                "facilities: %d categories given by name read as their keys (e.g. %s -> %s)",
                int(renamed.sum()),
                frame.loc[renamed, "category"].iloc[0],
                keys[renamed].iloc[0],
            )
        frame["category"] = keys
    return Layer(frame, file=name)


#: Why a residence no boundary holds is rejected.
OUTSIDE_REASON = "outside every community boundary"


def assign_communities(residents, communities, *, file: str, communities_file: str = ""):
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


def check_near_network(frame: gpd.GeoDataFrame, network: Network, *, file: str, declared) -> None:
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


def check_overlaps(communities: gpd.GeoDataFrame, *, file: str, strict: bool) -> None:
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


def attach(network: Network, frame, *, layer: str, file: str, id_column: str, max_snap_m):
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
    notes = fragment_notes(network, points[~far], kept_att.offset_m)
    if notes is not None:
        kept = with_notes(kept, notes)
        log.warning(
            "%s: %d rows have their nearest street in a disconnected piece of the "
            "network; attached to the main network instead (see the note column)",
            layer,
            int(pd.notna(notes).sum()),
        )
    return kept, kept_att, rejected


def fragment_notes(network: Network, points: np.ndarray, offset_m: np.ndarray):
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


def check_offsets(network: Network, fac_l: Layer, res_l: Layer, options) -> None:
    """Warn (or raise, if strict) when a WGS84 layer fits the streets better as GCJ-02/BD-09."""
    for layer, key in ((fac_l, "[facilities]"), (res_l, "[residents]")):
        crs = layer.frame.crs
        if crs is None or crs.to_epsg() not in (4326, 4490):  # declared WGS84 / CGCS2000 only
            continue
        points = representative_points(layer.frame.geometry.to_numpy())
        check_chinese_offset(points, network, file=layer.file, key=key, strict=options.strict)


#: Share of an input's rows (or of its residents) whose rejection ends the run with a warning.
LARGE_REJECTION = 0.05


def warn_of_large_rejections(rejected: pd.DataFrame, layers, residents) -> None:
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


def raise_if_strict(rejected: pd.DataFrame, options: AnalysisOptions) -> None:
    """Stop under ``strict`` when any input row was rejected, naming the first."""
    if options.strict and len(rejected):
        first = rejected.iloc[0]
        raise InputError(
            f"{first['file']}, row {first['row']}: {first['reason']}. Fix: {first['fix']} "
            f"({len(rejected)} rows rejected in all; without strict they go to rejected.csv)"
        )


#: Why a category left out on purpose has no verdict.
EXCLUDED_REASON = "研究文件排除, 未评价 (left out by [standards] exclude in the study file)"


def without_excluded(fac: gpd.GeoDataFrame, options: AnalysisOptions, *, file: str):
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


def known_categories(options: AnalysisOptions) -> list[str]:
    """Category keys the registry or the options' rules know, sorted."""
    return sorted({*CATEGORIES, *(rule.key for rule in options.rules)})


def unknown_category_fix(key: str, known: list[str]) -> str:
    """Return the fix for an unknown category: the likely one, and every known key.

    A key or a Chinese name is matched against the known keys and their Chinese and English
    names (:func:`cjgis.inputs.categories.closest_category`), so 养老服务设 suggests elderly_care.
    """
    found = closest_category(key, known)
    hint = f"did you mean {found!r} ({category_info(found).name_zh})? " if found else ""
    return f"{hint}known: {', '.join(known)}"


def check_categories(categories: pd.Series, options: AnalysisOptions, *, file: str) -> None:
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
