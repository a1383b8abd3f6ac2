"""A new site's study: the study as-is and with its ``[planned]`` layers, compared.

:func:`run_site_study` reads the study (:mod:`cjgis.run.runner`), analyses it as it is, merges
the planned roads, site boundary, buildings and facilities, analyses it again and suggests
sites for the gaps that remain (the pure parts: :mod:`cjgis.plan.scenario`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from cjgis._errors import input_error
from cjgis.inputs.demand import combine
from cjgis.inputs.io import Layer
from cjgis.judge.analysis import Analysis, analyze
from cjgis.judge.verdict import NOT_MET
from cjgis.plan.scenario import SiteStudy, compare, with_planned_facilities, with_site
from cjgis.plan.siting import suggest_sites
from cjgis.run.runner import (
    layers_from_study,
    network_from_study,
    read_planned_communities,
    read_planned_residents,
    read_planned_roads,
    read_study_facilities,
)
from cjgis.run.study import Study
from cjgis.streets.road_lines import network_with_planned_roads

log = logging.getLogger(__name__)


def run_site_study(study: Study, *, verbose: bool = True) -> SiteStudy:
    """Analyse a study as-is and with its ``[planned]`` layers; suggest sites for the gaps.

    The network is the study's own (:func:`cjgis.run.runner.network_from_study`: cache and
    ``[network] components`` included); planned roads are merged into it. The new site's
    boundary (``[planned] communities``) is a community of its own as planned; planned
    buildings are its residents. Existing and planned facilities are kept; suggested sites
    only add to them.
    """
    network = network_from_study(study)
    communities, residents, facilities = layers_from_study(study)

    def run(network, communities, residents, facilities) -> Analysis:
        return analyze(
            network, communities, residents, facilities, options=study.options, verbose=verbose
        )

    before = run(network, communities, residents, facilities)
    planned = study.planned
    joins = pd.DataFrame(columns=["road", "road_id", "road_name", "end", "node", "distance_m"])
    roads = None
    if planned.roads is not None:
        roads = read_planned_roads(planned.roads)
        network, joins = network_with_planned_roads(
            network, roads, join_m=planned.join_m, components=study.network.components
        )
        named = roads.set_index(np.arange(1, len(roads) + 1))
        joins.insert(1, "road_id", named["road_id"].reindex(joins["road"]).to_numpy())
        joins.insert(2, "road_name", named["road_name"].reindex(joins["road"]).to_numpy())
        status = joins.drop_duplicates("road").set_index("road")["status"]
        roads = roads.assign(status=status.reindex(range(1, len(roads) + 1)).to_numpy())
    sites: tuple[str, ...] = ()
    if planned.communities is not None:
        site = read_planned_communities(planned.communities)
        communities = with_site(communities, site)
        sites = tuple(site.frame["community_id"].astype(str))
    if planned.facilities is not None:
        read = read_study_facilities(study, planned.facilities.path, section=planned.facilities)
        facilities = with_planned_facilities(facilities, read)
    if planned.residents is not None:
        new = read_planned_residents(planned.residents)
        counted = {rule.demand for rule in study.options.rules}
        _same_counts(residents, new, section=planned.residents.section, counted=counted)
        new = Layer(
            new.frame.assign(resident_id="planned-" + new.frame["resident_id"]),
            new.rejected,
            new.file,
        )
        residents = combine(residents, new)
    after = run(network, communities, residents, facilities)
    siting = study.siting.options()
    if "candidates" in siting:
        siting["candidates"] = gpd.read_file(siting["candidates"])
    gaps = after.coverage.loc[after.coverage["status"] == NOT_MET, "category"].unique()
    suggestions = {c: suggest_sites(after, c, **siting) for c in after.categories if c in gaps}
    changes = compare(before, after)
    return SiteStudy(before, after, changes, joins, suggestions, roads, sites)


#: Count columns a residents layer may have besides ``population``.
_COUNTS = ("elderly", "households", "villagers", "renters")


def _same_counts(existing: Layer, planned: Layer, *, section: str, counted: set[str]) -> None:
    """Refuse planned buildings that lack a count a rule uses and the existing residents have.

    Combined, the rows without it would count as none: a share of the elderly that leaves
    out the planned elderly (or the existing ones) without a word. Counts no rule uses
    (``counted``: the rules' demand groups) are only said in the log.
    """
    for column in _COUNTS:
        has_old, has_new = column in existing.frame, column in planned.frame
        if has_old == has_new:
            continue
        if column not in counted:
            log.info(
                "%s: %s counted in the %s only; no rule counts them",
                planned.file,
                column,
                "existing residents" if has_old else "planned buildings",
            )
            continue
        fix = (
            f'add {column} = "<column>" to {section}'
            + (" or elderly_share = 0.22 (your estimate)" if column == "elderly" else "")
            + (" or household_size = 2.8 (your estimate)" if column == "households" else "")
            if has_old
            else f"leave {column} out of {section}, or give [residents] {column} too"
        )
        raise input_error(
            planned.file,
            f"{'the existing residents' if has_old else 'the planned buildings'} count "
            f"{column} and the {'planned buildings' if has_old else 'existing residents'} do "
            "not: combined, those rows would count none",
            fix,
        )
