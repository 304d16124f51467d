"""The ECMP rule, in one place: which paths the edge should use for an anycast prefix.

An edge router prefers the servers announcing a prefix with the highest local preference (the
"best group"); it installs at most `maximum_paths_ibgp` of them (1 when unset) as equal-cost
multipath, in next-hop order. The rest are backups: valid paths that carry nothing until the
best group shrinks. Drained servers (`python tasks.py drain`) announce nothing.

- `expected_paths(paths, maximum_paths)`: the rule itself, for any list of announced paths;
- `expected_for(service, edge)`: the same for a derived service (verify compares the routers'
  multipath and kernel state against it);
- `derive_services(hosts, drained)`: every anycast service of a design, the rule applied;
- `with_drained(design, drained)`: the design with some servers out of service;
- `derive_upstream_routes(design)`: per upstream router and anycast prefix, the site it should
  prefer and its next hops (sites, docs/sites.md).

Several edges per site: each edge has services of its own (one AnycastService per prefix and
edge, `service.edge`), its ECMP set from the servers that peer with it, capped by its own
`maximum_paths_ibgp`; a one-edge inventory has exactly the services it had before.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from nornir_anycast.design.model import (
    AnycastService,
    Design,
    HostModel,
    ServerPath,
    UpstreamRoute,
)
from nornir_anycast.design.sites import is_ebgp, peers
from nornir_anycast.design.validation.common import interface_ips, parse_address, parse_network


@dataclass(frozen=True)
class ExpectedPaths:
    """What the edge should do with the paths announced for one prefix.

    Attributes:
        cap: how many paths the edge may install (`maximum_paths_ibgp`, 1 when unset).
        best_local_pref: the highest local preference announced (0 when nothing is).
        best_group: every path at `best_local_pref`, in next-hop order.
        ecmp: the paths the edge should install: the first `cap` of `best_group`.
        backups: every other path (lower preference, or over the cap).
    """

    cap: int
    best_local_pref: int
    best_group: tuple[ServerPath, ...]
    ecmp: tuple[ServerPath, ...]
    backups: tuple[ServerPath, ...]

    @property
    def router_chooses(self) -> bool:
        """More paths share the best preference than the cap allows: the router may install
        any `cap` of `best_group` (which ones is its choice, not the inventory's)."""
        return len(self.best_group) > self.cap


def expected_paths(paths: Sequence[ServerPath], maximum_paths: int | None) -> ExpectedPaths:
    """Apply the ECMP rule to the paths announced for one prefix (drained servers left out).

    Args:
        paths: the announced paths, in any order.
        maximum_paths: the edge's `bgp.maximum_paths_ibgp` (None or 0: 1 path).
    """
    ordered = sorted(paths, key=_next_hop_key)
    cap = maximum_paths or 1
    best = max((p.local_pref for p in ordered), default=0)
    group = tuple(p for p in ordered if p.local_pref == best)
    ecmp = group[:cap]
    return ExpectedPaths(cap=cap, best_local_pref=best, best_group=group, ecmp=ecmp,
                         backups=tuple(p for p in ordered if p not in ecmp))


def expected_for(service: AnycastService, edge: HostModel) -> ExpectedPaths:
    """`expected_paths` of a derived service's announcers (drained servers are not among them)
    on its edge."""
    return expected_paths(service.announcers, edge.bgp.maximum_paths_ibgp)


def derive_services(hosts: dict[str, HostModel],
                    drained: Collection[str] = ()) -> list[AnycastService]:
    """For each anycast prefix: who announces it, which paths the edge should use (ECMP), which not.

    A server announces to the edge that owns its BGP neighbor address, each prefix over the
    session of its family (an IPv4 neighbor carries the /32s, an IPv6 one the /128s). Which
    paths are ECMP and which are backups is `expected_paths` (highest local_pref, capped by the
    edge's `maximum_paths_ibgp`, in next-hop order: FRR and the kernel keep the lowest
    addresses first only by accident; the cap is reported as a warning by validation, not
    guessed here beyond a stable order). Servers in `drained` (taken out of service with
    `python tasks.py drain`) announce nothing: their paths are in `drained`, neither ECMP nor
    backup.
    """
    owners: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, HostModel] = {}
    for h in hosts.values():
        for itf in interface_ips(h):  # addresses that do not parse are validation's to report
            owners.setdefault(itf.ip, h)
    per_prefix: dict[tuple[str, str], list[ServerPath]] = {}
    for server in hosts.values():
        if server.role != "server":
            continue
        src = interface_ips(server)
        for nb in server.bgp.neighbors:
            peer = parse_address(nb.address)
            edge = owners.get(peer) if peer is not None else None
            if peer is None or edge is None or edge.role != "edge":
                continue
            next_hop = _address_facing(src, peer, parse_address(nb.update_source))
            # A session carries its own family only (one session per family, docs/ipv6.md):
            # a /128 goes over the IPv6 session, a /32 over the IPv4 one.
            for a in server.anycast:
                net = parse_network(a.prefix, strict=False)
                if net is not None and net.version != peer.version:
                    continue
                per_prefix.setdefault((a.prefix, edge.name), []).append(
                    ServerPath(host=server.name, next_hop=next_hop, local_pref=server.local_pref)
                )
    services = []
    for (prefix, edge_name), every in sorted(per_prefix.items()):
        every = sorted(every, key=_next_hop_key)
        paths = [p for p in every if p.host not in drained]
        rule = expected_paths(paths, hosts[edge_name].bgp.maximum_paths_ibgp)
        services.append(AnycastService(prefix=prefix, edge=edge_name, announcers=paths,
                                       ecmp=list(rule.ecmp), backups=list(rule.backups),
                                       drained=[p for p in every if p.host in drained]))
    return services


