"""One study, end to end in memory: inputs -> attachments -> walking times -> coverage.

:func:`analyze` is a pure function of its inputs and :class:`~cjgis.judge.settings.AnalysisOptions`:
it reads no global state and writes nothing, so many districts can run in parallel.
:func:`cjgis.run.runner.analyze_study` reads the files a study file names and calls it.
"""

from __future__ import annotations

import contextlib
import html
import logging
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from tqdm.std import tqdm

from cjgis._errors import InputError
from cjgis._fork import forked
from cjgis.inputs.categories import category_info, ordered_categories
from cjgis.inputs.demand import demand_column, demand_columns
from cjgis.inputs.io import Layer
from cjgis.judge.capacity import two_step_fca
from cjgis.judge.coverage import (
    COVERAGE_COLUMNS,
    IN_PLACE,
    LIVING_OUTSIDE,
    coverage_table,
    walk_column,
    within_threshold,
)
from cjgis.judge.layers import (
    EXCLUDED_REASON,
    as_layer,
    assign_communities,
    attach,
    check_categories,
    check_near_network,
    check_offsets,
    check_overlaps,
    ids_within_communities,
    raise_if_strict,
    warn_of_large_rejections,
    without_excluded,
)
from cjgis.judge.rules import DEFAULT_PROFILE, CategoryRule
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.standards import Profile, with_profile
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
from cjgis.streets.snapping import Attachment

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
        Boundaries with how many of their categories they meet
        (:func:`cjgis.judge.verdict.community_verdicts`). Columns: ``community_id``,
        ``community_name``, ``categories_met``, ``categories_required``,
        ``categories_not_met`` (Chinese names), ``geometry``; where given: ``note`` (a repaired
        boundary), the ``[communities] totals`` columns.
    residents : geopandas.GeoDataFrame
        One row per analysed residence (a building, a compound or a point). Columns:
        ``resident_id``, ``population``, ``community_id``, ``street_offset_m`` (metres from
        the door to the street it joins), ``walk_min_<category>`` (minutes to the nearest
        facility; NaN if none is reachable), ``nearest_<category>`` (the nearest one's id),
        ``geometry``; where given: ``elderly``, ``households``, ``villagers``, ``renters``
        (counts of the groups), ``living_outside`` (counted for a community, living outside it
        for now), ``note``, ``access_<category>`` and ``access_gauss_<category>`` (2SFCA and
        Gaussian 2SFCA capacity per person of the rule's capacity group, in the rule's unit;
        :func:`cjgis.accessibility` gives them per 1,000 with the unit in the name). People
        counts are floats: estimates and shares of totals are fractional.
    facilities : geopandas.GeoDataFrame
        Analysed facilities. Columns: ``facility_id``, ``name``, ``category``,
        ``street_offset_m``, ``geometry``; where given: ``classified_by`` (``column``,
        ``name`` or ``type``: what gave the category), ``address``, ``capacity`` (in the
        rule's unit), ``note``.
    coverage : pandas.DataFrame
        One row per community x category, for the residents living in the community, with the
        one verdict (:func:`cjgis.judge.verdict.assess`) every output shows.
        ``coverage.csv`` holds these rows and those of ``outside_coverage`` (told apart by
        ``resident_group``). Columns: ``community_id``, ``community_name``,
        ``resident_group``, ``category``, ``category_zh``, ``residents``,
        ``covered_residents``, ``uncovered_residents`` (people), ``demand`` (the rule's group),
        ``demand_basis`` (how it was counted), ``covered_share`` (of the group, within the
        threshold), ``share_300m``, ``share_500m``, ``share_1000m`` (within the GB 50180 tier
        distances), ``median_walk_min``, ``max_walk_min``, ``unreachable_residents``,
        ``facilities_inside``, ``facilities_in_study``, ``nearest_facility``,
        ``threshold_min``, ``threshold_m``, ``walk_speed_m_s``, ``target_share``, ``basis``,
        ``basis_zh``, ``rule_source`` (the rule), ``coverage_met`` (bool), ``capacity_met``
        (nullable boolean: <NA> where capacity is not checked), ``status``, ``status_zh``,
        ``status_en``, ``reason``; where given: ``elderly``, ``covered_elderly``,
        ``households``, ``covered_households`` (the residents data count the group), and
        where a rule has a capacity: ``capacity_unit``, ``capacity_unit_zh``,
        ``capacity_basis``, ``capacity_inside``, ``capacity_accessible`` (2SFCA),
        ``capacity_required``, ``capacity_shortfall`` (whole units), ``provision_rate``,
        ``provision_target``, ``provision_per`` (the 千人指标), ``access_gini``,
        ``capacity_note`` (the group's counts are missing: capacity not checked). Order:
        :data:`cjgis.judge.coverage.COVERAGE_COLUMNS`.
    outside_coverage : pandas.DataFrame
        The same columns for residents counted for a community but living outside it for now
        (安置在外/集中过渡地, ``[residents_outside]``): their own rows, where they live now.
    service_areas : geopandas.GeoDataFrame
        Reach on the streets as polygons: per category the dissolved area of each band, and
        per facility its own. Columns: ``category``, ``metres``, ``minutes``, ``facility_id``
        and ``name`` (empty for a category's dissolved area), ``geometry``.
    blind_spots : geopandas.GeoDataFrame
        One row per residence outside the threshold of at least one category (盲区). Columns:
        ``resident_id``, ``community_id``, ``population``, ``n_categories``, ``categories``,
        ``categories_zh`` (those it is left out of), ``blind_<category>`` (bool),
        ``walk_min_<category>``, ``geometry``; where given: ``elderly``, ``households``,
        ``living_outside``.
    rejected : pandas.DataFrame
        Input rows left out. Columns: ``layer``, ``file``, ``row``, ``id``, ``name``,
        ``reason``, ``fix``, ``population`` (residents left out; NaN for other layers).
    district : pandas.DataFrame
        District-level rules (residential homes: capacity over the study area, no walking
        catchment), one row each (:func:`cjgis.judge.verdict.district_verdicts`). Columns:
        ``category``, ``category_zh``, ``facilities``, ``capacity_unit_zh``,
        ``capacity_total``, ``demand_basis``, ``group_total``, ``provision_target``,
        ``provision_per``, ``basis_zh``, ``rule_source``, ``capacity_required``,
        ``provision_rate``, ``status``, ``status_zh``, ``status_en``, ``reason``.
    resident_attachment : Attachment
        Where each analysed residence (row for row) joins the network; siting and what-if
        searches reuse it instead of attaching the residences again.
    demand_basis : dict of str to str
        How each demand group was counted (:func:`cjgis.inputs.demand.demand_columns`).
    not_assessed : pandas.DataFrame
        Categories the study leaves out on purpose (``[standards] exclude``), one row each:
        未评价 in every output. Columns: ``category``, ``category_zh``,
        ``facilities_left_out``, ``status``, ``status_zh``, ``status_en``, ``reason``.
    map_options : dict
        The study's ``[map]`` settings (``water``, ``basemap``, ...) when the analysis was made
        from a study file: :func:`cjgis.gap_map` and :func:`cjgis.write_figures` draw them
        where not told otherwise, as ``cjgis analyze`` does. Empty for layers in memory.
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
    map_options: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Return a few lines for a notebook cell: counts, CRS, standards, categories, tables."""
        tables = ("coverage", "residents", "facilities", "communities", "blind_spots", "rejected")
        return "\n".join(
            [
                f"Analysis: {self.summary()}",
                f"  CRS {self.crs.to_string()} · {self.standards_line()}",
                f"  categories: {', '.join(self.categories)}",
                "  tables: " + ", ".join(f"{t} ({len(getattr(self, t)):,} rows)" for t in tables),
            ]
        )

    def _repr_html_(self) -> str:
        """Return the lines of :meth:`__repr__`, then each community's status per category."""
        order = list(dict.fromkeys(self.coverage["category_zh"]))
        table = self.coverage.pivot_table(
            index="community_name", columns="category_zh", values="status_zh", aggfunc="first"
        ).reindex(columns=order)
        return f"<pre>{html.escape(repr(self))}</pre>" + table.to_html(na_rep="")

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
            f"categories; {len(self.categories) + len(self.district)} categories assessed "
            f"against {self.standards_name()}, {counts}; "
            f"{len(self.rejected)} input rows rejected{self._rejected_people()}"
        )

    def standards_name(self) -> str:
        """Name the standards in a few words: the profiles, 无标准 none, or rules given."""
        choice = self.options.standards
        if choice is not None and choice.profiles:
            return f"{choice.names()} (默认 default)" if choice.default else choice.names()
        if choice is None and self.options.rules:
            return "the rules given (AnalysisOptions.rules)"
        return "no standard (无标准)"

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


def analyze(
    network: Network,
    communities: Layer | gpd.GeoDataFrame,
    residents: Layer | gpd.GeoDataFrame,
    facilities: Layer | gpd.GeoDataFrame,
    *,
    options: AnalysisOptions | None = None,
    profile: str | Path | Profile | None = None,
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
    profile : str, pathlib.Path or Profile, optional
        The standards each category is judged against: a shipped profile's name
        (:func:`cjgis.list_profiles`), a profile file, a :class:`~cjgis.judge.standards.Profile`,
        or ``"none"`` (every category 无标准, judged by nothing). Not given: the options' rules
        where they have some (a study's), else :data:`~cjgis.judge.rules.DEFAULT_PROFILE`
        (``chcj_2017``), as ``cjgis analyze`` does for a study file naming no profile.
        :meth:`Analysis.summary` says which.
    verbose : bool, optional
        Show a progress bar over categories and print a line per step.
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
        profile=profile,
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
    profile: str | Path | Profile | None = None,
    verbose: bool = True,
    partition: Partition | None = None,
) -> tuple[Analysis, Callable[..., Analysis | None]]:
    """:func:`analyze`, returning as soon as everything but the service areas is known.

    The areas go on being drawn in a forked process. What needs none of them (the tables, the
    residents' and blind spots' layers, the workbook) can be written meanwhile: ``cjgis
    analyze`` does (:func:`cjgis.outputs.deliverables.write_all`).

    Parameters
    ----------
    network, communities, residents, facilities, options, profile, verbose, partition :
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
    options = judged_by(options or AnalysisOptions(), profile)
    comm_l, res_l, fac_l = (
        as_layer(d, n)
        for d, n in (
            (communities, "communities"),
            (residents, "residents"),
            (facilities, "facilities"),
        )
    )
    if len(fac_l.frame) == 0:
        raise InputError(f"{fac_l.file}: no usable facility. Fix: see rejected rows or add some")
    if verbose:
        say_steps()
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


def judged_by(options: AnalysisOptions, profile: str | Path | Profile | None) -> AnalysisOptions:
    """Return ``options`` with the rules of ``profile``, or the default profile's if none.

    Options that carry rules (a study's, or built with ``rules=``) are used as they are; naming a
    profile as well is an error, since it is unclear which should win.
    """
    has_rules = bool(options.rules) or options.standards is not None
    if profile is None:
        if has_rules:
            return options
        judged = with_profile(options, DEFAULT_PROFILE)
        return replace(judged, standards=replace(judged.standards, default=True))
    if has_rules:
        raise InputError(
            f"analyze: profile={profile!r} given with options that carry rules already "
            "(rules= or a study's). Fix: pass one of them, e.g. "
            "options=replace(options, rules=(), standards=None)"
        )
    return with_profile(options, profile)


def say_steps() -> None:
    """Make a verbose run's step lines seen where no logging is set up (a notebook, a script).

    Without any handler (Python's default outside the ``cjgis`` command) the INFO step lines
    would be lost; a handler printing them to stdout is then added to the ``cjgis`` logger,
    once. Where the caller configured logging, nothing changes.
    """
    package = logging.getLogger("cjgis")
    if package.hasHandlers():
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package.addHandler(handler)
    package.setLevel(logging.INFO)


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
            check_near_network(frame, network, file=layer.file, declared=layer.frame.crs)
        check_overlaps(comm, file=comm_l.file, strict=options.strict)
        res, comm, rej = assign_communities(
            res, comm, file=res_l.file, communities_file=comm_l.file
        )
        rejected.append(rej)
        res, rej = ids_within_communities(res, file=res_l.file)
        rejected.append(rej)
        fac, rej = without_excluded(fac, options, file=fac_l.file)
        rejected.append(rej)
        check_offsets(network, fac_l, res_l, options)
        index.result()
    # facilities first: their searches start the drawing of the areas, which goes on while
    # the residences are attached (areas need only the facilities' searches)
    fac, fac_att, fac_rej = attach(
        network,
        fac,
        layer="facilities",
        file=fac_l.file,
        id_column="facility_id",
        max_snap_m=options.max_snap_m,
    )
    check_categories(fac["category"], options, file=fac_l.file)
    categories, district_rules = assessed_categories(options, fac["category"])
    searched = {}
    if partition is None:
        searched = {c: category_search(network, fac, fac_att, c) for c in categories}
        wait = drawing.enter_context(forked(draw_areas, network, [(fac, searched)], options))
    res, res_att, res_rej = attach(
        network,
        res,
        layer="residents",
        file=res_l.file,
        id_column="resident_id",
        max_snap_m=options.max_snap_m,
    )
    rejected = pd.concat([*rejected, *res_rej, *fac_rej], ignore_index=True)
    raise_if_strict(rejected, options)
    warn_of_large_rejections(rejected, (comm_l, res_l, fac_l), res)
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

    in_place = table(res.loc[~outside], IN_PLACE)
    away = table(res.loc[outside], LIVING_OUTSIDE)
    away = away[away["residents"] > 0].reset_index(drop=True).assign(facilities_inside=np.nan)
    return in_place, away.reindex(columns=in_place.columns)  # the same columns, rows or none


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


def _say_what_is_missing(analysis: Analysis) -> None:
    """Warn of categories assessed without any facility, and name those left out."""
    for line in analysis.missing_lines():
        log.warning(line)


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
