"""Running verification over a Nornir inventory: all hosts in parallel, retried until it passes
or `wait` seconds have gone, with a report of every check."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from nornir.core import Nornir

from nornir_anycast.deploy.baseline import (
    inventory_key,
    load_baseline,
    read_routers,
    store_baseline,
)
from nornir_anycast.design.model import Design
from nornir_anycast.inventory.secrets import redact, redact_data
from nornir_anycast.verify.checks import Check
from nornir_anycast.verify.checks.flaps import check_flaps, check_unread


@dataclass
class HostOutcome:
    host: str
    role: str
    failed: bool
    seconds: float
    error: str | None = None


@dataclass
class VerifyReport:
    """What verify found. `as_json()` is the `--json` report's shape."""

    ok: bool
    converged_after_s: float | None
    checks: list[dict[str, Any]]
    hosts: list[HostOutcome] = field(default_factory=list)
    attempts: int = 1
    drained: dict[str, dict[str, Any]] = field(default_factory=dict)  # server -> its marker

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "converged_after_s": self.converged_after_s,
                "drained": self.drained, "checks": redact_data(self.checks)}


def _drop_connection(nr: Nornir, host: str) -> None:
    conns = nr.inventory.hosts[host].connections
    if "netmiko" in conns:
        try:
            nr.inventory.hosts[host].close_connection("netmiko")
        except Exception:  # a dead session may fail to close; drop it anyway
            conns.pop("netmiko", None)


def verify_once(nr: Nornir, design: Design) -> VerifyReport:
    """Run verify_anycast on every host of `nr` once."""
    from nornir_anycast.progress import ProgressProcessor
    from nornir_anycast.tasks.verify_anycast import verify_anycast  # see tasks/__init__

    # No line per host: the report's table has them, and an attempt that is retried is no news.
    proc = ProgressProcessor(label="verify", per_host=False)
    # on_failed: a host that failed an earlier attempt (or an earlier task of the runbook) is
    # checked again; verify reports, it does not skip.
    agg = nr.with_processors([proc]).run(task=verify_anycast, design=design,
                                         name="verify_anycast", on_failed=True)
    checks: list[dict[str, Any]] = []
    hosts = []
    for name, multi in agg.items():
        res = multi[0]
        error = None
        if res.exception is not None:
            error = redact(f"{type(res.exception).__name__}: {res.exception}")
            _drop_connection(nr, name)  # reconnect on the next attempt
            checks.append({"name": "host_reachable", "host": name, "passed": False,
                           "expected": "host answers", "actual": error,
                           "message": f"{name}: {error}", "severity": "error"})
        elif isinstance(res.result, list):
            checks.extend(redact_data(res.result))  # device text may echo a secret
        hosts.append(HostOutcome(host=name, role=design.hosts[name].role, failed=multi.failed,
                                 seconds=round(proc.seconds.get(name, 0.0), 3), error=error))
    ok = bool(checks) and all(c["passed"] for c in checks) and not agg.failed
    return VerifyReport(ok=ok, converged_after_s=None, checks=checks, hosts=hosts)


def read_drained(nr: Nornir, design: Design) -> dict[str, dict[str, Any]]:
    """The drained servers among `nr`'s hosts, by name, with their marker ({"phase", ...}).

    A server that cannot be read counts as not drained (verify reports it unreachable).
    """
    from nornir_anycast.tasks.read_drain_state import read_drain_state

    servers = nr.filter(filter_func=lambda h: h.name in design.hosts
                        and design.hosts[h.name].role == "server")
    if not servers.inventory.hosts:
        return {}
    agg = servers.run(task=read_drain_state, design=design, name="read_drain_state",
                      on_failed=True)
    return {name: multi[0].result for name, multi in agg.items()
            if not multi.failed and isinstance(multi[0].result, dict)}


def flap_checks(nr: Nornir, design: Design, *, store: bool = True,
                now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Read the routers' session down counters, compare them with the stored baseline, store
    the new ones (unless `store` is False): the flap warnings and notes as check dicts.

    nornir_anycast.deploy.baseline keeps the baseline, nornir_anycast.verify.checks.flaps
    judges. A router with no baseline yet is only recorded; one that cannot be read gets a
    `session_counters` warning and keeps its old baseline.
    """
    found = read_routers(nr, design)
    key = inventory_key(nr)
    stored = load_baseline(key)
    out: list[Check] = []
    for name in sorted(found.counters):
        before = stored.get(name)
        out += check_flaps(design.hosts[name], design,
                           before.sessions if before is not None else None,
                           found.counters[name], by=before.by if before else "deploy",
                           recorded_at=before.recorded_at if before else None, now=now)
    out += [check_unread(name, error) for name, error in sorted(found.errors.items())]
    if store and found.counters:
        try:
            store_baseline(key, found.counters, by="verify", now=now)
        except OSError as exc:  # the warnings stand; the next verify compares with the old ones
            out.append(Check(name="session_counters", host=sorted(found.counters)[0],
                             passed=True, expected="the counters stored", actual=None,
                             severity="warning",
                             message=f"could not store the session down counters: {exc}"))
    return [dict(redact_data(c.as_dict())) for c in out]


def run_verify(nr: Nornir, design: Design | None = None, wait: float = 0.0,
               interval: float = 0.5, on_attempt: Any = None,
               everyone: Nornir | None = None, baseline: bool = True) -> VerifyReport:
    """Verify, retrying every `interval` s until everything passes or `wait` s have gone.

    `design` None: the one attached to `nr`'s inventory when it was loaded
    (nornir_anycast.design.registry). Verify only reads, so a dry run (`InitNornir(dry_run=True)`)
    verifies and retries the same way.

    `converged_after_s` is the time from the start to the first passing attempt (None if none).
    `on_attempt(attempt, report, elapsed)` is called after each failed attempt that is retried
    (not after the last one: its report is the one returned).
    Each attempt first reads which servers are drained (their marker,
    nornir_anycast.device.drain_marker) from `everyone` (the whole inventory; default `nr`): a
    drained server is expected out of the ECMP set, whichever hosts `nr` checks.

    With `baseline` (default), once the attempts are over the routers' session down counters
    are compared with the ones stored by deploy or the previous verify, and stored again (not
    on a dry run): a session that went down meanwhile is a warning check (`severity`
    `warning`, `passed` True: `ok` does not change; see `flap_checks`).
    """
    from nornir_anycast.design.ecmp import with_drained
    from nornir_anycast.design.registry import NoDesignError, lookup

    design = design if design is not None else lookup(nr)
    if design is None:
        raise NoDesignError("no anycast design for this inventory: load it with the "
                            "AnycastInventory plugin or nornir_anycast.inventory.load_nornir, "
                            "or pass design=")
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        drained = read_drained(everyone if everyone is not None else nr, design)
        report = verify_once(nr, with_drained(design, set(drained)))
        report.drained = drained
        report.attempts = attempt
        elapsed = time.monotonic() - start
        if report.ok:
            report.converged_after_s = round(elapsed, 3)
            break
        if elapsed + interval > wait:
            break
        if on_attempt is not None:
            on_attempt(attempt, report, elapsed)
        time.sleep(interval)
    if baseline:
        report.checks.extend(flap_checks(nr, design, store=not nr.data.dry_run))
    return report
