"""Every output of an analysis at once: tables, layers, workbook, figures and the review map.

Figures and map draw in forked processes (:mod:`cjgis._fork`) while this one writes tables and
workbook: all of them hold the GIL, so threads would not overlap them. On two cores the
benchmark city's writing takes 6-7 s instead of 15 s one after another, the district's 3 s
instead of 5. The files are the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from cjgis._fork import forked
from cjgis.analysis import Analysis

log = logging.getLogger(__name__)


def write_all(
    analysis: Analysis,
    output_dir: str | Path,
    *,
    map_path: str | Path | None = None,
    water: str | Path | None = None,
    **map_options: Any,
) -> dict[str, Path]:
    """Write tables, layers, scorecard, figures and (with ``map_path``) the map.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.analysis.analyze`.
    output_dir : str or pathlib.Path
        Folder of the tables, layers, workbook and figures.
    map_path : str or pathlib.Path, optional
        The review map's HTML file; no map if None.
    water : str or pathlib.Path, optional
        Rivers and other barriers drawn on figures and map (``[map] water``).
    **map_options :
        Passed to :func:`cjgis.maps.gap_map` (``title``, ``basemap``, ``proposed``, ...).

    Returns
    -------
    dict of str to pathlib.Path
        Every file written, by name (``map`` last).
    """
    from cjgis.report import write_outputs
    from cjgis.scorecard import write_scorecard

    output_dir = Path(output_dir)
    with contextlib.ExitStack() as stack:
        figures = stack.enter_context(forked(_figures, analysis, output_dir, water=water))
        drawn = (
            stack.enter_context(forked(_map, analysis, map_path, water=water, **map_options))
            if map_path is not None
            else dict
        )
        paths = write_outputs(analysis, output_dir)
        paths.update(write_scorecard(analysis, output_dir))
        paths.update(figures())
        paths.update(drawn())
    return paths


def _figures(analysis: Analysis, output_dir: Path, *, water) -> dict[str, Path]:
    from cjgis.figures import write_figures  # matplotlib: imported where the figures draw

    return write_figures(analysis, output_dir, water=water)


def _map(analysis: Analysis, path, *, water, **map_options) -> dict[str, Path]:
    from cjgis.maps import gap_map, save_map  # folium: imported where the map draws

    started = time.perf_counter()
    fmap = gap_map(analysis, water=water, **map_options)
    written = save_map(fmap, path)
    log.info("map written: %.1f s", time.perf_counter() - started)
    return {"map": written}
