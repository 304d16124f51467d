"""`deploy --rollback-on-failure`: deploy with a journal, verify, and put every changed host back
when deploy or verify failed (or confirm VyOS's commit-confirm when everything passed).

Verify is a higher stage than deploy: the caller passes it in (`verify=run_verify`, as the CLI
and nornir_anycast.run_deploy_with_rollback do), this module does not import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from nornir.core import Nornir

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.deploy.runner import DeployReport, design_of, dry_run_of, run_deploy
from nornir_anycast.design.model import Design
from nornir_anycast.inventory.secrets import redact


class VerifyOutcome(Protocol):
    """What rollback needs of a verify report (nornir_anycast.verify.VerifyReport is one)."""

    @property
    def ok(self) -> bool: ...

    def as_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=VerifyOutcome)


@dataclass
class RollbackRun(Generic[R]):
    """What `deploy --rollback-on-failure` did: the deploy, the verify after it, and, when one of
    them failed, the rollback per host and the verify after the rollback."""

    deploy: DeployReport
    verify: R | None
    rolled_back: bool = False
    restored: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> rollback entry
    verify_after: R | None = None
    confirmed: list[str] = field(default_factory=list)  # VyOS hosts whose commit was confirmed
    error: str | None = None  # confirm failed, ...

    @property
    def ok(self) -> bool:
        """The deploy stands: it and verify passed (and VyOS commits were confirmed)."""
        return (self.deploy.ok and self.verify is not None and self.verify.ok
                and not self.rolled_back and self.error is None)

    def as_json(self) -> dict[str, Any]:
        data = self.deploy.as_json()
        data["ok"] = self.ok
        data["verify"] = self.verify.as_json() if self.verify is not None else None
        data["rolled_back"] = self.rolled_back
        data["verify_after_rollback"] = (self.verify_after.as_json()
                                         if self.verify_after is not None else None)
        data["confirmed"] = self.confirmed
        if self.error:
            data["error"] = redact(self.error)
        return data


def run_deploy_with_rollback(nr: Nornir, design: Design | None = None, *, verify: Callable[..., R],
                             wait: float = 30.0, batch: int = 1, confirm_minutes: int = 5,
                             everyone: Nornir | None = None,
                             previous: tuple[Nornir, Design] | None = None,
                             dry_run: bool | None = None) -> RollbackRun[R]:
    """Deploy `nr` recording each step, verify (`wait` s), and roll back when either failed.

    `verify(nr, design, wait=..., everyone=...)` is the verify runner (run_verify). A dry run
    (`dry_run`, default Nornir's) is a deploy dry run and a verify: nothing is changed, so
    nothing is rolled back or confirmed.

    The rollback runs on every host with recorded steps (nornir_anycast.tasks.rollback_anycast),
    then verify runs again, against `previous` (the inventory the hosts ran before; default the
    same one) with the same `wait`. VyOS hosts are committed with `commit-confirm
    confirm_minutes` and confirmed (then saved) only once verify passed.
    """
    from nornir_anycast.tasks.confirm_commit import confirm_commit
    from nornir_anycast.tasks.rollback_anycast import rollback_anycast

    design = design_of(nr, design)
    if dry_run_of(nr, dry_run):
        report = run_deploy(nr, design, dry_run=True, batch=batch)
        return RollbackRun(deploy=report, verify=verify(nr, design, wait=0.0, everyone=everyone))
    journal = Journal(confirm_minutes=confirm_minutes)
    report = run_deploy(nr, design, dry_run=False, batch=batch, journal=journal)
    vreport = verify(nr, design, wait=wait, everyone=everyone)
    run = RollbackRun(deploy=report, verify=vreport)
    if report.ok and vreport.ok:
        pending = [h for h in journal.changed_hosts()
                   if (j := journal.get(h)) is not None and j.commit_confirm_minutes is not None]
        if pending:
            agg = nr.filter(filter_func=lambda h: h.name in pending).run(
                task=confirm_commit, journal=journal, dry_run=False, name="confirm_commit")
            run.confirmed = sorted(n for n, m in agg.items() if not m.failed)
            bad = [f"{n}: {m[0].exception}" for n, m in agg.items() if m.failed]
            if bad:
                run.error = "confirm failed (the router reverts by itself): " + "; ".join(bad)
        return run

    changed = journal.changed_hosts()
    run.rolled_back = True
    if changed:
        agg = nr.filter(filter_func=lambda h: h.name in changed).run(
            task=rollback_anycast, design=design, journal=journal, dry_run=False,
            name="rollback_anycast", on_failed=True)
        for name, multi in agg.items():
            res = multi[0]
            log = journal.get(name)
            entry: dict[str, Any] = {
                "restored": [redact(str(x)) for x in (res.result or [])],
                "failed": multi.failed,
                "error": redact(str(res.exception)) if res.exception is not None else None,
                "journal": log.as_json() if log is not None else None,
            }
            run.restored[name] = entry
    by_host = {h.host: h for h in report.hosts}
    for name, entry in run.restored.items():
        if name in by_host:
            by_host[name].rollback = entry
    if previous is not None:
        run.verify_after = verify(previous[0], previous[1], wait=wait)
    else:
        run.verify_after = verify(nr, design, wait=wait, everyone=everyone)
    return run
