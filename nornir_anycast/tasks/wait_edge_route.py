"""Nornir task: wait until the edge forwards (or no longer forwards) a prefix to a next hop."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.device.shell import shell_for
from nornir_anycast.drain.edge import Table, wait_route


def wait_edge_route(task: Task, *, prefix: str, next_hop: str, present: bool,
                    table: Table = "kernel", timeout: float = 30.0, interval: float = 0.01,
                    design: Design | None = None, dry_run: bool | None = None) -> Result:
    """Poll the edge until `next_hop` is (`present`) or is not among the next hops it uses for
    `prefix` (`table` "kernel": the kernel route; "bgp": any valid BGP path); see
    nornir_anycast.drain.edge. It only reads, so a dry run polls too.

    Returns:
        Result with `result` = {"prefix", "next_hop", "present", "table", "seconds" (from the
        first poll to the answer), "polls", "next_hops" (as last seen), "error"}; `failed` when
        `timeout` passed first; `changed` = False (it only reads).
    """
    del dry_run  # read-only
    edge = design_for(task, design).hosts[task.host.name]
    shell = shell_for(task.host.get_connection(CONNECTION_NAME, task.nornir.config), edge)
    done, result = wait_route(shell, edge, prefix, next_hop, present=present, table=table,
                              timeout=timeout, interval=interval)
    return Result(host=task.host, result=result, changed=False, failed=not done)
