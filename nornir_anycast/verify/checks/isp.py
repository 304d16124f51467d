"""The ISP's view: the anycast prefix learned from the edge with the edge's AS path (or not at
all, with destination NAT), and none of the internal prefixes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import AnycastService, Design, HostModel
from nornir_anycast.verify.checks import Check


def exports_anycast(edge: HostModel) -> bool:
    """False when the edge's session to the ISP has an export route-map that denies everything
    (the seed's destination NAT variant: `AS65500-OUT rule 20 deny`)."""
    for nb in edge.bgp.neighbors:
        if nb.remote_as == edge.asn or nb.route_map_out is None:
            continue
        rules = edge.route_maps.get(nb.route_map_out, [])
        if rules and all(r.action == "deny" and r.match_prefix is None for r in rules):
            return False
    return True


def internal_prefixes(design: Design) -> list[str]:
    """Prefixes of the edge's and servers' own networks, which must never reach the ISP."""
    out: set[str] = set()
    isp_nets = {i.network for h in design.by_role("isp") for itf in h.interfaces
                for i in itf.interfaces()}
    for h in design.hosts.values():
        if h.role not in ("edge", "server"):
            continue
        for itf in h.interfaces:
            for i in itf.interfaces():
                if i.network not in isp_nets:
                    out.add(str(i.network))
    return sorted(out)


def check_isp_learned(service: AnycastService, isp: HostModel, edge: HostModel,
                      prefix_detail: Mapping[str, Any], exported: bool) -> Check:
    """Check 5a: the ISP learned the anycast prefix from the edge with AS path [edge AS].

    With `exported=False` (destination NAT: the servers' address stays internal) the ISP must
    not have it at all.
    """
    paths = [p for r in prefix_detail.get("routes", []) if r.get("prefix") == service.prefix
             for p in r.get("paths", [])]
    want_path = [edge.asn]
    good = [p for p in paths if list(p.get("as_path") or []) == want_path and p.get("valid")]
    if exported:
        ok = bool(good)
        msg = (f"prefix {service.prefix} learned from {edge.name} with AS path {edge.asn}" if ok
               else f"prefix {service.prefix}: expected from {edge.name} with AS path "
                    f"{edge.asn}; {isp.name} has "
                    + (", ".join(f"via {p.get('next_hop')} AS path {p.get('as_path')}"
                                 for p in paths) or "no path"))
    else:
        ok = not paths
        msg = (f"prefix {service.prefix} not announced to {isp.name} (destination NAT)" if ok
               else f"prefix {service.prefix} leaked to {isp.name}")
    return Check(name="isp_anycast_route" if exported else "isp_no_anycast_route",
                 host=isp.name, passed=ok,
                 expected={"prefix": service.prefix, "as_path": want_path} if exported
                 else {"prefix": service.prefix, "present": False},
                 actual={"paths": [{"next_hop": p.get("next_hop"), "as_path": p.get("as_path"),
                                    "valid": p.get("valid")} for p in paths]},
                 message=msg)


def check_isp_no_leak(isp: HostModel, leaked: Mapping[str, Mapping[str, Any]]) -> Check:
    """Check 5b: none of the internal prefixes is in the ISP's table.

    `leaked` maps each internal prefix queried to the parsed `show ip bgp <prefix>` answer.
    """
    found = sorted(p for p, parsed in leaked.items() if parsed.get("routes"))
    return Check(name="isp_no_internal_routes", host=isp.name, passed=not found,
                 expected={"absent": sorted(leaked)}, actual={"present": found},
                 message=("no internal prefix reached the ISP" if not found else
                          "internal prefixes leaked to the ISP: " + ", ".join(found)))


def routes_from_edges(design: Design, table: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The routes of the ISP's whole table (`show ip bgp`) learned through one of our edges
    (AS path holding an edge's AS) for a prefix that is none of that edge's anycast prefixes:
    a rogue server's default route or LAN, or another prefix the edge should have dropped.
    Shaped like `show ip bgp <prefix>` answers, for check_isp_no_leak."""
    allowed: dict[int, set[str]] = {}
    for edge in design.by_role("edge"):
        if edge.asn is not None:
            allowed.setdefault(edge.asn, set()).update(
                str(ipaddress.ip_network(s.prefix)) for s in design.services
                if s.edge == edge.name)
    out: dict[str, dict[str, Any]] = {}
    for route in table.get("routes", []):
        prefix = str(route.get("prefix"))
        paths = [p for p in route.get("paths", [])
                 if any(asn in allowed and prefix not in allowed[asn]
                        for asn in (p.get("as_path") or []))]
        if paths:
            out[prefix] = {"routes": [{"prefix": prefix, "paths": paths}]}
    return out
