"""``cjgis serve``'s JSON API over HTTP (uvicorn on 127.0.0.1): every answer is what_if's.

The page's numbers are the server's, and the server's are :func:`cjgis.what_if` of the
session's edits: checked here cell by cell. Then what a careless or hostile request meets:
a 4xx JSON error naming the field, no path outside the output folder, a token on any address
but this computer's, a body size limit, and tabs whose edits never mix.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx
import pandas as pd
import pytest

from cjgis import what_if
from cjgis.judge.coverage import IN_PLACE
from cjgis.judge.verdict import share_text
from cjgis.serve.app import make_app

HERE = (120.262, 30.300)  # between the sample's communities, by a street


@contextlib.contextmanager
def serving(app):
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1; yield a client of it."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def app(sample_analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("serve")
    return make_app(sample_analysis, output_dir=out, title="sample"), out


@pytest.fixture(scope="module")
def client(app):
    with serving(app[0]) as client:
        yield client


def expected_rows(analysis, category: str) -> list[tuple[str, str, str]]:
    """(community, share text, verdict) as every output shows them, in the analysis's order."""
    cov = analysis.coverage[analysis.coverage["category"] == category]
    return [
        (r.community_name, share_text(r.covered_share, r.target_share, r.coverage_met), r.status_zh)
        for r in cov.itertuples()
    ]


def shown_rows(state: dict) -> list[tuple[str, str, str]]:
    return [(r["community"], r["share"], r["verdict"]) for r in state["table"]]


def test_a_session_shows_the_analysis_then_what_if_of_its_edits(client, sample_analysis):
    state = client.post("/sessions", json={"category": "养老服务设施"}).json()
    assert state["category"] == "elderly_care" and state["edits"] == 0
    assert shown_rows(state) == expected_rows(sample_analysis, "elderly_care")
    sid = state["session"]

    add = {"type": "add", "lon": HERE[0], "lat": HERE[1], "name": "新站", "capacity": 300}
    state = client.post("/edits", json={"session": sid, "edit": add}).json()
    new = {"category": "elderly_care", **{k: v for k, v in add.items() if k != "type"}}
    answer = what_if(
        sample_analysis,
        add=[new],
    )
    assert shown_rows(state) == expected_rows(answer.analysis, "elderly_care")
    assert state["lines"] == answer.lines()
    added = [f for f in state["facilities"] if f["facility_id"] == "W1"]
    assert added and added[0]["name"] == "新站" and added[0]["change"] == "added"

    first = sample_analysis.facilities
    fid = str(first.loc[first["category"] == "elderly_care", "facility_id"].iloc[0])
    moves = [
        {"type": "move", "facility_id": fid, "lon": HERE[0] + 0.004, "lat": HERE[1]},
        {"type": "remove", "facility_id": "W1"},
    ]
    for edit in moves:
        state = client.post("/edits", json={"session": sid, "edit": edit}).json()
    answer = what_if(sample_analysis, move={fid: (HERE[0] + 0.004, HERE[1])})
    assert shown_rows(state) == expected_rows(answer.analysis, "elderly_care")
    assert state["edits"] == 3 and state["can_undo"] and not state["can_redo"]

    state = client.post("/undo", json={"session": sid}).json()  # W1 back
    assert state["edits"] == 2 and state["can_redo"]
    both = what_if(
        sample_analysis,
        add=[new],
        move={fid: (HERE[0] + 0.004, HERE[1])},
    )
    assert shown_rows(state) == expected_rows(both.analysis, "elderly_care")
    state = client.post("/redo", json={"session": sid}).json()
    assert state["edits"] == 3 and shown_rows(state) == expected_rows(
        answer.analysis, "elderly_care"
    )

    state = client.post(
        "/edits", json={"session": sid, "edit": {"type": "category", "category": "ev_charging"}}
    ).json()
    assert state["category"] == "ev_charging"
    assert shown_rows(state) == expected_rows(answer.analysis, "ev_charging")
    assert client.get("/state", params={"session": sid}).json() == state
    drawn = client.get("/area", params={"session": sid}).json()
    assert drawn["type"] == "FeatureCollection" and len(drawn["features"]) == 1
    assert drawn["features"][0]["properties"]["category"] == "ev_charging"


