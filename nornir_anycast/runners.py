"""The runners of every stage in one place, for runbooks (re-exported by the package):

    from nornir_anycast import load_nornir, run_deploy, run_verify

Each runs a stage over a whole Nornir object and returns a report; `design` defaults to the
design attached at load time and `dry_run` to Nornir's (`InitNornir(dry_run=True)`). This
module sits above every stage, so it is where deploy meets verify:
`run_deploy_with_rollback` here passes run_verify to nornir_anycast.deploy.rollback.
"""

from __future__ import annotations

from typing import Any

from nornir.core import Nornir

from nornir_anycast.deploy.rollback import RollbackRun
from nornir_anycast.deploy.rollback import run_deploy_with_rollback as _with_rollback
from nornir_anycast.deploy.runner import DeployReport, run_deploy
from nornir_anycast.design.model import Design
from nornir_anycast.drain.runner import DrainReport, run_drain, run_undrain
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.verify.runner import VerifyReport, run_verify


def run_deploy_with_rollback(nr: Nornir, design: Design | None = None,
                             **kwargs: Any) -> RollbackRun[VerifyReport]:
    """Deploy, verify with run_verify, and roll back when either failed
    (nornir_anycast.deploy.rollback.run_deploy_with_rollback, whose keyword arguments it takes;
    `verify=` replaces run_verify)."""
    kwargs.setdefault("verify", run_verify)
    result: RollbackRun[VerifyReport] = _with_rollback(nr, design, **kwargs)
    return result


__all__ = ["DeployReport", "DrainReport", "RollbackRun", "VerifyReport", "load_nornir",
           "run_deploy", "run_deploy_with_rollback", "run_drain", "run_undrain", "run_verify"]
