"""Rules of the house that a reviewer would otherwise check by hand."""

from __future__ import annotations

import ast
import json
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