def test_two_tabs_never_mix(client, sample_analysis):
    one = client.post("/sessions", json={}).json()["session"]
    two = client.post("/sessions", json={}).json()["session"]
    add = {"type": "add", "lon": HERE[0], "lat": HERE[1]}
    client.post("/edits", json={"session": one, "edit": add})
    assert client.get("/state", params={"session": one}).json()["edits"] == 1
    other = client.get("/state", params={"session": two}).json()
    assert other["edits"] == 0
    assert shown_rows(other) == expected_rows(sample_analysis, other["category"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"session": "S", "edit": {"type": "add", "lon": 120.2}}, 422, "edit"),
        ({"session": "S", "edit": {"type": "fly", "lon": 1, "lat": 2}}, 422, "edit.type"),
        ({"session": "S", "edit": {"type": "add", "lon": "east", "lat": 30}}, 422, "edit.lon"),
        ({"session": "S", "edit": {"type": "add", "lon": 999, "lat": 30}}, 422, "edit.lon"),
        ({"edit": {"type": "undo"}}, 422, "session"),
        (
            {"session": "no-such", "edit": {"type": "add", "lon": 120.2, "lat": 30.3}},
            404,
            "session",
        ),
    ],
)
def test_malformed_edits_get_a_json_error_naming_the_field(client, body, status, field):
    sid = client.post("/sessions", json={}).json()["session"]
    if body.get("session") == "S":
        body = {**body, "session": sid}
    response = client.post("/edits", json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["field"] == field
    assert "Traceback" not in response.text


def test_refused_edits_change_nothing(client):
    sid = client.post("/sessions", json={}).json()["session"]
    gone = {"type": "remove", "facility_id": "F-nope"}
    response = client.post("/edits", json={"session": sid, "edit": gone})
    assert response.status_code == 400 and response.json()["field"] == "edit.facility_id"
    assert "no facility has the id 'F-nope'" in response.json()["error"]
    wrong = {"type": "category", "category": "养老服务设"}
    response = client.post("/edits", json={"session": sid, "edit": wrong})
    assert response.status_code == 400 and "did you mean 'elderly_care'" in response.json()["error"]
    assert client.get("/state", params={"session": sid}).json()["edits"] == 0
    bad_json = client.post(
        "/edits", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422 and "error" in bad_json.json()


def test_a_body_over_the_limit_is_refused(client):
    response = client.post(
        "/edits", content=b"x" * 70_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "over 65536 bytes" in response.json()["error"]


def test_no_request_reads_outside_the_output_folder(app, client):
    _, out = app
    (out / "secret.txt").write_text("outside scenarios/", encoding="utf-8")
    for path in (
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2e%2e/secret.txt",
        "/etc/passwd",
        "scenarios/../../secret.txt",
    ):
        response = client.get(f"/files/{path}")
        assert response.status_code == 404, path
        assert "outside" not in response.text
    sid = client.post("/sessions", json={}).json()["session"]
    client.post(
        "/edits", json={"session": sid, "edit": {"type": "add", "lon": HERE[0], "lat": HERE[1]}}
    )
    for name in ("../x", "a/b", "..", "x" * 200):
        response = client.post("/save", json={"session": sid, "name": name})
        assert response.status_code in (400, 422) and response.json()["field"] == "name", name
    assert not (out / "x.csv").exists()


def test_save_and_export_write_what_cjgis_analyze_writes(app, client, sample_study):
    from cjgis import load_study
    from cjgis.run.runner import read_study_facilities

    _, out = app
    sid = client.post("/sessions", json={}).json()["session"]
    assert client.post("/save", json={"session": sid}).status_code == 409  # nothing yet
    add = {"type": "add", "lon": HERE[0], "lat": HERE[1], "name": "新站"}
    state = client.post("/edits", json={"session": sid, "edit": add}).json()
    saved = client.post("/save", json={"session": sid, "name": "方案一"}).json()
    assert saved["file"] == "方案一.csv" and saved["removed"] == "方案一_removed.csv"
    csv = client.get(saved["url"])
    assert csv.status_code == 200 and "新站" in csv.content.decode("utf-8-sig")
    planned = read_study_facilities(load_study(sample_study), out / "scenarios" / "方案一.csv")
    assert planned.frame["change"].tolist() == ["added"]

    files = client.get("/export", params={"session": sid, "name": "方案一"}).json()["files"]
    assert {"map", "scorecard_xlsx", "coverage"} <= set(files)
    coverage = pd.read_csv(out / "scenarios" / files["coverage"], encoding="utf-8-sig")
    mine = coverage[
        (coverage["category"] == "elderly_care") & (coverage["resident_group"] == IN_PLACE)
    ]
    assert dict(zip(mine["community_id"], mine["covered_share"], strict=True)) == {
        r["community_id"]: r["covered_share"] for r in state["table"]
    }
    page = client.get(f"/files/{files['map']}")
    assert page.status_code == 200 and "方案一" in page.text


def test_a_token_is_needed_when_one_is_set(sample_analysis, tmp_path):
    with serving(make_app(sample_analysis, output_dir=tmp_path, token="t0ken")) as locked:
        assert locked.get("/").status_code == 401
        assert locked.post("/sessions", json={}).status_code == 401
        assert locked.get("/static/app.js").status_code == 401
        assert locked.get("/", params={"token": "wrong"}).status_code == 401
        headers = {"X-Cjgis-Token": "t0ken"}
        assert locked.post("/sessions", json={}, headers=headers).status_code == 200
        page = locked.get("/", params={"token": "t0ken"})
        assert page.status_code == 200 and page.cookies.get("cjgis_token") == "t0ken"
        assert locked.get("/static/app.js").status_code == 200  # the page's cookie


def test_the_api_is_documented(client):
    spec = client.get("/openapi.json").json()
    assert {"/sessions", "/state", "/edits", "/undo", "/redo", "/save", "/export"} <= set(
        spec["paths"]
    )
    assert "Edit" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 404  # its scripts come from a CDN: left out
    assert client.get("/favicon.ico").status_code == 204


def test_names_reach_the_page_as_text(client):
    """The page sets every name with textContent; the server passes them through unchanged."""
    sid = client.post("/sessions", json={}).json()["session"]
    name = '<img src=x onerror="window.pwned=1">'
    edit = {"type": "add", "lon": HERE[0], "lat": HERE[1], "name": name}
    state = client.post("/edits", json={"session": sid, "edit": edit}).json()
    assert [f["name"] for f in state["facilities"] if f["facility_id"] == "W1"] == [name]
    page = client.get("/").text
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "textContent" in script
    assert "<title>cjgis · 方案推演 what-if</title>" not in page  # the study's title is used
    assert "<title>sample · 方案推演 what-if</title>" in page
