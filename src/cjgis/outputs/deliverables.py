"""Every output of an analysis at once: tables, layers, workbook, figures and the review map.

Figures and map draw in forked processes (:mod:`cjgis._fork`) while this one writes tables and
workbook: all of them hold the GIL, so threads would not overlap them. On two cores the
benchmark city's writing takes 6-7 s instead of 15 s one after another, the district's 3 s
instead of 5. Given the ``finish`` of :func:`cjgis.judge.analysis.analyze_areas_later`, the
tables and workbook are written while the service areas are still being drawn. The files are
the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cjgis._fork import forked
from cjgis.judge.analysis import Analysis
from cjgis.outputs.database import PostgisTarget

log = logging.getLogger(__name__)


def write_all(
    analysis: Analysis,
    output_dir: str | Path,
    *,
    finish: Callable[..., Analysis | None] | None = None,
    map_path: str | Path | None = None,
    water: str | Path | None = None,
    gdb_path: str | Path | None = None,
    postgis: PostgisTarget | None = None,
    **map_options: Any,
) -> dict[str, Path | str]:
    """Write tables, layers, scorecard, figures and (with ``map_path``) the map.

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`cjgis.judge.analysis.analyze`, or the first result of
        :func:`cjgis.judge.analysis.analyze_areas_later` (with its ``finish``).
    output_dir : str or pathlib.Path
        Folder of the tables, layers, workbook and figures.
    finish : callable, optional
        The ``finish`` of :func:`cjgis.judge.analysis.analyze_areas_later`: the tables, layers and
        workbook, which need no service area, are written while the areas are drawn; then
        the areas' layer, figures and map from the whole analysis.
    map_path : str or pathlib.Path, optional
        The review map's HTML file; no map if None.
    water : str or pathlib.Path, optional
        Rivers and other barriers drawn on figures and map (``[map] water``).
    gdb_path : str or pathlib.Path, optional
        Also every layer and table in one ArcGIS File Geodatabase there
        (``[output] formats = ["gpkg", "gdb"]``, :func:`cjgis.outputs.geodatabase.write_gdb`).
    postgis : PostgisTarget, optional
        Also every layer and table into PostGIS tables (``[output] postgis``,
        :func:`cjgis.outputs.database.write_postgis`), in one transaction, after the files.
    **map_options :
        Passed to :func:`cjgis.outputs.maps.gap_map` (``title``, ``basemap``, ``proposed``, ...).

    Returns
    -------
    dict of str to pathlib.Path or str
        Every file written, by name (``map`` last); ``postgis`` names the database and schema.
    """
    from cjgis.outputs.report import in_listed_order, write_service_areas, write_tables
    from cjgis.outputs.scorecard import write_scorecard

    output_dir = Path(output_dir)
    with contextlib.ExitStack() as stack:
        drawn = []
        if finish is None:  # figures and map draw while the tables are written
            drawn = _start_drawing(stack, analysis, map_path, output_dir, water, map_options)
        try:
            paths = write_tables(analysis, output_dir)
            paths.update(write_scorecard(analysis, output_dir))
        except BaseException:
            if finish is not None:
                finish(cancel=True)
            raise
        if finish is not None:
            analysis = finish()
            drawn = _start_drawing(stack, analysis, map_path, output_dir, water, map_options)
        paths.update(write_service_areas(analysis, output_dir))
        if gdb_path is not None:
            from cjgis.outputs.geodatabase import write_gdb

            paths["geodatabase"] = write_gdb(analysis, gdb_path)
        for wait in drawn:
            paths.update(wait())
    if postgis is not None:  # after the files: a database that refuses leaves them written
        from cjgis.outputs.database import write_postgis

        standards = analysis.options.standards
        write_postgis(
            analysis,
            postgis.url,
            run_id=postgis.run_id,
            schema=postgis.schema,
            mode=postgis.mode,
            standards=standards.describe() if standards is not None else "none",
        )
        paths["postgis"] = str(postgis)
    return in_listed_order(paths)


def _start_drawing(stack, analysis, map_path, output_dir, water, map_options) -> list:
    """Start figures and (with ``map_path``) the map in forked processes; their waits."""
    drawn = [stack.enter_context(forked(_figures, analysis, output_dir, water=water))]
    if map_path is not None:
        drawn.append(
            stack.enter_context(forked(_map, analysis, map_path, water=water, **map_options))
        )
    return drawn


def _figures(analysis: Analysis, output_dir: Path, *, water) -> dict[str, Path]:
    from cjgis.outputs.figures import write_figures  # matplotlib: imported where the figures draw

    return write_figures(analysis, output_dir, water=water)


def _map(analysis: Analysis, path, *, water, **map_options) -> dict[str, Path]:
    from cjgis.outputs.maps import gap_map, save_map  # folium: imported where the map draws

    started = time.perf_counter()
    fmap = gap_map(analysis, water=water, **map_options)
    written = save_map(fmap, path)
    log.info("map written: %.1f s", time.perf_counter() - started)
    return {"map": written}
