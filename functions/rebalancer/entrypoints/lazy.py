"""Modules imported on first use: cold starts and deploy-time discovery skip them.

`main.py` is imported by every cold start and by deploy-time discovery (10 s limit); the
entry points only need the decorators then. The schemas (pydantic), the services and the
domain they pull are imported by the first call that uses them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A stand-in for a module that imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


def lazy(name: str) -> Any:
    """The module `name`, imported when it is first used."""
    return LazyModule(name)
