"""The README and the manual stay true: every study-file key documented, CI runs the tests."""

from __future__ import annotations

import re

from conftest import REPO

from cjgis.run.study import load_study, section_keys


def test_every_study_file_key_has_its_meaning_written_once():
    """The manual's key table is generated: every key's meaning is in one place, none stale."""
    from numpydoc.docscrape import NumpyDocString

    import cjgis.judge.settings as settings
    from cjgis.run.study_keys import AS_IN, KEY_DOCS

    analysis = {item.name for item in NumpyDocString(settings.__doc__)["Attributes"]}
    keys = section_keys()
    for section, (required, optional) in keys.items():
        for key in required | optional:
            if section == "analysis":
                assert key in analysis, f"[analysis] {key}: not in cjgis.judge.settings' docstring"
                continue
            own = KEY_DOCS.get(section, {})
            assert key in own or key in KEY_DOCS.get(AS_IN.get(section, ""), {}), (section, key)
    for section, documented in KEY_DOCS.items():  # no text for a key that is gone
        required, optional = keys[section]
        assert set(documented) <= required | optional, (
            section,
            set(documented) - required - optional,
        )
    manual = (REPO / "docs" / "manual" / "study_file.md").read_text(encoding="utf-8")
    assert "_generated/study_file_table.md" in manual and "| `[" not in manual  # no hand copy


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Quickstart")
    quick = readme[start : readme.index("\n## ", start)]
    commands = re.findall(r"```bash\n(.+?)\n```", quick)
    assert len(commands) == 2 and "cjgis demo" in commands[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 12 * 1024
    assert "撤村建居" in readme and "使用说明" in readme  # Chinese and English
    for page in ("CHANGELOG.md", "CONTRIBUTING.md", "docs/architecture.md", "notebooks/"):
        assert f"]({page})" in readme and (REPO / page).exists(), page


def test_example_study_file_loads():
    study = load_study(REPO / "examples" / "study.toml")
    assert study.residents.path == (REPO / "data/raw/sample/buildings.gpkg").resolve()
    assert study.output_dir == (REPO / "data/processed/example").resolve()
    assert study.options.minutes == 15
