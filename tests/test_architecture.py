"""How the package is put together: imports flow one way, the public face matches use."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import networkx as nx

import cjgis

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "cjgis"


def _imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every cjgis module ``path`` imports, anywhere in it (deferred and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cjgis"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from cjgis import x: x is a module or a name of __init__
                found.update(a.name for a in node.names if (package / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("cjgis."))
    return found


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in package.glob("*.py"):
        if path.stem == "__init__":
            continue  # the lazy public face imports everything by design
        graph.add_node(path.stem)
        graph.add_edges_from((path.stem, m) for m in _imports(path, package) if m != path.stem)
    return graph


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


def test_pure_analysis_reads_no_study():
    graph = import_graph()
    assert not nx.has_path(graph, "analysis", "study")
    assert not nx.has_path(graph, "analysis", "inputs")
    for writer in ("report", "scorecard", "maps", "figures"):
        assert not nx.has_path(graph, "analysis", writer)


def test_public_names_load_and_complete():
    names = dir(cjgis)
    for name in cjgis.__all__:
        assert name in names
        assert getattr(cjgis, name) is not None
    assert cjgis.analyze_study.__module__ == "cjgis.inputs"
    assert cjgis.network_from_study.__module__ == "cjgis.inputs"


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
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules & set(cjgis.__all__) == set()
