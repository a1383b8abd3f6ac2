"""Planned scenarios: a study as-is and as-planned, compared, with suggested sites.

For a new resettlement site the roads, facilities and residents exist only in the design
drawing. :func:`run_site_study` analyses the study's network and layers as they are, then with
the ``[planned]`` roads merged in (:func:`cjgis.streets.road_lines.network_with_planned_roads`), the
planned facilities and residents added, compares the two per community and category, and
suggests sites for the gaps that remain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis._atomic import write_csv
from cjgis._errors import input_error
from cjgis.inputs.coords import CHINESE_CRS, coordinates_in
from cjgis.inputs.io import Layer
from cjgis.judge.analysis import Analysis
from cjgis.judge.verdict import MET, NO_STANDARD
from cjgis.outputs.report import write_gpkg
from cjgis.plan.siting import SiteSuggestion

log = logging.getLogger(__name__)


def compare(before: Analysis, after: Analysis) -> pd.DataFrame:
    """Per community x category: coverage, walks and status as-is and as-planned.

    The community's own rows and those of its residents living outside (集中过渡地), told
    apart by ``resident_group`` (:meth:`cjgis.judge.analysis.Analysis.coverage_rows`).

    Returns
    -------
    pandas.DataFrame
        ``community_id, community_name, resident_group, category, category_zh``, then for each of
        ``residents, elderly, demand, demand_basis`` (the totals and the 口径 each share is
        of: planned residents change them), ``covered_residents, covered_share,
        median_walk_min, max_walk_min, status`` a ``_before`` and ``_after`` column, plus
        ``covered_residents_change`` and ``status_change`` (e.g. ``不达标 -> 达标``, the
        verdicts' Chinese words).
    """
    keys = [
        "community_id",
        "community_name",
        "resident_group",
        "category",
        "category_zh",
        "target_share",
    ]
    values = [
        "residents",
        "elderly",
        "demand",
        "demand_basis",
        "covered_residents",
        "covered_share",
        "median_walk_min",
        "max_walk_min",
        "coverage_met",
        "status",
        "status_zh",
    ]

    def rows(analysis: Analysis) -> pd.DataFrame:
        both = [f for f in (analysis.coverage, analysis.outside_coverage) if len(f)]
        table = pd.concat(both, ignore_index=True)
        return table[keys + [v for v in values if v in table]]

    table = rows(before).merge(rows(after), on=keys, how="outer", suffixes=("_before", "_after"))
    table["covered_residents_change"] = table["covered_residents_after"].fillna(0) - table[
        "covered_residents_before"
    ].fillna(0)
    changed = table["status_before"] != table["status_after"]
    table["status_change"] = np.where(
        changed,
        table["status_zh_before"].fillna("—") + " -> " + table["status_zh_after"].fillna("—"),
        "",
    )
    return table


def with_planned_facilities(existing: Layer, planned: Layer, *, prefix: str = "P") -> Layer:
    """Existing and planned facilities as one layer; planned ids get ``prefix`` (kept apart).

    Both layers' rejected rows are kept; the planned layer is reprojected to the existing one.
    A planned facility whose ``change`` is ``moved`` (a saved what-if) replaces the existing
    one of its id: the facility stands at its new place only.
    """
    change = planned.frame.get("change", pd.Series(None, index=planned.frame.index))
    gone = set(planned.frame.loc[change == "moved", "facility_id"].astype(str))
    stays = ~existing.frame["facility_id"].astype(str).isin(gone)
    if gone:
        log.info(
            "%s: %d planned facilities move existing ones (%s): their old places are left out",
            planned.file,
            len(gone),
            ", ".join(sorted(gone)),
        )
    frame = pd.concat(
        [
            existing.frame.loc[stays],
            planned.frame.to_crs(existing.frame.crs).assign(
                facility_id=prefix + planned.frame["facility_id"].astype(str), planned=True
            ),
        ],
        ignore_index=True,
    )
    frame["planned"] = frame["planned"].fillna(False).astype(bool)
    rejected = pd.concat([existing.rejected, planned.rejected], ignore_index=True)
    return Layer(gpd.GeoDataFrame(frame, crs=existing.frame.crs), rejected, existing.file)


@dataclass(frozen=True)
class SiteStudy:
    """A planned site analysed as-is and as-planned, with suggested sites.

    Attributes
    ----------
    before, after : Analysis
        The analysis of the existing state and of the planned state.
    changes : pandas.DataFrame
        :func:`compare` of the two.
    joins : pandas.DataFrame
        How the planned roads joined the network (:func:`add_planned_roads`).
    suggestions : dict of str to SiteSuggestion
        Per category that still misses its target as planned.
    roads : geopandas.GeoDataFrame or None
        The planned roads as read, each with its ``status`` from ``joins``.
    sites : tuple of str
        Community ids of the new sites' boundaries (``[planned] communities``).
    """

    before: Analysis
    after: Analysis
    changes: pd.DataFrame
    joins: pd.DataFrame
    suggestions: dict[str, SiteSuggestion]
    roads: gpd.GeoDataFrame | None = None
    sites: tuple[str, ...] = ()


def with_site(communities: Layer, site: Layer) -> Layer:
    """Return the existing communities and a new site's boundary as one layer (the site last).

    The site's ids must differ from the existing ones'; where its boundary overlaps an
    existing community the analysis says so and states whose residents are whose.
    """
    known = set(communities.frame["community_id"].astype(str))
    same = sorted(known & set(site.frame["community_id"].astype(str)))
    if same:
        raise input_error(
            site.file,
            f"the new site's community ids {', '.join(same)} are already ids of {communities.file}",
            "give the site an id of its own (e.g. its 地块 number)",
        )
    frame = pd.concat(
        [communities.frame, site.frame.to_crs(communities.frame.crs)], ignore_index=True
    )
    log.info(
        "%s: %d new site boundaries (%s) analysed as communities as planned",
        site.file,
        len(site.frame),
        ", ".join(site.frame["community_name"].astype(str)),
    )
    rejected = pd.concat([communities.rejected, site.rejected], ignore_index=True)
    return Layer(gpd.GeoDataFrame(frame, crs=communities.frame.crs), rejected, communities.file)


def no_sites_reason(site: SiteStudy) -> str | None:
    """Say in one line why no site is suggested (None where some are).

    Sites are suggested for the categories some community misses (不达标 / 未满足建议值);
    a category without a rule (无标准) is never missed.
    """
    if site.suggestions:
        return None
    status = site.after.coverage["status"]
    pairs = len(status)
    if pairs and (status == NO_STANDARD).all():
        return (
            f"建议选址 suggested sites: none: all {pairs} community x category pairs have no "
            "standard (无标准), so none is missed. Fix: name a profile in [standards] (e.g. "
            'profile = "chcj_2017") or set the categories\' rules'
        )
    return (
        "建议选址 suggested sites: none: every community meets every rule as planned "
        f"({int((status == MET).sum())} of {pairs} pairs met, the rest 无标准/无居民)"
    )


def write_site_outputs(
    site: SiteStudy,
    output_dir: str | Path,
    *,
    also_crs: str | None = None,
    water: str | Path | gpd.GeoDataFrame | None = None,
) -> dict[str, Path]:
    """Write ``before_after.csv``, ``suggested_sites.csv``/``.gpkg`` and the road joins.

    With planned roads, ``planned_network.gpkg`` too: ``planned_roads`` (each road with its
    ``status``) and ``road_ends`` (each end as a point: what it joined, how far, the street).
    With new site boundaries, one ``figure_site_<id>.png`` per site, framed on it with its
    surroundings, the planned roads drawn (``water`` as for
    :func:`cjgis.outputs.figures.gap_figure`).

    The sites' ``lon``/``lat`` are WGS84 (their ``crs`` column says so); ``also_crs``
    (``"gcj02"`` or ``"bd09"``, the planner's own, e.g. the study's ``[facilities] crs``) adds
    ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) columns to paste into Amap or Baidu.
    """
    out = Path(output_dir)
    paths = {
        "before_after": out / "before_after.csv",
        "suggested_sites_csv": out / "suggested_sites.csv",
        "suggested_sites": out / "suggested_sites.gpkg",
        "planned_road_joins": out / "planned_road_joins.csv",
    }
    write_csv(site.changes.replace([np.inf, -np.inf], np.nan).round(4), paths["before_after"])
    write_csv(site.joins, paths["planned_road_joins"])
    sites = with_chinese_coordinates(suggested_sites_table(site), also_crs)
    write_csv(pd.DataFrame(sites.drop(columns="geometry")), paths["suggested_sites_csv"])
    write_gpkg({"suggested_sites": sites}, paths["suggested_sites"])
    if site.roads is not None and "x" in site.joins:
        paths["planned_network"] = out / "planned_network.gpkg"
        crs = site.joins["crs"].iloc[0] if len(site.joins) else site.after.crs
        ends = gpd.GeoDataFrame(
            site.joins.drop(columns=["x", "y", "crs"]).assign(node=site.joins["node"].astype(str)),
            geometry=gpd.points_from_xy(site.joins["x"], site.joins["y"]),
            crs=crs,
        )
        layers = {"planned_roads": site.roads.to_crs(site.after.crs), "road_ends": ends}
        write_gpkg(layers, paths["planned_network"])
    paths.update(write_site_figures(site, out, water=water))
    return paths


#: A site's figure shows this much of its surroundings, as a share of its larger side.
SITE_SURROUNDINGS = 0.5


def write_site_figures(
    site: SiteStudy, output_dir: Path, *, water=None, dpi: int = 150
) -> dict[str, Path]:
    """Write one ``figure_site_<id>.png`` per new site, framed on its boundary."""
    from cjgis.inputs.io import read_water
    from cjgis.outputs.figures import gap_figure, save_figure  # matplotlib: on use

    water = read_water(water)
    comm = site.after.communities
    paths = {}
    for sid in site.sites:
        x0, y0, x1, y1 = comm.loc[comm["community_id"].astype(str) == sid].total_bounds
        grow = SITE_SURROUNDINGS * max(x1 - x0, y1 - y0)
        fig = gap_figure(
            site.after,
            water=water,
            frame=(x0 - grow, y0 - grow, x1 + grow, y1 + grow),
            planned_roads=site.roads,
        )
        path = Path(output_dir) / f"figure_site_{_safe(sid)}.png"
        paths[f"figure_site_{sid}"] = save_figure(fig, path, dpi=dpi)
    return paths


def _safe(text: str) -> str:
    """Return ``text`` usable in a file name (characters a file system refuses become _)."""
    return "".join("_" if c in '/\\:*?"<>|' else c for c in text)


def with_chinese_coordinates(sites: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    """Add ``lon_<crs>``/``lat_<crs>`` in GCJ-02 or BD-09 to WGS84 sites (as they are if None)."""
    if crs is None or crs.lower() not in CHINESE_CRS or len(sites) == 0:
        return sites
    key = crs.lower().replace("-", "")
    shifted = coordinates_in(sites.geometry.to_numpy(), sites.crs, key)
    return sites.assign(
        **{f"lon_{key}": shifted[:, 0].round(6), f"lat_{key}": shifted[:, 1].round(6)}
    )


def suggested_sites_table(site: SiteStudy) -> gpd.GeoDataFrame:
    """All categories' suggested sites in one table (empty, with columns, if none)."""
    frames = [s.sites for s in site.suggestions.values() if len(s.sites)]
    if not frames:
        return gpd.GeoDataFrame({"rank": [], "category": []}, geometry=[], crs=site.after.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=site.after.crs)
