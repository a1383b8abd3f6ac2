"""The documentation site builds offline with warnings as errors and opens in Chromium.

The build runs the notebooks (MyST-NB) and writes the reference pages from the code
(``docs/_ext/cjgis_reference.py``); these tests check both against the code they come from.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from cjgis.cli import build_parser
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.standards import describe_profile, list_profiles, load_profile
from cjgis.run.study import section_keys

PAGES = (
    "index",
    "guide/index",
    "guide/install",
    "guide/own_data",
    "guide/study_file",
    "guide/meeting",
    "guide/whatif_and_sites",
    "guide/batch",
    "guide/errors",
    "_generated/study_file",
    "_generated/standards",
    "_generated/outputs",
    "_generated/cli",
    "_generated/api",
    "_generated/examples/01_quickstart",
    "manual/index",
    "manual/study_file",
    "manual/method",
    "manual/layout",
    "architecture",
    "changelog",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", out],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    return out


def text_of(page) -> str:
    """The visible text of a built page, tags stripped and entities decoded."""
    body = page.read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def test_every_page_is_built(site):
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    guide = text_of(site / "index.html")
    assert guide.index("使用说明") < guide.index("示例") < guide.index("参考")  # the guide first


def test_the_study_file_keys_come_from_the_code(site):
    page = text_of(site / "_generated" / "study_file.html")
    for section, (required, optional) in section_keys().items():
        assert f"[{section}]" in page, section
        for key in required | optional:
            assert re.search(rf"\b{re.escape(key)}\b", page), f"[{section}] {key}"


def test_the_standards_and_the_cli_pages_say_what_the_command_says(site):
    page = text_of(site / "_generated" / "standards.html")
    for name in list_profiles():
        for line in describe_profile(load_profile(name), AnalysisOptions()).splitlines():
            assert line.strip() in page, (name, line)
    cli = " ".join(text_of(site / "_generated" / "cli.html").split())
    assert " ".join(build_parser().format_help().split()) in cli  # wrapped at any width


def test_the_notebooks_are_executed_into_the_site(site):
    page = (site / "_generated" / "examples" / "01_quickstart.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in page or re.search(r'<img [^>]*src="[^"]+\.png"', page)
    assert "leaflet" in page.lower()  # the review map, in its cell
    assert "Traceback" not in page


BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)

PROBE = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
setTimeout(function () {
  var pre = document.createElement('pre'); pre.id = 'cjgis-probe';
  var h1 = document.querySelector('h1');
  pre.textContent = JSON.stringify({errors: window.__errors, charset: document.characterSet,
    h1: h1 ? h1.textContent : '', images: Array.from(document.images).filter(function (i) {
      return i.complete && i.naturalWidth === 0; }).length});
  document.body.appendChild(pre);
}, 1500);</script>"""


@pytest.mark.parametrize(
    ("page", "heading"),
    [
        ("index", "cjgis · 撤村建居社区设施步行可达性"),
        ("guide/index", "使用说明"),
        ("guide/errors", "错误信息与修改方法"),
        ("_generated/examples/01_quickstart", "01 · Quickstart"),
    ],
)
def test_pages_open_in_chromium_without_errors(site, tmp_path, page, heading):
    if BROWSER is None:
        pytest.fail("no Chromium: apt-get install chromium (.ci/run installs it)")
    source = site / f"{page}.html"
    probe_page = source.with_name(f"probe_{source.name}")  # beside it: relative links resolve
    probe_page.write_text(
        source.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline, as on an intranet
            "--virtual-time-budget=6000",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            probe_page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    ).stdout
    found = re.search(r'<pre id="cjgis-probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-500:]
    result = json.loads(html.unescape(found.group(1)))
    assert result["errors"] == [] and result["images"] == 0, result
    assert result["charset"] == "UTF-8"
    assert result["h1"].strip().rstrip("#").strip().startswith(heading), result["h1"]


def test_the_guide_shows_the_map_and_the_workbook_drawn_in_this_build(site):
    """Screenshots made by the build from the sample (Chromium, LibreOffice), not checked in."""
    import numpy as np
    from PIL import Image

    page = (site / "guide" / "meeting.html").read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == 2, images
    for src in images:
        picture = Image.open(site / "guide" / src).convert("L")
        pixels = np.asarray(picture, dtype=float)
        assert picture.width >= 1000 and pixels.std() > 10, src  # drawn, not blank
    assert not (REPO / "docs" / "_static").exists() or not list(
        (REPO / "docs" / "_static").glob("*.png")
    )


def test_the_readme_picture_is_the_map_this_build_draws(site):
    """The README's picture is committed (GitHub shows it without a build): it must match."""
    import numpy as np
    from PIL import Image

    drawn = REPO / "docs" / "_generated" / "shots" / "readme_map.jpg"
    committed = REPO / "docs" / "readme" / "map.jpg"
    a = np.asarray(Image.open(drawn).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(committed).convert("RGB"), dtype=int)
    assert a.shape == b.shape
    changed = (np.abs(a - b).max(axis=2) > 60).mean()
    assert changed < 0.01, f"{changed:.1%} of the picture differs: cp {drawn} {committed}"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/readme/map.jpg)" in readme
