"""How the package is put together: imports flow one way, the public face matches use."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import networkx as nx

import cjgis

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "cjgis"


def _module_name(path: Path, package: Path) -> str:
    """``judge.analysis`` for ``<package>/judge/analysis.py``; ``judge`` for its ``__init__``."""
    parts = path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every cjgis module ``path`` imports, anywhere in it (deferred and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cjgis"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(".".join(parts[1:]))
            else:  # from cjgis import x: x is a module or a name of __init__
                found.update(a.name for a in node.names if (package / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            found.update(
                ".".join(a.name.split(".")[1:]) for a in node.names if a.name.startswith("cjgis.")
            )
    return found


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    """Modules (``wing.module``) and the cjgis modules each imports."""
    graph = nx.DiGraph()
    for path in package.rglob("*.py"):
        name = _module_name(path, package)
        if name == "":
            continue  # the lazy public face imports everything by design
        graph.add_node(name)
        graph.add_edges_from((name, m) for m in _imports(path, package) if m != name)
    return graph


#: The wings, bottom up: each imports only wings before it (and itself); the private helpers
#: (``_errors``, ``_atomic``, ``_fork``, ``_geometry``, ``_database``) are below all, the command
#: line above.
WINGS = ("inputs", "streets", "reach", "judge", "outputs", "plan", "run", "serve", "cli")
_BOTTOM = {"_errors", "_atomic", "_fork", "_geometry", "_database"}


def wing_of(module: str) -> str:
    return module.split(".")[0]


def wrong_arrows(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """Imports that run up or across: into a later wing, or from a helper into a wing."""
    rank = {w: i for i, w in enumerate(WINGS)}
    wrong = []
    for a, b in graph.edges:
        wa, wb = wing_of(a), wing_of(b)
        if wb in _BOTTOM:
            continue
        if wa in _BOTTOM or wa not in rank or wb not in rank or rank[wb] > rank[wa]:
            wrong.append((a, b))
    return sorted(wrong)


def test_no_import_cycles():
    graph = import_graph()
    assert graph.number_of_nodes() > 20
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles}"


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The project's own import reader, on two modules that import each other (three forms)."""
    package = tmp_path / "cjgis"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "alpha.py").write_text("from cjgis.beta import f\n", encoding="utf-8")
    (package / "beta.py").write_text(
        "def f():\n    from cjgis import alpha  # deferred\n    return alpha\n", encoding="utf-8"
    )
    (package / "gamma.py").write_text("import cjgis.alpha\n", encoding="utf-8")
    graph = import_graph(package)
    assert set(graph.edges) == {("alpha", "beta"), ("beta", "alpha"), ("gamma", "alpha")}
    assert sorted(map(sorted, nx.simple_cycles(graph))) == [["alpha", "beta"]]


def test_every_module_lives_in_a_wing_and_imports_only_wings_below():
    graph = import_graph()
    homeless = [m for m in graph if wing_of(m) not in {*WINGS, *_BOTTOM}]
    assert homeless == [], f"modules outside the wings: {homeless}"
    assert {wing_of(m) for m in graph} >= set(WINGS)
    assert wrong_arrows(graph) == []


def test_the_wing_check_finds_an_arrow_that_runs_up(tmp_path):
    """A planted import from a lower wing into a higher one, and one from a helper, are found."""
    import shutil

    package = tmp_path / "cjgis"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("_static", "profiles"))
    planted = package / "streets" / "network.py"
    planted.write_text(
        planted.read_text(encoding="utf-8") + "\nfrom cjgis.outputs.maps import gap_map\n",
        encoding="utf-8",
    )
    (package / "_geometry.py").write_text("from cjgis.judge.rules import CategoryRule\n", "utf-8")
    assert wrong_arrows(import_graph(package)) == [
        ("_geometry", "judge.rules"),
        ("streets.network", "outputs.maps"),
    ]


def test_pure_analysis_reads_no_study():
    graph = import_graph()
    assert not nx.has_path(graph, "judge.analysis", "run.study")
    assert not nx.has_path(graph, "judge.analysis", "run.runner")
    for writer in ("outputs.report", "outputs.scorecard", "outputs.maps", "outputs.figures"):
        assert not nx.has_path(graph, "judge.analysis", writer)


def test_public_names_load_and_complete():
    names = dir(cjgis)
    for name in cjgis.__all__:
        assert name in names
        assert getattr(cjgis, name) is not None
    assert cjgis.analyze_study.__module__ == "cjgis.run.runner"
    assert cjgis.network_from_study.__module__ == "cjgis.run.runner"


def test_notebooks_use_only_the_public_api():
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "cjgis" or node.module == "cjgis", (
                    f"{notebook.name} imports from {node.module}; use `import cjgis`"
                )
                assert node.module.split(".")[0] != "osmnx", notebook.name
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "osmnx" for a in node.names), notebook.name


def test_no_public_name_is_also_a_module_name():
    # importing cjgis.<module> sets that attribute on the package and would shadow a function
    modules = {p.stem for p in PACKAGE.rglob("*.py")} | {p.name for p in PACKAGE.iterdir()}
    assert modules & set(cjgis.__all__) == set()


def test_the_map_of_the_house_shows_every_wing_and_module():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    layout = (REPO / "docs" / "manual" / "layout.md").read_text(encoding="utf-8")
    for wing in WINGS[:-1]:
        assert f"`{wing}/`" in page, wing
        for path in (PACKAGE / wing).glob("*.py"):
            if path.stem != "__init__":
                assert path.stem in page and f"{path.name}" in layout, path


#: The public names of the release before the wings (0.1.0 as of the move): none may go.
PUBLIC_BEFORE_THE_WINGS = (
    "Analysis AnalysisOptions CapacityRule CategoryRule Layer Network Partition SiteStudy Study "
    "WhatIf add_planned_roads analyze analyze_areas_later analyze_study analyze_study_areas_later "
    "balanced_tiles compare coverage_chart gap_map gap_table_text graph_from_lines "
    "graph_from_network layers_from_study list_profiles load_profile load_study map_html "
    "network_from_download network_from_file network_from_graph network_from_study "
    "network_with_planned_roads read_communities read_facilities read_residents read_road_lines "
    "read_street_graph run_batch run_site_study run_sweep save_map save_scenario scorecard_table "
    "suggest_sites what_if what_if_map with_planned_facilities write_all write_amap_export "
    "write_figures write_outputs write_sample write_scorecard write_site_outputs"
).split()


def test_the_public_face_kept_every_name_of_the_release_before():
    assert set(PUBLIC_BEFORE_THE_WINGS) <= set(cjgis.__all__)
    for name in PUBLIC_BEFORE_THE_WINGS:
        assert getattr(cjgis, name).__module__.startswith("cjgis."), name
