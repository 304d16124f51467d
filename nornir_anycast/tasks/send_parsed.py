"""Nornir task: send one command over netmiko and return its parsed output."""

from __future__ import annotations

from typing import Any

from nornir.core.inventory import Host
from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design.registry import NoDesignError, design_for
from nornir_anycast.device.commands import DEFAULT_BIRD_CTL, device_error, parse_platform, wire
from nornir_anycast.device.shell import Shell, shell_for
from nornir_anycast.device.sudo import Sudo
from nornir_anycast.exceptions import ParseError
from nornir_anycast.inventory.secrets import redact, redact_data
from nornir_anycast.parsing import normalise_command, parse_output

__all__ = ["device_error", "platform_for", "send_parsed", "wire_command"]


def platform_for(host: Host, command: str) -> str:
    """The parser platform for this host and command (nornir_anycast.device.commands'
    `parse_platform` with the host's Nornir platform and `bird_version`)."""
    return parse_platform(host.platform, command, host.get("bird_version", 2))


def wire_command(host: Host, platform: str, command: str) -> str:
    """What goes over the wire (nornir_anycast.device.commands' `wire`): FRR through
    `vtysh -c`, BIRD through `birdc -s <data.paths.bird_ctl>`, everything else as it is;
    vtysh and birdc through `sudo -n` on a host with `privilege: sudo`."""
    paths = host.get("paths") or {}
    ctl = paths.get("bird_ctl", DEFAULT_BIRD_CTL) if isinstance(paths, dict) \
        else DEFAULT_BIRD_CTL
    return wire(platform, command, bird_ctl=str(ctl), privilege=str(host.get("privilege",
                                                                             "root")))


def _shell(task: Task, conn: Any) -> Shell:
    """The host's Shell (its sudo password from the design, when one is attached)."""
    try:
        me = design_for(task).hosts[task.host.name]
    except (NoDesignError, KeyError):  # loaded without a design: no sudo password known
        sudo = Sudo() if task.host.get("privilege") == "sudo" else None
        return Shell(conn, task.host.name, sudo=sudo)
    return shell_for(conn, me)


def send_parsed(task: Task, *, command: str, platform: str | None = None,
                send: str | None = None, read_timeout: float = 30.0,
                dry_run: bool | None = None) -> Result:
    """Send `command` over the host's netmiko connection and parse what comes back.

    Args:
        task: the Nornir task (one host).
        command: the command to parse the output of (`show ip bgp 10.13.13.1/32`,
            `show protocols all`, `ip route show 10.13.13.1`). A shell-wrapped form
            (`vtysh -c '...'`, `birdc ...`) is accepted as well.
        platform: parser platform (`frr`, `vyos`, `bird`, `bird2`, `linux`); default from the
            host: its Nornir platform, and on a `linux` host BIRD's for BIRD commands.
        send: the exact text to send, when it differs from what this task would build (FRR:
            `vtysh -c '<command>'`; BIRD: `birdc -s <data.paths.bird_ctl> <command>`; others:
            the command itself).
        read_timeout: seconds netmiko waits for the output.
        dry_run: accepted for the task convention; a read-only command runs either way.

    Returns:
        Result with `result` the parsed dict (see nornir_anycast.parsing), `changed=False`
        always (nothing is changed), `failed=True` when the device answered with an error
        message or with text that is not the command's output; then `result` is the message
        (the device's own words when it printed an error) and `exception` the ParseError.
        Attributes: `command` (as parsed), `sent` (as sent), `platform`, `raw` (the text).
        Registered secrets (nornir_anycast.inventory.secrets) are redacted from every
        attribute: a device echoing a BGP password shows `********`.
    """
    del dry_run  # read-only
    cmd = normalise_command(command)
    plat = platform or platform_for(task.host, cmd)
    wire = send or wire_command(task.host, plat, cmd)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    raw = _shell(task, conn).cli(wire, read_timeout=read_timeout)
    result = Result(host=task.host, changed=False)
    result.command = cmd  # type: ignore[attr-defined]
    result.sent = redact(wire)  # type: ignore[attr-defined]
    result.platform = plat  # type: ignore[attr-defined]
    result.raw = redact(raw)  # type: ignore[attr-defined]
    try:
        parsed: dict[str, Any] = parse_output(plat, cmd, raw)
    except ParseError as exc:
        said = device_error(raw)
        exc.args = tuple(redact(str(a)) for a in exc.args)
        result.failed = True
        result.exception = exc
        result.result = redact(f"{task.host.name}: {wire!r} failed: {said}" if said
                               else f"{task.host.name}: {exc}")
        return result
    result.result = redact_data(parsed)
    return result
