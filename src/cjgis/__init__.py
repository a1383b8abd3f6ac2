"""cjgis: walking-access gap analysis for Hangzhou's 撤村建居 resettlement communities.

Data flow, one module per step::

    study (TOML) -> io (files -> standard layers, rejected rows) -> coords (metric CRS)
    -> network (arrays, CSR) -> snapping (nearest edge point) -> access (one multi-source
    Dijkstra per category) -> service_areas -> coverage -> analysis (pure orchestration)
    -> report (CSV, GeoPackage) / maps (folium)

``sample`` generates a fictional district; ``cli`` is the ``cjgis`` command.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "AnalysisOptions",
    "__version__",
    "analyze",
    "analyze_study",
    "gap_map",
    "load_study",
    "network_from_download",
    "network_from_file",
    "network_from_graph",
    "write_outputs",
    "write_sample",
]


def __getattr__(name: str):  # lazy imports keep ``import cjgis`` and ``cjgis --help`` fast
    import importlib

    homes = {
        "AnalysisOptions": "settings",
        "analyze": "analysis",
        "analyze_study": "analysis",
        "gap_map": "maps",
        "load_study": "study",
        "network_from_graph": "network",
        "network_from_download": "streets",
        "network_from_file": "streets",
        "write_outputs": "report",
        "write_sample": "sample",
    }
    if name in homes:
        return getattr(importlib.import_module(f"cjgis.{homes[name]}"), name)
    raise AttributeError(f"module 'cjgis' has no attribute {name!r}")
