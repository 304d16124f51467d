"""The ECMP rule, in one place: which paths the edge should use for an anycast prefix.

An edge router prefers the servers announcing a prefix with the highest local preference (the
"best group"); it installs at most `maximum_paths_ibgp` of them (1 when unset) as equal-cost
multipath, in next-hop order. The rest are backups: valid paths that carry nothing until the
best group shrinks. Drained servers (`python tasks.py drain`) announce nothing.

- `expected_paths(paths, maximum_paths)`: the rule itself, for any list of announced paths;
- `expected_for(service, edge)`: the same for a derived service (verify compares the routers'
  multipath and kernel state against it);
- `derive_services(hosts, drained)`: every anycast service of a design, the rule applied;
- `with_drained(design, drained)`: the design with some servers out of service.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from nornir_anycast.design.model import AnycastService, Design, HostModel, ServerPath
from nornir_anycast.design.validation.common import interface_ips, parse_address


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

    A server announces to the edge that owns its BGP neighbor address. Which paths are ECMP and
    which are backups is `expected_paths` (highest local_pref, capped by the edge's
    `maximum_paths_ibgp`, in next-hop order: FRR and the kernel keep the lowest addresses first
    only by accident; the cap is reported as a warning by validation, not guessed here beyond a
    stable order). Servers in `drained` (taken out of service with `python tasks.py drain`)
    announce nothing: their paths are in `drained`, neither ECMP nor backup.
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
            for a in server.anycast:
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
