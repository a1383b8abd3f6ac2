"""Every layer and table of an analysis into PostgreSQL/PostGIS tables (``[output] postgis``).

The tables go into one schema (``cjgis`` unless named; made if missing) under the names of
the geodatabase's layers (:func:`cjgis.outputs.geodatabase.output_layers`): ``communities``,
``residents``, ``facilities``, ``blind_spots``, ``service_areas``, ``facility_areas``,
``coverage``, ``scorecard`` and ``rejected``, and ``runs``, one row a run (when, which cjgis,
which standards). Every row carries its ``run_id``, first column.

``mode = "replace"`` (the default) leaves the tables holding this run only; ``"append"`` keeps
the rows of other runs and replaces those of this run id (run the same study twice: the same
rows). Everything is written in one transaction: a run that fails midway leaves every table as
it was. Geometries are written in WGS84 (SRID 4326), as the GeoPackages hold them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd

from cjgis._database import connection, first_line, quoted, shown
from cjgis._errors import OutputError
from cjgis.judge.analysis import Analysis
from cjgis.outputs.geodatabase import output_layers
from cjgis.outputs.report import ready_for_gis

log = logging.getLogger(__name__)

#: How a run meets the tables of earlier runs.
POSTGIS_MODES = ("replace", "append")
#: The table of runs written, one row each.
RUNS_TABLE = "runs"


@dataclass(frozen=True)
class PostgisTarget:
    """Where ``[output] postgis`` writes: the database URL (no password), schema, run and mode."""

    url: str
    schema: str = "cjgis"
    run_id: str = "cjgis"
    mode: str = "replace"

    def __str__(self) -> str:
        """Name the target as the terminal's list of outputs does (no password)."""
        return f"{shown(self.url)} schema {self.schema} (run_id {self.run_id!r}, {self.mode})"


def write_postgis(
    analysis: Analysis,
    url: str,
    *,
    run_id: str,
    schema: str = "cjgis",
    mode: str = "replace",
    standards: str = "",
) -> dict[str, int]:
    """Write the analysis's layers and tables into a PostGIS schema, in one transaction.

    Parameters
    ----------
    analysis : Analysis
        A finished analysis (with its service areas).
    url : str
        ``postgresql://user@host:5432/db``; the password from ``PGPASSWORD`` or ``~/.pgpass``.
    run_id : str
        The run's name in every row (``[output] run_id``; the study's name by default).
    schema : str
        The schema the tables go into; made if missing.
    mode : {"replace", "append"}
        ``"replace"``: the tables hold this run only. ``"append"``: other runs' rows stay and
        this run id's rows are replaced.
    standards : str
        The standards the run judged against, as the ``runs`` table records them.

    Returns
    -------
    dict of str to int
        Rows written, by table.
    """
    if mode not in POSTGIS_MODES:
        raise ValueError(f"mode = {mode!r}: use one of {', '.join(POSTGIS_MODES)}")
    from cjgis import __version__

    tables = dict(output_layers(analysis))
    tables[RUNS_TABLE] = pd.DataFrame(
        {
            "written_at": [datetime.now(UTC)],
            "cjgis_version": [__version__],
            "standards": [standards],
            "summary": [analysis.summary()],
        }
    )

    def error(problem: str, fix: str) -> OutputError:
        return OutputError(f"{shown(url)} schema {schema}: {problem}. Fix: {fix}")

    written: dict[str, int] = {}
    with connection(url, error=error) as conn:
        _run(conn, f"CREATE SCHEMA IF NOT EXISTS {quoted(schema)}", error)
        for name, frame in tables.items():
            rows = _with_run_id(frame, run_id)
            _clear(conn, schema, name, run_id, mode=mode, error=error)
            try:
                if isinstance(rows, gpd.GeoDataFrame):
                    rows.to_postgis(name, conn, schema=schema, if_exists="append", index=False)
                else:
                    rows.to_sql(name, conn, schema=schema, if_exists="append", index=False)
            except Exception as exc:  # the server's refusal: a column or type of another run
                raise error(
                    f"table {name} cannot take this run's rows ({first_line(exc)}); "
                    "nothing was written",
                    'write to a new schema, or with postgis_mode = "replace"',
                ) from None
            written[name] = len(rows)
    log.info(
        "PostGIS %s schema %s: %d tables, %d rows (run_id %r, %s)",
        shown(url),
        schema,
        len(written),
        sum(written.values()),
        run_id,
        mode,
    )
    return written


def _with_run_id(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Return the table ready for the database: ``run_id`` first, geometries in WGS84."""
    if isinstance(frame, gpd.GeoDataFrame):
        out = ready_for_gis(frame)
        out = out.to_crs(4326) if out.crs is not None else out
    else:
        out = frame.copy()
    out.insert(0, "run_id", run_id)
    return out


def _clear(conn, schema: str, name: str, run_id: str, *, mode: str, error) -> None:
    """Drop the table (replace) or delete this run's rows from it (append)."""
    import sqlalchemy

    if not sqlalchemy.inspect(conn).has_table(name, schema=schema):
        return
    table = f"{quoted(schema)}.{quoted(name)}"
    if mode == "replace":
        _run(conn, f"DROP TABLE {table}", error)
    else:
        _run(conn, f"DELETE FROM {table} WHERE run_id = %(run_id)s", error, run_id=run_id)


def _run(conn, sql: str, error, **params: object) -> None:
    """Run one statement; the server's refusal becomes an :class:`OutputError`."""
    try:
        conn.exec_driver_sql(sql, params or None)
    except Exception as exc:
        raise error(
            f"{sql.split(' WHERE ')[0]} failed ({first_line(exc)}); nothing was written",
            "check the user's rights on the schema (CREATE, and DELETE/DROP on its tables) and "
            'views that depend on its tables (postgis_mode = "append" keeps the tables)',
        ) from None
