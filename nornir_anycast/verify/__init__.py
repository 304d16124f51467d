"""Stage 6, verify: the state the inventory implies, compared with what the devices say.

- `runner`: `run_verify` over a Nornir inventory, retried until it passes (VerifyReport);
- `host`: one host's queries, by role (what the task nornir_anycast.tasks.verify_anycast runs);
- `checks/`: the pure checks by area (sessions, health, edge, isp, safety, http, bfd), expected
  state from the design vs parsed device state. The expected ECMP set itself is the design's
  (AnycastService.ecmp, derived in nornir_anycast.design).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nornir_anycast.verify.runner import VerifyReport, run_verify, verify_once

__all__ = ['VerifyReport', 'run_verify', 'verify_once']


def __getattr__(name: str) -> Any:
    # Lazy: the runner imports the Nornir tasks, which import this stage's modules.
    if name in __all__:
        return getattr(importlib.import_module("nornir_anycast.verify.runner"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
