"""What every rule shares: the report, address parsing (cached), name formatting.

Each rule (in the module of its area) takes the design and the report, and checks every host.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import Problem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ASN_MAX = 4294967295
LOCAL_PREF_MAX = 4294967295
BFD_INTERVAL_MS = (10, 60000)  # FRR bfdd's range (BIRD accepts more)
BFD_MULTIPLIER = (2, 255)  # FRR bfdd's range
NAT_RULE = (1, 9999)  # VyOS rule numbers
ROUTERS = ("isp", "edge")


class Report:
    """Collects problems; one instance per validate() call."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, host: str, field: str, value: object, message: str) -> None:
        self.problems.append(Problem(host, field, value, message))

    def warning(self, host: str, field: str, value: object, message: str) -> None:
        self.problems.append(Problem(host, field, value, message, severity="warning"))


# ---------------------------------------------------------------------------------------------
# Parsing helpers: None when the text does not parse (the rule that owns the field reports it).
# Cached: every rule parses the same few strings (ipaddress objects are immutable).


@functools.lru_cache(maxsize=65536)
def parse_interface(text: str) -> IPInterface | None:
    """`172.16.42.3/31` -> IPv4Interface; None for anything without an explicit /length."""
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def parse_address(text: str | None) -> IPAddress | None:
    if text is None:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def parse_network(text: str, *, strict: bool = True) -> IPNetwork | None:
    """A prefix (`10.12.12.0/24`); with strict=False host bits may be set (`172.16.42.3/31`)."""
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=strict)
    except ValueError:
        return None


def interface_ips(host: HostModel) -> list[IPInterface]:
    """Every interface address of `host` that parses (`dhcp` and bad ones left out)."""
    out = []
    for itf in host.interfaces:
        for a in itf.addresses:
            parsed = parse_interface(a)
            if parsed is not None:
                out.append(parsed)
    return out


def loopback_ips(host: HostModel) -> list[IPInterface]:
    return [p for p in (parse_interface(a) for a in host.loopback) if p is not None]


def own_addresses(host: HostModel) -> set[IPAddress]:
    return {i.ip for i in interface_ips(host)} | {i.ip for i in loopback_ips(host)}


def address_owners(design: Design) -> dict[IPAddress, list[str]]:
    """Address -> hosts holding it on an interface (loopbacks too when held by one host only)."""
    owners: dict[IPAddress, list[str]] = defaultdict(list)
    for h in design.hosts.values():
        for ip in {i.ip for i in interface_ips(h)}:
            owners[ip].append(h.name)
    loop: dict[IPAddress, list[str]] = defaultdict(list)
    for h in design.hosts.values():
        for ip in {i.ip for i in loopback_ips(h)}:
            loop[ip].append(h.name)
    for ip, names in loop.items():
        if ip not in owners and len(names) == 1:  # anycast addresses are nobody's own
            owners[ip] = names
    return owners


def names_capped(names: list[str], cap: int = 10) -> str:
    """At most `cap` names, then how many more."""
    if len(names) <= cap:
        return join_names(names)
    return f"{join_names(names[:cap])} and {len(names) - cap} more"


def with_article(word: str) -> str:
    """`a word` or `an item`."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def join_names(names: Iterable[str]) -> str:
    """`a, b, c`."""
    return ", ".join(names)


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def ip_sort_key(ip: IPAddress) -> tuple[int, int]:
    """Addresses in numeric order, IPv4 before IPv6."""
    return (ip.version, int(ip))
