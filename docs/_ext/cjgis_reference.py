"""Write the reference pages from the code before Sphinx reads the sources.

One source for each fact: the study-file keys from the dataclasses of
:mod:`cjgis.run.study`, the standards from the profile files (the text ``cjgis standards``
prints), the output columns from :data:`cjgis.judge.coverage.COVERAGE_COLUMNS` and the
scorecard, the CLI from its parser, the API from :data:`cjgis.__all__`, and the notebooks from
``notebooks/`` (executed by MyST-NB). Everything goes to ``docs/_generated/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

log = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
OUT = DOCS / "_generated"
REPO = DOCS.parent


def _write(name: str, text: str) -> None:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")  # unchanged pages are not rebuilt


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return "(required)"
    if value is None or value == {} or value == [] or value == ():
        return "—"
    return f"`{value!r}`"


def _analysis_docs() -> dict[str, str]:
    """Return each ``[analysis]`` key's meaning, from the settings module's docstring."""
    from numpydoc.docscrape import NumpyDocString

    import cjgis.judge.settings as settings

    return {
        item.name: " ".join(" ".join(item.desc).split())
        for item in NumpyDocString(settings.__doc__)["Attributes"]
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def study_file_table() -> str:
    """Return one table per study-file section: every key, its type, meaning and default.

    Keys, types and defaults from the dataclasses; meanings from
    :data:`cjgis.run.study_keys.KEY_DOCS` (``[analysis]``: the settings docstring).
    """
    from cjgis.judge.settings import SOURCES, AnalysisOptions
    from cjgis.run.study import is_key, sections
    from cjgis.run.study_keys import AS_IN, KEY_DOCS

    analysis = _analysis_docs()
    lines = []
    for section, cls in sections().items():
        lines += [f"## `[{section}]`", ""]
        lines += ["| key | type | meaning | default |", "|---|---|---|---|"]
        for field in dataclasses.fields(cls):
            if not is_key(cls, field.name):
                continue
            kind = _cell(str(field.type).replace("|", "or"))
            if cls is AnalysisOptions:
                meaning = analysis[field.name] + f" (source: {SOURCES.get(field.name, '—')})"
                default = _default(field)
            else:
                own = KEY_DOCS.get(section, {})
                doc = own.get(field.name) or KEY_DOCS[AS_IN[section]][field.name]
                meaning, default = doc
            lines.append(f"| `{field.name}` | {kind} | {_cell(meaning)} | {_cell(default)} |")
        lines.append("")
    return "\n".join(lines)


def study_file_page() -> str:
    """Return the reference page of the study-file keys (the table the manual includes)."""
    return (
        "# 研究文件键 Study-file keys\n\nEvery key `load_study` accepts, generated when the site "
        "is built: the keys, types and defaults from the dataclasses of `cjgis.run.study`, the "
        "meanings from `cjgis.run.study_keys` (`[analysis]`: `cjgis.judge.settings`). A key "
        "missing here is a key `load_study` refuses.\n\n"
        "```{include} study_file_table.md\n```\n"
    )


def standards_page() -> str:
    """Return each shipped profile as ``cjgis standards <name>`` prints it."""
    from cjgis.judge.settings import AnalysisOptions
    from cjgis.judge.standards import describe_profile, list_profiles, load_profile

    lines = [
        "# 规划标准 Standards profiles",
        "",
        "The text `cjgis standards <profile>` prints, generated from the profile files when the "
        "site is built: every value with its basis (标准 standard, 规划建议值 planner rule), its "
        "clause, the quoted text where it was read, and 未核实 where it was not.",
        "",
    ]
    for name in list_profiles():
        text = describe_profile(load_profile(name), AnalysisOptions())
        lines += [f"## `{name}`", "", "```text", text, "```", ""]
    return "\n".join(lines)


def outputs_page() -> str:
    """Return the coverage table's columns and the scorecard's columns."""
    from cjgis.judge.coverage import COVERAGE_COLUMNS
    from cjgis.outputs.scorecard import COLUMNS

    lines = [
        "# 输出字段 Output columns",
        "",
        "`coverage.csv` and `analysis.coverage`: one row per community × category × resident "
        "group, in this order (`cjgis.judge.coverage.COVERAGE_COLUMNS`; what each means: "
        "{py:class}`cjgis.Analysis`).",
        "",
        "| # | column |",
        "|---|---|",
    ]
    lines += [f"| {i} | `{c}` |" for i, c in enumerate(COVERAGE_COLUMNS, start=1)]
    from cjgis.outputs.scorecard import SHEETS

    lines += ["", "## 缺口清单 The scorecard's sheets (`scorecard.xlsx`)", ""]
    lines += ["| sheet | holds |", "|---|---|"]
    lines += [f"| {name} | {holds} |" for name, holds in SHEETS.items()]
    lines += [
        "",
        "## 缺口清单 The scorecard's columns (`scorecard.xlsx`)",
        "",
        "| column | 表头 header |",
        "|---|---|",
    ]
    lines += [f"| `{c}` | {zh} |" for c, zh in COLUMNS.items()]
    return "\n".join(lines) + "\n"


def cli_page() -> str:
    """Return ``cjgis --help`` and every subcommand's help, from the parser."""
    import argparse

    from cjgis.cli import build_parser

    parser = build_parser()
    lines = ["# 命令行 Command line", "", "```text", parser.format_help(), "```", ""]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                lines += [f"## `cjgis {name}`", "", "```text", sub.format_help(), "```", ""]
    return "\n".join(lines)


