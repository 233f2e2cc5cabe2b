"""Crier's import graph: which package imports which, and every cycle (`make import-graph`).

Reads the source with `ast` (nothing is imported, so it runs on a broken tree too) and prints one
line per package of `crier` with the packages it imports, then each cycle: between packages
(`approval -> publishing -> approval`) and between modules (`core.crypto -> core.settings ->
core.crypto`). Exit status 1 when there is a cycle, so `make lint` keeps dependencies one-way.

Every import counts, also one inside a function (deferring an import hides a cycle, it does not
remove it), except those under `if TYPE_CHECKING:`: they name a type for the checker and create no
dependency at run time.

    python scripts/import_graph.py            # the graph and the cycles
    python scripts/import_graph.py --dot      # the package graph for Graphviz (`| dot -Tsvg`)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = "crier"
SOURCE = Path(__file__).resolve().parent.parent / "src" / ROOT

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """`crier.approval.service` -> `approval`; a top-level module (`crier.app`) is its own package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import under `node`, skipping the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from _imports(orelse)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _imports(child)


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `crier` that `module` imports (`from pkg import name` counts `pkg.name` when
    that is a module, else `pkg`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        for target in targets:
            # `import crier.a.b` names the deepest module of the path that exists.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] == ROOT and target != module:
                found.add(target)
    return found


def module_graph() -> Graph:
    paths = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}
    known = set(paths)
    return {module: imported_modules(module, path, known) for module, path in paths.items()}


def package_graph(modules: Graph) -> Graph:
    packages: Graph = defaultdict(set)
    for module, targets in modules.items():
        source = package_of(module)
        packages[source]  # every package appears, also one that imports no other
        packages[source].update(package_of(target) for target in targets if package_of(target) != source)
    return dict(packages)


def cycles(graph: Graph) -> list[tuple[list[str], list[str]]]:
    """Each strongly connected component with more than one node (Tarjan): its members, and a
    shortest cycle through its first member (the component may hold more cycles than that one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted((component, _shortest_cycle(graph, component)) for component in components)


def _shortest_cycle(graph: Graph, component: list[str]) -> list[str]:
    """A shortest cycle through the component's first node (breadth-first inside the component)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, set()) & members):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    return component  # pragma: no cover - a component always has a cycle through each node


def _short(module: str) -> str:
    return module.removeprefix(f"{ROOT}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dot", action="store_true", help="print the package graph in Graphviz's language")
    args = parser.parse_args(argv)
    modules = module_graph()
    packages = package_graph(modules)
    if args.dot:
        print(f"digraph {ROOT} {{")
        for source in sorted(packages):
            for target in sorted(packages[source]):
                print(f'  "{source}" -> "{target}";')
        print("}")
        return 0
    width = max(len(name) for name in packages)
    print(f"{ROOT}: {len(packages)} packages, {len(modules)} modules; package -> the packages it imports")
    for source in sorted(packages):
        print(f"  {source:<{width}} -> {', '.join(sorted(packages[source])) or '(none)'}")
    package_cycles = cycles(packages)
    module_cycles = cycles(modules)
    for label, found in (("package", package_cycles), ("module", module_cycles)):
        print(f"{label} cycles: {len(found) or 'none'}")
        for members, cycle in found:
            print("  " + " -> ".join(_short(node) for node in cycle))
            others = [member for member in members if member not in cycle]
            if others:
                print(f"    the same knot also holds {', '.join(_short(member) for member in others)}")
            # Every import inside the knot: breaking the knot means removing enough of these.
            for importer, imported in _edges_within(modules, set(members), by_package=label == "package"):
                print(f"    {_short(importer)} imports {_short(imported)}")
    return 1 if package_cycles or module_cycles else 0


def _edges_within(modules: Graph, members: set[str], *, by_package: bool) -> list[tuple[str, str]]:
    """The module imports that link the members of a knot (packages or modules) to each other."""
    node = package_of if by_package else (lambda module: module)
    return [
        (module, imported)
        for module, targets in sorted(modules.items())
        if node(module) in members
        for imported in sorted(targets)
        if node(imported) in members and node(imported) != node(module)
    ]


if __name__ == "__main__":
    sys.exit(main())
