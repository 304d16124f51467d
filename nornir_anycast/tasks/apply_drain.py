"""Nornir task: put a server's BIRD in a drain phase (or back to announcing), without a reset."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.device.shell import shell_for
from nornir_anycast.drain.phase import apply_phase


def apply_drain(task: Task, *, phase: str | None, design: Design | None = None,
                dry_run: bool | None = None) -> Result:
    """Render this server's bird.conf in `phase` and make BIRD use it (`birdc configure`).

    `phase` "lowered": announced with local preference 0 and the graceful shutdown community
    65535:0 (the edge moves traffic to the other servers); "withdrawn": nothing announced; None:
    announcing as the inventory says (undrain). The preference and the withdrawal live in the
    export filter, so the BGP session is not reset. The drain marker (`paths.drain_marker`) is
    written before BIRD changes and removed (phase None) only after it announces again, so
    deploy and verify always see the server as drained while any drain step is in force. The
    file is staged as `<path>.na-new` and checked with `bird -p` on the server first
    (nornir_anycast.drain.phase). A dry run (`dry_run`, default Nornir's) only reads.

    Returns:
        Result with `result` = {"phase", "previous" (the marker before, or None),
        "bird_conf_changed", "since_before", "since_after" (BGP protocol -> Since)},
        `changed` = True when the marker or bird.conf changed, `diff` of bird.conf
        (passwords shown as `********`).
    """
    d = design_for(task, design)
    me = d.hosts[task.host.name]
    shell = shell_for(task.host.get_connection(CONNECTION_NAME, task.nornir.config), me)
    change = apply_phase(shell, me, d, phase, dry_run=task.is_dry_run(dry_run))
    return Result(host=task.host, result=change.result, diff=change.diff, changed=change.changed)
