"""Read an input layer from a PostgreSQL/PostGIS database: a table, a view or a query.

In a study file, ``path = "postgresql://user@host:5432/db"`` with ``table = "社区边界"`` (or
``"schema.table"``) or ``sql = "SELECT ..."`` takes the place of a file in ``[communities]``,
``[residents]``, ``[residents_outside]``, ``[facilities]`` and the ``[planned]`` layers. The
rows then go through the same checks as a file's. The password is never in the study file
(:mod:`cjgis._database`). A table or query with one PostGIS geometry column becomes a
GeoDataFrame in that column's SRID; one without geometry is a table (lon/lat columns, or
residents joined by community).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cjgis._database import check_url, connection, first_line, quoted, shown, split_name
from cjgis._errors import InputError, input_error


@dataclass(frozen=True)
class DatabaseSource:
    """A layer in a PostgreSQL database: the URL (no password) and a table or a query.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:5432/db``.
    table : str, optional
        A table or view, ``"name"`` or ``"schema.name"``.
    sql : str, optional
        A query (``SELECT ...``); exactly one of ``table`` and ``sql``.
    """

    url: str
    table: str | None = None
    sql: str | None = None

    def __post_init__(self) -> None:
        wrong = check_url(self.url)
        if wrong is not None:
            raise InputError(f"{shown(self.url)}: {wrong}")
        if (self.table is None) == (self.sql is None):
            raise InputError(
                f"{shown(self.url)}: a database layer needs exactly one of table and sql. Fix: "
                'write table = "schema.table" or sql = "SELECT ..." beside path'
            )

    def __str__(self) -> str:
        """Name the layer as messages and the rejected list do (no password)."""
        if self.table is not None:
            return f"{shown(self.url)} table {self.table}"
        text = " ".join(str(self.sql).split())
        return f"{shown(self.url)} sql {text[:60]}{'…' if len(text) > 60 else ''}"

    @property
    def name(self) -> str:
        """The table's name, or ``query``: as a file's name is shown."""
        return self.table or "query"


def read_database(source: DatabaseSource) -> pd.DataFrame:
    """Read a table or a query's rows, with a ``_row`` column (1-based, in the order read).

    Parameters
    ----------
    source : DatabaseSource
        Where the rows are.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A GeoDataFrame when the rows have one geometry column (CRS from its SRID; none when
        the SRID is 0), else a DataFrame.
    """

    def error(problem: str, fix: str) -> InputError:
        return input_error(source, problem, fix)

    with connection(source.url, error=error) as conn:
        if source.table is not None:
            _check_table(conn, source)
            query = f"SELECT * FROM {quoted(source.table)}"
        else:
            query = str(source.sql).strip().rstrip(";")
        try:
            result = conn.exec_driver_sql(query)
        except Exception as exc:  # any error the server gives: syntax, a missing column, rights
            raise input_error(
                source, f"the query failed ({first_line(exc)})", "correct the table or the SQL"
            ) from None
        columns = list(result.keys())
        types = [d.type_code for d in result.cursor.description]
        rows = result.fetchall()
        kinds = _geometry_oids(conn)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    geometry = [c for c, t in zip(columns, types, strict=True) if t in kinds]
    if len(geometry) > 1:
        raise input_error(
            source,
            f"{len(geometry)} geometry columns ({', '.join(geometry)})",
            'select one of them (sql = "SELECT id, name, geom FROM ...")',
        )
    if geometry and kinds[types[columns.index(geometry[0])]] == "geography":
        raise input_error(
            source,
            f"column {geometry[0]} is a geography",
            f"cast it to geometry in sql: {geometry[0]}::geometry AS geom",
        )
    if geometry:
        frame = _as_layer(frame, geometry[0], source)
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame


def _check_table(conn, source: DatabaseSource) -> None:
    """Stop, listing the tables there are, when the named table or view does not exist."""
    import sqlalchemy

    parts = split_name(str(source.table))
    schema = parts[0] if len(parts) == 2 else None
    inspector = sqlalchemy.inspect(conn)
    names = [
        *inspector.get_table_names(schema=schema),
        *inspector.get_view_names(schema=schema),
        *inspector.get_materialized_view_names(schema=schema),
    ]
    if parts[-1] in names:
        return
    names = sorted(n for n in names if n not in _POSTGIS_TABLES)
    listed = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "") or "none"
    close = difflib.get_close_matches(parts[-1], names, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    place = f"schema {schema!r}" if schema else "the search path (public)"
    raise input_error(
        source,
        f"no table or view {parts[-1]!r} in {place}; its tables are {listed}",
        f"{hint}use one, as schema.table where it is in another schema",
    )


#: PostGIS's own tables and views, not offered as layers.
_POSTGIS_TABLES = {"spatial_ref_sys", "geometry_columns", "geography_columns"}


def _geometry_oids(conn) -> dict[int, str]:
    """Return the type OIDs of PostGIS geometry and geography (none without PostGIS)."""
    rows = conn.exec_driver_sql(
        "SELECT oid::int, typname FROM pg_type WHERE typname IN ('geometry', 'geography')"
    ).fetchall()
    return {int(oid): str(name) for oid, name in rows}


def _as_layer(frame: pd.DataFrame, column: str, source: DatabaseSource) -> gpd.GeoDataFrame:
    """Turn the hex EWKB of ``column`` into geometries, in the CRS of their SRID."""
    values = frame.pop(column)
    geometry = shapely.from_wkb(values.to_numpy(dtype=object))
    srids = sorted({int(s) for s in shapely.get_srid(geometry[~pd.isna(geometry)])} - {0})
    if len(srids) > 1:
        raise input_error(
            source,
            f"column {column} holds geometries in SRIDs {', '.join(map(str, srids))}",
            f"transform them to one in sql: ST_Transform({column}, 4490) AS geom",
        )
    crs = CRS.from_epsg(srids[0]) if srids else None
    return gpd.GeoDataFrame(frame, geometry=shapely.set_srid(geometry, 0), crs=crs)