def with_drained(design: Design, drained: Collection[str]) -> Design:
    """The design with the servers in `drained` out of service (see derive_services)."""
    if not drained and not any(s.drained for s in design.services):
        return design
    return Design(hosts=design.hosts, services=derive_services(design.hosts, drained))


def edge_as_path_length(edge: HostModel) -> int:
    """The AS path an edge's anycast announcement has at its upstream: its AS once, plus
    `site_prepend` more on a standby site's edge (render/frr.py standby_prepend)."""
    return 1 + (edge.site_prepend if edge.site_standby else 0)


def derive_upstream_routes(design: Design) -> list[UpstreamRoute]:
    """For each upstream router (role isp) and anycast prefix: which site it should prefer and
    where it should forward, as BGP will decide it (a pure function of the design).

    The model: an edge announces a prefix to its eBGP upstream neighbours when servers
    announce it to the edge (`design.services`: drained servers announce nothing), with AS path
    length `edge_as_path_length` (standby sites prepended). Upstreams pass on their best path
    to their eBGP upstream neighbours, one AS longer. Every router prefers the shortest AS
    path (equal local preference everywhere; a path through the router's own AS is never
    taken: BGP's loop check), so an upstream's best path length is the shortest distance in
    that graph, computed to a fixpoint.

    An upstream whose own site is active and has servers thus forwards to that site's edges
    (`via` "edges": eBGP multipath over them, their AS paths identical, capped by its
    `bgp.maximum_paths`); an upstream whose site is standby, or has no announcing server,
    forwards to the neighbouring upstream(s) leading to the preferred site (`via`
    "upstreams"). Candidates with different AS paths that tie are not multipath (FRR compares
    whole AS paths): `router_chooses`. Nobody announcing: `via` "none", no next hop.

    Returns:
        one UpstreamRoute per (prefix, upstream), prefixes in address order, upstreams in
        inventory order. Inventories without upstream routers give [].
    """
    upstreams = design.by_role("isp")
    edge_links: dict[str, list[tuple[str, HostModel]]] = {u.name: [] for u in upstreams}
    upstream_links: dict[str, list[tuple[str, HostModel]]] = {u.name: [] for u in upstreams}
    for u in upstreams:
        for n, address, peer in peers(design, u):
            if not is_ebgp(u, n):
                continue
            if peer.role == "edge":
                edge_links[u.name].append((address, peer))
            elif peer.role == "isp":
                upstream_links[u.name].append((address, peer))
    prefixes = sorted({s.prefix for s in design.services},
                      key=lambda p: (ipaddress.ip_network(p).version, ipaddress.ip_network(p)))
    out: list[UpstreamRoute] = []
    for prefix in prefixes:
        announcing = {s.edge for s in design.services if s.prefix == prefix and s.announcers}
        # One session per family: a prefix travels only over sessions of its own family.
        version = ipaddress.ip_network(prefix).version
        out.extend(_upstream_routes(prefix, upstreams, announcing,
                                    _of_family(edge_links, version),
                                    _of_family(upstream_links, version)))
    return out


