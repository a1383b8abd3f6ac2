"""``cjgis serve`` as a person uses it: Debian's Chromium driven by Playwright, no internet.

The server is the real command (``python -m cjgis.cli serve``) on a free port of 127.0.0.1.
The page is loaded, a category picked, a facility added by clicking the map, one dragged,
the last edit undone, the scenario saved; after each step the verdict table on the page equals
:func:`cjgis.what_if` of the same edits, cell by cell. Then two tabs, a hostile name, and
Ctrl-C. Screenshots at 1280x720 and 800x600 go to ``maps/screenshots`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import chromium_or_skip

from cjgis import what_if
from cjgis.judge.verdict import share_text

BROWSER = chromium_or_skip()

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTEFACTS = Path(
    os.environ.get("CJGIS_ARTEFACTS", Path(__file__).parents[1] / "maps" / "screenshots")
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_study, tmp_path_factory):
    """``cjgis serve`` of the sample, in its own process group; its URL and process."""
    port = _free_port()
    work = tmp_path_factory.mktemp("serve_cwd")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cjgis.cli",
            "serve",
            str(sample_study),
            "--port",
            str(port),
            "--quiet",
        ],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cjgis serve stopped: {process.communicate()[1]}")
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    yield url, process, work
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)  # closes its pipes


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which(BROWSER), args=ARGS)
        yield chromium
        chromium.close()


def _page(browser, url, *, width=1280, height=720):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: d.accept())
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
    page.goto(url + "/")
    page.wait_for_selector("body[data-edits='0']")
    return page


def _edits(page, n: int) -> None:
    page.wait_for_selector(f"body[data-edits='{n}']:not([data-busy='1'])", timeout=60_000)


def _table(page) -> list[tuple[str, ...]]:
    rows = page.locator("#table tbody tr")
    return [tuple(rows.nth(i).locator("td").all_text_contents()) for i in range(rows.count())]


def _expected(analysis, category: str, before=None) -> list[tuple[str, ...]]:
    """Every cell of the table: community, share text, verdict, change against ``before``."""
    cov = analysis.coverage[analysis.coverage["category"] == category]
    then = (before if before is not None else analysis).coverage
    then = then[then["category"] == category].set_index("community_id")["covered_share"]
    return [
        (
            r.community_name,
            share_text(r.covered_share, r.target_share, r.coverage_met),
            r.status_zh,
            ""
            if r.covered_share == then[r.community_id]
            else f"{r.covered_share - then[r.community_id]:+.1%}",
        )
        for r in cov.itertuples()
    ]


def _facility(url, page, fid):
    sid = page.evaluate("window.sessionStorage.getItem('cjgis-session')")
    found = httpx.get(url + "/state", params={"session": sid}).json()["facilities"]
    return next(f for f in found if f["facility_id"] == fid)


def test_a_meeting_in_the_browser(server, browser, sample_analysis):
    url, _, work = server
    page = _page(browser, url)
    assert _table(page) == _expected(sample_analysis, "elderly_care")

    page.select_option("#category", "ev_charging")
    page.wait_for_selector("body[data-category='ev_charging']:not([data-busy='1'])")
    assert _table(page) == _expected(sample_analysis, "ev_charging")

    box = page.locator("#map").bounding_box()
    page.fill("#name", "新充电点")
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    _edits(page, 1)
    page.wait_for_selector("body[data-area='1:ev_charging']")  # the area follows the table
    added = _facility(url, page, "W1")
    assert added["name"] == "新充电点"
    add = [
        {"category": "ev_charging", "lon": added["lon"], "lat": added["lat"], "name": "新充电点"}
    ]
    one = what_if(sample_analysis, add=add).analysis
    assert _table(page) == _expected(one, "ev_charging", sample_analysis)
    marker = page.locator(".cjgis-facility[data-id='W1']")
    assert marker.get_attribute("title") == "新充电点"
    cov = one.coverage[one.coverage["category"] == "ev_charging"]
    reasons = page.locator("#table tbody tr td:nth-child(3)")
    assert [reasons.nth(i).get_attribute("title") for i in range(reasons.count())] == list(
        cov["reason"]
    )  # the scorecard's reason beside each verdict

    fac = sample_analysis.facilities
    fid = str(fac.loc[fac["category"] == "ev_charging", "facility_id"].iloc[0])
    handle = page.locator(f".cjgis-facility[data-id='{fid}']").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=8)
    page.mouse.up()
    _edits(page, 2)
    moved = _facility(url, page, fid)
    assert moved["change"] == "moved"
    both = what_if(sample_analysis, add=add, move={fid: (moved["lon"], moved["lat"])})
    assert _table(page) == _expected(both.analysis, "ev_charging", sample_analysis)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "serve_1280x720.png"))

    page.click("#undo")
    _edits(page, 1)
    assert _table(page) == _expected(one, "ev_charging", sample_analysis)
    page.click("#redo")
    _edits(page, 2)
    assert _table(page) == _expected(both.analysis, "ev_charging", sample_analysis)

    page.click("#save")
    page.wait_for_selector("#files a")
    saved = work / "data" / "processed" / "sample" / "scenarios"
    csvs = [p for p in saved.glob("*.csv") if not p.stem.endswith("_removed")]
    assert len(csvs) == 1 and "新充电点" in csvs[0].read_text(encoding="utf-8-sig")
    assert page.locator("#files a").count() == 2  # the scenario and its removals
    assert page.errors == []

    small = _page(browser, url, width=800, height=600)
    assert _table(small) == _expected(sample_analysis, "elderly_care")  # a tab of its own
    assert small.locator("#map").bounding_box()["width"] > 400
    small.screenshot(path=str(ARTEFACTS / "serve_800x600.png"))
    assert _table(page) == _expected(both.analysis, "ev_charging", sample_analysis)  # unchanged


def test_a_name_is_shown_as_text(server, browser):
    url, _, _ = server
    page = _page(browser, url)
    box = page.locator("#map").bounding_box()
    page.fill("#name", '<img src=x onerror="window.pwned=1">')
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    _edits(page, 1)
    marker = page.locator(".cjgis-facility[data-id='W1']")
    assert marker.get_attribute("title") == '<img src=x onerror="window.pwned=1">'
    assert page.evaluate("window.pwned") is None
    assert page.locator("img[src='x']").count() == 0


def test_ctrl_c_stops_the_server_and_leaves_no_child(server):
    url, process, _ = server
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("cjgis serve did not stop on Ctrl-C")
    assert process.returncode == 0, process.stderr.read()
    assert "stopped" in process.stdout.read()
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no process left in its group
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/openapi.json", timeout=2)
