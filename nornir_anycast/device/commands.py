"""THE per-platform command table: how each platform is asked for state over SSH, and how its
answer is parsed.

FRR routers are Linux hosts: their CLI commands go through `vtysh -c '<command>'`. BIRD is
asked through `birdc -s <control socket> <command>`. VyOS takes its operational commands as
they are, and so does a Linux shell (`ip route show ...`). `CLIS` holds that, by parser
platform (`frr`, `bird`, `bird2`, `bird3`, `vyos`, `linux`: see nornir_anycast.parsing); everything
that sends a command (send_parsed, verify, deploy, drain, wait_edge_route) builds it here.

On a host with `privilege: sudo` the CLI programs run as root: `sudo -n vtysh -c ...`, `sudo -n
birdc ...` (nornir_anycast.device.sudo); VyOS's commands and Linux's (`ip route show`) need no
privilege and go as they are.

`FAMILY_COMMANDS` names the state queries that exist for IPv4 and IPv6 alike (`bgp_summary`,
`bgp_prefix`, `kernel_route`, ...): `family_command("bgp_prefix", prefix=p)` is the right
spelling for p's family.

The device's own error messages (`% Unknown command`, `Unable to connect to server`) are
recognised here too (`device_error`), so a refused command is never parsed as output.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from nornir_anycast.design.model import HostModel
from nornir_anycast.device import sudo

#: BIRD's control socket when the inventory names none (Debian's).
DEFAULT_BIRD_CTL = "/run/bird/bird.ctl"


def _vtysh(command: str, bird_ctl: str) -> str:
    del bird_ctl
    return f"vtysh -c {shlex.quote(command)}"


def _birdc(command: str, bird_ctl: str) -> str:
    return f"birdc -s {shlex.quote(bird_ctl)} {command}"


def _as_is(command: str, bird_ctl: str) -> str:
    del bird_ctl
    return command


@dataclass(frozen=True)
class Cli:
    """How one parser platform's commands are sent from a shell.

    Attributes:
        program: the CLI program commands go through (`vtysh`, `birdc`), or None (as they are).
        wrap: `wrap(command, bird_ctl)` is the text sent over SSH.
    """

    program: str | None
    wrap: Callable[[str, str], str]


#: THE table: parser platform -> how its commands are sent.
CLIS: dict[str, Cli] = {
    "frr": Cli("vtysh", _vtysh),
    "bird": Cli("birdc", _birdc),
    "bird2": Cli("birdc", _birdc),
    # BIRD 3's birdc takes the same `-s SOCKET COMMAND` (checked with BIRD 3.1.8).
    "bird3": Cli("birdc", _birdc),
    "vyos": Cli(None, _as_is),
    "linux": Cli(None, _as_is),
}

#: Commands a Linux host answers with BIRD (`show protocols`, `show route`, ...).
_BIRD_COMMAND_RE = re.compile(r"^(?:show (?:protocols|route|status|interfaces|symbols))\b")


def wire(platform: str, command: str, *, bird_ctl: str = DEFAULT_BIRD_CTL,
         privilege: str = "root") -> str:
    """What goes over the wire for `command` parsed as `platform`: FRR through `vtysh -c`,
    BIRD through `birdc -s <bird_ctl>`, everything else (VyOS, Linux, unknown) as it is; with
    `privilege="sudo"` vtysh and birdc through `sudo -n`."""
    cli = CLIS.get(platform)
    if cli is None:
        return command
    text = cli.wrap(command, bird_ctl)
    return sudo.prefix(text) if cli.program is not None and privilege == "sudo" else text


def bird_platform(bird_version: int | str | None) -> str:
    """The parser platform of a server's BIRD: `bird` for BIRD 1.x, `bird3` for BIRD 3.x,
    `bird2` otherwise (2, or no version given)."""
    version = str(bird_version)
    if version == "1":
        return "bird"
    return "bird3" if version == "3" else "bird2"


def parse_platform(host_platform: str | None, command: str,
                   bird_version: int | str | None = 2) -> str:
    """The parser platform for a command on a host of `host_platform` (its Nornir platform).

    `frr` / `vyos` stay; on a `linux` host (or one without platform) a BIRD command
    (`show protocols`, `show route`) is BIRD's (`bird_platform`), anything else Linux's.
    """
    platform = str(host_platform or "linux")
    if platform == "linux" and _BIRD_COMMAND_RE.match(command):
        return bird_platform(bird_version)
    return platform


@dataclass(frozen=True)
class DeviceCommand:
    """A command as sent over SSH, and the (platform, command) its output is parsed as."""

    send: str
    parse_platform: str
    parse_command: str


def router_command(host: HostModel, command: str) -> DeviceCommand:
    """A routing-daemon CLI command on a router (`show ip bgp summary`)."""
    return DeviceCommand(wire(host.platform, command, privilege=host.privilege), host.platform,
                         command)


def bird_command(host: HostModel, command: str) -> DeviceCommand:
    """A BIRD CLI command on a server (`show protocols all`, `configure`)."""
    platform = bird_platform(host.bird_version)
    return DeviceCommand(wire(platform, command, bird_ctl=host.paths.bird_ctl,
                              privilege=host.privilege), platform, command)


def linux_command(command: str) -> DeviceCommand:
    """A Linux shell command whose output has a parser (`ip route show 10.13.13.1/32`)."""
    return DeviceCommand(wire("linux", command), "linux", command)


# --------------------------------------------------------------------------- by address family

#: The state queries that exist in both address families, by name: family (4 or 6) -> the
#: command, with `{prefix}` / `{address}` filled in by `family_command`. IPv4's forms are the
#: ones verify has always sent; IPv6's are FRR's `show bgp ipv6 unicast ...` (VyOS 1.2+ takes
#: them as they are) and iproute2's `ip -6 route`. Both forms of a name parse to results of the
#: same shape (nornir_anycast.parsing, docs/parsing.md), so a check reads either alike. BIRD's
#: commands name no family (`show protocols all`, `show route for ADDRESS`): each channel says
#: its own (`channels[].name` is `ipv4` / `ipv6`).
FAMILY_COMMANDS: dict[str, dict[int, str]] = {
    "bgp_summary": {4: "show ip bgp summary", 6: "show bgp ipv6 unicast summary"},
    "bgp_table": {4: "show ip bgp", 6: "show bgp ipv6 unicast"},
    "bgp_table_json": {4: "show ip bgp json", 6: "show bgp ipv6 unicast json"},
    "bgp_prefix": {4: "show ip bgp {prefix}", 6: "show bgp ipv6 unicast {prefix}"},
    "bgp_prefix_json": {4: "show ip bgp {prefix} json",
                        6: "show bgp ipv6 unicast {prefix} json"},
    "bgp_neighbor_routes": {4: "show ip bgp neighbors {address} routes",
                            6: "show bgp ipv6 unicast neighbors {address} routes"},
    "bgp_received_routes": {4: "show ip bgp neighbors {address} received-routes",
                            6: "show bgp ipv6 unicast neighbors {address} received-routes"},
    "kernel_table": {4: "ip route show", 6: "ip -6 route show"},
    "kernel_route": {4: "ip route show {prefix}", 6: "ip -6 route show {prefix}"},
}


def family_of(value: str) -> int:
    """4 or 6: the address family of an address or prefix (`10.13.13.1/32`, `fd00:13::1`).

    Raises:
        ValueError: `value` is neither.
    """
    return ipaddress.ip_network(value, strict=False).version


def family_command(name: str, family: int | None = None, *, prefix: str | None = None,
                   address: str | None = None) -> str:
    """The command `name` of FAMILY_COMMANDS for `family` (4 or 6; None: the family of
    `prefix` or `address`), with `prefix` / `address` filled in.

        family_command("bgp_prefix", prefix="fd00:13::1/128")
            -> "show bgp ipv6 unicast fd00:13::1/128"
        family_command("bgp_summary", 6) -> "show bgp ipv6 unicast summary"

    Raises:
        KeyError: no command `name`.
        ValueError: no family given or derivable, or a family other than 4 and 6, or a
            placeholder of the command left without its value.
    """
    forms = FAMILY_COMMANDS[name]
    if family is None:
        given = prefix if prefix is not None else address
        if given is None:
            raise ValueError(f"{name}: give a family (4 or 6), a prefix or an address")
        family = family_of(given)
    if family not in forms:
        raise ValueError(f"{name}: address family {family!r} is not 4 or 6")
    text = forms[family]
    for key, value in (("prefix", prefix), ("address", address)):
        if "{" + key + "}" in text:
            if value is None:
                raise ValueError(f"{name}: needs {key}")
            text = text.replace("{" + key + "}", value)
    return text


def router_family_command(host: HostModel, name: str, family: int | None = None, *,
                          prefix: str | None = None, address: str | None = None
                          ) -> DeviceCommand:
    """`family_command` as a router's CLI command (router_command): `bgp_*` names."""
    return router_command(host, family_command(name, family, prefix=prefix, address=address))


def linux_family_command(name: str, family: int | None = None, *, prefix: str | None = None
                         ) -> DeviceCommand:
    """`family_command` as a Linux shell command (linux_command): `kernel_*` names."""
    return linux_command(family_command(name, family, prefix=prefix))


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
    r"sudo: (?:a password is required|a terminal is required)",  # sudo -n would prompt
    r"[^\n]*is not in the sudoers file[^\n]*",
    r"(?:sudo: )?[^\n]*is not allowed to (?:run|execute)[^\n]*",
    r"Error: [^\n]*",  # iproute2
)
_DEVICE_ERROR_RE = re.compile(r"^\s*(?:" + "|".join(_DEVICE_ERRORS) + r")$", re.MULTILINE)
_VTYSH_CONF_RE = re.compile(r"^% Can't open configuration file \S*vtysh\.conf.*\n?",
                            re.MULTILINE)


def device_error(text: str) -> str | None:
    """The device's own error message in `text`, if it printed one (`% Unknown command: ...`).

    vtysh's warning about a missing vtysh.conf is not an answer to the command and is skipped.
    """
    m = _DEVICE_ERROR_RE.search(_VTYSH_CONF_RE.sub("", text))
    return m.group(0).strip() if m else None
