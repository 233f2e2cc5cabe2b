"""`make import-graph` (issue 10 item 9): package edges and cycles read from the source with `ast`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and annotations resolve through sys.modules
    spec.loader.exec_module(module)
    return module


graph = _script()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_cycle_between_packages_is_found_with_the_shortest_way_round():
    modules = {
        "crier.a.service": {"crier.b.repository"},
        "crier.b.repository": {"crier.c.models"},
        "crier.b.service": {"crier.a.service"},
        "crier.c.models": set(),
    }

    packages = graph.package_graph(modules)

    assert packages == {"a": {"b"}, "b": {"a", "c"}, "c": set()}
    assert graph.cycles(packages) == [(["a", "b"], ["a", "b", "a"])]
    assert graph.cycles(modules) == []  # no module imports itself back: only the packages knot


def test_an_acyclic_graph_has_no_cycles():
    assert graph.cycles({"api": {"core"}, "core": set(), "app": {"api", "core"}}) == []


def test_imports_under_type_checking_do_not_count_and_deferred_ones_do(tmp_path, monkeypatch):
    _write(
        tmp_path / "crier",
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/settings.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from crier.core.crypto import Key\n"
                "def keys():\n    from crier.core import crypto\n    return crypto\n"
            ),
            "core/crypto.py": "from .settings import keys\n",
        },
    )
    monkeypatch.setattr(graph, "SOURCE", tmp_path / "crier")

    modules = graph.module_graph()

    assert modules["crier.core.crypto"] == {"crier.core.settings"}
    assert modules["crier.core.settings"] == {"crier.core.crypto"}  # the function's import, not the type's
    assert graph.cycles(modules)[0][1] == ["crier.core.crypto", "crier.core.settings", "crier.core.crypto"]
    assert graph.main([]) == 1


def test_crier_imports_run_one_way_between_packages_and_between_modules(capsys):
    status = graph.main([])

    output = capsys.readouterr().out
    assert "package cycles: none" in output and "module cycles: none" in output, output
    assert status == 0
