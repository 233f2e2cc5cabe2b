"""Dependencies run one way (issue 10): no import cycle between Crier's top-level packages.

The graph is read from the source with `ast`, so the test needs no import of Crier. Every import
counts, deferred ones (inside a function) too: deferring an import hides a cycle, it does not break
it. Only `if TYPE_CHECKING:` imports are left out, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import crier

SOURCE = Path(crier.__file__).parent

# Edges that still close a cycle, each with why; the test fails once one is gone, so the list can
# only shrink. A new cycle is fixed, never listed here.
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {
    # The worker's sender opens the worker's gated transaction (delivery.repository.transaction),
    # while delivery writes webhook events (webhooks.outbox) and starts the sender: the transaction
    # belongs below both, or is handed to the sender by the worker (webhooks and delivery work).
    ("webhooks", "delivery"): "webhooks.sender imports delivery.repository.transaction",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (child for orelse in node.orelse for child in [orelse, *_runtime_nodes(orelse)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    return [source, *(f"{source}.{alias.name}" for alias in node.names)]


def module_imports() -> dict[str, set[str]]:
    """Each module of crier and the crier names it imports (modules, or names inside them)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[module] = {
            name
            for node in _runtime_nodes(tree)
            for name in _imported(node, module, path.name == "__init__.py")
            if name.startswith("crier.")
        }
    return graph


def package_edges() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) -> the modules that make the edge."""
    edges: dict[tuple[str, str], set[str]] = {}
    for module, names in module_imports().items():
        source = module.split(".")[1] if "." in module else module
        for name in names:
            target = name.split(".")[1]
            if target != source:
                edges.setdefault((source, target), set()).add(module)
    return edges


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _explain(groups: list[list[str]], edges: dict[tuple[str, str], set[str]]) -> str:
    lines = []
    for group in groups:
        lines.append(" <-> ".join(group))
        lines += [
            f"  {source} -> {target}: {', '.join(sorted(edges[source, target]))}"
            for source in group
            for target in group
            if (source, target) in edges
        ]
    return "\n".join(lines)


def test_top_level_packages_import_each_other_one_way():
    edges = package_edges()
    groups = cycles(set(edges) - set(KNOWN_BACK_EDGES))
    assert not groups, "import cycles between packages of crier:\n" + _explain(groups, edges)


def test_known_back_edges_still_exist():
    """A back edge that was removed leaves the list, so nobody can add it again unnoticed."""
    gone = set(KNOWN_BACK_EDGES) - set(package_edges())
    assert not gone, f"these edges are gone; delete them from KNOWN_BACK_EDGES: {sorted(gone)}"


def test_core_modules_import_each_other_one_way():
    """core/ is what every package imports: its own modules must not need each other both ways."""
    graph = module_imports()
    modules = set(graph)
    edges = set()
    for module, names in graph.items():
        if not module.startswith("crier.core"):
            continue
        for name in names:
            target = name if name in modules else name.rpartition(".")[0]
            if target.startswith("crier.core") and target != module and target in modules:
                edges.add((module, target))
    assert not cycles(edges), f"import cycles inside crier.core: {cycles(edges)}"


def test_the_check_sees_a_cycle():
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert cycles({("a", "b"), ("b", "c")}) == []
