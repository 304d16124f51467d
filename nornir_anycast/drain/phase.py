"""Putting a server's BIRD in a drain phase (or back to announcing) without a session reset.

The phase lives in BIRD's export filter ("lowered": local preference 0 and the graceful
shutdown community 65535:0; "withdrawn": nothing exported; None: as the inventory says), so
`birdc configure` changes what is announced and keeps the BGP session. The drain marker
(nornir_anycast.device.drain_marker) is written before BIRD changes and removed only after it
announces again.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from nornir_anycast.deploy.linux import NEW, PREV
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device import drain_marker, services
from nornir_anycast.device.commands import bird_command
from nornir_anycast.device.diff import unified_diff
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import ConfigCheckError, DeviceError, ParseError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import target_check_command


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


@dataclass
class PhaseChange:
    """What putting the server in a phase changes: `result` is plain data for a Result."""

    result: dict[str, Any]
    diff: str
    changed: bool


def apply_phase(shell: Shell, me: HostModel, design: Design, phase: str | None, *,
                dry_run: bool) -> PhaseChange:
    """Render bird.conf in `phase`, stage and check it (`bird -p`), put it live and
    `birdc configure`; the marker follows (see the module docstring). On a dry run: the diff
    and what would change, nothing sent that writes.

    Raises:
        DeviceError: not a server, or BIRD is not running, or BIRD refused to reconfigure.
        ConfigCheckError: the rendered bird.conf was rejected (nothing applied).
    """
    if me.role != "server" or me.platform != "linux":
        raise DeviceError(f"{me.name}: only servers (platform linux, role server) are drained")
    previous = drain_marker.read_state(shell, me)
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
        diff = redact(unified_diff(current or "", rendered.content,
                                   fromfile=f"{me.paths.bird_conf} (running)",
                                   tofile=f"{me.paths.bird_conf} ({phase})"))
    result: dict[str, Any] = {"phase": phase, "previous": previous.as_dict() if previous else None,
                              "bird_conf_changed": conf_changed}
    since_before = bgp_since(shell, me)
    result["since_before"] = since_before
    if dry_run:
        result["since_after"] = since_before
        return PhaseChange(result=result, diff=diff, changed=False)

    if phase is not None and marker_changed:
        # Drained from now on for every deploy and verify, whoever runs them.
        drain_marker.write_state(shell, me, phase, since=previous.since if previous else None)
    if conf_changed:
        q = shlex.quote(me.paths.bird_conf)
        staged = me.paths.bird_conf + NEW
        shell.write_file(staged, rendered.content, mode=rendered.mode, like=me.paths.bird_conf)
        try:
            res = shell.run(target_check_command(rendered.checker or "bird2", staged))
            if not res.ok:
                raise ConfigCheckError(f"{me.name}: rendered {me.paths.bird_conf} rejected by "
                                       f"bird -p, nothing applied: "
                                       f"{redact(res.output.strip()[-500:])}")
            shell.check(f"cp -p {q} {q}{PREV}; mv -f {shlex.quote(staged)} {q}")
        finally:
            shell.run(f"rm -f {shlex.quote(staged)}")
        out = shell.check(bird.reload)
        if "Reconfigured" not in out and "reconfigur" not in out.lower():
            raise DeviceError(f"{me.name}: {bird.reload!r}: {redact(out.strip()[-300:])}")
    if phase is None and previous is not None:
        drain_marker.clear_state(shell, me)
    result["since_after"] = bgp_since(shell, me)
    return PhaseChange(result=result, diff=diff, changed=conf_changed or marker_changed)
