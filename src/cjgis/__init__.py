"""cjgis: walking-access gap analysis for Hangzhou's 撤村建居 resettlement communities.

Data flow, one module per step (imports only ever point up this list)::

    inputs:     study (TOML sections) -> io, demand (layers, rejected rows), coords
                streets, road_lines (street graphs) -> inputs (what a study names, read)
    network:    network (arrays, CSR), cache -> snapping (nearest edge point)
                -> access (one multi-source Dijkstra per category) -> service_areas
                partition (the same searches tile by tile, on Dask workers)
    assessment: rules, settings, standards -> coverage, capacity -> verdict -> analysis (pure)
    planning:   siting, scenario (as-is vs as-planned), whatif (add/move/remove, incremental)
                -> whatif_map (the same in a notebook widget)
    outputs:    report (CSV, GeoPackage), scorecard, figures, maps (folium) -> cli

Everything a notebook needs is importable from ``cjgis`` itself (loaded on first use, so
``import cjgis`` and ``cjgis --help`` stay fast); ``sample`` writes a fictional district.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "Analysis": "analysis",
    "analyze": "analysis",
    "analyze_areas_later": "analysis",
    "AnalysisOptions": "settings",
    "CategoryRule": "rules",
    "CapacityRule": "rules",
    "Study": "study",
    "load_study": "study",
    "Layer": "io",
    "read_communities": "io",
    "read_residents": "io",
    "read_facilities": "io",
    "Network": "network",
    "network_from_graph": "network",
    "graph_from_network": "network",
    "network_from_file": "streets",
    "network_from_download": "streets",
    "read_street_graph": "streets",
    "read_road_lines": "road_lines",
    "graph_from_lines": "road_lines",
    "add_planned_roads": "road_lines",
    "network_with_planned_roads": "road_lines",
    "analyze_study": "inputs",
    "analyze_study_areas_later": "inputs",
    "network_from_study": "inputs",
    "layers_from_study": "inputs",
    "load_profile": "standards",
    "list_profiles": "standards",
    "suggest_sites": "siting",
    "SiteStudy": "scenario",
    "run_site_study": "scenario",
    "compare": "scenario",
    "with_planned_facilities": "scenario",
    "write_site_outputs": "scenario",
    "write_outputs": "report",
    "write_all": "deliverables",
    "run_batch": "batch",
    "what_if": "whatif",
    "WhatIf": "whatif",
    "save_scenario": "whatif",
    "what_if_map": "whatif_map",
    "Partition": "partition",
    "balanced_tiles": "partition",
    "run_sweep": "sweep",
    "scorecard_table": "scorecard",
    "write_scorecard": "scorecard",
    "gap_table_text": "scorecard",
    "coverage_chart": "figures",
    "write_figures": "figures",
    "gap_map": "maps",
    "save_map": "maps",
    "map_html": "maps",
    "write_sample": "sample",
    "write_amap_export": "sample",
}

__all__ = ["__version__", *sorted(_HOMES)]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads on use
    from cjgis.analysis import Analysis, analyze, analyze_areas_later
    from cjgis.batch import run_batch
    from cjgis.deliverables import write_all
    from cjgis.figures import coverage_chart, write_figures
    from cjgis.inputs import (
        analyze_study,
        analyze_study_areas_later,
        layers_from_study,
        network_from_study,
    )
    from cjgis.io import Layer, read_communities, read_facilities, read_residents
    from cjgis.maps import gap_map, map_html, save_map
    from cjgis.network import Network, graph_from_network, network_from_graph
    from cjgis.partition import Partition, balanced_tiles
    from cjgis.report import write_outputs
    from cjgis.road_lines import (
        add_planned_roads,
        graph_from_lines,
        network_with_planned_roads,
        read_road_lines,
    )
    from cjgis.rules import CapacityRule, CategoryRule
    from cjgis.sample import write_amap_export, write_sample
    from cjgis.scenario import (
        SiteStudy,
        compare,
        run_site_study,
        with_planned_facilities,
        write_site_outputs,
    )
    from cjgis.scorecard import gap_table_text, scorecard_table, write_scorecard
    from cjgis.settings import AnalysisOptions
    from cjgis.siting import suggest_sites
    from cjgis.standards import list_profiles, load_profile
    from cjgis.streets import network_from_download, network_from_file, read_street_graph
    from cjgis.study import Study, load_study
    from cjgis.sweep import run_sweep
    from cjgis.whatif import WhatIf, save_scenario, what_if
    from cjgis.whatif_map import what_if_map


def __getattr__(name: str):
    """Load a public name from its module on first use."""
    if name in _HOMES:
        value = getattr(importlib.import_module(f"cjgis.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cjgis' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Public names for tab completion (they load on first use)."""
    return sorted({*globals(), *_HOMES})
