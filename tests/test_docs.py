"""The README stays true: every study-file key documented, CI runs the Quickstart's tests."""

from __future__ import annotations

import re

from conftest import REPO

from cjgis.run.study import load_study, section_keys


def test_every_study_file_key_is_documented():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Study file") : readme.index("### Outputs")]
    for section, (required, optional) in section_keys().items():
        assert f"`[{section}]`" in table, section
        for key in required | optional:
            assert re.search(rf"`{key}`", table), f"[{section}] {key}"


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quickstart") : readme.index("## Your own study")]
    commands = re.findall(r"```bash\n(.+?)\n```", quick)
    assert len(commands) == 2 and "cjgis demo" in commands[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def test_example_study_file_loads():
    study = load_study(REPO / "examples" / "study.toml")
    assert study.residents.path == (REPO / "data/raw/sample/buildings.gpkg").resolve()
    assert study.output_dir == (REPO / "data/processed/example").resolve()
    assert study.options.minutes == 15
