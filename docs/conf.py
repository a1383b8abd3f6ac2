"""Sphinx configuration of the cjgis documentation site (offline static HTML).

Sphinx, because cjgis's docstrings are numpy style (numpydoc renders them as the scientific
Python projects' sites do: geopandas, osmnx, spopt) and MyST lets the guide be plain Markdown;
the site needs no CDN, so a bureau can serve ``_build/html`` on its intranet. Reference pages
(study-file keys, standards, outputs, CLI, API) are generated from the code at build time by
``_ext/cjgis_reference.py``; the notebooks are executed into the site by MyST-NB.
Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import cjgis  # noqa: E402

project = "cjgis"
author = "cjgis contributors"
copyright = "2026, cjgis contributors"
release = version = cjgis.__version__
language = "zh_CN"

extensions = [
    "myst_nb",  # Markdown (MyST) pages and executed notebooks
    "sphinx.ext.autodoc",
    "numpydoc",
    "cjgis_reference",  # reference pages generated from the code
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "_generated/examples/data",
    "_generated/shots",
    "_generated/study_file_table.md",  # included by the manual and the reference page
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# the notebooks run in the build: the site's outputs are never stale
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True
# ipyleaflet widgets (notebook 04) need a running kernel; their static view is the text
suppress_warnings = ["mystnb.unknown_mime_type"]

autodoc_typehints = "none"  # numpydoc shows the types from the docstrings
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "furo"
html_title = f"cjgis {release} · 撤村建居社区设施可达性"
html_static_path: list[str] = []
html_last_updated_fmt = None
