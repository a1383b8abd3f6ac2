"""cjgis: walking-access gap analysis for Hangzhou's 撤村建居 resettlement communities.

The package is six wings along the data flow, bottom up; each imports only those below it::

    inputs/   files a planner brings: io (layers, rejected rows), categories, coords, demand
    streets/  the walking network: sources, graphml, road_lines, network, cache, snapping
    reach/    walking distances: access (one Dijkstra per category), service_areas, partition
    judge/    rules, settings, standards, capacity, coverage, verdict -> analysis (pure core),
              access_scores
    outputs/  report, scorecard, figures, maps, deliverables
    plan/     siting, scenario, whatif, whatif_map
    run/      study (the TOML file), runner (what it names, read and run), site, batch, sweep
    cli       the command, on top

Everything a notebook needs is importable from ``cjgis`` itself (loaded on first use, so
``import cjgis`` and ``cjgis --help`` stay fast), the errors to catch among it
(:class:`InputError` for a file, a column or a value that cannot be used, a subclass of
:class:`CjgisError`); ``write_sample`` writes a fictional district.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "Analysis": "judge.analysis",
    "analyze": "judge.analysis",
    "analyze_areas_later": "judge.analysis",
    "AnalysisOptions": "judge.settings",
    "accessibility": "judge.access_scores",
    "CategoryRule": "judge.rules",
    "CapacityRule": "judge.rules",
    "Study": "run.study",
    "load_study": "run.study",
    "Layer": "inputs.io",
    "read_communities": "inputs.io",
    "read_residents": "inputs.io",
    "read_facilities": "inputs.io",
    "communities_from_frame": "inputs.io",
    "residents_from_frame": "inputs.io",
    "facilities_from_frame": "inputs.io",
    "DatabaseSource": "inputs.database",
    "write_gdb": "outputs.geodatabase",
    "write_postgis": "outputs.database",
    "CjgisError": "_errors",
    "InputError": "_errors",
    "StudyFileError": "_errors",
    "OutputError": "_errors",
    "CoordinateWarning": "inputs._validate",
    "Profile": "judge.standards",
    "Network": "streets.network",
    "network_from_graph": "streets.network",
    "graph_from_network": "streets.network",
    "network_from_file": "streets.sources",
    "network_from_download": "streets.sources",
    "read_street_graph": "streets.sources",
    "read_road_lines": "streets.road_lines",
    "graph_from_lines": "streets.road_lines",
    "add_planned_roads": "streets.road_lines",
    "network_with_planned_roads": "streets.road_lines",
    "analyze_study": "run.runner",
    "analyze_study_areas_later": "run.runner",
    "network_from_study": "run.runner",
    "layers_from_study": "run.runner",
    "load_profile": "judge.standards",
    "list_profiles": "judge.standards",
    "suggest_sites": "plan.siting",
    "SiteStudy": "plan.scenario",
    "run_site_study": "run.site",
    "compare": "plan.scenario",
    "with_planned_facilities": "plan.scenario",
    "write_site_outputs": "plan.scenario",
    "write_outputs": "outputs.report",
    "write_all": "outputs.deliverables",
    "run_batch": "run.batch",
    "what_if": "plan.whatif",
    "WhatIf": "plan.whatif",
    "save_scenario": "plan.whatif",
    "what_if_map": "plan.whatif_map",
    "Partition": "reach.partition",
    "balanced_tiles": "reach.partition",
    "run_sweep": "run.sweep",
    "scorecard_table": "outputs.scorecard",
    "write_scorecard": "outputs.scorecard",
    "gap_table_text": "outputs.scorecard",
    "coverage_chart": "outputs.figures",
    "write_figures": "outputs.figures",
    "gap_map": "outputs.maps",
    "save_map": "outputs.maps",
    "map_html": "outputs.maps",
    "write_sample": "inputs.sample",
    "write_amap_export": "inputs.sample",
}

__all__ = ["__version__", *sorted(_HOMES)]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads on use
    from cjgis._errors import CjgisError, InputError, OutputError, StudyFileError
    from cjgis.inputs._validate import CoordinateWarning
    from cjgis.inputs.io import (
        Layer,
        communities_from_frame,
        facilities_from_frame,
        read_communities,
        read_facilities,
        read_residents,
        residents_from_frame,
    )
    from cjgis.inputs.sample import write_amap_export, write_sample
    from cjgis.judge.access_scores import accessibility
    from cjgis.judge.analysis import Analysis, analyze, analyze_areas_later
    from cjgis.judge.rules import CapacityRule, CategoryRule
    from cjgis.judge.settings import AnalysisOptions
    from cjgis.judge.standards import Profile, list_profiles, load_profile
    from cjgis.outputs.deliverables import write_all
    from cjgis.outputs.figures import coverage_chart, write_figures
    from cjgis.outputs.maps import gap_map, map_html, save_map
    from cjgis.outputs.report import write_outputs
    from cjgis.outputs.scorecard import gap_table_text, scorecard_table, write_scorecard
    from cjgis.plan.scenario import (
        SiteStudy,
        compare,
        with_planned_facilities,
        write_site_outputs,
    )
    from cjgis.plan.siting import suggest_sites
    from cjgis.plan.whatif import WhatIf, save_scenario, what_if
    from cjgis.plan.whatif_map import what_if_map
    from cjgis.reach.partition import Partition, balanced_tiles
    from cjgis.run.batch import run_batch
    from cjgis.run.runner import (
        analyze_study,
        analyze_study_areas_later,
        layers_from_study,
        network_from_study,
    )
    from cjgis.run.site import run_site_study
    from cjgis.run.study import Study, load_study
    from cjgis.run.sweep import run_sweep
    from cjgis.streets.network import Network, graph_from_network, network_from_graph
    from cjgis.streets.road_lines import (
        add_planned_roads,
        graph_from_lines,
        network_with_planned_roads,
        read_road_lines,
    )
    from cjgis.streets.sources import network_from_download, network_from_file, read_street_graph


def __getattr__(name: str):
    """Load a public name from its module on first use."""
    if name in _HOMES:
        value = getattr(importlib.import_module(f"cjgis.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cjgis' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Public names for tab completion (they load on first use), and nothing else."""
    return sorted(__all__)
