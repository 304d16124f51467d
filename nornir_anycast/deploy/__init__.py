"""Stage 5, deploy: applying the design to every host in parallel, with a journal for rollback.

- `runner`: `run_deploy` over a Nornir inventory (DeployReport);
- `gate`: servers reload BGP one at a time (BgpGate);
- `journal`: what deploy changed, step by step;
- `rollback`: deploy, verify, and put every changed host back when verify fails.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nornir_anycast.deploy.runner import DeployReport, HostDeploy, run_deploy

__all__ = ['DeployReport', 'HostDeploy', 'run_deploy']


def __getattr__(name: str) -> Any:
    # Lazy: the runner imports the Nornir tasks, which import this stage's modules.
    if name in __all__:
        return getattr(importlib.import_module("nornir_anycast.deploy.runner"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
