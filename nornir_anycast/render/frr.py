"""FRR routers (isp, edge): `frr.conf`, with the policies FRR 8.4 wants on every eBGP session
and an edge's per-server import filter (nftables.conf for NAT: nornir_anycast.render.nftables).

FRR 8.4 and 10.3 take the same text (tests/render/test_render_frr_reload.py and
test_render_frr10.py load it into each), with one exception, FRR 10.3's (frr_release):
`neighbor X update-source ADDR` on a neighbor with BFD makes bgpd ask bfdd for a multihop
session even when X is on a connected subnet (FRR issue #19077: 10.1 was right, 10.3 is not).
The server's BIRD runs single-hop BFD (`direct`), the sessions never meet, and bgpd keeps the
BGP session Idle while its BFD session is down. On FRR 10, `update-source` is left out for such
a neighbor when ADDR is this router's own address in the neighbor's subnet: the kernel picks
that same source address for a connected neighbor, so nothing else changes (seen with FRR 10.3
and BIRD 3.1.8: with it Idle, without it BFD single-hop Up and BGP Established).
"""

from __future__ import annotations

import dataclasses
import ipaddress

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.environment import version_tuple
from nornir_anycast.render.files import TemplateFile
from nornir_anycast.render.neighbors import (
    ANYCAST6_PREFIX_LIST,
    ANYCAST_PREFIX_LIST,
    EBGP_IN,
    EBGP_OUT,
    EBGP_OUT6,
    NeighborView,
    Policies,
    PolicyRule,
    edge_anycast_prefixes,
    model_route_map,
    neighbor_views,
    prefix_version,
    server_allowed_prefixes,
    server_prefix_list,
    server_route_map,
    servers_out_policy,
)

#: FRR's `frr defaults traditional` values: lines equal to them are left out, because FRR leaves
#: them out of `show running-config` and frr-reload.py would otherwise see a difference.
FRR_DEFAULT_KEEPALIVE = 60
FRR_DEFAULT_HOLD = 180
FRR_DEFAULT_CONNECT_RETRY = 120
FRR_DEFAULT_BFD_INTERVAL_MS = 300
FRR_DEFAULT_BFD_MULTIPLIER = 3

BFD_PROFILE = "anycast"


def frr_policies(host: HostModel, design: Design, neighbors: list[NeighborView]) -> Policies:
    """Prefix lists and route-maps for an FRR router: the inventory's, plus the defaults used.

    - SERVERS-IN-<server> (edge, in from one server): permit only ANYCAST-<server>, that
      server's own anycast prefixes (exact host routes), deny anything else.
    - EBGP-OUT on an edge: permit only ANYCAST, so internal routes never leak to the ISP.
    - EBGP-OUT on any other router, and EBGP-IN: permit everything (an explicit policy only
      because FRR 8.4 enforces `bgp ebgp-requires-policy`).
    - SERVERS-OUT (edge, out to every server): deny everything, not even a default route
      (nornir_anycast.render.neighbors.servers_out_policy says why).
    - On a standby site's edge (`site_standby`), EBGP-OUT (and EBGP-OUT6) also prepends the
      edge's AS `site_prepend` times (`standby_prepend`), so the upstreams prefer any other
      site.
    - IPv6 sessions (docs/ipv6.md): SERVERS-IN6-<server> permits only ANYCAST6-<server> (the
      server's /128s) and sets `ipv6 next-hop prefer-global`, so that the edge forwards to the
      server's global address (what the inventory and verify know) rather than the link-local
      one BIRD sends beside it; EBGP-OUT6 on an edge permits only ANYCAST6 (no leak upstream).
    """
    policies = Policies()
    every = edge_anycast_prefixes(host, design) if host.role == "edge" else []
    anycast = [p for p in every if prefix_version(p) == 4]
    anycast6 = [p for p in every if prefix_version(p) == 6]
    referenced = {n.route_map_in for n in neighbors} | {n.route_map_out for n in neighbors}
    needs_anycast = host.role == "edge" and EBGP_OUT in referenced
    if needs_anycast and anycast:
        policies.prefix_lists[ANYCAST_PREFIX_LIST] = anycast
    if host.role == "edge" and EBGP_OUT6 in referenced and anycast6:
        policies.prefix_lists6[ANYCAST6_PREFIX_LIST] = anycast6
    per_server: dict[str, list[PolicyRule]] = {}
    for n in neighbors:
        if n.peer is None or n.route_map_in != server_route_map(n.peer, n.version):
            continue
        if n.route_map_in in host.route_maps or n.route_map_in in per_server:
            continue
        allowed = server_allowed_prefixes(design.hosts[n.peer], n.version)
        plist = server_prefix_list(n.peer, n.version)
        if allowed and n.version == 6:
            policies.prefix_lists6[plist] = allowed
            per_server[n.route_map_in] = [PolicyRule(
                seq=10, action="permit", prefix_list=plist, ipv6=True,
                sets=("ipv6 next-hop prefer-global",))]
        elif allowed:
            policies.prefix_lists[plist] = allowed
            per_server[n.route_map_in] = [PolicyRule(
                seq=10, action="permit", prefix_list=plist)]
        else:
            per_server[n.route_map_in] = [PolicyRule(seq=10, action="deny")]
    for name in sorted(host.route_maps):
        model_route_map(name, host.route_maps[name], policies)
    filtered = PolicyRule(seq=10, action="permit", prefix_list=ANYCAST_PREFIX_LIST,
                          prepend=standby_prepend(host))
    if not anycast:
        filtered = PolicyRule(seq=10, action="deny")
    filtered6 = (PolicyRule(seq=10, action="permit", prefix_list=ANYCAST6_PREFIX_LIST, ipv6=True,
                            prepend=standby_prepend(host))
                 if anycast6 else PolicyRule(seq=10, action="deny"))
    defaults = {
        EBGP_IN: [PolicyRule(seq=10, action="permit")],
        EBGP_OUT: [filtered if host.role == "edge" else PolicyRule(seq=10, action="permit")],
        EBGP_OUT6: [filtered6],
    }
    for name, rules in defaults.items():
        if name in referenced and name not in host.route_maps:
            policies.route_maps[name] = rules
    policies.route_maps.update(servers_out_policy(host, neighbors))
    policies.route_maps.update(per_server)
    return policies


