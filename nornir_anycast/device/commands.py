"""How each platform is asked for state: the shell command to send and the parser to use.

FRR routers are Linux hosts: their CLI commands go through `vtysh -c`. BIRD is asked through
`birdc -s <control socket>`. VyOS takes its operational commands as they are.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from nornir_anycast.design.model import HostModel


@dataclass(frozen=True)
class DeviceCommand:
    """A command as sent over SSH, and the (platform, command) its output is parsed as."""

    send: str
    parse_platform: str
    parse_command: str


def router_command(host: HostModel, command: str) -> DeviceCommand:
    """A routing-daemon CLI command on a router (`show ip bgp summary`)."""
    if host.platform == "frr":
        return DeviceCommand(f"vtysh -c {shlex.quote(command)}", "frr", command)
    return DeviceCommand(command, host.platform, command)


def bird_command(host: HostModel, command: str) -> DeviceCommand:
    """A BIRD CLI command on a server (`show protocols all`)."""
    platform = "bird2" if host.bird_version == 2 else "bird"
    send = f"birdc -s {shlex.quote(host.paths.bird_ctl)} {command}"
    return DeviceCommand(send, platform, command)


def linux_command(command: str) -> DeviceCommand:
    """A Linux shell command whose output has a parser (`ip route show 10.13.13.1/32`)."""
    return DeviceCommand(command, "linux", command)
