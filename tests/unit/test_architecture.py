"""Rules of the house that a reviewer would otherwise check by hand."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "functions" / "rebalancer" / "domain"

# Top-level modules that do I/O or pull a client library; the domain must stay free of them.
FORBIDDEN_IN_DOMAIN = {
    "alpaca",
    "asyncio",
    "firebase_admin",
    "firebase_functions",
    "google",
    "grpc",
    "http",
    "httpx",
    "os",
    "pathlib",
    "requests",
    "socket",
    "subprocess",
    "urllib",
}


def forbidden_imports(source: str) -> set[str]:
    """Return the forbidden top-level modules a module's source imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & FORBIDDEN_IN_DOMAIN
    return found


def test_the_checker_catches_io_imports() -> None:
    assert forbidden_imports("import requests\nfrom google.cloud import firestore") == {
        "requests",
        "google",
    }
    assert forbidden_imports("from decimal import Decimal\nfrom .models import X") == set()


def test_domain_modules_import_nothing_that_does_io() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    assert modules, "the domain package has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in modules
        if (found := forbidden_imports(path.read_text()))
    }
    assert offenders == {}


def test_importing_the_domain_loads_no_io_library() -> None:
    code = (
        "import importlib, json, pkgutil, sys\n"
        "before = set(sys.modules)\n"
        "import rebalancer.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'rebalancer.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    )
    # Site .pth files may pre-load namespace packages such as `google`; count only new ones.
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert loaded & {"alpaca", "firebase_admin", "google", "grpc", "requests", "httpx"} == set()


PACKAGE = ROOT / "functions" / "rebalancer"
# Layers import downward only: domain <- service <- adapters <- entry points (and the
# wiring, the schemas and the params, which only the entry points use).
LAYERS = {"domain": 0, "service": 1, "adapters": 2, "entrypoints": 3}
TOP_LEVEL = {"wiring": 3, "api": 3, "schemas": 3, "config": 3}


def module_name(path: Path) -> str:
    """`rebalancer.service.stored_plans` for functions/rebalancer/service/stored_plans.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The layer of a `rebalancer.*` module (None for the package itself)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return LAYERS.get(parts[1], TOP_LEVEL.get(parts[1]))


def runtime_imports(source: str) -> set[str]:
    """The `rebalancer.*` modules a module imports when it runs (function-level and lazy
    imports included, imports under `if TYPE_CHECKING:` left out)."""
    tree = ast.parse(source)
    checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            checking |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "rebalancer":
                found |= {f"rebalancer.{alias.name}" for alias in node.names}
            elif node.module.startswith("rebalancer."):
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("rebalancer.")}
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "lazy"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).startswith("rebalancer.")
        ):
            found.add(str(node.args[0].value))
    return found


def imported_modules(source: str) -> set[str]:
    """Every absolute module a source file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """Every `rebalancer` module and the `rebalancer` modules it imports at run time."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in runtime_imports(path.read_text()) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_the_graph_checker_sees_lazy_and_function_imports_but_not_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from rebalancer.domain import models\n"
        "if TYPE_CHECKING:\n    from rebalancer.service import plans\n"
        "def f():\n    from rebalancer.service.market import read_user\n"
        "api = lazy('rebalancer.api')\n"
    )
    found = runtime_imports(source)
    assert {"rebalancer.domain.models", "rebalancer.service.market", "rebalancer.api"} <= found
    assert "rebalancer.service.stored_plans" not in found


def test_layers_import_downward_only() -> None:
    upward = sorted(
        f"{importer} -> {imported}"
        for importer, targets in import_graph().items()
        for imported in targets
        if (a := layer(importer)) is not None and (b := layer(imported)) is not None and b > a
    )
    assert upward == []


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a graph, each as the path that closes it."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert find_cycles(import_graph()) == []


def test_the_fakes_are_not_deployed_and_nothing_deployed_needs_them() -> None:
    config = json.loads((ROOT / "firebase.json").read_text())
    (functions,) = config["functions"]
    deployed = ROOT / functions["source"]
    assert not (deployed / "fakes").exists()
    assert (ROOT / "fakes" / "memory_store.py").exists()
    users = sorted(
        module_name(path)
        for path in [*PACKAGE.rglob("*.py"), deployed / "main.py"]
        if any(m.split(".")[0] == "fakes" for m in imported_modules(path.read_text()))
    )
    assert users == []


COLLECTIONS = (
    "users",
    "userSettings",
    "rebalanceHistory",
    "driftLogs",
    "driftAlerts",
    "leases",
    "limits",
    "nightlyRuns",
    "systemStatus",
    "simulations",
)


def code_strings(source: str) -> list[str]:
    """The string literals of a module's code, docstrings left out."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_only_adapters_know_where_documents_live() -> None:
    pattern = re.compile(r"(^|/)(" + "|".join(COLLECTIONS) + r")(/|$)")
    leaks = sorted(
        f"{module_name(path)}: {text!r}"
        for layer in ("domain", "service")
        for path in (PACKAGE / layer).rglob("*.py")
        for text in code_strings(path.read_text())
        if pattern.search(text)
    )
    assert leaks == []


def test_the_document_finder_sees_paths_in_code_but_not_in_docstrings() -> None:
    source = '"""Writes `users/{uid}/x`."""\nPATH = "users/"\ndef f():\n    """users/a"""\n'
    assert code_strings(source) == ["users/"]


def test_no_two_modules_share_a_name_across_layers() -> None:
    names: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            names.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
