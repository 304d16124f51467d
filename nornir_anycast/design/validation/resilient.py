"""Resilient forwarding rules (docs/resilient.md): where `resilient` may be enabled, and the
kernel's ranges for the group's parameters."""

from __future__ import annotations

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import Report

#: The kernel's limits: NHA_RES_GROUP_BUCKETS is a u16 (and 0 is refused); the timers are u32
#: clock_t (1/100 s) in the netlink API.
BUCKETS = (1, 65535)
TIMER_MAX_S = (2**32 - 1) / 100


def rule_resilient(design: Design, r: Report) -> None:
    """`resilient.enabled` only on Linux (FRR) edges, never on VyOS; buckets and timers in the
    kernel's ranges; fewer buckets than the edge's multipath width leaves servers without
    traffic (warning)."""
    for h in design.hosts.values():
        res = h.resilient
        if not res.enabled:
            continue
        if h.role != "edge":
            r.error(h.name, "resilient.enabled", True,
                    f"resilient forwarding is for edge routers (this host is {h.role!r}); "
                    "set it on the edge that spreads the anycast traffic")
            continue
        if h.platform == "vyos":
            r.error(h.name, "resilient.enabled", True,
                    "VyOS edges have no resilient nexthop groups (their FRR installs BGP "
                    "multipath as hash-threshold ECMP and deploy runs no agent there); set "
                    "resilient.enabled false (docs/resilient.md names the hardware "
                    "equivalents)")
            continue
        lo, hi = BUCKETS
        if not lo <= res.buckets <= hi:
            r.error(h.name, "resilient.buckets", res.buckets,
                    f"a resilient group has {lo}..{hi} buckets (the kernel's limit)")
        for name in ("idle_timer", "unbalanced_timer"):
            value = getattr(res, name)
            if not 0 <= value <= TIMER_MAX_S:
                r.error(h.name, f"resilient.{name}", value,
                        f"seconds, 0..{TIMER_MAX_S:.0f} (the kernel's clock_t range)")
        width = h.bgp.maximum_paths_ibgp
        if width is not None and lo <= res.buckets < width:
            r.warning(h.name, "resilient.buckets", res.buckets,
                      f"fewer buckets than maximum_paths_ibgp {width}: some servers would get "
                      "no bucket and no traffic")
