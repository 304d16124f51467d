"""Shared by the documentation tests (tests/docs/): scripts/docs_outputs.py as a module."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from paths import ROOT


def load_docs_outputs() -> ModuleType:
    """scripts/docs_outputs.py (not a package: loaded by path, once)."""
    name = "docs_outputs"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "docs_outputs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def docs_lab_prefix(base: str) -> str:
    """A lab prefix of the docs tests' own, beside the session's lab of `base` (1-8 a-z0-9)."""
    prefix = base[:7] + "d"
    return prefix if prefix != base else base[:7] + "e"
