"""Nornir task: read a server's drain marker (nornir_anycast.device.drain_marker)."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.device import drain_marker
from nornir_anycast.device.shell import shell_for


def read_drain_state(task: Task, *, design: Design | None = None,
                     dry_run: bool | None = None) -> Result:
    """Read whether this server is drained (its marker `paths.drain_marker`).

    Hosts other than Linux servers are never drained (result None, nothing sent). It only
    reads, so a dry run reads too.

    Returns:
        Result with `result` = None (not drained) or {"phase", "since", "by"};
        `changed` = False (it only reads).
    """
    del dry_run  # read-only
    me = design_for(task, design).hosts[task.host.name]
    if me.role != "server" or me.platform != "linux":
        return Result(host=task.host, result=None, changed=False)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    state = drain_marker.read_state(shell_for(conn, me), me)
    return Result(host=task.host, result=state.as_dict() if state else None, changed=False)
