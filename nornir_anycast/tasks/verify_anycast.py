"""Nornir task: verify one host of an anycast design against the state the inventory implies."""

from __future__ import annotations

from nornir.core.task import Result, Task

from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.exceptions import AnycastError
from nornir_anycast.inventory.secrets import redact_data
from nornir_anycast.verify.host import verify_host


def verify_anycast(task: Task, *, design: Design | None = None,
                   dry_run: bool | None = None) -> Result:
    """Verify one host: run the checks its role calls for and report each with expected/actual.

    Servers: BGP session to the edge (with `since`) and the anycast prefixes exported (none
    when drained); the BFD session to the edge Up when BFD is on at both ends; with
    `healthcheck.enabled`, `server_health` (anycast-healthchecker runs and announces every
    anycast prefix). Routers: every BGP session Established; an FRR edge's BFD sessions to the
    servers up with the inventory's timers; the edge's multipath set and kernel route per
    anycast prefix; route safety per server (rogue_announcements); the ISP's view (anycast
    prefix with the edge's AS path, no internal prefixes). Client: HTTP to each anycast address
    (and each destination NAT rule) answered by exactly the expected servers. The checks
    themselves are in nornir_anycast.verify.checks, the queries in nornir_anycast.verify.host.

    Args:
        task: the Nornir task (one host).
        design: the design of the whole inventory, carrying the drained servers
            (design.ecmp.with_drained, as run_verify passes it); default: the design derived
            when the inventory was loaded (nornir_anycast.design.registry.design_for).
        dry_run: accepted for the task convention; verify only reads, dry run or not.

    Returns:
        Result with `result` = list of check dicts (name, host, passed, expected, actual,
        message, severity `ok`/`error`: plain data, secrets redacted), `failed` = any check
        failed, `changed` = False (verify changes nothing). The flap warnings (the routers'
        down counters against the stored baseline) are not this task's: run_verify adds them
        once per run (nornir_anycast.verify.runner.flap_checks).

    Raises:
        NoDesignError: no `design=` and the inventory was not loaded by nornir_anycast.
        AnycastError: the host is not in the design.
    """
    del dry_run  # read-only
    whole = design_for(task, design)
    me = whole.hosts.get(task.host.name)
    if me is None:
        raise AnycastError(f"{task.host.name}: not in the anycast design of this inventory")
    found = verify_host(task, me, whole)
    return Result(
        host=task.host,
        result=redact_data([c.as_dict() for c in found]),  # device text may echo a secret
        failed=any(not c.passed for c in found),
        changed=False,
    )
