"""Notebooks are executed documentation: each runs top to bottom in a fresh folder."""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: Images (charts, figures) and maps each notebook shows at least, in its cells' outputs.
SHOWN = {
    "01_quickstart": (1, 1),
    "02_your_own_data": (0, 0),
    "03_new_resettlement_site": (1, 1),
    "04_what_if": (0, 0),
}


def test_the_planner_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_your_own_data.ipynb",
        "03_new_resettlement_site.ipynb",
        "04_what_if.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_stale_outputs(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_from_top_to_bottom(path, tmp_path):
    shutil.copy(path, tmp_path / path.name)
    book = nbformat.read(tmp_path / path.name, as_version=4)
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len(outputs) >= 5
    shown = [
        o.get("data", {}) for o in outputs if o.output_type in ("execute_result", "display_data")
    ]
    images = [d for d in shown if d.get("image/png", "").startswith("iVBOR")]  # base64 of PNG
    maps = [d for d in shown if "leaflet" in d.get("text/html", "").lower()]
    assert len(images) >= SHOWN[path.stem][0], "charts and figures show as images, no magic"
    assert len(maps) >= SHOWN[path.stem][1], "the maps show in the cell"
    assert not [d for d in shown if d.get("text/plain", "").startswith("<Figure size")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_run_in_place_leaves_the_repository_clean_and_quiet(path):
    """As a planner runs it, in notebooks/: what it writes is git-ignored; no progress noise."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    book = nbformat.read(path, as_version=4)
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "TqdmWarning" not in text and "IProgress" not in text
    assert "it/s]" not in text and "category/s]" not in text  # no progress-bar frames
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "notebooks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [line for line in status.splitlines() if line.startswith("??")] == []
