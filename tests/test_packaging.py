"""The package as users install it: the built wheel holds every file cjgis reads at run time.

An editable install reads ``src/cjgis`` directly and hides a file the wheel leaves out (the
standards profiles once were). ``.ci/run`` also installs the wheel into a fresh virtual
environment and runs ``cjgis standards`` and ``cjgis demo`` in an empty folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "cjgis"


def _data_files() -> set[str]:
    """Every non-Python file under src/cjgis, as a wheel names it (cjgis/...)."""
    return {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }


def test_wheel_ships_every_data_file(tmp_path):
    # build from a clean copy: an in-tree build/ keeps files from earlier builds
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(PACKAGE, source / "src" / "cjgis", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("cjgis-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = _data_files()
    assert {
        "cjgis/profiles/hangzhou_2017.toml",
        "cjgis/_static/leaflet/leaflet.js",
        *(f"cjgis/serve/static/{name}" for name in ("index.html", "app.js", "app.css")),
    } <= wanted  # cjgis serve's page is package data
    assert wanted - names == set(), "files under src/cjgis the wheel leaves out"
    modules = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*.py")}
    assert modules - names == set()
