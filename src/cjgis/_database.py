"""Connections to a PostgreSQL/PostGIS database, shared by the database reader and writer.

A study file names a database by URL (``postgresql://user@host:5432/db``), never with its
password: libpq takes the password from ``PGPASSWORD`` or the password file (``~/.pgpass``,
or ``PGPASSFILE``), as ``psql`` and QGIS do. A URL that carries a password is refused, and no
message prints one. A refused connection names the host and the database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

#: URL schemes of a PostgreSQL database (``postgresql+psycopg`` as SQLAlchemy writes it).
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
#: Seconds to wait for the server before the connection is called refused.
CONNECT_TIMEOUT_S = 10
_PASSWORD_FIX = (
    "remove the password from the URL (write postgresql://user@host/db) and set it in the "
    "environment (PGPASSWORD) or in ~/.pgpass (one line host:port:db:user:password)"
)


def is_database_url(value: object) -> bool:
    """Return whether ``value`` is a PostgreSQL URL (``postgresql://...``) rather than a path."""
    return isinstance(value, str) and value.split("://", 1)[0].lower() in SCHEMES


def check_url(url: str) -> str | None:
    """Return what is wrong with a database URL as a study file holds it, or None.

    A password in the URL (``user:secret@`` or ``?password=``) is wrong: a study file is
    shared and kept. So is a URL without a database name.
    """
    parts = urlsplit(url)
    if parts.password is not None or "password" in parse_qs(parts.query):
        return f"the URL carries a password. Fix: {_PASSWORD_FIX}"
    if not parts.path.strip("/"):
        return "the URL names no database. Fix: write postgresql://user@host:5432/<database>"
    return None


def shown(url: str) -> str:
    """Return the URL as messages show it: without any password, whatever it held."""
    parts = urlsplit(url)
    if parts.password is None:
        return url.split("?", 1)[0]
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def where(url: str) -> str:
    """Return ``database 'db' on host:port as user``, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "the local socket"
    port = f":{parts.port}" if parts.port else ""
    user = f" as {parts.username}" if parts.username else ""
    return f"database {parts.path.strip('/')!r} on {host}{port}{user}"


@contextlib.contextmanager
def connection(url: str, *, error: Callable[[str, str], Exception]) -> Iterator:
    """Yield a SQLAlchemy connection (psycopg) in a transaction, committed when the block ends.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/db``, checked by :func:`check_url`.
    error : callable
        ``error(problem, fix)`` builds the exception raised when the URL is wrong or the
        server refuses (an :class:`~cjgis.InputError` for inputs, an
        :class:`~cjgis.OutputError` for outputs).
    """
    wrong = check_url(url)
    if wrong is not None:
        problem, fix = wrong.split(". Fix: ", 1)
        raise error(problem, fix)
    try:
        import geoalchemy2  # noqa: F401 - geopandas writes geometry columns through it
        import psycopg  # noqa: F401
        import sqlalchemy
    except ImportError as exc:
        raise error(
            f"the database support is not installed ({exc})",
            'pip install "cjgis[postgis]" (psycopg, SQLAlchemy, GeoAlchemy2)',
        ) from None
    address = sqlalchemy.engine.make_url(url).set(drivername="postgresql+psycopg")
    engine = sqlalchemy.create_engine(
        address,
        poolclass=sqlalchemy.pool.NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "cjgis"},
    )
    try:
        try:
            conn = engine.connect()
        except sqlalchemy.exc.OperationalError as exc:
            raise error(
                f"cannot connect to {where(url)} ({first_line(exc)})",
                "check that the server runs and takes connections there, and the user; "
                "the password comes from PGPASSWORD or ~/.pgpass",
            ) from None
        with conn, conn.begin():
            yield conn
    finally:
        engine.dispose()


def first_line(exc: BaseException) -> str:
    """Return the database's own message, first line, with no password in it."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    secret = os.environ.get("PGPASSWORD")
    return text.replace(secret, "***") if secret else text


def quoted(name: str) -> str:
    """Return ``name`` (``table`` or ``schema.table``) as a quoted SQL identifier."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in split_name(name))


def split_name(name: str) -> tuple[str, ...]:
    """Return ``schema.table`` as its parts (a table name alone as one part)."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot and table else (name,)
