"""FRR routers (isp, edge): `frr.conf`, with the policies FRR 8.4 wants on every eBGP session
and an edge's per-server import filter (nftables.conf for NAT: nornir_anycast.render.nftables).
"""

from __future__ import annotations

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.files import TemplateFile
from nornir_anycast.render.neighbors import (
    ANYCAST_PREFIX_LIST,
    EBGP_IN,
    EBGP_OUT,
    NeighborView,
    Policies,
    PolicyRule,
    edge_anycast_prefixes,
    model_route_map,
    neighbor_views,
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
    """
    policies = Policies()
    anycast = edge_anycast_prefixes(host, design) if host.role == "edge" else []
    referenced = {n.route_map_in for n in neighbors} | {n.route_map_out for n in neighbors}
    needs_anycast = host.role == "edge" and EBGP_OUT in referenced
    if needs_anycast and anycast:
        policies.prefix_lists[ANYCAST_PREFIX_LIST] = anycast
    per_server: dict[str, list[PolicyRule]] = {}
    for n in neighbors:
        if n.peer is None or n.route_map_in != server_route_map(n.peer):
            continue
        if n.route_map_in in host.route_maps or n.route_map_in in per_server:
            continue
        allowed = server_allowed_prefixes(design.hosts[n.peer])
        if allowed:
            policies.prefix_lists[server_prefix_list(n.peer)] = allowed
            per_server[n.route_map_in] = [PolicyRule(
                seq=10, action="permit", prefix_list=server_prefix_list(n.peer))]
        else:
            per_server[n.route_map_in] = [PolicyRule(seq=10, action="deny")]
    for name in sorted(host.route_maps):
        model_route_map(name, host.route_maps[name], policies)
    filtered = PolicyRule(seq=10, action="permit", prefix_list=ANYCAST_PREFIX_LIST)
    if not anycast:
        filtered = PolicyRule(seq=10, action="deny")
    defaults = {
        EBGP_IN: [PolicyRule(seq=10, action="permit")],
        EBGP_OUT: [filtered if host.role == "edge" else PolicyRule(seq=10, action="permit")],
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
    context = dict(
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
