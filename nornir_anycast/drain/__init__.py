"""Stage 7, drain: taking a server out of service without failing a request, and back.

- `runner`: `run_drain`, `run_undrain` (DrainReport).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nornir_anycast.drain.runner import DrainError, DrainReport, run_drain, run_undrain

__all__ = ['DrainError', 'DrainReport', 'run_drain', 'run_undrain']


def __getattr__(name: str) -> Any:
    # Lazy: the runner imports the Nornir tasks, which import this stage's modules.
    if name in __all__:
        return getattr(importlib.import_module("nornir_anycast.drain.runner"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
