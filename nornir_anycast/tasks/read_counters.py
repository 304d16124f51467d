"""Nornir task: read a router's session down counters (nornir_anycast.device.counters)."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.device.counters import read_counters as _read
from nornir_anycast.device.counters import reads_counters


def read_counters(task: Task, *, design: Design | None = None,
                  dry_run: bool | None = None) -> Result:
    """Read how often each BGP and BFD session of this router went down.

    Sends `show ip bgp neighbors` and, on an edge with BFD on, `show bfd peers counters`.
    Hosts that are not FRR or VyOS routers (servers, the client) have no such counters: result
    None, nothing sent. It only reads, so a dry run reads too.

    Returns:
        Result with `result` = None (not a router) or {peer address: {"bfd_down": int | None,
        "bgp_dropped": int | None}}; `changed` = False (it only reads).

    Raises:
        DeviceError: the router refused a command; ParseError: an answer is not the
            command's output.
    """
    del dry_run  # read-only
    me = design_for(task, design).hosts[task.host.name]
    if not reads_counters(me):
        return Result(host=task.host, result=None, changed=False)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    return Result(host=task.host, result=dict(_read(conn, me)), changed=False)