def frr_timers(host: HostModel) -> dict[str, int | None]:
    """`timers bgp` and `timers connect` values, None where FRR's default applies."""
    t = host.bgp_timers
    bgp = (t.keepalive, t.hold) != (FRR_DEFAULT_KEEPALIVE, FRR_DEFAULT_HOLD)
    return {
        "keepalive": t.keepalive if bgp else None,
        "hold": t.hold if bgp else None,
        "connect": t.connect_retry if t.connect_retry != FRR_DEFAULT_CONNECT_RETRY else None,
    }


#: The FRR releases a router is assumed to run when its inventory does not say (`frr_version`).
FRR_DEBIAN12 = (8, 4)
FRR_DEBIAN13 = (10, 3)


def frr_release(host: HostModel) -> tuple[int, ...]:
    """The FRR release of a router: `frr_version` (`10.3` -> (10, 3)), else Debian 13's 10.3
    on `os: debian` with `os_version` 13 (`13`, `13.2`, `trixie`), else Debian 12's 8.4."""
    if host.frr_version:
        return version_tuple(host.frr_version)
    if host.os == "debian" and (host.os_version or "").split(".")[0] in ("13", "trixie"):
        return FRR_DEBIAN13
    return FRR_DEBIAN12


def _connected_source(host: HostModel, neighbor: str, source: str) -> bool:
    """Whether `source` is this host's address in the subnet of `neighbor` (the source address
    the kernel picks for it anyway)."""
    try:
        peer = ipaddress.ip_address(neighbor)
        src = ipaddress.ip_address(source)
    except ValueError:
        return False
    for itf in host.interfaces:
        on_link = [i for i in itf.interfaces() if i.version == peer.version and peer in i.network]
        if on_link:
            return on_link[0].ip == src
    return False


def bfd_neighbors(host: HostModel, neighbors: list[NeighborView],
                  design: Design | None = None) -> set[str]:
    """The neighbors frr.conf gives `neighbor X bfd`: edge -> server sessions (BFD enabled on
    the edge), and, given the design, the eBGP sessions between an upstream router and an edge
    of a site (`site` set) when BFD is enabled on both ends (`upstream_bfd_neighbors`)."""
    out: set[str] = set()
    if host.role == "edge" and host.bfd.enabled:
        out = {n.address for n in neighbors if n.to_server}
    if design is not None:
        out |= upstream_bfd_neighbors(host, neighbors, design)
    return out


