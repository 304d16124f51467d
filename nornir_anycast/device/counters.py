"""Read a router's session down counters over its connection (nornir_anycast.parsing.counters).

`read_counters(conn, me)` sends `show ip bgp neighbors` and, on an edge with BFD on,
`show bfd peers counters` (FRR through vtysh, VyOS as they are: VyOS 1.3+ runs the same vtysh
commands underneath) and returns `session_counters(...)`: {peer address: {"bfd_down",
"bgp_dropped"}}. Servers are not asked: BIRD keeps no down counter, and the edge counts the
same sessions from its side.
"""

from __future__ import annotations

from typing import Any, Protocol

from nornir_anycast.design.model import HostModel
from nornir_anycast.device.commands import DeviceCommand, device_error, router_command
from nornir_anycast.device.shell import shell_for
from nornir_anycast.exceptions import DeviceError, ParseError
from nornir_anycast.parsing import parse_output
from nornir_anycast.parsing.counters import SessionCounters, session_counters

#: The roles whose routers keep counters worth reading.
ROUTER_ROLES = ("edge", "isp")


class _Connection(Protocol):
    def send_command(self, command_string: str, **kwargs: Any) -> Any: ...


def reads_counters(me: HostModel) -> bool:
    """Whether `me` is a router whose counters are read (edge or ISP, FRR or VyOS)."""
    return me.role in ROUTER_ROLES and me.platform in ("frr", "vyos")


def _ask(conn: _Connection, me: HostModel, cmd: DeviceCommand) -> dict[str, Any]:
    text = shell_for(conn, me).cli(cmd.send, read_timeout=30)
    try:
        parsed: dict[str, Any] = parse_output(cmd.parse_platform, cmd.parse_command, text)
    except ParseError as exc:
        said = device_error(text)
        if said is None:
            raise
        raise DeviceError(f"{cmd.send!r}: the device answered: {said}") from exc
    return parsed


def counter_commands(me: HostModel) -> list[DeviceCommand]:
    """What `read_counters` sends to `me`: BGP neighbors, and BFD counters on an edge with BFD
    on (its sessions to the servers; nothing else runs BFD here)."""
    cmds = [router_command(me, "show ip bgp neighbors")]
    if me.bfd.enabled and me.role == "edge":
        cmds.append(router_command(me, "show bfd peers counters"))
    return cmds


def read_counters(conn: _Connection, me: HostModel) -> dict[str, SessionCounters]:
    """The down counters of every BGP neighbor and BFD peer of the router `me`.

    Args:
        conn: its netmiko connection (anything with netmiko's `send_command`).
        me: the router.

    Returns:
        {peer address: {"bfd_down": int | None, "bgp_dropped": int | None}}.

    Raises:
        DeviceError: the router refused a command (its own words in the message).
        ParseError: an answer is not the command's output.
    """
    bgp = bfd = None
    for cmd in counter_commands(me):
        if cmd.parse_command.startswith("show bfd"):
            bfd = _ask(conn, me, cmd)
        else:
            bgp = _ask(conn, me, cmd)
    return session_counters(bfd=bfd, bgp=bgp)