def api_page() -> str:
    """Return a page documenting every public name of ``cjgis`` from its docstring."""
    import inspect

    import cjgis

    lines = [
        "# Python API",
        "",
        "Every name `import cjgis` offers (`cjgis.__all__`), from its docstring.",
        "",
    ]
    for name in sorted(n for n in cjgis.__all__ if n != "__version__"):
        obj = getattr(cjgis, name)
        kind = "autoclass" if inspect.isclass(obj) else "autofunction"
        options = "\n:members:\n" if kind == "autoclass" and not issubclass(obj, Exception) else ""
        lines += [f"## `cjgis.{name}`", "", f"```{{{kind}}} cjgis.{name}{options}", "```", ""]
    return "\n".join(lines)


def examples() -> list[str]:
    """Copy the notebooks (executed in the build) and return their page names."""
    folder = OUT / "examples"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for book in sorted((REPO / "notebooks").glob("*.ipynb")):
        target = folder / book.name
        if not target.is_file() or target.read_bytes() != book.read_bytes():
            shutil.copyfile(book, target)
        names.append(f"examples/{book.stem}")
    return names


#: Chromium flags for the map's screenshot: headless and offline (no tiles: the 无底图 base).
_OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=8000",
    "--window-size=1280,800",
]


def screenshots() -> None:
    """Draw the sample's review map (Chromium) and workbook (LibreOffice) for the guide.

    Made anew at every build from the generated sample, so they never go stale. A missing
    client is a warning, which fails a ``-W`` build (CI installs both).
    """
    from cjgis import analyze_study, gap_map, load_study, save_map, write_sample, write_scorecard

    shots = OUT / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(shots):  # the study's outputs land here, not in the repository
        study = load_study(write_sample(shots / "sample"))
        analysis = analyze_study(study, verbose=False)
        page = save_map(
            gap_map(analysis, title="cjgis · 样本安置区 sample district", basemap="none"),
            shots / "map.html",
        )
        book = write_scorecard(analysis, shots)["scorecard_xlsx"]
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if browser is None:
        log.warning("no Chromium: the map's screenshot is left out (apt-get install chromium)")
    else:
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [
                    browser,
                    *_OFFLINE,
                    f"--user-data-dir={profile}",
                    f"--screenshot={shots / 'map.png'}",
                    page.as_uri(),
                ],
                capture_output=True,
                timeout=180,
                check=True,
            )
        readme_picture(shots / "map.png")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        log.warning("no LibreOffice: the workbook's picture is left out (libreoffice-calc-nogui)")
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",  # as a planner prints it (Calc without a GUI exports no PNG)
                "--outdir",
                profile,
                str(book),
            ],
            capture_output=True,
            timeout=300,
            check=True,
            env={**os.environ, "HOME": profile},
        )
        import pypdfium2

        pdf = pypdfium2.PdfDocument(Path(profile) / "scorecard.pdf")
        try:  # the first printed page (the 汇总 summary sheet), at 150 dpi
            page = pdf[0].render(scale=150 / 72).to_pil().convert("RGB")
            _cropped(page).save(shots / "scorecard.png")
        finally:
            pdf.close()


#: The README's picture of the map: the guide's screenshot, smaller. Committed (GitHub shows the
#: README without a build); tests/test_docs_site.py fails when it no longer matches the build's.
README_PICTURE = DOCS / "readme" / "map.jpg"


def readme_picture(screenshot: Path) -> Path:
    """Write the README-sized copy of the map's screenshot beside it; return its path."""
    from PIL import Image

    small = Image.open(screenshot).convert("RGB").resize((960, 600), Image.Resampling.LANCZOS)
    path = screenshot.with_name("readme_map.jpg")
    small.save(path, quality=85, optimize=True)
    return path


def _cropped(image):
    """Return the printed table of a page: its header line and page number cut off."""
    from PIL import ImageChops

    width, height = image.size
    body = image.crop((0, int(height * 0.04), width, int(height * 0.94)))
    box = ImageChops.difference(body, body.point(lambda _: 255)).getbbox()
    if box is None:
        return image
    pad = 12
    left, top, right, bottom = box
    return body.crop((max(left - pad, 0), max(top - pad, 0), right + pad, bottom + pad))


def generate(app: Sphinx) -> None:
    """Write every generated page (called once, before the sources are read)."""
    _write("study_file_table.md", study_file_table())
    _write("study_file.md", study_file_page())
    _write("standards.md", standards_page())
    _write("outputs.md", outputs_page())
    _write("cli.md", cli_page())
    _write("api.md", api_page())
    screenshots()
    pages = examples()
    _write(
        "examples.md",
        "# 示例 Notebooks\n\nThe four notebooks of `notebooks/`, executed when the site is "
        "built.\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(pages) + "\n```\n",
    )


def setup(app: Sphinx) -> dict:
    """Register the page generator."""
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
