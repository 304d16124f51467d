"""The ISP's view: the anycast prefix learned from the edge with the edge's AS path (or not at
all, with destination NAT), and none of the internal prefixes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import AnycastService, Design, HostModel, UpstreamRoute
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


def has_sites(design: Design) -> bool:
    """True when the inventory names sites (issue 13): upstreams are then checked against
    the site preference (check_upstream_route), clients against their own site."""
    return any(h.site is not None for h in design.hosts.values())


def check_upstream_route(route: UpstreamRoute, upstream: HostModel,
                         prefix_detail: Mapping[str, Any]) -> Check:
    """An upstream's view of an anycast prefix in a design with sites: it forwards where the
    design says (ecmp.derive_upstream_routes), over its best path(s) of the expected AS path
    length.

    Passes when the paths it uses (best, and multipath) go to exactly `route.next_hops` (any
    one of them when `router_chooses`) with AS paths `route.as_path_length` long; when nobody
    should announce the prefix (`via` "none"), when it has no path at all.
    """
    paths = [p for r in prefix_detail.get("routes", []) if r.get("prefix") == route.prefix
             for p in r.get("paths", [])]
    used = [p for p in paths if p.get("valid") and (p.get("best") or p.get("multipath"))]
    hops = sorted({str(p.get("next_hop")) for p in used})
    lengths = sorted({len(p.get("as_path") or []) for p in used})
    sites = ", ".join(str(s) for s in route.sites) or "no site"
    if route.via == "none":
        ok = not paths
        want = "no path (no server announces it)"
    else:
        hops_ok = (len(hops) == 1 and hops[0] in route.next_hops if route.router_chooses
                   else hops == sorted(route.next_hops))
        ok = hops_ok and lengths == [route.as_path_length]
        which = "one of " if route.router_chooses else ""
        want = (f"site {sites} via {which}{', '.join(route.next_hops)} "
                f"({'its edges' if route.via == 'edges' else 'upstream'}), AS path length "
                f"{route.as_path_length}")
    have = ", ".join(f"via {p.get('next_hop')} AS path {' '.join(map(str, p.get('as_path') or []))}"
                     f"{' (used)' if p in used else ''}" for p in paths) or "no path"
    return Check(
        name="upstream_anycast_route", host=upstream.name, passed=ok,
        expected={"prefix": route.prefix, "sites": route.sites, "via": route.via,
                  "next_hops": route.next_hops, "as_path_length": route.as_path_length,
                  "router_chooses": route.router_chooses},
        actual={"next_hops": hops, "as_path_lengths": lengths,
                "paths": [{"next_hop": p.get("next_hop"), "as_path": p.get("as_path"),
                           "valid": p.get("valid"), "best": p.get("best"),
                           "multipath": p.get("multipath")} for p in paths]},
        message=(f"prefix {route.prefix}: prefers {want}" if ok else
                 f"prefix {route.prefix}: expected {want}; {upstream.name} has {have}"))
