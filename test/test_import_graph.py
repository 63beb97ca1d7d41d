"""No import cycle in any package of the project: every import statement of every module (at
the top, inside functions, under TYPE_CHECKING) is an edge, read from the source with ast."""
import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "profiling": REPO_ROOT / "profiling",
    "hummingbot.connector.exchange.stellar": REPO_ROOT / "hummingbot" / "connector" / "exchange" / "stellar",
    "stellar_sandbox": REPO_ROOT / "stellar_sandbox",
    "benchmarks": REPO_ROOT / "benchmarks",
    "hummingbot_stellar_cli": REPO_ROOT / "hummingbot_stellar_cli",
}


def module_files(package: str, folder: Path) -> Dict[str, Path]:
    modules = {}
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package, *parts])] = path
    return modules


def imported_names(module: str, path: Path) -> Set[str]:
    """Every module name `module` imports, as written (`from a import b` gives a and a.b)."""
    is_package = path.name == "__init__.py"
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(packages: Dict[str, Path]) -> Dict[str, Set[str]]:
    files: Dict[str, Path] = {}
    for package, folder in packages.items():
        files.update(module_files(package, folder))
    return {module: {name for name in imported_names(module, path) if name in files and name != module}
            for module, path in files.items()}


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle as [a, b, ..., a], or None (depth first, without recursion)."""
    done: Set[str] = set()
    for root in sorted(graph):
        if root in done:
            continue
        path = [root]
        pending = [iter(sorted(graph[root]))]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                pending.pop()
                done.add(path.pop())
            elif following in path:
                return path[path.index(following):] + [following]
            elif following not in done:
                path.append(following)
                pending.append(iter(sorted(graph.get(following, ()))))
    return None


def within(graph: Dict[str, Set[str]], prefix: str) -> Dict[str, Set[str]]:
    inside = {module for module in graph if module == prefix or module.startswith(prefix + ".")}
    return {module: graph[module] & inside for module in inside}


class TestTheCheckItself:
    def test_a_cycle_is_found_and_named(self):
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
        assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None

    def test_imports_inside_functions_and_type_checking_blocks_count(self, tmp_path):
        (tmp_path / "__init__.py").write_text("")
        (tmp_path / "one.py").write_text(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.two import Two\n")
        (tmp_path / "two.py").write_text("def later():\n    from . import one\n")
        graph = import_graph({"pkg": tmp_path})
        assert graph == {"pkg": set(), "pkg.one": {"pkg.two"}, "pkg.two": {"pkg", "pkg.one"}}
        assert find_cycle(graph) == ["pkg.one", "pkg.two", "pkg.one"]


@pytest.mark.parametrize("scope", [*sorted(PACKAGES), "all"])
def test_no_import_cycle(scope):
    graph = import_graph(PACKAGES)
    if scope != "all":
        graph = within(graph, scope)
        assert len(graph) > 5, f"no modules found for {scope}"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_hooks_reaches_the_measuring_points_only():
    graph = import_graph(PACKAGES)
    assert graph["profiling.hooks"] == {"hummingbot.connector.exchange.stellar",
                                        "hummingbot.connector.exchange.stellar.stellar_measurement"}


def test_the_connector_imports_nothing_of_profiling():
    graph = import_graph(PACKAGES)
    assert not {(module, imported) for module, edges in graph.items() if module.startswith("hummingbot.")
                for imported in edges if imported.startswith("profiling")}
