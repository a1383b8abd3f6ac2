"""``cjgis serve``: the what-if as a local web app for the review meeting (``cjgis[serve]``).

An ASGI application (FastAPI on Starlette, served by uvicorn) over one finished analysis: the
page (``static/``, with the vendored Leaflet, no internet needed) and a small JSON API,
documented at ``/openapi.json``:

- ``GET /background``: the walking network and ``[map] water``, drawn once under the edits;
- ``POST /sessions``: a new session (each browser tab opens its own) and its state;
- ``GET /state?session=``: what the page shows (community colours, facilities, the verdict
  table, changed lines); ``GET /area?session=``: the category's service area, drawn apart so
  the table does not wait for it;
- ``POST /edits``: one edit (add, move, remove, or the category shown); ``POST /undo``,
  ``POST /redo``;
- ``POST /save``: the session's added and moved facilities as the CSV a study reads as
  ``[planned] facilities``; ``GET /export``: the scenario's review map and workbook, written by
  the writers of ``cjgis analyze``; ``GET /files/...``: those files, from the output folder only.

Every number comes from :func:`cjgis.plan.whatif.what_if`; the page computes nothing. Safe by
default: bound to 127.0.0.1; on another address every request needs the token printed at
start (query ``token=``, header ``X-Cjgis-Token``, or the cookie the page gets); a request body
over :data:`MAX_BODY_BYTES` is refused; a malformed request gets a 4xx JSON error naming the
field, any other failure a 500 JSON error without a traceback.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, model_validator

from cjgis._errors import CjgisError
from cjgis.judge.analysis import Analysis
from cjgis.plan.whatif_map import Session, save
from cjgis.serve.sessions import Store, background, state

log = logging.getLogger(__name__)

#: Largest request body accepted (an edit is a few hundred bytes).
MAX_BODY_BYTES = 64 * 1024
#: Names of saved scenarios and exports: letters (Chinese too), digits, ``-`` and ``_``.
NAME = re.compile(r"^[\w\-]{1,80}$")
TOKEN_COOKIE = "cjgis_token"


class Edit(BaseModel):
    """One edit of the map: add a facility, move or remove one, or show another category."""

    type: Literal["add", "move", "remove", "category"]
    lon: float | None = Field(None, ge=-180, le=180, description="WGS84 longitude")
    lat: float | None = Field(None, ge=-90, le=90, description="WGS84 latitude")
    facility_id: str | None = Field(None, min_length=1, max_length=120)
    name: str | None = Field(None, max_length=120, description="name of an added facility")
    capacity: float | None = Field(None, ge=0, description="capacity in the rule's unit")
    category: str | None = Field(None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _needs(self) -> Edit:
        needed = {
            "add": ("lon", "lat"),
            "move": ("facility_id", "lon", "lat"),
            "remove": ("facility_id",),
            "category": ("category",),
        }[self.type]
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.type} needs {', '.join(missing)}")
        return self


class EditRequest(BaseModel):
    """An edit of one session."""

    session: str = Field(min_length=1, max_length=64)
    edit: Edit


class SessionRequest(BaseModel):
    """A request about one session (undo, redo, save)."""

    session: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, max_length=80, description="file name, without suffix")


class NewSession(BaseModel):
    """A new session, optionally on a category (key or Chinese name)."""

    category: str | None = Field(None, max_length=80)


def make_app(
    analysis: Analysis,
    *,
    output_dir: str | Path,
    token: str | None = None,
    title: str = "cjgis",
    tiles: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """Return the ASGI application serving ``analysis``'s what-if.

    Parameters
    ----------
    analysis : Analysis
        The finished analysis every session starts from.
    output_dir : str or pathlib.Path
        Where saved scenarios and exports go (``<output_dir>/scenarios``); the only folder
        files are served from.
    token : str, optional
        Required on every request when given (``cjgis serve`` gives one on any address but
        127.0.0.1).
    title : str
        The page's title (the study's name).
    tiles : str, optional
        A tile URL template (``https://.../{z}/{x}/{y}.png``) under the map; none by default,
        so the page needs no network.
    max_body_bytes : int
        Largest request body accepted.

    Returns
    -------
    fastapi.FastAPI
        The application; serve it with uvicorn (``cjgis serve`` does).
    """
    app = FastAPI(
        title="cjgis serve",
        description="The what-if of one study, for a review meeting (cjgis serve).",
        docs_url=None,  # the interactive docs load scripts from a CDN: not offline
        redoc_url=None,
    )
    app.state.store = Store(analysis)
    app.state.root = (Path(output_dir) / "scenarios").resolve()
    app.state.title, app.state.tiles, app.state.token = title, tiles or "", token
    app.state.background = None
    app.add_middleware(_BodyLimit, limit=max_body_bytes)
    if token is not None:
        app.add_middleware(_TokenCheck, token=token)
    app.mount("/static", StaticFiles(directory=str(_HERE / "serve" / "static")), name="static")
    app.mount("/leaflet", StaticFiles(directory=str(_HERE / "_static" / "leaflet")), name="leaflet")
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _failed)
    app.include_router(router)
    return app


_HERE = resources.files("cjgis")
router = APIRouter()


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer a malformed request with 422 and the field at fault (no traceback)."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return _error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}", where or None)


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    """Answer any other failure with 500 and a line; the traceback goes to the log only."""
    log.exception("cjgis serve: %s %s failed", request.method, request.url.path)
    return _error(500, f"the server could not answer ({type(exc).__name__}); see its log")


def _session(request: Request, sid: str) -> tuple[Session | None, JSONResponse | None]:
    found = request.app.state.store.get(sid)
    if found is None:
        return None, _error(404, f"no session {sid!r}: reload the page", "session")
    return found, None


@router.get("/", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """Return the page: map, category picker, verdict table, edit tools."""
    s = request.app.state
    text = (_HERE / "serve" / "static" / "index.html").read_text(encoding="utf-8")
    text = text.replace("{{title}}", html.escape(s.title)).replace(
        "{{tiles}}", html.escape(s.tiles)
    )
    response = HTMLResponse(text)
    if s.token is not None:
        response.set_cookie(TOKEN_COOKIE, s.token, httponly=True, samesite="strict")
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Answer the browser's icon request with nothing (no 404 in its console)."""
    return Response(status_code=204)


@router.get("/background")
def get_background(request: Request) -> Any:
    """Return the walking network and ``[map] water`` under the map (GeoJSON, drawn once)."""
    if request.app.state.background is None:
        request.app.state.background = background(request.app.state.store.base)
    return request.app.state.background


@router.post("/sessions")
def new_session(request: Request, body: NewSession | None = None) -> Any:
    """Open a session (one a browser tab) and return its state."""
    store = request.app.state.store
    try:
        sid = store.new(body.category if body else None)
    except CjgisError as exc:
        return _error(400, str(exc), "category")
    return state(sid, store.get(sid))


@router.get("/state")
def get_state(request: Request, session: str) -> Any:
    """Return what the page shows of a session."""
    found, failed = _session(request, session)
    return failed or state(session, found)


@router.get("/area")
def get_area(request: Request, session: str) -> Any:
    """Return the service area of the session's category at its threshold (GeoJSON)."""
    found, failed = _session(request, session)
    return failed or request.app.state.store.area(session, found)


@router.post("/edits")
def edit(request: Request, body: EditRequest) -> Any:
    """Apply one edit; the answer is the new state (or a 400 naming what is wrong)."""
    _, failed = _session(request, body.session)
    if failed:
        return failed
    event = body.edit.model_dump(exclude_none=True)
    try:
        after = request.app.state.store.apply(body.session, event)
    except CjgisError as exc:
        field = "edit.category" if event["type"] == "category" else "edit.facility_id"
        return _error(400, str(exc), field)
    return state(body.session, after)


@router.post("/undo")
def undo(request: Request, body: SessionRequest) -> Any:
    """Undo the session's last edit."""
    _, failed = _session(request, body.session)
    return failed or state(
        body.session, request.app.state.store.apply(body.session, {"type": "undo"})
    )


@router.post("/redo")
def redo(request: Request, body: SessionRequest) -> Any:
    """Redo the edit undone last."""
    _, failed = _session(request, body.session)
    return failed or state(
        body.session, request.app.state.store.apply(body.session, {"type": "redo"})
    )


@router.post("/save")
def save_scenario(request: Request, body: SessionRequest) -> Any:
    """Write the session's added and moved facilities as a ``[planned] facilities`` CSV.

    Removals cannot be planned: they go to ``<name>_removed.csv`` beside it, for the minutes.
    """
    found, failed = _session(request, body.session)
    if failed:
        return failed
    name, wrong = _name(body.name, body.session)
    if wrong:
        return wrong
    if found.result is None:
        return _error(409, "nothing to save: no edit yet", "session")
    root = request.app.state.root
    written = _relative(save(found, root / f"{name}.csv"), root)
    removed = written.removesuffix(".csv") + "_removed.csv"  # the removals, for the minutes
    return {
        "file": written,
        "url": f"/files/{written}",
        "removed": removed,
        "removed_url": f"/files/{removed}",
    }


@router.get("/export")
def export(request: Request, session: str, name: str | None = None) -> Any:
    """Write the scenario's review map, workbook, tables and layers (``cjgis analyze``'s)."""
    from cjgis.outputs.deliverables import write_all

    found, failed = _session(request, session)
    if failed:
        return failed
    name, wrong = _name(name, session)
    if wrong:
        return wrong
    root, title = request.app.state.root, request.app.state.title
    folder = root / name
    analysis = found.analysis
    paths = write_all(
        analysis,
        folder,
        map_path=folder / f"{name}.html",
        title=f"{title} · {name}",
        **analysis.map_options,
    )
    files = {k: _relative(Path(p), root) for k, p in paths.items()}
    return {"files": files, "urls": {k: f"/files/{v}" for k, v in files.items()}}


@router.get("/files/{path:path}")
def files(request: Request, path: str) -> Any:
    """Return a file saved or exported, from the output folder and nowhere else."""
    root = request.app.state.root
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return _error(404, f"no file {path!r} among the saved and exported ones", "path")
    return FileResponse(target)


def _name(name: str | None, sid: str) -> tuple[str, JSONResponse | None]:
    """Return a file name for a scenario (given, or from the session), or the error."""
    name = name or f"scenario_{sid[:8]}"
    if not NAME.match(name):
        return name, _error(400, f"name {name!r}: letters, digits, - and _ only", "name")
    return name, None


def _relative(path: Path, root: Path) -> str:
    return Path(path).resolve().relative_to(root).as_posix()


class _BodyLimit:
    """Refuse a request whose body is larger than ``limit`` bytes (413), declared or sent."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _json(send, 413, f"request body over {self.limit} bytes")
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLargeError:
            await _json(send, 413, f"request body over {self.limit} bytes")


class _TooLargeError(Exception):
    """The body grew past the limit while it was read."""


class _TokenCheck:
    """Refuse every request without the token (query, header or the page's cookie): 401."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request

        request = Request(scope)
        given = (
            request.query_params.get("token")
            or request.headers.get("x-cjgis-token")
            or request.cookies.get(TOKEN_COOKIE)
            or ""
        )
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            await _json(send, 401, "a token is needed: open the address cjgis serve printed")
            return
        await self.app(scope, receive, send)


async def _json(send, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": message, "field": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
