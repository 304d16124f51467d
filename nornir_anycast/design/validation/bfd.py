"""BFD rules: interval and multiplier, and BFD on both ends of a session."""

from __future__ import annotations

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import (
    BFD_INTERVAL_MS,
    BFD_MULTIPLIER,
    Report,
    address_owners,
    parse_address,
)


def rule_bfd(design: Design, r: Report) -> None:
    """BFD interval and multiplier are in FRR's ranges (10..60000 ms, 2..255)."""
    for h in design.hosts.values():
        lo, hi = BFD_INTERVAL_MS
        if not lo <= h.bfd.interval_ms <= hi:
            r.error(h.name, "bfd.interval_ms", h.bfd.interval_ms,
                    f"BFD interval must be {lo}..{hi} ms")
        lo, hi = BFD_MULTIPLIER
        if not lo <= h.bfd.multiplier <= hi:
            r.error(h.name, "bfd.multiplier", h.bfd.multiplier,
                    f"BFD multiplier must be {lo}..{hi}")


def rule_bfd_both_ends(design: Design, r: Report) -> None:
    """BFD enabled on a server but not on its edge gives no fast failover (warning)."""
    owners = address_owners(design)
    for h in design.hosts.values():
        if h.role != "server" or not h.bfd.enabled:
            continue
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            found = owners.get(ip, []) if ip is not None else []
            if len(found) == 1 and design.hosts[found[0]].role == "edge":
                edge = design.hosts[found[0]]
                if not edge.bfd.enabled:
                    r.warning(h.name, "bfd.enabled", True,
                              f"BFD is on here but off on {edge.name} (neighbor {n}): the "
                              "session stays down and failover waits for the BGP hold timer")
