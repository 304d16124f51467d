"""Parse router and server output into plain, JSON-serialisable data.

    from nornir_anycast.parsing import parse_output
    parse_output("frr", "show ip bgp 10.13.13.1/32", text) -> {"router_id": ..., "routes": [...]}

`command` is the command as sent to the device; it picks the parser (`show ip bgp 10.13.13.1/32`
the prefix detail, `show ip bgp` the table). A command wrapped for a shell (`vtysh -c '...'`,
`birdc [-s SOCKET] ...`) is unwrapped first. Each parser is a TTP template shipped in
`templates/ttp/<platform>_<command>.ttp` plus the Python that assembles its records into the
shapes documented in docs/parsing.md; FRR's JSON goes through `json`.

Errors: an unknown platform or command raises UnsupportedCommandError listing what is
supported; text that is not the output of the command raises ParseError naming platform and
command; an empty table is an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nornir_anycast.exceptions import ParseError, UnsupportedCommandError
from nornir_anycast.parsing import bfd, bgp, bird, counters, linux
from nornir_anycast.parsing._common import Ctx

__all__ = [
    "PLATFORMS",
    "ParseError",
    "UnsupportedCommandError",
    "normalise_command",
    "parse_output",
    "supported_commands",
]

Parser = Callable[[Ctx, str], dict[str, Any]]

_PREFIX = r"(?P<arg>[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?)"
_PREFIX6 = r"(?P<arg>[0-9a-fA-F]*:[0-9a-fA-F:.]*(?:/[0-9]{1,3})?)"
#: FRR's IPv6 unicast table: `show bgp ipv6 unicast`, also spelt `show bgp ipv6` (the default
#: SAFI); the results are shaped as IPv4's.
_BGP6 = r"show bgp ipv6(?: unicast)?"
_ADDRESS = r"(?P<arg>[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)"
_NAME = r"(?P<arg>[A-Za-z_][\w.-]*|\"[^\"]*\")"
_ROUTE_ARGS = (
    r"(?: (?:export|protocol|table) \S+| for \S+| [0-9a-fA-F.:]+/\d+| [0-9]{1,3}(?:\.[0-9]{1,3}){3}"
    r"| primary| (?:where|filter) .*)*"
)
_IPROUTE = r"ip(?: -4)? r(?:o(?:u(?:te?)?)?)?(?: (?:show|list|ls|sh|lst))?"
_IPROUTE6 = r"ip -6 r(?:o(?:u(?:te?)?)?)?(?: (?:show|list|ls|sh|lst))?"
_IPROUTE_ARGS = (r"(?: (?:default|[0-9a-fA-F.:]+(?:/\d+)?|table \S+|proto \S+|dev \S+|root \S+"
                 r"|match \S+|exact \S+|scope \S+|type \S+))*")


@dataclass(frozen=True)
class _Entry:
    platforms: tuple[str, ...]
    pattern: re.Pattern[str]
    usage: str
    parser: Parser


def _e(platforms: tuple[str, ...], pattern: str, usage: str, parser: Parser) -> _Entry:
    return _Entry(platforms, re.compile(pattern, re.IGNORECASE), usage, parser)


_ROUTERS = ("vyos", "frr")
_BIRDS = ("bird", "bird2", "bird3")

_REGISTRY: tuple[_Entry, ...] = (
    _e(_ROUTERS, r"show ip bgp", "show ip bgp", bgp.parse_table),
    _e(_ROUTERS, r"show ip bgp summary", "show ip bgp summary", bgp.parse_summary),
    _e(_ROUTERS, rf"show ip bgp {_PREFIX}", "show ip bgp <prefix>", bgp.parse_prefix),
    _e(_ROUTERS, r"show ip bgp neighbors", "show ip bgp neighbors",
       counters.parse_bgp_neighbors),
    _e(("frr",), r"show ip bgp neighbors json", "show ip bgp neighbors json",
       counters.parse_bgp_neighbors_json),
    _e(("frr",), rf"show ip bgp neighbors {_ADDRESS} received-routes",
       "show ip bgp neighbors <address> received-routes", bgp.parse_neighbor_routes),
    _e(("frr",), rf"show ip bgp neighbors {_ADDRESS} routes",
       "show ip bgp neighbors <address> routes", bgp.parse_neighbor_routes),
    _e(("frr",), r"show ip bgp json", "show ip bgp json", bgp.parse_table_json),
    _e(("frr",), rf"show ip bgp {_PREFIX} json", "show ip bgp <prefix> json",
       bgp.parse_prefix_json),
    _e(_ROUTERS, _BGP6, "show bgp ipv6 unicast", bgp.parse_table),
    _e(_ROUTERS, rf"{_BGP6} summary", "show bgp ipv6 unicast summary", bgp.parse_summary),
    _e(_ROUTERS, rf"{_BGP6} {_PREFIX6}", "show bgp ipv6 unicast <prefix6>", bgp.parse_prefix),
    _e(("frr",), rf"{_BGP6} neighbors {_ADDRESS} received-routes",
       "show bgp ipv6 unicast neighbors <address> received-routes", bgp.parse_neighbor_routes),
    _e(("frr",), rf"{_BGP6} neighbors {_ADDRESS} routes",
       "show bgp ipv6 unicast neighbors <address> routes", bgp.parse_neighbor_routes),
    _e(("frr",), rf"{_BGP6} json", "show bgp ipv6 unicast json", bgp.parse_table_json),
    _e(("frr",), rf"{_BGP6} {_PREFIX6} json", "show bgp ipv6 unicast <prefix6> json",
       bgp.parse_prefix_json),
    _e(_BIRDS, rf"show protocols all(?: {_NAME})?", "show protocols all [<name>]",
       bird.parse_protocols_all),
    _e(_BIRDS, rf"show protocols(?: {_NAME})?", "show protocols [<name>]", bird.parse_protocols),
    _e(_BIRDS, rf"show route{_ROUTE_ARGS}",
       "show route [for <prefix> | <prefix> | export <protocol> | protocol <protocol> | "
       "table <table>]", bird.parse_route),
    _e(("frr", "vyos"), r"show bfd peers", "show bfd peers", bfd.parse_peers),
    _e(("frr", "vyos"), r"show bfd peers brief", "show bfd peers brief", bfd.parse_peers_brief),
    _e(("frr", "vyos"), r"show bfd peers counters", "show bfd peers counters",
       counters.parse_bfd_counters),
    _e(_BIRDS, r"show bfd sessions", "show bfd sessions", bfd.parse_sessions),
    _e(("linux",), rf"{_IPROUTE}{_IPROUTE_ARGS}", "ip route show [<prefix>]",
       linux.parse_ip_route),
    _e(("linux",), rf"{_IPROUTE6}{_IPROUTE_ARGS}", "ip -6 route show [<prefix6>]",
       linux.parse_ip_route),
)

PLATFORMS: tuple[str, ...] = ("vyos", "frr", "bird", "bird2", "bird3", "linux")

_VTYSH_RE = re.compile(r"^(?:sudo )?vtysh(?: -N \S+)? -c (?P<q>['\"]?)(?P<cmd>.*)(?P=q)$")
_BIRDC_RE = re.compile(r"^(?:sudo )?birdc[l6]?(?: -[rvl])*(?: -s \S+)?(?: -[rvl])* (?P<cmd>.+)$")


def normalise_command(command: str) -> str:
    """The command with whitespace collapsed and a `vtysh -c '...'` / `birdc ...` wrapper
    removed."""
    cmd = " ".join(command.split())
    m = _VTYSH_RE.match(cmd)
    if m:
        cmd = " ".join(m.group("cmd").split())
    m = _BIRDC_RE.match(cmd)
    if m:
        cmd = m.group("cmd")
    return cmd


def supported_commands(platform: str | None = None) -> dict[str, list[str]]:
    """{platform: [command forms]} for every platform, or for `platform` alone."""
    out: dict[str, list[str]] = {p: [] for p in PLATFORMS}
    for entry in _REGISTRY:
        for p in entry.platforms:
            out[p].append(entry.usage)
    if platform is not None:
        return {platform: out.get(platform, [])}
    return out


def _find(platform: str, command: str) -> tuple[_Entry, str | None]:
    if platform not in PLATFORMS:
        raise UnsupportedCommandError(
            f"unsupported platform {platform!r}: supported platforms are "
            + ", ".join(PLATFORMS)
        )
    for entry in _REGISTRY:
        if platform not in entry.platforms:
            continue
        m = entry.pattern.fullmatch(command)
        if m:
            arg = m.groupdict().get("arg")
            return entry, arg
    usage = supported_commands(platform)[platform]
    raise UnsupportedCommandError(
        f"unsupported command {command!r} for platform {platform!r}: supported commands are "
        + "; ".join(usage)
    )


def parse_output(platform: str, command: str, text: str) -> dict[str, Any]:
    """Parse the output `text` of `command` on `platform` into plain data.

    Args:
        platform: `vyos`, `frr` (FRR 8.4 and 10.x), `bird` (BIRD 1.6), `bird2` (BIRD 2.0,
            2.17), `bird3` (BIRD 3.1) or `linux`.
        command: the command as sent (`show ip bgp`, `show ip bgp 10.13.13.1/32`,
            `birdc show protocols all`, `ip route show 10.13.13.1`).
        text: what the device printed (a leading prompt line with the echoed command and BIRD's
            `BIRD x.y ready.` banner are ignored).

    Returns:
        A dict of plain JSON types, shaped per command (docs/parsing.md).

    Raises:
        UnsupportedCommandError: no parser for this platform and command (the message lists
            the supported ones).
        ParseError: `text` is not the output of `command` (an error message, a banner, another
            command's output); the message names platform and command.
    """
    if not isinstance(text, str):
        raise ParseError(f"{platform} {command!r}: output must be text, got {type(text).__name__}")
    cmd = normalise_command(command)
    entry, arg = _find(platform, cmd)
    return entry.parser(Ctx(platform=platform, command=cmd, arg=arg), text)
