"""Where the tests find the project and their data, wherever a test module sits in tests/."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CAPTURES = TESTS / "captures"
GOLDEN = TESTS / "golden"
INVENTORIES = TESTS / "inventories"

#: The lab's nginx watcher, shipped as package data and run with the system's python3.
WATCHER = ROOT / "templates" / "jinja" / "healthchecker" / "service_watch.py"


def load_watcher() -> ModuleType:
    """The watcher script (WATCHER) imported as a module, for its functions."""
    spec = importlib.util.spec_from_file_location("service_watch", WATCHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

#: The resilient forwarding agent for Linux edges, shipped as package data, run with python3.
RESILIENT_AGENT = ROOT / "templates" / "jinja" / "resilient" / "resilient_agent.py"


def load_resilient_agent() -> ModuleType:
    """The agent script (RESILIENT_AGENT) imported as a module, for its pure functions."""
    import sys

    spec = importlib.util.spec_from_file_location("resilient_agent", RESILIENT_AGENT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["resilient_agent"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