def upstream_bfd_neighbors(host: HostModel, neighbors: list[NeighborView],
                           design: Design) -> set[str]:
    """Upstream <-> edge sessions with BFD (issue 13, docs/sites.md: an edge that dies leaves
    its upstream's multipath set in BFD time). Only between an edge with a `site` and an
    upstream (role isp), both with `bfd.enabled`: the one-site inventories render as before."""
    if host.role not in ("edge", "isp") or not host.bfd.enabled:
        return set()
    out = set()
    for n in neighbors:
        peer = design.hosts.get(n.peer) if n.peer is not None else None
        if peer is None or n.ibgp or not peer.bfd.enabled:
            continue
        edge, other = (host, peer) if host.role == "edge" else (peer, host)
        if edge.role == "edge" and other.role == "isp" and edge.site is not None:
            out.add(n.address)
    return out


def standby_prepend(host: HostModel) -> str | None:
    """`set as-path prepend` arguments on a standby site's edge (its AS, `site_prepend`
    times), None elsewhere."""
    if host.role != "edge" or not host.site_standby or host.asn is None:
        return None
    return " ".join([str(host.asn)] * host.site_prepend)


#: FRR's default graceful restart time (`bgp graceful-restart restart-time`): not printed.
FRR_DEFAULT_RESTART_TIME = 120


def frr_site_options(host: HostModel, neighbors: list[NeighborView],
                     bfd_peers: set[str]) -> dict[str, object]:
    """Issue 13's router options as frr.conf writes them (docs/sites.md):

    - `graceful_restart` (`bgp graceful-restart`), `restart_time` (None at FRR's 120 s);
    - `check_control_plane`: the BFD neighbors that get `bfd check-control-plane-failure`
      (graceful restart on: a peer's BFD going down with its control plane, as when BIRD
      restarts, keeps the stale routes instead of dropping them at once);
    - `advertisement_interval`: {eBGP neighbor: seconds} (`bgp.advertisement_interval` set);
    - `maximum_paths`: eBGP multipath (`maximum-paths N`), None when unset.
    """
    b = host.bgp
    adv = b.advertisement_interval
    return {
        "graceful_restart": b.graceful_restart,
        "restart_time": (b.graceful_restart_time
                         if b.graceful_restart_time != FRR_DEFAULT_RESTART_TIME else None),
        "check_control_plane": bfd_peers if b.graceful_restart else set(),
        "advertisement_interval": ({n.address: adv for n in neighbors if not n.ibgp}
                                   if adv is not None else {}),
        "maximum_paths": b.maximum_paths,
    }


def frr10_neighbors(host: HostModel, neighbors: list[NeighborView],
                    design: Design | None = None) -> list[NeighborView]:
    """The neighbors as FRR 10 must be told (the module docstring): no `update-source` on a
    BFD neighbor whose source is the connected address anyway."""
    with_bfd = bfd_neighbors(host, neighbors, design)
    return [dataclasses.replace(n, update_source=None)
            if n.address in with_bfd and n.update_source
            and _connected_source(host, n.address, n.update_source) else n
            for n in neighbors]


def plan_frr(host: HostModel, design: Design) -> dict[str, TemplateFile]:
    """`frr.conf` of an FRR isp or edge (`frr/<role>.conf.j2`, checker `frr`)."""
    # FRR routes, nftables does the NAT (nftables.conf); nothing does DNS forwarding yet.
    # Refuse rather than silently drop what was asked.
    if host.dns_forwarding:
        raise TemplateError(
            f"{host.name}: dns_forwarding is set, but platform 'frr' renders only frr.conf and "
            "nftables.conf (no DNS forwarding on Linux routers yet); remove it or use platform "
            "vyos")
    neighbors = neighbor_views(host, design, frr_policy=True)
    if frr_release(host) >= (10,):
        neighbors = frr10_neighbors(host, neighbors, design)
    bfd_peers = bfd_neighbors(host, neighbors, design)
    context = dict(
        bfd_peers=bfd_peers, sites=frr_site_options(host, neighbors, bfd_peers),
        design=design, neighbors=neighbors, policies=frr_policies(host, design, neighbors),
        timers=frr_timers(host), bfd_profile=BFD_PROFILE,
        ipv6_forwarding=any(ip.version == 6 for ip in host.addresses()),
        bfd_interval=(host.bfd.interval_ms
                      if host.bfd.interval_ms != FRR_DEFAULT_BFD_INTERVAL_MS else None),
        bfd_multiplier=(host.bfd.multiplier
                        if host.bfd.multiplier != FRR_DEFAULT_BFD_MULTIPLIER else None),
    )
    return {"frr.conf": TemplateFile(f"frr/{host.role}.conf.j2", context, host.paths.frr_conf,
                                     "frr")}
