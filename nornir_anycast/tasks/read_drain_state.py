"""Nornir task: read a server's drain marker (nornir_anycast.device.drain_marker)."""

from __future__ import annotations

from nornir.core.task import Result, Task

from nornir_anycast.design.model import Design
from nornir_anycast.device import drain_marker as drain_state
from nornir_anycast.device.shell import Shell

CONNECTION_NAME = "netmiko"


def read_drain_state(task: Task, *, design: Design, dry_run: bool | None = None) -> Result:
    """Read whether this server is drained (its marker `paths.drain_marker`).

    Hosts other than Linux servers are never drained (result None, nothing sent).

    Returns:
        Result with `result` = None (not drained) or {"phase", "since", "by"};
        `changed` = False (it only reads).
    """
    me = design.hosts[task.host.name]
    if me.role != "server" or me.platform != "linux":
        return Result(host=task.host, result=None, changed=False)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    state = drain_state.read_state(Shell(conn, me.name), me)
    return Result(host=task.host, result=state.as_dict() if state else None, changed=False)
