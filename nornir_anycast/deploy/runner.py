"""Running deploy over a Nornir inventory: every host in parallel (Nornir's threaded runner),
servers that must reload BGP taking turns through one shared BgpGate."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nornir.core import Nornir

from nornir_anycast.deploy.gate import BgpGate
from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import NoDesignError, lookup
from nornir_anycast.inventory.secrets import redact, redact_data


@dataclass
class HostDeploy:
    host: str
    role: str
    changed: bool
    failed: bool
    seconds: float
    diff: str
    error: str | None
    actions: list[str]
    drained: dict[str, Any] | None = None  # a drained server's marker (nornir_anycast.drain.runner)
    # deploy --rollback-on-failure: {"restored": [...], "failed": bool, "error"} when rolled back
    rollback: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        data = {"changed": self.changed, "failed": self.failed, "seconds": self.seconds,
                "diff": self.diff, "error": self.error, "drained": self.drained}
        if self.rollback is not None:
            data["rollback"] = self.rollback
        return dict(redact_data(data))


@dataclass
class DeployReport:
    ok: bool
    dry_run: bool
    hosts: list[HostDeploy]

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "hosts": {h.host: h.as_json() for h in self.hosts}}


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 2000 else text[:2000] + "..."


def design_of(nr: Nornir, design: Design | None) -> Design:
    """`design`, or the one attached to `nr`'s inventory when it was loaded.

    Raises:
        NoDesignError: neither.
    """
    found = design if design is not None else lookup(nr)
    if found is None:
        raise NoDesignError("no anycast design for this inventory: load it with the "
                            "AnycastInventory plugin or nornir_anycast.load_nornir, or pass "
                            "the design")
    return found


def dry_run_of(nr: Nornir, dry_run: bool | None) -> bool:
    """`dry_run`, or Nornir's own (`InitNornir(dry_run=True)`) when it is None."""
    return bool(nr.data.dry_run) if dry_run is None else dry_run


def run_deploy(nr: Nornir, design: Design | None = None, *, dry_run: bool | None = None,
               batch: int = 1, gate: BgpGate | None = None,
               journal: Journal | None = None, baseline: bool = True) -> DeployReport:
    """Deploy every host of `nr`; the others still complete when one fails.

    `design`: default the one attached at load time; `dry_run`: default Nornir's
    (`InitNornir(dry_run=True)` makes this a dry run that changes nothing). Servers already
    announcing take turns through `gate` (default: a new BgpGate of `batch` places) when their
    change reloads BGP; `gate.log` records who held a place when. With `journal`, each host's
    steps are recorded there for a rollback (nornir_anycast.deploy.rollback). With `baseline`
    (default) and not on a dry run, the session down counters of every router that deployed
    are recorded once all hosts have applied, for verify to compare with
    (nornir_anycast.deploy.baseline); a router whose counters cannot be read gets no baseline
    (its next verify records one), and the deploy's result does not change.
    """
    from nornir_anycast.progress import ProgressProcessor
    from nornir_anycast.tasks.deploy_anycast import deploy_anycast  # see tasks/__init__

    design = design_of(nr, design)
    dry_run = dry_run_of(nr, dry_run)
    gate = gate or BgpGate(batch=batch)
    proc = ProgressProcessor(label="deploy")
    agg = nr.with_processors([proc]).run(task=deploy_anycast, design=design, dry_run=dry_run,
                                         gate=gate, journal=journal, name="deploy_anycast")
    hosts = []
    for name, multi in agg.items():
        res = multi[0]
        exc = res.exception
        error = _error_line(exc) if exc is not None else None
        if error and name not in error.split(":", 1)[0]:
            error = f"{name}: {error}"
        result = res.result if isinstance(res.result, dict) else {}
        # What is printed and written as a report never holds a secret
        # (nornir_anycast.inventory.secrets):
        # a diff of bird.conf shows its `password` line, a device may echo a command.
        hosts.append(HostDeploy(
            host=name, role=design.hosts[name].role, changed=bool(res.changed),
            failed=multi.failed, seconds=round(proc.seconds.get(name, 0.0), 3),
            diff=redact(res.diff or ""), error=redact(error) if error else None,
            actions=[redact(str(a)) for a in result.get("actions", [])],
            drained=result.get("drained"),
        ))
    if baseline and not dry_run:
        _record_baseline(nr, design, {h.host for h in hosts if not h.failed})
    return DeployReport(ok=not agg.failed, dry_run=dry_run,
                        hosts=sorted(hosts, key=lambda h: h.host))


def _record_baseline(nr: Nornir, design: Design, deployed: set[str]) -> None:
    """The routers' down counters after deploy (nornir_anycast.deploy.baseline)."""
    from nornir_anycast.deploy.baseline import record_baseline

    ok = nr.filter(filter_func=lambda h: h.name in deployed)
    try:
        record_baseline(ok, design, by="deploy")
    except OSError as exc:  # the state directory is not writable: verify records one later
        logging.getLogger(__name__).warning("session counters not recorded: %s", exc)