def _of_family(links: dict[str, list[tuple[str, HostModel]]],
               version: int) -> dict[str, list[tuple[str, HostModel]]]:
    """The links whose neighbour address is of IP `version`."""
    return {u: [(a, h) for a, h in hops if _address_key(a)[0] == version]
            for u, hops in links.items()}


def _upstream_routes(prefix: str, upstreams: list[HostModel], announcing: set[str],
                     edge_links: dict[str, list[tuple[str, HostModel]]],
                     upstream_links: dict[str, list[tuple[str, HostModel]]],
                     ) -> list[UpstreamRoute]:
    """derive_upstream_routes for one prefix: shortest AS paths to a fixpoint, then each
    upstream's candidates, multipath group and preferred sites (nearest upstreams first)."""
    dist: dict[str, int] = {}
    for u in upstreams:
        lengths = [edge_as_path_length(e) for _, e in edge_links[u.name] if e.name in announcing]
        if lengths:
            dist[u.name] = min(lengths)
    changed = True
    while changed:
        changed = False
        for u in upstreams:
            for _, v in upstream_links[u.name]:
                if v.name in dist and dist[v.name] + 1 < dist.get(u.name, 1 << 30):
                    dist[u.name] = dist[v.name] + 1
                    changed = True
    sites: dict[str, list[str | None]] = {}
    routes: dict[str, UpstreamRoute] = {}
    for u in sorted(upstreams, key=lambda h: dist.get(h.name, 1 << 30)):
        best = dist.get(u.name)
        if best is None:
            sites[u.name] = []
            routes[u.name] = UpstreamRoute(prefix=prefix, upstream=u.name, sites=[],
                                           as_path_length=0, via="none", candidates=[],
                                           next_hops=[])
            continue
        groups: dict[tuple[str, str], list[str]] = {}
        found: list[str | None] = []
        for address, e in edge_links[u.name]:
            if e.name in announcing and edge_as_path_length(e) == best:
                groups.setdefault(("edges", str(e.asn)), []).append(address)
                found.append(e.site)
        for address, v in upstream_links[u.name]:
            if dist.get(v.name) is not None and dist[v.name] + 1 == best:
                groups.setdefault(("upstreams", v.name), []).append(address)
                found.extend(sites[v.name])
        sites[u.name] = sorted(set(found), key=lambda s: (s is None, s or ""))
        candidates = sorted((a for g in groups.values() for a in g), key=_address_key)
        (kind, _), first = next(iter(groups.items()))
        if len(groups) == 1:
            cap = u.bgp.maximum_paths if kind == "edges" else None
            hops = sorted(first, key=_address_key)
            chooses = cap is not None and len(hops) > cap
            next_hops = hops if chooses or cap is None else hops[:cap]
        else:
            chooses, next_hops = True, candidates
        routes[u.name] = UpstreamRoute(
            prefix=prefix, upstream=u.name, sites=sites[u.name], as_path_length=best,
            via="edges" if kind == "edges" else "upstreams", candidates=candidates,
            next_hops=next_hops, router_chooses=chooses)
    return [routes[u.name] for u in upstreams]


def _address_key(text: str) -> tuple[int, int]:
    ip = parse_address(text)
    return (ip.version, int(ip)) if ip is not None else (9, 0)


def _next_hop_key(path: ServerPath) -> tuple[int, int, str]:
    ip = parse_address(path.next_hop)
    return (ip.version, int(ip), path.host) if ip is not None else (9, 0, path.host)


def _address_facing(
    addresses: list[ipaddress.IPv4Interface | ipaddress.IPv6Interface],
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address,
    update_source: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
) -> str:
    """The server's BGP next hop towards `peer`: update_source, else its address in the peer's
    subnet, else its first address of the peer's family ("" when it has none)."""
    if update_source is not None:
        return str(update_source)
    same = [a for a in addresses if a.version == peer.version]
    facing = next((a for a in same if peer in a.network), same[0] if same else None)
    return str(facing.ip) if facing is not None else ""
