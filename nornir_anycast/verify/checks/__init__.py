"""The pure checks of verify: expected state from the Design, compared with parsed device state.

Every function takes parsed output (the shapes of nornir_anycast.parsing) and returns `Check`s;
nothing here talks to a device (that is nornir_anycast.verify.host), so the logic is tested by
replaying captured output. One module per area:

- `sessions`: BGP sessions (a server's to its edge, with its exports; a router's to every
  neighbor);
- `health`: anycast-healthchecker on a server;
- `edge`: the edge's multipath set and kernel route against the expected ECMP set;
- `isp`: what the ISP learned (the anycast prefix, and nothing internal);
- `safety`: route safety, what a server announces to the edge;
- `http`: requests from the client, answered by exactly the expected servers;
- `bfd`: BFD sessions on both ends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nornir_anycast.design.model import Design


@dataclass(frozen=True)
class Check:
    """One named check on one host, with what was expected and what was found."""

    name: str
    host: str
    passed: bool
    expected: Any
    actual: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ip_sort(addresses: Iterable[str]) -> list[str]:
    """Distinct addresses, IPv4 first, in numeric order."""
    return sorted(set(addresses), key=lambda a: (ipaddress.ip_address(a).version,
                                                 ipaddress.ip_address(a)))


def fmt(addresses: Sequence[str]) -> str:
    """`a, b, c`, or `none`."""
    return ", ".join(addresses) if addresses else "none"


def drained_servers(design: Design) -> set[str]:
    """Servers the design has out of service (`python tasks.py drain`)."""
    return {p.host for s in design.services for p in s.drained}
