"""Nornir task: send one command over netmiko and return its parsed output."""

from __future__ import annotations

import re
import shlex
from typing import Any

from nornir.core.inventory import Host
from nornir.core.task import Result, Task

from nornir_anycast.exceptions import ParseError
from nornir_anycast.parsing import normalise_command, parse_output

CONNECTION_NAME = "netmiko"

# Lines that mean the device refused the command: CLI errors (FRR, Quagga, VyOS), shells, BIRD.
_DEVICE_ERRORS = (
    r"% ?(?:Unknown command|Invalid input|Command incomplete|Ambiguous command"
    r"|Incomplete command|Unknown|Can't|No such|Malformed)[^\n]*",  # FRR, Quagga, VyOS CLI
    r"[^\n]*BGP instance not found",  # FRR without `router bgp`
    r"Exiting: failed to connect to any daemons\.",  # vtysh without FRR running
    r"Invalid command[^\n]*",  # VyOS
    r"Unable to connect to server[^\n]*",  # birdc without BIRD running
    r"(?:bird: )?[^\n]*syntax error[^\n]*",  # BIRD (birdc, and `bird: ...: syntax error`)
    r"Command \"[^\"]*\" is unknown[^\n]*",  # iproute2
    r"[^\n]*: command not found",  # shell
    r"[^\n]*: No such file or directory",
    r"[^\n]*Permission denied[^\n]*",
    r"Error: [^\n]*",  # iproute2
)
_DEVICE_ERROR_RE = re.compile(r"^\s*(?:" + "|".join(_DEVICE_ERRORS) + r")$", re.MULTILINE)
_VTYSH_CONF_RE = re.compile(r"^% Can't open configuration file \S*vtysh\.conf.*\n?",
                            re.MULTILINE)
_BIRD_COMMAND_RE = re.compile(r"^(?:show (?:protocols|route|status|interfaces|symbols))\b")


def platform_for(host: Host, command: str) -> str:
    """The parser platform for this host and command.

    Host platform `frr` / `vyos` stay; on a `linux` host a BIRD command (`show protocols`,
    `show route`) is BIRD's: `bird2`, or `bird` when the host's `bird_version` is 1.
    """
    host_platform = str(host.platform or "linux")
    if host_platform == "linux" and _BIRD_COMMAND_RE.match(command):
        return "bird" if str(host.get("bird_version", 2)) == "1" else "bird2"
    return host_platform


def wire_command(host: Host, platform: str, command: str) -> str:
    """What goes over the wire: FRR through `vtysh -c`, BIRD through `birdc -s <socket>`,
    everything else (VyOS, Linux) as it is."""
    if platform == "frr":
        return f"vtysh -c {shlex.quote(command)}"
    if platform in ("bird", "bird2"):
        paths = host.get("paths") or {}
        ctl = paths.get("bird_ctl", "/run/bird/bird.ctl") if isinstance(paths, dict) \
            else "/run/bird/bird.ctl"
        return f"birdc -s {shlex.quote(str(ctl))} {command}"
    return command


def device_error(text: str) -> str | None:
    """The device's own error message in `text`, if it printed one (`% Unknown command: ...`).

    vtysh's warning about a missing vtysh.conf is not an answer to the command and is skipped.
    """
    m = _DEVICE_ERROR_RE.search(_VTYSH_CONF_RE.sub("", text))
    return m.group(0).strip() if m else None


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
    """
    del dry_run  # read-only
    cmd = normalise_command(command)
    plat = platform or platform_for(task.host, cmd)
    wire = send or wire_command(task.host, plat, cmd)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    raw = str(conn.send_command(wire, read_timeout=read_timeout))
    result = Result(host=task.host, changed=False)
    result.command = cmd  # type: ignore[attr-defined]
    result.sent = wire  # type: ignore[attr-defined]
    result.platform = plat  # type: ignore[attr-defined]
    result.raw = raw  # type: ignore[attr-defined]
    try:
        parsed: dict[str, Any] = parse_output(plat, cmd, raw)
    except ParseError as exc:
        said = device_error(raw)
        result.failed = True
        result.exception = exc
        result.result = (f"{task.host.name}: {wire!r} failed: {said}" if said
                         else f"{task.host.name}: {exc}")
        return result
    result.result = parsed
    return result
