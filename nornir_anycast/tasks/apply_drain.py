"""Nornir task: put a server's BIRD in a drain phase (or back to announcing), without a reset."""

from __future__ import annotations

import shlex
from typing import Any

from nornir.core.task import Result, Task

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device import drain_marker as drain_state
from nornir_anycast.device import services
from nornir_anycast.device.commands import bird_command
from nornir_anycast.device.diff import unified_diff
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import ConfigCheckError, DeviceError, ParseError
from nornir_anycast.render.checkers import target_check_command
from nornir_anycast.tasks.deploy_anycast import NEW, PREV

CONNECTION_NAME = "netmiko"


def bgp_since(shell: Shell, me: HostModel) -> dict[str, str | None]:
    """When BIRD last changed each BGP session's state (`show protocols`' Since), by protocol
    name: unchanged across a step means the session was not reset."""
    from nornir_anycast.parsing import parse_output

    cmd = bird_command(me, "show protocols")
    text = shell.run(cmd.send).output
    try:
        parsed = parse_output(cmd.parse_platform, cmd.parse_command, text)
    except ParseError:
        return {}
    return {str(p.get("name")): p.get("since") for p in parsed.get("protocols", [])
            if str(p.get("proto", "")).upper() == "BGP"}


def apply_drain(task: Task, *, design: Design, phase: str | None,
                dry_run: bool | None = None) -> Result:
    """Render this server's bird.conf in `phase` and make BIRD use it (`birdc configure`).

    `phase` "lowered": announced with local preference 0 and the graceful shutdown community
    65535:0 (the edge moves traffic to the other servers); "withdrawn": nothing announced; None:
    announcing as the inventory says (undrain). The preference and the withdrawal live in the
    export filter, so the BGP session is not reset. The drain marker (`paths.drain_marker`) is
    written before BIRD changes and removed (phase None) only after it announces again, so
    deploy and verify always see the server as drained while any drain step is in force. The
    file is staged as `<path>.na-new` and checked with `bird -p` on the server first.

    Returns:
        Result with `result` = {"phase", "previous" (the marker before, or None),
        "bird_conf_changed", "since_before", "since_after" (BGP protocol -> Since)},
        `changed` = True when the marker or bird.conf changed, `diff` of bird.conf.
    """
    from nornir_anycast.render import render_host

    me = design.hosts[task.host.name]
    if me.role != "server" or me.platform != "linux":
        raise DeviceError(f"{me.name}: only servers (platform linux, role server) are drained")
    shell = Shell(task.host.get_connection(CONNECTION_NAME, task.nornir.config), me.name)
    previous = drain_state.read_state(shell, me)
    bird = services.bird(me)
    if not shell.run(bird.running).ok:
        raise DeviceError(f"{me.name}: BIRD is not running: run deploy first")
    rendered = render_host(me, design, drain=phase)["bird.conf"]
    current = shell.read_file(me.paths.bird_conf)
    conf_changed = current != rendered.content
    marker_changed = (previous is None) != (phase is None) or (
        previous is not None and previous.phase != phase)
    diff = ""
    if conf_changed:
        diff = unified_diff(current or "", rendered.content,
                            fromfile=f"{me.paths.bird_conf} (running)",
                            tofile=f"{me.paths.bird_conf} ({phase})")
    result: dict[str, Any] = {"phase": phase, "previous": previous.as_dict() if previous else None,
                              "bird_conf_changed": conf_changed}
    since_before = bgp_since(shell, me)
    result["since_before"] = since_before
    if task.is_dry_run(dry_run):
        result["since_after"] = since_before
        return Result(host=task.host, result=result, diff=diff, changed=False)

    if phase is not None and marker_changed:
        # Drained from now on for every deploy and verify, whoever runs them.
        drain_state.write_state(shell, me, phase, since=previous.since if previous else None)
    if conf_changed:
        q = shlex.quote(me.paths.bird_conf)
        staged = me.paths.bird_conf + NEW
        shell.write_file(staged, rendered.content, mode=rendered.mode)
        try:
            res = shell.run(target_check_command(rendered.checker or "bird2", staged))
            if not res.ok:
                raise ConfigCheckError(f"{me.name}: rendered {me.paths.bird_conf} rejected by "
                                       f"bird -p, nothing applied: {res.output.strip()[-500:]}")
            shell.check(f"cp -p {q} {q}{PREV}; mv -f {shlex.quote(staged)} {q}")
        finally:
            shell.run(f"rm -f {shlex.quote(staged)}")
        out = shell.check(bird.reload)
        if "Reconfigured" not in out and "reconfigur" not in out.lower():
            raise DeviceError(f"{me.name}: {bird.reload!r}: {out.strip()[-300:]}")
    if phase is None and previous is not None:
        drain_state.clear_state(shell, me)
    result["since_after"] = bgp_since(shell, me)
    return Result(host=task.host, result=result, diff=diff,
                  changed=conf_changed or marker_changed)
