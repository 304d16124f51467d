"""Stage 5, deploy: applying the design to every host in parallel, with a journal for rollback.

- `runner`: `run_deploy` over a Nornir inventory (DeployReport);
- `gate`: servers reload BGP one at a time (BgpGate);
- `journal`: what deploy changed, step by step;
- `rollback`: deploy, verify, and put every changed host back when verify fails.
"""

from __future__ import annotations

from nornir_anycast.deploy.runner import DeployReport, HostDeploy, run_deploy

__all__ = ["DeployReport", "HostDeploy", "run_deploy"]
